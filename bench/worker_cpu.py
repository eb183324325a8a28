"""The worker's CPU per CSL record, in process and step by step; no services needed.

    .venv/bin/python bench/worker_cpu.py [--records 20000] [--seed 7] [--repeats 3] [--out FILE]

The steps a worker runs for each record of a CSL chunk before the bulk request: `csl.parse_line`,
the pipeline's source entry (`ingest.pipeline._with_source`), `merge` with nothing indexed under the
ID, `index_document` (the record dumped plus its `ix.*` fields: folding, jieba, keys), and the two
bulk lines as the Elasticsearch client serialises them (orjson). Each step is timed with
`time.process_time`, best of `--repeats`, over a bench/corpus.py corpus. What this leaves out (the
Elasticsearch client's requests and responses, Celery, the job database, citation linking) is in
bench/scale.py's worker CPU, measured on a real worker.

The SHA-256 of the bulk bytes it prints identifies the documents: two trees that print the same
digest for the same corpus index the same bytes.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))

from bench import harness  # noqa: E402
from bench.harness import log, table  # noqa: E402

T = TypeVar("T")
INGESTED_AT = datetime(2026, 12, 4, tzinfo=UTC)  # fixed, so the digest depends on the code and corpus only


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--records", type=int, default=20000)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--repeats", type=int, default=3, help="runs per step; the fastest counts")
    p.add_argument("--out", type=Path, default=None)
    return p.parse_args(argv)


def best_of(repeats: int, step: Callable[[], T]) -> tuple[float, T]:
    """The least CPU seconds of `repeats` runs, and the last run's result."""
    best = float("inf")
    for _ in range(repeats):
        start = time.process_time()
        out = step()
        best = min(best, time.process_time() - start)
    return best, out


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    from elasticsearch.helpers.actions import expand_action
    from elasticsearch.serializer import OrjsonSerializer

    from bench.corpus import build_corpus
    from ingest.document import index_document
    from ingest.formats import csl
    from ingest.merge import merge
    from ingest.pipeline import _with_source
    from mappings.analysis.tokenizer import get_tokenizer

    with tempfile.TemporaryDirectory(prefix="chaxin-bench-wcpu-") as tmp:
        path = Path(tmp) / "corpus.jsonl"
        _, info = build_corpus(args.records, args.seed, path)
        lines = path.read_text(encoding="utf-8").splitlines()
    n = len(lines)
    tokenizer = get_tokenizer("rjieba")
    serializer = OrjsonSerializer()
    index = "bench-records-write"
    log(f"{n:,} records ({info['bytes'] / 1e6:.0f} MB), best of {args.repeats} runs per step")

    def bulk_lines(docs: list[tuple[str, dict[str, Any]]]) -> list[bytes]:
        out: list[bytes] = []
        for rid, doc in docs:
            action, data = expand_action({"_index": index, "_id": rid, "_source": doc, "_op_type": "create"})
            out += [serializer.dumps(action), serializer.dumps(data)]
        return out

    cpu: dict[str, float] = {}
    cpu["parse_line"], parsed = best_of(
        args.repeats, lambda: [csl.parse_line(line, now=INGESTED_AT, version=1) for line in lines]
    )
    cpu["source entry"], sourced = best_of(
        args.repeats,
        lambda: [_with_source(r, "0" * 64, "corpus.jsonl", f"第 {i + 1} 行") for i, r in enumerate(parsed)],
    )
    cpu["merge (new)"], merged = best_of(args.repeats, lambda: [merge(None, r).record for r in sourced])
    cpu["index_document"], docs = best_of(
        args.repeats, lambda: [(r.id, index_document(r, tokenizer)) for r in merged]
    )
    cpu["bulk lines"], body = best_of(args.repeats, lambda: bulk_lines(docs))
    digest = hashlib.sha256(b"\n".join(body)).hexdigest()

    per_record = {k: round(v * 1000 / n, 4) for k, v in cpu.items()}
    total = round(sum(cpu.values()) * 1000 / n, 4)
    rows = [*per_record.items(), ("total", total)]
    print(table(["step", "CPU ms/record"], rows, title="== Worker CPU per CSL record (in process)", digits=4))
    print(f"bulk body SHA-256: {digest}")
    out = args.out or harness.default_out("worker_cpu")
    harness.write_json(out, {
        "benchmark": "worker_cpu", "started_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": harness.machine_info(), "load_average": os.getloadavg(),
        "params": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        "records": n, "cpu_ms_per_record": per_record, "total_cpu_ms_per_record": total, "bulk_sha256": digest,
    })  # fmt: skip
    print(f"results written to {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

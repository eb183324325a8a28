"""Term precision of the simple search: do the hits of a technical term contain that term?

    .venv/bin/python bench/term_precision.py [--prefix P] [--keep] [--terms 300] [--seed 18]

Without --prefix it indexes csl_10k (../shared/data/csl/csl_10k.jsonl) into a fresh prefix
(bench-<hex>-terms) and drops it at the end, unless --keep (then it prints the prefix to pass later).
For each of --terms keywords sampled from the corpus (2-12 characters, at least one Chinese
character, present in at least one record), the simple search is run and compared with the records
whose folded title, abstract or keywords contain the folded term (the fields a simple search reads):

  - lacking: the share of all hits that do not contain the term (mean over terms, and over all hits);
  - P@10: of the first min(10, containing) places, the share filled by term-containing records
    (mean over terms; that they come first), and beside it the plain precision of the first 10 hits;
  - recall: the share of the term-containing records that are hits (mean over terms).

Goals (issue 18): recall >= 0.98, P@10 >= 0.95, lacking <= 0.25. A measurement, not a test.
"""

from __future__ import annotations

import argparse
import random
import re
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

# Run as a script, this file's directory comes first on sys.path, where bench/ingest.py would
# shadow the `ingest` package: put the repository root there instead.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))

from bench import harness

CSL_10K = harness.REPO_ROOT.parent / "shared" / "data" / "csl" / "csl_10k.jsonl"
_HAS_CJK = re.compile(r"[\u4e00-\u9fff]")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--prefix", default=None, help="reuse an index prefix that already holds --source")
    p.add_argument("--source", type=Path, default=CSL_10K)
    p.add_argument("--terms", type=int, default=300)
    p.add_argument("--seed", type=int, default=18)
    p.add_argument("--keep", action="store_true", help="keep the index built here (prints its prefix)")
    p.add_argument("--show", type=int, default=8, help="print the terms with the most hits lacking them")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if not args.source.exists():
        sys.exit(f"no corpus at {args.source}")
    from elasticsearch import Elasticsearch

    from conf.settings import get_settings
    from ingest.formats.csl import parse_line
    from ingest.index_admin import create, drop_all
    from ingest.writer import write_records
    from mappings.analysis.normalize import normalize
    from mappings.analysis.tokenizer import get_tokenizer
    from mappings.naming import IndexNames
    from search.service import SearchService

    settings = get_settings()
    es = Elasticsearch(settings.effective_es_url, request_timeout=120)
    tokenizer = get_tokenizer(settings.tokenizer_backend)
    now = datetime.now(UTC)
    lines = args.source.read_text(encoding="utf-8").splitlines()
    records = [parse_line(line, now=now, version=1) for line in lines if line.strip()]
    prefix = args.prefix or harness.new_prefix("terms")
    names = IndexNames(prefix)
    if args.prefix is None:
        harness.log(f"indexing {len(records)} records into {prefix}")
        create(es, names, tokenizer)
        write_records(es, names.write_alias, [(r.id, r) for r in records], tokenizer, refresh=True)
    service = SearchService(es, names, tokenizer)
    try:
        texts = {r.id: normalize(" ".join([r.title or "", r.abstract or "", *r.keywords])) for r in records}
        pool = sorted({k for r in records for k in r.keywords if 2 <= len(k) <= 12 and _HAS_CJK.search(k)})
        sample = random.Random(args.seed).sample(pool, min(args.terms, len(pool)))
        rows = [_measure(service, term, texts, normalize(term)) for term in sample]
    finally:
        if args.prefix is None and not args.keep:
            drop_all(es, names)
    _report(rows, args.show)
    if args.keep and args.prefix is None:
        print(f"index kept: --prefix {prefix}")


def _measure(service: Any, term: str, texts: dict[str, str], folded: str) -> dict[str, Any]:
    relevant = {rid for rid, text in texts.items() if folded in text}
    hits = [rec["id"] for rec in service.iter_records(service.query_for(term))]
    top = [h["id"] for h in service.simple(term, size=10)["hits"]]
    lacking = [h for h in hits if h not in relevant]
    return {
        "term": term,
        "hits": len(hits),
        "relevant": len(relevant),
        "lacking": len(lacking),
        "lacking_share": len(lacking) / len(hits) if hits else 0.0,
        # Of the first places the term-containing records could fill (10, or fewer when fewer exist),
        # the share they do fill: "records that contain the term come first".
        "p10": sum(1 for h in top if h in relevant) / min(10, len(relevant)) if relevant else 1.0,
        # Plain precision of the first page, which variants lower when few records hold the term.
        "p10_plain": sum(1 for h in top if h in relevant) / len(top) if top else 1.0,
        "recall": len(relevant.intersection(hits)) / len(relevant) if relevant else 1.0,
    }


def _report(rows: list[dict[str, Any]], show: int) -> None:
    n = len(rows)
    all_hits = sum(r["hits"] for r in rows)
    figures = [
        ("terms", f"{n}"),
        ("hits (all terms)", f"{all_hits}"),
        ("lacking the term, mean over terms", f"{sum(r['lacking_share'] for r in rows) / n:.3f}  (goal <= 0.25)"),
        ("lacking the term, share of all hits", f"{sum(r['lacking'] for r in rows) / max(all_hits, 1):.3f}"),
        ("P@10 of term-containing records", f"{sum(r['p10'] for r in rows) / n:.3f}  (goal >= 0.95)"),
        ("precision of the first 10 hits", f"{sum(r['p10_plain'] for r in rows) / n:.3f}"),
        ("recall of term-containing records", f"{sum(r['recall'] for r in rows) / n:.3f}  (goal >= 0.98)"),
    ]
    print(harness.table(["measure", "value"], [list(f) for f in figures]))
    worst = sorted(rows, key=lambda r: -r["lacking"])[:show]
    print(harness.table(
        ["term", "hits", "containing", "lacking", "P@10", "recall"],
        [[r["term"], r["hits"], r["relevant"], r["lacking"], f"{r['p10']:.2f}", f"{r['recall']:.2f}"] for r in worst],
    ))
    missed = sorted(rows, key=lambda r: r["recall"])[:show]
    print(harness.table(
        ["lowest recall", "hits", "containing", "recall"],
        [[r["term"], r["hits"], r["relevant"], f"{r['recall']:.2f}"] for r in missed if r["recall"] < 1],
    ))


if __name__ == "__main__":
    main()

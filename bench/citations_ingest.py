"""Ingest with citation linking on against off, on the bench corpus with ~20 references per record.

    .venv/bin/python bench/citations_ingest.py [--records 200000] [--refs 20] [--cited 0.3] [--chunk 1000]

The corpus is bench/corpus.py's synthetic CSL records (real titles, abstracts and keywords
recombined), each given a year, two to four authors and a reference list: `--cited` of the
references name another record of the corpus (its title, first author and year, as a reference
list writes them; earlier and later records alike, so links form in both directions of time), the
rest name works that are not in the index (recombined titles: they cost a key lookup and find
nothing, as most references of a fresh corpus do).

Both arms run the worker's code in this process, one chunk after another, each on a fresh index:
- off: `ingest.writer.write_records` per chunk (what `ingest.chunk` does with CHAXIN_CITATION_LINKING=false);
- on: the same, then `citeindex.refresh.note_arrivals` on the written IDs (the `citeindex.link_records`
  task), and `citeindex.refresh.refresh` (the refresh task: links and counts, one write per record) after
  every `--refresh-every` chunks and at the end (default: only at the end, as after a bulk load).
Celery's own per-task cost is the same in both arms and is left out. Figures are printed and written
to bench/results/citations-ingest-<timestamp>.json; nothing here asserts a timing.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path
from typing import Any

_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))

from bench import harness
from bench.harness import log, table

TARGET_RATIO = 0.8
SURNAMES = [
    "王",
    "李",
    "张",
    "刘",
    "陈",
    "杨",
    "黄",
    "赵",
    "吴",
    "周",
    "徐",
    "孙",
    "马",
    "朱",
    "胡",
    "郭",
    "何",
    "高",
    "林",
    "罗",
    "郑",
    "梁",
    "谢",
    "宋",
    "唐",
    "许",
    "韩",
    "冯",
    "邓",
    "曹",
]
GIVEN = [
    "伟",
    "芳",
    "娜",
    "敏",
    "静",
    "丽",
    "强",
    "磊",
    "军",
    "洋",
    "勇",
    "艳",
    "杰",
    "娟",
    "涛",
    "明",
    "超",
    "秀",
    "霞",
    "平",
    "刚",
    "桂",
    "华",
    "建",
    "文",
    "玉",
    "志",
    "红",
    "国",
    "春",
]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--records", type=int, default=200_000)
    p.add_argument("--refs", type=int, default=20, help="references per record (average)")
    p.add_argument("--cited", type=float, default=0.3, help="share of references naming a corpus record")
    p.add_argument("--chunk", type=int, default=1000, help="records per chunk (CHAXIN_INGEST_CHUNK_LINES)")
    p.add_argument("--refresh-every", type=int, default=0,
                   help="chunks between refreshes in the 'on' arm (0: one refresh at the end)")  # fmt: skip
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--out", type=Path, default=None)
    return p.parse_args(argv)


def build_records(args: argparse.Namespace) -> list[Any]:
    import tempfile

    from bench.corpus import build_corpus
    from mappings.model import Record

    with tempfile.TemporaryDirectory() as tmp:
        raw, _ = build_corpus(args.records, args.seed, Path(tmp) / "corpus.jsonl")
    rng = random.Random(args.seed)
    people = [
        f"{s}{g}{h}" if rng.random() < 0.7 else f"{s}{g}" for s in SURNAMES for g in GIVEN for h in GIVEN[:4]
    ]
    meta = []
    for r in raw:
        authors = rng.sample(people, rng.randint(2, 4))
        meta.append((r, authors, rng.randint(2000, 2024)))
    titles = [r["title"] for r in raw]
    records = []
    for r, authors, year in meta:
        refs = []
        for _ in range(max(0, int(rng.gauss(args.refs, 4)))):
            if rng.random() < args.cited:
                other, o_authors, o_year = meta[rng.randrange(len(meta))]
                if other is r:
                    continue
                refs.append({"authors": [o_authors[0]], "title": other["title"], "venue": "某某学报", "year": o_year,
                             "raw": f"{o_authors[0]}.{other['title']}.某某学报.{o_year}"})  # fmt: skip
            else:
                a, b = rng.sample(titles, 2)
                title = a[: len(a) // 2] + b[len(b) // 2 :] + "研究"
                who, y = rng.choice(people), rng.randint(1990, 2024)
                refs.append({"authors": [who], "title": title, "year": y, "raw": f"{who}.{title}.{y}"})
        records.append(Record.model_validate({
            "id": r["id"], "source": "bench", "source_id": r["id"], "doc_type": "journal_article",
            "title": r["title"], "abstract": r["abstract"], "keywords": r["keywords"], "year": year,
            "authors": [{"name": n, "order": i + 1} for i, n in enumerate(authors)], "references": refs,
            "ingested_at": "2026-12-01T00:00:00Z", "version": 1,
        }))  # fmt: skip
    return records


def run_arm(
    es: Any, records: list[Any], chunk: int, *, linking: bool, refresh_every: int = 0
) -> dict[str, Any]:
    import dataclasses

    import redis

    from citeindex.counts import dirty_key
    from citeindex.refresh import RefreshResult, note_arrivals, noted_key, refresh
    from conf.settings import get_settings
    from ingest.index_admin import create, drop_all
    from ingest.writer import write_records
    from mappings.analysis.tokenizer import get_tokenizer
    from mappings.naming import IndexNames

    tokenizer = get_tokenizer("rjieba")
    names = IndexNames(harness.new_prefix("cite-on" if linking else "cite-off"))
    create(es, names, tokenizer)
    r = redis.Redis.from_url(get_settings().effective_redis_url)
    index = names.write_alias
    out: dict[str, Any] = {"linking": linking, "write_seconds": 0.0, "note_seconds": 0.0, "refresh_seconds": 0.0,
                           "refreshes": 0}  # fmt: skip
    total = RefreshResult()

    def run_refresh() -> None:
        t = time.perf_counter()
        done = refresh(es, r, index, tokenizer)
        out["refresh_seconds"] += time.perf_counter() - t
        out["refreshes"] += 1
        for f in dataclasses.fields(total):
            setattr(total, f.name, getattr(total, f.name) + getattr(done, f.name))

    t0 = time.perf_counter()
    try:
        for n, start in enumerate(range(0, len(records), chunk)):
            part = records[start : start + chunk]
            t = time.perf_counter()
            written = write_records(es, index, [(x.id, x) for x in part], tokenizer)
            out["write_seconds"] += time.perf_counter() - t
            if linking:
                t = time.perf_counter()
                note_arrivals(es, r, index, written.written)
                out["note_seconds"] += time.perf_counter() - t
                if refresh_every and (n + 1) % refresh_every == 0:
                    run_refresh()
            if n % 20 == 0:
                el = time.perf_counter() - t0
                log(
                    f"  {'on ' if linking else 'off'} {start + len(part):,} records, {(start + len(part)) / el:,.0f}/s"
                )
        if linking:
            run_refresh()
            out["refresh"] = dataclasses.asdict(total)
            out["writes_per_record"] = (len(records) + total.written) / len(records)
        es.indices.refresh(index=index)
        out["seconds"] = time.perf_counter() - t0
        out["records_per_s"] = len(records) / out["seconds"]
        if linking:
            cites = es.search(index=index, size=0, aggs={"n": {"value_count": {"field": "citations.cites"}}})
            out["links"] = int(cites["aggregations"]["n"]["value"])
            out["disk_usage"] = field_bytes(es, index)
    finally:
        r.delete(dirty_key(index), noted_key(index))
        drop_all(es, names)
    return out


def field_bytes(es: Any, index: str) -> dict[str, Any]:
    """Bytes on disk of the citation fields (the _disk_usage API: postings, doc values, ...)."""
    es.indices.forcemerge(index=index, max_num_segments=1)
    resp = es.perform_request(
        "POST",
        f"/{index}/_disk_usage",
        params={"run_expensive_tasks": "true"},
        headers={"accept": "application/json"},
    )
    body = dict(resp.body)
    phys = next(iter(v for k, v in body.items() if not k.startswith("_")))
    fields = phys["fields"]
    wanted = ("citations.cites", "citations.cites_self", "citations.cited_by_count", "citations.cited_by_others",
              "ix.match_keys", "ix.ref_keys", "_source")  # fmt: skip
    return {
        "store_size_bytes": phys["store_size_in_bytes"],
        **{f: fields[f]["total_in_bytes"] for f in wanted if f in fields},
    }


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    from conf.clients import make_es
    from conf.settings import get_settings

    es = make_es(get_settings())
    log(f"building {args.records:,} records with ~{args.refs} references each ...")
    records = build_records(args)
    n_refs = sum(len(r.references) for r in records)
    log(f"{len(records):,} records, {n_refs:,} references")
    results: dict[str, Any] = {"benchmark": "citations_ingest", "params": {k: str(v) for k, v in vars(args).items()},
                               "machine": harness.machine_info(), "references": n_refs}  # fmt: skip
    off = run_arm(es, records, args.chunk, linking=False)
    on = run_arm(es, records, args.chunk, linking=True, refresh_every=args.refresh_every)
    results.update(off=off, on=on, ratio=on["records_per_s"] / off["records_per_s"])
    out = args.out or harness.default_out("citations-ingest")
    harness.write_json(out, results)
    rows = [
        ["linking off", off["records_per_s"], off["seconds"], off["write_seconds"], 0, 0, 1.0, ""],
        ["linking on", on["records_per_s"], on["seconds"], on["write_seconds"], on["note_seconds"],
         on["refresh_seconds"], on["writes_per_record"], on.get("links", "")],
    ]  # fmt: skip
    print(table(["", "records/s", "s", "write s", "note s", "refresh s", "writes/record", "links"], rows,
                title=f"ingest, {len(records):,} records, {n_refs:,} references, chunks of {args.chunk}, "
                      f"{on['refreshes']} refresh(es)"))  # fmt: skip
    print(f"refresh: {on['refresh']}")
    print(f"\nratio on/off: {results['ratio']:.2f} (goal >= {TARGET_RATIO})")
    if "disk_usage" in on:
        print("\nbytes on disk (after force-merge), per field:")
        for k, v in on["disk_usage"].items():
            print(f"  {k:28} {v:>14,}  ({v / len(records):,.1f} per record)")
    print(f"\nresults written to {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

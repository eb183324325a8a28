"""What exact totals cost: the same searches with `track_total_hits` true, at ES's default (10,000) and off.

    .venv/bin/python bench/total_hits.py [--records 100000] [--prefix P] [--repeats 7] [--out FILE]

Without --prefix it synthesizes --records recombined CSL records (bench/corpus.py), indexes them
directly (bench/bulk_load.py, no worker) into a fresh prefix, and drops that index at the end; with
--prefix it reads an index that already holds data. The queries are the simple ones bench/query.py
picks from the corpus, plus broad ones (the commonest keywords and categories, tens of thousands of
hits), built by `search.simple_query.build_simple` and policed for an anonymous visitor as the API
does. Each is sent straight to Elasticsearch
  - with the facet aggregations, as the API's search sends it (the aggregations visit every hit anyway),
  - and without them (hits only, as a page by cursor after the first sends it),
at each `track_total_hits` setting, `--repeats` times after a warm-up, the settings taken in turn
(shuffled each round) so that load from elsewhere falls on all of them alike. It prints the median
of ES's own `took` per setting, the ratio of true to off, and the same ratio of the fastest runs (the
least disturbed by other load), and writes bench/results/total-hits-<ts>.json.
Not a test: no assertions.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

# Run as a script, this file's directory comes first on sys.path, where bench/ingest.py would
# shadow the `ingest` package: put the repository root there instead, and import helpers as bench.*.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))

from bench import harness
from bench.harness import log, table

SETTINGS: dict[str, bool | int] = {"true": True, "10000": 10_000, "off": False}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--records", type=int, default=100_000, help="records to synthesize (without --prefix)")
    p.add_argument("--prefix", default=None, help="read this populated index prefix instead")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--repeats", type=int, default=7, help="timed runs of each query and setting")
    p.add_argument("--out", type=Path, default=None, help="JSON results (default bench/results/total-hits-<ts>.json)")
    return p.parse_args(argv)


# Words of scientific Chinese that many titles and abstracts hold: free-text queries with a large share
# of the corpus as hits, where counting every hit could cost the most.
COMMON_WORDS = ("研究", "分析", "方法", "技术", "系统", "影响", "结果", "发展", "应用", "模型")


def broad_queries(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The commonest words and keywords as free text, and the commonest category as a facet over everything."""
    text = [(r.get("title") or "") + (r.get("abstract") or "") for r in rows]
    words = sorted(COMMON_WORDS, key=lambda w: -sum(w in t for t in text))
    keywords = Counter(k for r in rows for k in r.get("keywords") or [])
    categories = Counter(r.get("category") for r in rows if r.get("category"))
    out: list[dict[str, Any]] = [{"kind": "common word", "q": w, "filters": {}} for w in words[:3]]
    out += [{"kind": "common words ×2", "q": f"{words[0]} {words[1]}", "filters": {}}]
    out += [{"kind": "broad keyword", "q": k, "filters": {}} for k, _ in keywords.most_common(2)]
    out += [{"kind": "all + category", "q": "", "filters": {"category": [c]}} for c, _ in categories.most_common(1)]
    out.append({"kind": "all", "q": "", "filters": {}})
    return out


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    from bench.bulk_load import as_record, bulk_index
    from bench.corpus import build_pools, default_source, load_source, synthesize
    from bench.query import pick_queries
    from conf.clients import make_es
    from conf.settings import Settings
    from ingest.index_admin import create, drop_all
    from mappings.analysis.tokenizer import get_tokenizer
    from mappings.naming import IndexNames
    from search.policy import police
    from search.principal import ANONYMOUS
    from search.simple_query import build_simple

    settings = Settings()
    es = make_es(settings)
    tokenizer = get_tokenizer(settings.tokenizer_backend)
    created = args.prefix is None
    names = IndexNames(args.prefix or harness.new_prefix("totals"))
    source = default_source()
    pools = build_pools(load_source(source), str(source))
    rows = synthesize(pools, args.records, args.seed)
    results: dict[str, Any] = {
        "benchmark": "total-hits", "started_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": harness.machine_info(), "params": {k: str(v) for k, v in vars(args).items()},
        "prefix": names.prefix, "source": str(source),
    }  # fmt: skip
    try:
        if created:
            create(es, names, tokenizer)
            log(f"indexing {args.records:,} records into {names.read_alias}")
            started = time.monotonic()
            bulk_index(es, names.write_alias, [as_record(r) for r in rows], tokenizer)
            log(f"indexed in {time.monotonic() - started:.0f} s")
        count = es.count(index=names.read_alias)["count"]
        results["records_in_index"] = count
        queries = [{**q, "filters": {}} for q in pick_queries(rows, args.seed)] + broad_queries(rows)
        measured = []
        rng = random.Random(args.seed)
        for spec in queries:
            body = build_simple(spec["q"], tokenizer=tokenizer, filters=spec["filters"])
            body["query"] = police(body["query"], ANONYMOUS)
            body["_source"] = ["id", "title"]
            body.pop("highlight", None)  # the same for every setting; it would only add noise
            row: dict[str, Any] = {"kind": spec["kind"], "q": spec["q"] or "(全部)", "filters": spec["filters"]}
            for with_aggs in (True, False):
                base = body if with_aggs else {k: v for k, v in body.items() if k != "aggs"}
                part = "aggs" if with_aggs else "hits"
                took: dict[str, list[int]] = {name: [] for name in SETTINGS}
                for value in SETTINGS.values():
                    es.search(index=names.read_alias, body={**base, "track_total_hits": value})  # warm-up
                # Round-robin in a shuffled order: a noisy neighbour slows every setting alike.
                for _ in range(args.repeats):
                    for name in rng.sample(list(SETTINGS), len(SETTINGS)):
                        timed = {**base, "track_total_hits": SETTINGS[name]}
                        took[name].append(es.search(index=names.read_alias, body=timed)["took"])
                for name, values in took.items():
                    row[f"{part}_{name}_ms"] = statistics.median(values)
                    row[f"{part}_{name}_min_ms"] = min(values)
            row["hits"] = es.count(index=names.read_alias, query=body["query"])["count"]
            measured.append(row)
        results["queries"] = measured
    finally:
        if created:
            drop_all(es, names)
    print(report(results))
    out = harness.write_json(args.out or harness.default_out("total-hits"), results)
    log(f"results in {out}")
    return 0


def _ratio(a: float, b: float) -> float | None:
    return round(a / b, 2) if b else None


def report(results: dict[str, Any]) -> str:
    rows = results["queries"]
    lines = []
    for part, label in (("aggs", "with facet aggregations (the API's search)"), ("hits", "hits only (cursor pages)")):
        body = [
            [r["kind"], r["hits"], r[f"{part}_true_ms"], r[f"{part}_10000_ms"], r[f"{part}_off_ms"],
             _ratio(r[f"{part}_true_ms"], r[f"{part}_off_ms"]),
             _ratio(r[f"{part}_true_min_ms"], r[f"{part}_off_min_ms"])]
            for r in rows
        ]  # fmt: skip
        many = [r for r in rows if r["hits"] > 10_000]
        for group, members in (("all queries", rows), ("> 10,000 hits", many)):
            if members:
                t = statistics.median(r[f"{part}_true_ms"] for r in members)
                off = statistics.median(r[f"{part}_off_ms"] for r in members)
                t_min = statistics.median(r[f"{part}_true_min_ms"] for r in members)
                off_min = statistics.median(r[f"{part}_off_min_ms"] for r in members)
                body.append([f"median, {group}", len(members), t,
                             statistics.median(r[f"{part}_10000_ms"] for r in members), off, _ratio(t, off),
                             _ratio(t_min, off_min)])  # fmt: skip
        lines.append(table(["query", "hits", "true ms", "10000 ms", "off ms", "true/off", "(fastest runs)"], body,
                           title=f"ES took (median of runs), {label}; {results['records_in_index']:,} records"))  # fmt: skip
    return "\n\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())

"""Latency of the citation index's search side: a 20-hit search with live 被引/他引 counts against
the same search without them, and the citing list of one record, p50 and p95, in one run.

    .venv/bin/python bench/citations_latency.py [--records 50000] [--refs 20] [--queries 40] [--passes 3]

1. A synthetic corpus (bench/corpus.py: real titles, sentences and keywords recombined), each record
   with 1-3 authors from a pool (so some citations are 自引), a year, and about `--refs` citations of
   older records, preferentially the oldest (a few records are cited thousands of times, most a few
   times, as in real citation graphs). 5 % are 限制 tech reports. The documents are built by
   `ingest.document.index_document` and carry `citations.*` as linking and the count refresh leave
   them: stored counts over the non-限制 citers, and the 限制 citers apart (`cited_by_restricted`).
2. Per query (one real keyword each, simple mode, 20 hits), interleaved in random order so all see
   the same noise: the search as `SearchService.simple` runs it but without counts (plain), and with
   them, once anonymous and once as a platform admin. Anonymous hits read the stored counts (one
   request); the admin's hits with 限制 citers are counted live (a second request for those hits).
   The goal is counts/plain ≤ 1.2 at p50 and p95.
3. `GET /api/v1/records/{id}/citations?size=20` through the real app (in process, ASGI) for the most
   cited records and for random ones, and `GET /api/v1/search` with counts for the same queries.

Figures print as a table and go to bench/results/citations_latency-<time>.json. No timing is asserted.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))

from bench.corpus import build_pools, default_source, load_source, synthesize
from bench.harness import default_out, log, machine_info, new_prefix, percentile, table, write_json

SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--records", type=int, default=50_000)
    p.add_argument("--refs", type=int, default=20, help="citations per record (about)")
    p.add_argument("--queries", type=int, default=40)
    p.add_argument("--passes", type=int, default=3)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--out", type=Path, default=None)
    return p.parse_args(argv)


def build_documents(n: int, refs: int, seed: int) -> tuple[list[dict[str, Any]], list[str]]:
    from ingest.document import index_document
    from mappings.analysis.tokenizer import get_tokenizer
    from mappings.model import Record

    source = default_source()
    pools = build_pools(load_source(source), str(source))
    base = synthesize(pools, n, seed)
    rng = random.Random(seed)
    tokenizer = get_tokenizer("rjieba")
    names = [s + g + h for s in SURNAMES for g in GIVEN for h in ("", "华", "明")]
    now = datetime(2026, 11, 1, tzinfo=UTC)
    docs: list[dict[str, Any]] = []
    authors_of: list[set[str]] = []
    restricted: list[bool] = []
    for i, row in enumerate(base):
        authors = rng.sample(names, rng.randint(1, 3))
        secret = rng.random() < 0.05
        record = Record.model_validate({
            "id": row["id"], "source": "csl", "source_id": row["id"],
            "doc_type": "tech_report" if secret else "journal_article",
            "title": row["title"], "abstract": row["abstract"], "keywords": row["keywords"],
            "category": row["category"], "discipline": row["discipline"], "language": "zh",
            "year": 1990 + i * 35 // n, "ingested_at": now, "version": 1,
            "authors": [{"name": a, "order": k + 1} for k, a in enumerate(authors)],
            **({"tech_report": {"report_no": f"R-{i}", "access_level": "restricted"}} if secret else {}),
        })  # fmt: skip
        docs.append(index_document(record, tokenizer))
        authors_of.append(set(authors))
        restricted.append(secret)
    count = [0] * n
    others = [0] * n
    hidden = [0] * n
    for i, doc in enumerate(docs):
        if i == 0:
            continue
        # Older records, the oldest most often: i * u³ piles citations onto the first ones.
        cited = sorted({int(i * rng.random() ** 3) for _ in range(rng.randint(refs // 2, refs * 3 // 2))})
        own = [c for c in cited if authors_of[c] & authors_of[i]]
        doc["citations"] = {"cites": [docs[c]["id"] for c in cited], "cites_self": [docs[c]["id"] for c in own]}
        for c in cited:
            if restricted[i]:
                hidden[c] += 1
            else:
                count[c] += 1
                others[c] += c not in own
    for i, doc in enumerate(docs):
        stored = {"cited_by_count": count[i], "cited_by_others": others[i], "cited_by_restricted": hidden[i]}
        doc["citations"] = {**doc.get("citations", {}), **stored}
    queries = rng.sample(sorted({k for row in base for k in row["keywords"]}), 400)
    return docs, queries


def timed(fn: Callable[[], Any]) -> float:
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) * 1000


def stats(name: str, ms: list[float]) -> dict[str, Any]:
    return {"name": name, "n": len(ms), "p50": percentile(ms, 50), "p95": percentile(ms, 95)}


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    prefix = new_prefix("cites")
    tmp = Path(tempfile.mkdtemp(prefix="chaxin-bench-cites-"))
    os.environ["CHAXIN_INDEX_PREFIX"] = prefix
    os.environ["DATABASE_URL"] = f"sqlite:///{tmp / 'bench.sqlite3'}"

    from elasticsearch import helpers
    from fastapi.testclient import TestClient

    from appdb.session import upgrade
    from conf.clients import make_es
    from conf.settings import Settings
    from ingest.index_admin import create, drop_all
    from mappings.analysis.tokenizer import get_tokenizer
    from mappings.naming import IndexNames
    from search.principal import ANONYMOUS, Principal, Role
    from search.service import SearchService
    from web.app import create_app

    settings = Settings()
    es = make_es(settings)
    names = IndexNames(prefix)
    tokenizer = get_tokenizer("rjieba")
    log(f"building {args.records:,} records with about {args.refs} citations each")
    docs, pool = build_documents(args.records, args.refs, args.seed)
    create(es, names, tokenizer)
    try:
        log("indexing")
        started = time.perf_counter()
        actions = ({"_index": names.write_alias, "_id": d["id"], "_source": d} for d in docs)
        for ok, item in helpers.streaming_bulk(es, actions, chunk_size=1000, max_chunk_bytes=5_000_000,
                                               raise_on_error=False):  # fmt: skip
            if not ok:
                raise RuntimeError(f"indexing failed: {item}")
        es.indices.refresh(index=names.write_alias)
        es.indices.forcemerge(index=names.write_alias, max_num_segments=1)
        index_s = time.perf_counter() - started
        edges = sum(len(d.get("citations", {}).get("cites", [])) for d in docs)

        service = SearchService(es, names, tokenizer)
        rng = random.Random(args.seed)
        queries = [q for q in pool if service.simple(q, size=1)["total"] >= 20][: args.queries]
        plain_service = SearchService(es, names, tokenizer)
        plain_service._with_counts = lambda hits, raw, principal: hits  # type: ignore[method-assign]
        for q in queries[:5]:  # warm both paths
            service.simple(q, size=20)
            plain_service.simple(q, size=20)

        admin = Principal(user_id=1, username="bench", roles=frozenset({Role.platform_admin}), owner="user:1")
        series: dict[str, list[float]] = {"plain": [], "counts": [], "admin_plain": [], "admin_counts": []}
        log(f"searching: {len(queries)} queries x {args.passes} passes")
        for _ in range(args.passes):
            for q in queries:
                turns = [("plain", plain_service, ANONYMOUS), ("counts", service, ANONYMOUS),
                         ("admin_plain", plain_service, admin), ("admin_counts", service, admin)]  # fmt: skip
                rng.shuffle(turns)
                for label, svc, who in turns:
                    series[label].append(timed(lambda s=svc, q=q, w=who: s.simple(q, size=20, principal=w)))
        plain, counted = series["plain"], series["counts"]

        by_count = sorted(range(len(docs)), key=lambda i: -docs[i]["citations"]["cited_by_count"])
        top = [docs[i]["id"] for i in by_count[:20]]
        random_ids = [docs[i]["id"] for i in rng.sample(range(len(docs)), 40)]
        upgrade(settings.effective_database_url)
        api: dict[str, list[float]] = {"citing_top": [], "citing_random": [], "api_search": []}
        with TestClient(create_app(settings)) as client:
            for rid in top[:3]:
                client.get(f"/api/v1/records/{rid}/citations", params={"size": 20})
            log("API: citing lists and searches")
            for _ in range(args.passes):
                for rid in top:
                    api["citing_top"].append(timed(lambda r=rid: client.get(f"/api/v1/records/{r}/citations",
                                                                            params={"size": 20})))  # fmt: skip
                for rid in random_ids:
                    api["citing_random"].append(timed(lambda r=rid: client.get(f"/api/v1/records/{r}/citations",
                                                                               params={"size": 20})))  # fmt: skip
                for q in queries:
                    api["api_search"].append(timed(lambda q=q: client.get("/api/v1/search",
                                                                         params={"q": q, "size": 20})))  # fmt: skip
        top_count = docs[by_count[0]]["citations"]["cited_by_count"]
    finally:
        drop_all(es, names)

    rows = [stats("search, plain (service)", plain), stats("search + counts (service)", counted),
            stats("search, plain, admin (service)", series["admin_plain"]),
            stats("search + counts, admin (service)", series["admin_counts"]),
            stats("GET /api/v1/search + counts", api["api_search"]),
            stats(f"GET …/citations, top-cited (max {top_count:,})", api["citing_top"]),
            stats("GET …/citations, random records", api["citing_random"])]  # fmt: skip
    ratio = {k: rows[1][k] / rows[0][k] for k in ("p50", "p95")}
    print(table(["measure (ms)", "n", "p50", "p95"], [[r["name"], r["n"], r["p50"], r["p95"]] for r in rows],
                title=f"{args.records:,} records, {edges:,} citation edges, indexed in {index_s:.0f} s"))  # fmt: skip
    admin_ratio = {k: rows[3][k] / rows[2][k] for k in ("p50", "p95")}
    print(f"\ncounts / plain: p50 {ratio['p50']:.2f}x, p95 {ratio['p95']:.2f}x (goal ≤ 1.2x)")
    print(f"admin, counts / plain: p50 {admin_ratio['p50']:.2f}x, p95 {admin_ratio['p95']:.2f}x")
    out = args.out or default_out("citations_latency")
    write_json(out, {"args": {k: str(v) for k, v in vars(args).items()}, "machine": machine_info(),
                     "records": args.records, "edges": edges, "rows": rows, "ratio": ratio,
                     "admin_ratio": admin_ratio})  # fmt: skip
    log(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Query benchmark: the JSON search API against the same request sent straight to Elasticsearch.

    .venv/bin/python bench/query.py [--prefix smoke] [--out FILE]

Without --prefix it ingests --source (../shared/data/csl/csl_10k.jsonl, else the demo corpus
data/demo/csl_demo.jsonl.gz, 2,000 records) into a fresh prefix (bench-<hex>) with `ingest.submit.submit()` and a `chaxin worker` subprocess, and drops
that index at the end. With --prefix it reuses an index that already holds data (left untouched).

It starts `chaxin serve` on a free port, takes a fixed set of simple queries from the corpus
(keyword pairs, 6-10 character title runs, single keywords, English acronyms), then runs them
  - through GET /api/v1/search?q=...&size=20, and
  - as the very body the API sends for an anonymous caller (SearchService.simple_body: the
    access policy, facets, highlight and _source included) POSTed to <ES>/<prefix>-records/_search,
at concurrency 1 and 16, after a warm-up pass, and reports p50/p95/p99 latency and throughput.
The two targets take turns on the same slices of the query sequence (12 turns at concurrency 1, 4
above), so that on a machine whose load drifts both sides of a ratio see the same moments. The same
for pro-mode expressions, then a timed export of up to 10,000 records in every format.
Figures are printed and written to bench/results/query-<timestamp>.json. Not a test: no assertions.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import re
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

# Run as a script, this file's directory comes first on sys.path, where bench/ingest.py would
# shadow the `ingest` package: put the repository root there instead, and import helpers as bench.*.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))

from bench import harness
from bench.harness import log, percentile, table

DEMO = harness.REPO_ROOT / "data" / "demo" / "csl_demo.jsonl.gz"
# 10,000 records, so that the export timing covers a 10,000-record result set; the demo file otherwise.
CSL_10K = harness.REPO_ROOT.parent / "shared" / "data" / "csl" / "csl_10k.jsonl"
DEFAULT_SOURCE = CSL_10K if CSL_10K.exists() else DEMO
ENGLISH_PREFERRED = ("BERT", "GIS", "GPS", "CNN", "LSTM", "SVM", "DNA")
_CJK = re.compile(r"^[\u4e00-\u9fff]+$")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument(
        "--prefix", default=None, help="reuse this populated index prefix (e.g. smoke) instead of ingesting"
    )
    p.add_argument(
        "--source",
        type=Path,
        default=DEFAULT_SOURCE,
        help="CSL JSONL(.gz): ingested (without --prefix) and queried from (default: csl_10k if present)",
    )
    p.add_argument("--seed", type=int, default=7, help="seed for picking the queries")
    p.add_argument("--size", type=int, default=20)
    p.add_argument("--concurrency", default="1,16", help="comma-separated concurrency levels")
    p.add_argument("--passes-c1", type=int, default=3, help="passes over the query set at concurrency 1")
    p.add_argument("--requests", type=int, default=640, help="requests per target at concurrency > 1")
    p.add_argument("--turns-c1", type=int, default=12, help="turns the targets take at concurrency 1")
    p.add_argument("--turns", type=int, default=4, help="turns the targets take at concurrency > 1")
    p.add_argument("--port", type=int, default=0, help="API port (default: a free one)")
    p.add_argument(
        "--api-workers", type=int, default=None, help="`chaxin serve --workers N` (default: CHAXIN_API_WORKERS)"
    )
    p.add_argument(
        "--redis-db", type=int, default=11, help="Redis database used as the benchmark's Celery queue"
    )
    p.add_argument("--database-url", default=None, help="job database (default: a temporary SQLite file)")
    p.add_argument(
        "--out", type=Path, default=None, help="JSON results file (default bench/results/query-<ts>.json)"
    )
    p.add_argument("--keep-tmp", action="store_true")
    p.add_argument(
        "--keep-index", action="store_true", help="leave the ingested index in place, for later runs with --prefix"
    )
    return p.parse_args(argv)


# ------------------------------------------------------------------ the query set


def load_records(path: Path) -> list[dict[str, Any]]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as fh:  # type: ignore[operator]
        rows = [json.loads(line) for line in fh if line.strip()]
    return sorted(rows, key=lambda r: str(r.get("id", "")))


def pick_queries(records: list[dict[str, Any]], seed: int) -> list[dict[str, str]]:
    """32 queries, the same for the same corpus and seed: 10 keyword pairs, 12 title runs, 8 keywords, 2 English."""
    rng = random.Random(seed)
    out: list[dict[str, str]] = []
    seen: set[str] = set()

    def add(kind: str, q: str) -> bool:
        q = q.strip()
        if q and q not in seen:
            seen.add(q)
            out.append({"kind": kind, "q": q})
            return True
        return False

    with_kw = [r for r in records if len([k for k in r.get("keywords") or [] if 2 <= len(k) <= 10]) >= 2]
    while sum(1 for x in out if x["kind"] == "keyword pair") < 10:
        r = rng.choice(with_kw)
        a, b = rng.sample([k for k in r["keywords"] if 2 <= len(k) <= 10], 2)
        add("keyword pair", f"{a} {b}")
    titles = [r["title"] for r in records if len(r.get("title") or "") >= 12]
    while sum(1 for x in out if x["kind"] == "title run") < 12:
        t = rng.choice(titles)
        n = rng.randint(6, 10)
        start = rng.randint(0, len(t) - n)
        run = t[start : start + n]
        if _CJK.match(run):  # only Chinese characters, no punctuation or Latin at the edges
            add("title run", run)
    singles = sorted(
        {k for r in records for k in r.get("keywords") or [] if 2 <= len(k) <= 8 and _CJK.match(k)}
    )
    while sum(1 for x in out if x["kind"] == "keyword") < 8:
        add("keyword", rng.choice(singles))
    text = " ".join((r.get("title") or "") + " " + " ".join(r.get("keywords") or []) for r in records)
    counts = Counter(re.findall(r"(?<![A-Za-z0-9])[A-Z][A-Z0-9]{1,7}(?![A-Za-z0-9])", text))
    english = [w for w in ENGLISH_PREFERRED if counts.get(w)] + [
        w for w, _ in counts.most_common() if w not in ENGLISH_PREFERRED
    ]
    for w in english[:2]:
        add("english", w)
    return out


# ------------------------------------------------------------------ load generation


class Tally:
    """Latencies (ms), errors and ES `took` of one target, over every turn it had."""

    def __init__(self) -> None:
        self.lat: list[float] = []
        self.errors: list[str] = []
        self.took: list[int] = []
        self.wall = 0.0
        self.requests = 0


def drive(send: Any, queries: list[str], concurrency: int, indices: range, tally: Tally) -> None:
    """Send requests number `indices` (cycling through queries) from `concurrency` threads."""
    lock = threading.Lock()
    counter = iter(indices)

    def worker() -> None:
        while True:
            with lock:
                i = next(counter, None)
            if i is None:
                return
            q = queries[i % len(queries)]
            t0 = time.perf_counter()
            try:
                resp = send(q)
                # The body is read but not parsed: parsing is the caller's cost, not the server's.
                ms = (time.perf_counter() - t0) * 1000
                status = resp.status_code
                es_took = _took(resp) if status == 200 else None
                with lock:
                    if status == 200:
                        tally.lat.append(ms)
                        if es_took is not None:
                            tally.took.append(es_took)
                    else:
                        tally.errors.append(f"HTTP {status}")
            except Exception as exc:  # noqa: BLE001 - counted, reported
                with lock:
                    tally.errors.append(type(exc).__name__)

    t0 = time.perf_counter()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        for f in [pool.submit(worker) for _ in range(concurrency)]:
            f.result()
    tally.wall += time.perf_counter() - t0
    tally.requests += len(indices)


def summary(tally: Tally, concurrency: int, turns: int) -> dict[str, Any]:
    lat, took, wall = tally.lat, tally.took, tally.wall
    return {
        "concurrency": concurrency,
        "requests": tally.requests,
        "turns": turns,
        "ok": len(lat),
        "errors": len(tally.errors),
        "error_kinds": dict(Counter(tally.errors)),
        "wall_seconds": round(wall, 3),
        "throughput_rps": round(len(lat) / wall, 1) if wall else None,
        "p50_ms": round(percentile(lat, 50), 2),
        "p95_ms": round(percentile(lat, 95), 2),
        "p99_ms": round(percentile(lat, 99), 2),
        "mean_ms": round(sum(lat) / len(lat), 2) if lat else None,
        "max_ms": round(max(lat), 2) if lat else None,
        "es_took_p50_ms": round(percentile(took, 50), 1) if took else None,
    }


# ------------------------------------------------------------------ main


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="chaxin-bench-query-"))
    created = args.prefix is None
    prefix = args.prefix or harness.new_prefix()
    database_url = args.database_url or f"sqlite:///{tmp / 'jobs.sqlite3'}"
    env = harness.isolate_env(prefix=prefix, redis_db=args.redis_db, database_url=database_url)
    log(f"prefix {prefix} ({'created by this run' if created else 'reused'}), temp dir {tmp}")
    levels = [int(x) for x in args.concurrency.split(",") if x.strip()]
    results: dict[str, Any] = {
        "benchmark": "query",
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": harness.machine_info(),
        "load_average_at_start": os.getloadavg(),
        "params": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        "prefix": prefix,
        "prefix_created": created,
    }
    out = args.out or harness.default_out("query")
    procs: list[harness.Proc] = []
    es = None
    try:
        from conf.clients import make_es
        from conf.settings import get_settings

        settings = get_settings()
        es = make_es(settings)
        es.cluster.health(wait_for_status="yellow", timeout="60s")
        from mappings.naming import IndexNames

        names = IndexNames(prefix)
        if created:
            results["ingest"] = ingest_demo(args, env, tmp, database_url, settings, procs)
        es.indices.refresh(index=names.read_alias)
        count = es.count(index=names.read_alias)["count"]
        results["index"] = {"alias": names.read_alias, "records": count,
                            "analysis": _index_analysis(es, names.read_alias)}  # fmt: skip
        if not count:
            raise SystemExit(f"{names.read_alias} is empty: ingest something first or drop --prefix")
        log(f"{names.read_alias}: {count:,} records")

        queries = pick_queries(load_records(args.source), args.seed)
        results["queries"] = queries
        qs = [x["q"] for x in queries]

        port = args.port or harness.free_port()
        log(f"starting `chaxin serve --port {port}` ...")
        workers = ["--workers", str(args.api_workers)] if args.api_workers else []
        results["api_workers"] = args.api_workers or getattr(settings, "api_workers", 1)
        api = harness.start_api(env, tmp / "api.log", port, extra_args=workers)
        procs.append(api)
        results["runs"] = bench_queries(args, settings, names, port, qs, levels, results)
        records = load_records(args.source)
        results["pro_queries"] = pick_pro_queries(records, args.seed)
        results["pro_runs"] = bench_pro(args, settings, names, port, results["pro_queries"], levels)
        results["exports"] = bench_exports(port, limit=10_000)
        results["api_rss_mb_after_runs"] = api.sample_rss()
        results["api_pss_mb_after_runs"] = api.sample_pss()
    except BaseException as exc:
        results["error"] = f"{type(exc).__name__}: {exc}"
        raise
    finally:
        for proc in procs:
            proc.stop()
        if created and es is not None and not args.keep_index:
            from ingest.index_admin import drop_all
            from mappings.naming import IndexNames

            try:
                drop_all(es, IndexNames(prefix))
            except Exception as exc:  # noqa: BLE001
                log(f"could not drop indices of {prefix}: {exc}")
        harness.close_run(results, out, tmp, keep_tmp=args.keep_tmp)
    print(report(results))
    print(f"\nresults written to {out}")
    return 0


def ingest_demo(args: argparse.Namespace, env: dict[str, str], tmp: Path, database_url: str,
                settings: Any, procs: list[harness.Proc]) -> dict[str, Any]:  # fmt: skip
    from appdb.session import upgrade
    from ingest.submit import submit

    upgrade(database_url)
    log(f"ingesting {args.source} with a `chaxin worker` ...")
    worker = harness.start_worker(env, tmp / "worker.log", concurrency=2)
    procs.append(worker)
    t0 = time.perf_counter()
    job_id, chunks = submit(settings, "csl", args.source)
    status = harness.wait_for_job(database_url, job_id, timeout=600, worker=worker)
    dt = time.perf_counter() - t0
    worker.stop()
    procs.remove(worker)
    st = status.as_dict()
    log(f"job {job_id} {st['state']}: indexed {st['indexed']:,}, failed {st['failed']} in {dt:.1f}s")
    return {"job_id": job_id, "chunks": chunks, "state": st["state"], "seen": st["seen"], "indexed": st["indexed"],
            "failed": st["failed"], "seconds": round(dt, 2)}  # fmt: skip


def _index_analysis(es: Any, alias: str) -> str | None:
    found = es.indices.get_mapping(index=alias)
    for body in found.body.values():
        return body.get("mappings", {}).get("_meta", {}).get("analysis")
    return None


def load_levels(args: argparse.Namespace, qs: list[str], levels: list[int], targets: dict[str, Any]) -> list[dict[str, Any]]:
    """Each target at each concurrency level: passes over the set at c=1, a fixed request count above.

    The targets take turns (API, ES, ES, API, ...), each turn the same slice of the query sequence:
    on a machine whose load drifts, both sides of a ratio then see the same moments."""
    runs: list[dict[str, Any]] = []
    for c in levels:
        n = len(qs) * args.passes_c1 if c == 1 else args.requests
        turns = max(1, min(n, args.turns_c1 if c == 1 else args.turns))
        log(f"{' and '.join(targets)} at concurrency {c}: {n} requests each, in {turns} turns ...")
        tallies = {target: Tally() for target in targets}
        bounds = [n * k // turns for k in range(turns + 1)]
        for k in range(turns):
            order = list(targets) if k % 2 == 0 else list(reversed(targets))
            for target in order:
                drive(targets[target], qs, c, range(bounds[k], bounds[k + 1]), tallies[target])
        for target, tally in tallies.items():
            run = summary(tally, c, turns)
            run["target"] = target
            runs.append(run)
            log(f"  {target}: p50 {run['p50_ms']} ms, p95 {run['p95_ms']} ms, p99 {run['p99_ms']} ms, "
                f"{run['throughput_rps']} req/s, {run['errors']} errors")  # fmt: skip
    return runs


def _http_clients(settings: Any, names: Any, port: int) -> tuple[str, Any, Any]:
    """The ES search URL, and pooled clients for the API and for Elasticsearch, sized for c=16."""
    import httpx

    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    return (
        f"{settings.effective_es_url.rstrip('/')}/{names.read_alias}/_search",
        httpx.Client(base_url=f"http://127.0.0.1:{port}", limits=limits, timeout=60.0),
        httpx.Client(limits=limits, timeout=60.0, headers={"content-type": "application/json"}),
    )


def _service(settings: Any, names: Any) -> Any:
    from conf.clients import make_es
    from mappings.analysis.tokenizer import get_tokenizer
    from search.service import SearchService

    return SearchService(make_es(settings), names, get_tokenizer(settings.tokenizer_backend))


def _json(body: dict[str, Any]) -> bytes:
    return json.dumps(body, ensure_ascii=False).encode("utf-8")


def bench_queries(args: argparse.Namespace, settings: Any, names: Any, port: int, qs: list[str],
                  levels: list[int], results: dict[str, Any]) -> list[dict[str, Any]]:  # fmt: skip
    import httpx

    service = _service(settings, names)
    # The very body the API's search service sends for an anonymous caller: access policy, facets,
    # highlight, `_source` and all, so the ratio compares the same Elasticsearch request.
    bodies = {q: _json(service.simple_body(q, size=args.size)) for q in qs}
    es_url, api_client, es_client = _http_clients(settings, names, port)

    def send_api(q: str) -> httpx.Response:
        return api_client.get("/api/v1/search", params={"q": q, "size": args.size})

    def send_es(q: str) -> httpx.Response:
        return es_client.post(es_url, content=bodies[q])

    try:
        # Warm-up, and a check that both paths see the same hits.
        log(f"warm-up: {len(qs)} queries through the API and straight to Elasticsearch ...")
        mismatches: list[dict[str, Any]] = []
        totals: dict[str, int] = {}
        for q in qs:
            a = api_client.get("/api/v1/search", params={"q": q, "size": args.size})
            e = es_client.post(es_url, content=bodies[q])
            a.raise_for_status()
            e.raise_for_status()
            at, et = a.json()["total"], e.json()["hits"]["total"]["value"]
            ids_a = [h["id"] for h in a.json()["hits"]]
            ids_e = [h["_id"] for h in e.json()["hits"]["hits"]]
            totals[q] = at
            if at != et or ids_a != ids_e:
                mismatches.append({"q": q, "api_total": at, "es_total": et, "same_ids": ids_a == ids_e})
        results["query_totals"] = totals
        results["zero_hit_queries"] = [q for q, t in totals.items() if t == 0]
        results["api_es_mismatches"] = mismatches
        if mismatches:
            log(f"WARNING: {len(mismatches)} queries differ between API and ES: {mismatches[:3]}")

        return load_levels(args, qs, levels, {"API": send_api, "ES": send_es})
    finally:
        api_client.close()
        es_client.close()


def pick_pro_queries(records: list[dict[str, Any]], seed: int) -> list[str]:
    """Analyst expressions built from the corpus: field terms, in-value operators, nesting."""
    rng = random.Random(seed + 1)
    full = [r for r in records if r.get("abstract") and len(r.get("keywords") or []) >= 2]
    runs = [m for r in full for m in re.findall(r"[\u4e00-\u9fff]{2,4}", r["title"])]

    def run() -> str:
        return rng.choice(runs)

    def kw() -> str:
        return rng.choice(rng.choice(full)["keywords"]).replace("'", "")

    shapes = [
        lambda: f"TI='{run()}' AND KY='{kw()}'",
        lambda: f"SU='{kw()}' OR TI='{run()}'",
        lambda: f"TKA='{run()}'*'{run()}' NOT AB='{run()}'",
        lambda: f"(TI='{run()}' OR AB='{run()}') AND SU='{kw()}'",
        lambda: f"SU=('{run()}'+'{run()}')-'{run()}'",
        lambda: f"TI%'{run()}' AND AB%'{run()}'",
    ]
    return [shapes[i % len(shapes)]() for i in range(24)]


def bench_pro(args: argparse.Namespace, settings: Any, names: Any, port: int, qs: list[str],
              levels: list[int]) -> list[dict[str, Any]]:  # fmt: skip
    """Pro mode through the API (parse, compile, search, history row) against the compiled query sent to ES."""
    import httpx

    service = _service(settings, names)
    bodies = {q: _json(service.pro_request(q, size=args.size)[0].body) for q in qs}
    es_url, api_client, es_client = _http_clients(settings, names, port)

    def send_api(q: str) -> httpx.Response:
        return api_client.get("/api/v1/search", params={"q": q, "mode": "pro", "size": args.size})

    def send_es(q: str) -> httpx.Response:
        return es_client.post(es_url, content=bodies[q])

    try:
        for q in qs:  # warm-up, and every expression must be accepted
            send_api(q).raise_for_status()
            send_es(q).raise_for_status()
        return load_levels(args, qs, levels, {"API pro": send_api, "ES pro": send_es})
    finally:
        api_client.close()
        es_client.close()


def bench_exports(port: int, *, limit: int) -> list[dict[str, Any]]:
    """Time an export of the whole index (up to `limit` records) in every format through the API."""
    import httpx

    from search.export import FORMATS

    out: list[dict[str, Any]] = []
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=600.0) as client:
        for name in FORMATS:
            t0 = time.perf_counter()
            size = 0
            with client.stream("GET", "/api/v1/export", params={"format": name, "limit": limit}) as resp:
                resp.raise_for_status()
                for chunk in resp.iter_bytes():
                    size += len(chunk)
            dt = time.perf_counter() - t0
            out.append({"format": name, "seconds": round(dt, 2), "megabytes": round(size / 1e6, 2)})
            log(f"export {name}: {dt:.2f}s, {size / 1e6:.1f} MB")
    return out


def report(results: dict[str, Any]) -> str:
    parts: list[str] = []
    idx = results.get("index")
    if idx:
        ing = results.get("ingest")
        lines = [["index", idx["alias"]], ["records", idx["records"]], ["analysis", idx["analysis"] or "-"]]
        if ing:
            lines.append(
                [
                    "ingested by this run",
                    f"job {ing['job_id']}, {ing['indexed']:,} indexed in {ing['seconds']}s",
                ]
            )
        qs = results.get("queries") or []
        kinds = Counter(x["kind"] for x in qs)
        lines.append(["queries", f"{len(qs)} ({', '.join(f'{v} {k}' for k, v in kinds.items())})"])
        lines.append(["API worker processes", results.get("api_workers", "-")])
        lines.append(["zero-hit queries", len(results.get("zero_hit_queries") or [])])
        lines.append(["API vs ES result mismatches", len(results.get("api_es_mismatches") or [])])
        parts.append(table(["setup", "value"], lines, title="== Query benchmark"))
    runs = results.get("runs")
    if runs:
        rows = [[r["target"], r["concurrency"], r["ok"], r["errors"], r["p50_ms"], r["p95_ms"], r["p99_ms"], r["mean_ms"],
                 r["throughput_rps"], r["es_took_p50_ms"]] for r in runs]  # fmt: skip
        parts.append(table(["target", "conc.", "requests", "errors", "p50 ms", "p95 ms", "p99 ms", "mean ms", "req/s",
                            "ES took p50"], rows, title="== Latency and throughput (size=20)"))  # fmt: skip
        ratio_rows = []
        by = {(r["target"], r["concurrency"]): r for r in runs}
        for c in sorted({r["concurrency"] for r in runs}):
            a, e = by.get(("API", c)), by.get(("ES", c))
            if a and e:
                ratio_rows.append([c, _ratio(a["p50_ms"], e["p50_ms"]), _ratio(a["p95_ms"], e["p95_ms"]),
                                   _ratio(a["p99_ms"], e["p99_ms"]), _ratio(a["throughput_rps"], e["throughput_rps"])])  # fmt: skip
        parts.append(table(["concurrency", "p50 API/ES", "p95 API/ES", "p99 API/ES", "req/s API/ES"], ratio_rows,
                           title="== API overhead (ratios)", digits=2))  # fmt: skip
    pro = results.get("pro_runs")
    if pro:
        rows = [[r["target"], r["concurrency"], r["ok"], r["errors"], r["p50_ms"], r["p95_ms"], r["p99_ms"],
                 r["throughput_rps"]] for r in pro]  # fmt: skip
        parts.append(table(["target", "conc.", "requests", "errors", "p50 ms", "p95 ms", "p99 ms", "req/s"], rows,
                           title=f"== Pro mode ({len(results.get('pro_queries') or [])} expressions)"))  # fmt: skip
    if runs or pro:
        parts.append(goals_table(results))
    exports = results.get("exports")
    if exports:
        n = (results.get("index") or {}).get("records", 0)
        rows = [[e["format"], min(n, 10_000), e["seconds"], e["megabytes"],
                 round(min(n, 10_000) / e["seconds"]) if e["seconds"] else None] for e in exports]  # fmt: skip
        parts.append(table(["format", "records", "seconds", "MB", "records/s"], rows, title="== Export through the API"))
    rss = results.get("peak_rss_mb")
    if rss:
        api_rss = results.get("api_rss_mb_after_runs")
        api_pss = results.get("api_pss_mb_after_runs")
        parts.append(f"peak RSS: bench process {rss:,.0f} MB; API processes {api_rss or 0:,.0f} MB RSS, "
                     f"{api_pss or 0:,.0f} MB PSS (shared pages split); load average at start "
                     f"{', '.join(f'{x:.2f}' for x in results['load_average_at_start'])}")  # fmt: skip
    return "\n\n".join(parts)


def goals_table(results: dict[str, Any]) -> str:
    """The issue's table (issue 15 §5): API beside ES direct, p50 and throughput, with p99 at c > 1."""
    rows = []
    for label, key, api, es in (("simple", "runs", "API", "ES"), ("pro", "pro_runs", "API pro", "ES pro")):
        by = {(r["target"], r["concurrency"]): r for r in results.get(key) or []}
        for c in sorted({r["concurrency"] for r in results.get(key) or []}):
            a, e = by.get((api, c)), by.get((es, c))
            if not (a and e):
                continue
            p99 = f" (p99 {a['p99_ms']:,.0f} / {e['p99_ms']:,.0f}, {_ratio(a['p99_ms'], e['p99_ms'])}x)" if c > 1 else ""
            rows.append([f"{label}, {c} client{'s' if c > 1 else ''}", f"{a['p50_ms']:.1f} ms{p99}", f"{e['p50_ms']:.1f} ms",
                         _ratio(a["p50_ms"], e["p50_ms"]), a["throughput_rps"], e["throughput_rps"],
                         _ratio(a["throughput_rps"], e["throughput_rps"])])  # fmt: skip
    return table(["", "API p50", "ES p50", "ratio", "API req/s", "ES req/s", "ratio"], rows,
                 title="== Against the goals (p50 ratio <= 1.2 at 1 client; req/s ratio >= 0.8, p99 <= 2x ES at 16)",
                 digits=2)  # fmt: skip


def _took(resp: Any) -> int | None:
    # Elasticsearch's own time for the search; the API response has no such field.
    if "/_search" not in str(resp.request.url):
        return None
    took = resp.json().get("took")
    return int(took) if took is not None else None


def _ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 2) if a and b else None


if __name__ == "__main__":
    os.chdir(harness.REPO_ROOT)
    sys.exit(main())

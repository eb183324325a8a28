"""Growth benchmark: the same measurements at several corpus sizes, for sizing toward 1.05 B records.

    .venv/bin/python bench/scale.py [--sizes 10000,100000,1000000] [--requests 60] [--keep] [--out FILE]

At each size, on a fresh index prefix, in one run:
  - ingest: bench/corpus.py's recombined CSL corpus through `ingest.submit.submit()` and a real
    `chaxin worker --concurrency 2`; records/s, the worker's CPU ms per record (its process tree,
    from /proc) beside Elasticsearch's (`_nodes/stats` process CPU), and the worker's peak RSS;
  - bytes per record on disk, per field, from `_disk_usage?run_expensive_tasks=true`, grouped as
    the jieba fields (`ix.*`), the bigram fields (`ix.*_cjk`), `_source`, and the rest (keywords,
    numbers, doc values), after a force merge to one segment so sizes do not depend on merge timing;
  - p50/p95/p99 of five query classes through the API and sent straight to Elasticsearch:
      simple      free text (bench/query.py's query set, picked from this corpus);
      phrase      a pro-mode title phrase, TI='<4-8 character title run>';
      boolean+4   a pro-mode boolean with four facet filters (doc_type, year, category, discipline);
      big total   a query matching most of the corpus, with its exact total (track_total_hits: true);
      deep page   the page at hit 50,000 reached by cursor (PIT + search_after), once the corpus has
                  that many hits; the API arm needs the search API's `cursor` (skipped if absent);
    each API figure also as a ratio to ES direct;
  - the API's RSS after its runs.
Growth is printed as the p50 at each size over the p50 at the smallest, per class and target.

Elasticsearch's CPU is read from the whole cluster: on a node other work shares, the figure
includes that work (the output says which cluster it read). Nothing here asserts a timing; figures
go to stdout and bench/results/scale-<timestamp>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))

from bench import harness  # noqa: E402
from bench.harness import log, table  # noqa: E402
from bench.query import Tally, drive, pick_queries, summary  # noqa: E402

DEEP_HIT = 50_000
_CJK_RUN = re.compile(r"[\u4e00-\u9fff]{4,8}")
CLK_TCK = os.sysconf("SC_CLK_TCK")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", default="10000,100000,1000000", help="comma-separated corpus sizes")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--size", type=int, default=20, help="hits per page")
    p.add_argument("--requests", type=int, default=60, help="timed requests per class and target (concurrency 1)")
    p.add_argument("--redis-db", type=int, default=12, help="Redis database used as the benchmark's Celery queue")
    p.add_argument("--keep", action="store_true", help="keep the indices (their prefixes are printed)")
    p.add_argument("--out", type=Path, default=None)
    p.add_argument("--keep-tmp", action="store_true")
    p.add_argument("--ingest-only", action="store_true",
                   help="measure the ingest (records/s, worker and ES CPU) and skip the disk and query figures")
    return p.parse_args(argv)


# ------------------------------------------------------------------ CPU and processes


def tree_cpu_ms(pid: int) -> float:
    """User + system CPU of a process tree, including children it has already reaped (Linux /proc)."""
    total = 0
    stack = [pid]
    while stack:
        p = stack.pop()
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        # After the ")" of comm: state is field 3, so utime..cstime (14-17) are at offsets 11-14.
        total += sum(int(x) for x in fields[11:15])
        stack += harness._children(p)
    return total * 1000 / CLK_TCK


def es_cpu_ms(es: Any) -> float:
    stats = es.nodes.stats(metric="process")
    return float(sum(n["process"]["cpu"]["total_in_millis"] for n in stats["nodes"].values()))


def index_time_ms(es: Any, index: str) -> dict[str, float]:
    """Time Elasticsearch's threads spent on one index, by kind (its own stats, so other indices'
    load on a shared node is left out; thread time, not CPU: waits on I/O and locks count too)."""
    t = es.indices.stats(index=index, metric="indexing,refresh,merge,search,get,flush")["_all"]["total"]
    return {
        "indexing": t["indexing"]["index_time_in_millis"],
        "refresh": t["refresh"]["total_time_in_millis"],
        "merge": t["merges"]["total_time_in_millis"],
        "search": t["search"]["query_time_in_millis"] + t["search"]["fetch_time_in_millis"],
        "get": t["get"]["time_in_millis"],
        "flush": t["flush"]["total_time_in_millis"],
    }


# ------------------------------------------------------------------ one size


class SizeRun:
    def __init__(self, args: argparse.Namespace, n: int, tmp: Path, es: Any) -> None:
        self.args = args
        self.n = n
        self.tmp = tmp / f"n{n}"
        self.tmp.mkdir(parents=True, exist_ok=True)
        self.es = es
        self.prefix = harness.new_prefix(f"scale{n}")
        self.database_url = f"sqlite:///{self.tmp / 'jobs.sqlite3'}"
        self.env = harness.isolate_env(prefix=self.prefix, redis_db=args.redis_db, database_url=self.database_url)
        self.out: dict[str, Any] = {"records": n, "prefix": self.prefix}
        self.procs: list[harness.Proc] = []
        self.records: list[dict[str, Any]] = []

    def run(self) -> dict[str, Any]:
        from conf.settings import get_settings
        from mappings.naming import IndexNames

        get_settings.cache_clear()
        self.settings = get_settings()
        self.names = IndexNames(self.prefix)
        try:
            self.ingest()
            if not self.args.ingest_only:
                self.disk()
                self.queries()
        finally:
            for proc in self.procs:
                proc.stop()
            if not self.args.keep:
                from ingest.index_admin import drop_all

                try:
                    drop_all(self.es, self.names)
                except Exception as exc:  # noqa: BLE001 - cleanup must not hide the run's own error
                    log(f"could not drop {self.prefix}: {exc}")
        return self.out

    def ingest(self) -> None:
        from appdb.session import upgrade
        from bench.corpus import build_corpus
        from ingest.submit import submit

        path = self.tmp / "corpus.jsonl"
        log(f"[{self.n:,}] building the corpus ...")
        self.records, info = build_corpus(self.n, self.args.seed, path)
        self.out["corpus_bytes"] = info["bytes"]
        upgrade(self.database_url)
        worker = harness.start_worker(self.env, self.tmp / "worker.log", concurrency=2)
        self.procs.append(worker)
        w0, e0, t0 = tree_cpu_ms(worker.pid), es_cpu_ms(self.es), time.perf_counter()
        log(f"[{self.n:,}] ingesting {info['bytes'] / 1e6:.0f} MB with a `chaxin worker` ...")
        job_id, chunks = submit(self.settings, "csl", path)
        status = harness.wait_for_job(self.database_url, job_id, timeout=6 * 3600, worker=worker, poll=1.0)
        dt = time.perf_counter() - t0
        w1, e1 = tree_cpu_ms(worker.pid), es_cpu_ms(self.es)
        in_index = index_time_ms(self.es, self.names.read_alias)
        st = status.as_dict()
        worker.stop()
        self.procs.remove(worker)
        indexed = st["indexed"] or 1
        self.out["ingest"] = {
            "job_id": job_id, "chunks": chunks, "state": st["state"], "indexed": st["indexed"],
            "failed": st["failed"], "seconds": round(dt, 1), "records_per_s": round(st["indexed"] / dt, 1),
            "worker_cpu_ms_per_record": round((w1 - w0) / indexed, 3),
            "es_cpu_ms_per_record": round((e1 - e0) / indexed, 3),
            "worker_peak_rss_mb": worker.peak_tree_rss_mb,
            "es_index_thread_ms_per_record": round(sum(in_index.values()) / indexed, 3),
            "es_index_thread_ms": in_index,
        }  # fmt: skip
        ing = self.out["ingest"]
        ing["worker_over_es_cpu"] = (
            round(ing["worker_cpu_ms_per_record"] / ing["es_cpu_ms_per_record"], 2) if ing["es_cpu_ms_per_record"] else None
        )
        log(f"[{self.n:,}] {st['indexed']:,} indexed in {dt:.0f}s ({ing['records_per_s']:,} rec/s); worker "
            f"{ing['worker_cpu_ms_per_record']} ms/rec, ES {ing['es_cpu_ms_per_record']} ms/rec; ES threads "
            f"in this index {ing['es_index_thread_ms_per_record']} ms/rec {in_index}")  # fmt: skip

    def disk(self) -> None:
        alias = self.names.read_alias
        physical = next(iter(self.es.indices.get_alias(name=alias).body))
        log(f"[{self.n:,}] force merge and _disk_usage of {physical} ...")
        self.es.indices.refresh(index=physical)
        self.es.options(request_timeout=3600).indices.forcemerge(index=physical, max_num_segments=1)
        store = self.es.indices.stats(index=physical, metric="store")["indices"][physical]["primaries"]["store"]
        usage = self.es.options(request_timeout=3600).indices.disk_usage(index=physical, run_expensive_tasks=True)[physical]
        count = self.es.count(index=physical)["count"] or 1
        fields = {name: f["total_in_bytes"] for name, f in usage["fields"].items()}
        groups: dict[str, int] = {"jieba (ix.*)": 0, "bigram (ix.*_cjk)": 0, "_source": 0, "other": 0,
                                  "_recovery_source": 0}
        for name, size in fields.items():
            groups[_group(name)] += size
        self.out["disk"] = {
            "physical": physical,
            "records": count,
            "store_bytes_per_record": round(store["size_in_bytes"] / count, 1),
            # A fresh index keeps a copy of each source for peer recovery until its retention lease
            # lapses (12 h by default); a long-lived index does not carry it, so sizing leaves it out.
            "lasting_bytes_per_record": round((usage["store_size_in_bytes"] - groups["_recovery_source"]) / count, 1),
            "disk_usage_bytes_per_record": round(usage["store_size_in_bytes"] / count, 1),
            "groups_bytes_per_record": {k: round(v / count, 1) for k, v in groups.items()},
            "fields_bytes_per_record": {
                k: round(v / count, 1) for k, v in sorted(fields.items(), key=lambda kv: -kv[1]) if v
            },
            "bigram_over_jieba": round(groups["bigram (ix.*_cjk)"] / groups["jieba (ix.*)"], 2)
            if groups["jieba (ix.*)"] else None,
        }  # fmt: skip

    # ------------------------------------------------------------------ queries

    def queries(self) -> None:
        import httpx

        port = harness.free_port()
        api = harness.start_api(self.env, self.tmp / "api.log", port)
        self.procs.append(api)
        limits = httpx.Limits(max_connections=4, max_keepalive_connections=4)
        self.api = httpx.Client(base_url=f"http://127.0.0.1:{port}", limits=limits, timeout=120.0)
        self.esx = httpx.Client(limits=limits, timeout=120.0, headers={"content-type": "application/json"})
        self.es_url = self.settings.effective_es_url.rstrip("/")
        try:
            classes: list[dict[str, Any]] = []
            for name, build in (("simple", self.simple_class), ("phrase", self.phrase_class),
                                ("boolean+4", self.boolean_class), ("big total", self.big_class),
                                ("deep page", self.deep_class)):  # fmt: skip
                made = build()
                if made is None:
                    continue
                classes.append({"class": name, **made})
            self.out["classes"] = classes
            self.out["api_rss_mb"] = api.sample_rss()
            self.out["api_pss_mb"] = api.sample_pss()
        finally:
            self.api.close()
            self.esx.close()

    def _es_body(self, q: str, mode: str, filters: dict[str, list[str]] | None = None) -> bytes:
        """The very body the API's search service sends for an anonymous caller (access policy included)."""
        from mappings.analysis.tokenizer import get_tokenizer
        from search.service import SearchService

        service = SearchService(self.es, self.names, get_tokenizer(self.settings.tokenizer_backend))
        size = self.args.size
        if mode == "pro":
            body = service.pro_request(q, size=size, filters=filters)[0].body
        else:
            body = service.simple_body(q, size=size, filters=filters)
        return json.dumps(body, ensure_ascii=False).encode("utf-8")

    def _pair(
        self, qs: list[str], mode: str, filters: dict[str, dict[str, list[str]]] | None = None
    ) -> dict[str, Any]:
        """Warm up, then time the same requests through the API and straight to ES.

        `filters` gives each query its own facet filters (query → facet → values)."""
        own = filters or {}
        bodies = {q: self._es_body(q, mode, own.get(q)) for q in qs}
        url = f"{self.es_url}/{self.names.read_alias}/_search"
        params: dict[str, Any] = {"mode": mode, "size": self.args.size}

        def send_api(q: str) -> Any:
            return self.api.get("/api/v1/search", params={**params, **own.get(q, {}), "q": q})

        def send_es(q: str) -> Any:
            return self.esx.post(url, content=bodies[q])

        totals = []
        for q in qs:
            a = send_api(q)
            a.raise_for_status()
            send_es(q).raise_for_status()
            totals.append(a.json()["total"])
        return self._time(qs, send_api, send_es) | {"queries": len(qs), "mean_total": round(sum(totals) / len(totals))}

    def _time(self, qs: list[str], send_api: Callable[[str], Any], send_es: Callable[[str], Any]) -> dict[str, Any]:
        n = max(self.args.requests, len(qs))
        api, es = _turns({"api": send_api, "es": send_es}, qs, n)
        keys = ("p50_ms", "p95_ms", "p99_ms", "errors")
        return {
            "api": {k: api[k] for k in keys},
            "es": {k: es[k] for k in keys},
            "ratio_p50": _ratio(api["p50_ms"], es["p50_ms"]),
            "ratio_p95": _ratio(api["p95_ms"], es["p95_ms"]),
            "ratio_p99": _ratio(api["p99_ms"], es["p99_ms"]),
        }

    def simple_class(self) -> dict[str, Any]:
        return self._pair([x["q"] for x in pick_queries(self.records, self.args.seed)], "simple")

    def _title_runs(self, k: int) -> list[str]:
        rng = random.Random(self.args.seed + 3)
        runs = [m for r in rng.sample(self.records, min(len(self.records), 2000)) for m in _CJK_RUN.findall(r["title"])]
        return sorted(set(rng.sample(runs, min(k, len(runs)))))

    def phrase_class(self) -> dict[str, Any]:
        return self._pair([f"TI='{run}'" for run in self._title_runs(24)], "pro")

    def boolean_class(self) -> dict[str, Any]:
        runs = self._title_runs(48)
        qs = [f"(TI='{a[:2]}' OR AB='{b[:2]}') NOT TI='{b[-2:]}'" for a, b in zip(runs[::2], runs[1::2], strict=False)]
        # Each query drills down through the four facets, taking the commonest value of each given the
        # ones already chosen, so its four filters together still leave hits (one set of values for all
        # queries, taken from the first query's facets, left none from 100k records on).
        filters = {q: self._drill_down(q) for q in qs}
        return self._pair(qs, "pro", filters) | {"filters": filters}

    def _drill_down(self, q: str) -> dict[str, list[str]]:
        chosen: dict[str, list[str]] = {}
        for name in ("doc_type", "year", "category", "discipline"):
            probe = self.api.get("/api/v1/search", params={"q": q, "mode": "pro", "size": 1, **chosen})
            probe.raise_for_status()
            values = probe.json()["facets"].get(name) or []
            if values:
                chosen[name] = [str(values[0]["value"])]
        return chosen

    def big_class(self) -> dict[str, Any]:
        # The most common abstract words of the corpus: each matches a large share of it.
        counts: dict[str, int] = {}
        for r in self.records[:5000]:
            for w in set(re.findall(r"[\u4e00-\u9fff]{2}", r.get("abstract") or "")):
                counts[w] = counts.get(w, 0) + 1
        common = [w for w, _ in sorted(counts.items(), key=lambda kv: -kv[1])[:8]]
        return self._pair([f"AB='{w}'" for w in common], "pro")

    def deep_class(self) -> dict[str, Any] | None:
        """Hit 50,000 of a query by cursor: the ES arm with its own PIT and the API arm with its cursor."""
        big = self._pair_probe()
        if big is None:
            log(f"[{self.n:,}] deep page: no query reaches hit {DEEP_HIT:,} in this corpus; skipped")
            return None
        q, total = big
        size = 100
        pit = self.es.open_point_in_time(index=self.names.read_alias, keep_alive="10m")["id"]
        try:
            body = json.loads(self._es_body(q, "pro"))
            body.pop("aggs", None)
            body.pop("aggregations", None)
            body.pop("highlight", None)
            body.pop("from", None)
            body.update(size=size, pit={"id": pit, "keep_alive": "10m"}, track_total_hits=False,
                        sort=["_score", {"_shard_doc": "asc"}])  # fmt: skip
            after: list[Any] | None = None
            for _ in range(DEEP_HIT // size):
                if after is not None:
                    body["search_after"] = after
                resp = self.es.search(body=body)
                after = resp["hits"]["hits"][-1]["sort"]
            body["search_after"] = after
            body["size"] = self.args.size
            payload = json.dumps(body).encode()
            url = f"{self.es_url}/_search"

            def send_es(_: str) -> Any:
                return self.esx.post(url, content=payload)

            cursor = self._api_cursor_at(q, DEEP_HIT)

            def send_api(_: str) -> Any:
                return self.api.get("/api/v1/search", params={"q": q, "mode": "pro", "size": self.args.size,
                                                               "cursor": cursor})  # fmt: skip

            if cursor is None:
                es = _turns({"es": send_es}, [q], self.args.requests)[0]
                return {"queries": 1, "mean_total": total, "api": None,
                        "es": {k: es[k] for k in ("p50_ms", "p95_ms", "p99_ms", "errors")},
                        "note": "the search API returned no cursor: API arm skipped"}  # fmt: skip
            return self._time([q], send_api, send_es) | {"queries": 1, "mean_total": total}
        finally:
            self.es.close_point_in_time(id=pit)

    def _pair_probe(self) -> tuple[str, int] | None:
        for w in ("研究", "分析", "方法", "结果", "发展"):
            q = f"AB='{w}'"
            total = self.api.get("/api/v1/search", params={"q": q, "mode": "pro", "size": 1}).json()["total"]
            if total > DEEP_HIT + self.args.size:
                return q, total
        return None

    def _api_cursor_at(self, q: str, hit: int) -> str | None:
        """Walk the API's cursor pages (100 hits each) up to `hit`; None when the API has no cursor."""
        cursor: str | None = "*"  # the API's "start a cursor walk"
        seen = 0
        while seen < hit:
            body = self.api.get("/api/v1/search", params={"q": q, "mode": "pro", "size": 100, "cursor": cursor}).json()
            cursor = body.get("cursor")
            if not cursor:
                return None
            seen += len(body["hits"])
        return cursor


def _turns(targets: dict[str, Callable[[str], Any]], qs: list[str], n: int, turns: int = 8) -> list[dict[str, Any]]:
    """n requests per target at concurrency 1, the targets taking turns on the same slices of the
    query sequence (as bench/query.py does), so a drifting machine load falls on both sides alike."""
    tallies = {name: Tally() for name in targets}
    turns = max(1, min(n, turns))
    bounds = [n * k // turns for k in range(turns + 1)]
    for k in range(turns):
        for name in list(targets) if k % 2 == 0 else list(reversed(targets)):
            drive(targets[name], qs, 1, range(bounds[k], bounds[k + 1]), tallies[name])
    return [summary(tallies[name], 1, turns) for name in targets]


def _group(field: str) -> str:
    if field in ("_source", "_recovery_source"):
        return field
    if field.startswith("ix.") and field.endswith("_cjk"):
        return "bigram (ix.*_cjk)"
    if field.startswith("ix."):
        return "jieba (ix.*)"
    return "other"


def _ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 2) if a and b else None


# ------------------------------------------------------------------ report


def report(results: dict[str, Any]) -> str:
    runs = results["sizes"]
    parts = [f"== Scale benchmark on {results['elasticsearch']['url']} ({results['elasticsearch']['nodes']} node(s)); "
             f"load average at start {', '.join(f'{x:.2f}' for x in results['load_average_at_start'])}"]  # fmt: skip
    parts.append(table(
        ["records", "rec/s", "worker CPU ms/rec", "ES CPU ms/rec", "worker/ES", "worker peak RSS MB", "API RSS MB", "API PSS MB"],
        [[r["records"], r["ingest"]["records_per_s"], r["ingest"]["worker_cpu_ms_per_record"],
          r["ingest"]["es_cpu_ms_per_record"], r["ingest"]["worker_over_es_cpu"], r["ingest"]["worker_peak_rss_mb"],
          r.get("api_rss_mb"), r.get("api_pss_mb")] for r in runs],
        title="== Ingest", digits=2))  # fmt: skip
    if "disk" not in runs[0]:
        return "\n\n".join(parts)  # --ingest-only
    groups = list(runs[0]["disk"]["groups_bytes_per_record"])
    parts.append(table(
        ["records", "store B/rec", "lasting B/rec", *groups, "bigram/jieba"],
        [[r["records"], r["disk"]["store_bytes_per_record"], r["disk"]["lasting_bytes_per_record"], *(r["disk"]["groups_bytes_per_record"][g] for g in groups),
          r["disk"]["bigram_over_jieba"]] for r in runs],
        title="== Bytes per record on disk (force-merged, _disk_usage)"))  # fmt: skip
    top = list(runs[-1]["disk"]["fields_bytes_per_record"].items())[:12]
    parts.append(table(["field (largest corpus)", "B/rec"], top, title=None))
    rows = []
    for r in runs:
        for c in r.get("classes", []):
            a, e = c.get("api"), c["es"]
            rows.append([c["class"], r["records"], c["mean_total"], a and a["p50_ms"], a and a["p95_ms"], a and a["p99_ms"],
                         e["p50_ms"], e["p95_ms"], e["p99_ms"], c.get("ratio_p50"), c.get("ratio_p99")])  # fmt: skip
    parts.append(table(["class", "records", "mean hits", "API p50", "API p95", "API p99", "ES p50", "ES p95", "ES p99",
                        "p50 API/ES", "p99 API/ES"], rows, title="== Query classes (ms, concurrency 1)", digits=1))  # fmt: skip
    growth = []
    base = {c["class"]: c for c in runs[0].get("classes", [])}
    for r in runs[1:]:
        for c in r.get("classes", []):
            b = base.get(c["class"])
            if b:
                growth.append([c["class"], f"{runs[0]['records']:,} → {r['records']:,}",
                               _ratio(c["api"] and c["api"]["p50_ms"], b["api"] and b["api"]["p50_ms"]),
                               _ratio(c["es"]["p50_ms"], b["es"]["p50_ms"])])  # fmt: skip
    if growth:
        parts.append(table(["class", "sizes", "API p50 growth", "ES p50 growth"], growth,
                           title="== Growth of p50 over the smallest size", digits=2))  # fmt: skip
    return "\n\n".join(parts)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    sizes = [int(x) for x in args.sizes.split(",") if x.strip()]
    tmp = Path(tempfile.mkdtemp(prefix="chaxin-bench-scale-"))
    out = args.out or harness.default_out("scale")
    from conf.clients import make_es
    from conf.settings import get_settings

    settings = get_settings()
    es = make_es(settings)
    health = es.cluster.health(wait_for_status="yellow", timeout="60s")
    results: dict[str, Any] = {
        "benchmark": "scale",
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": harness.machine_info(),
        "load_average_at_start": os.getloadavg(),
        "params": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        "elasticsearch": {"url": settings.effective_es_url, "nodes": health["number_of_nodes"]},
        "sizes": [],
    }
    try:
        for n in sizes:
            results["sizes"].append(SizeRun(args, n, tmp, es).run())
            harness.write_json(out, results)
    finally:
        harness.close_run(results, out, tmp, keep_tmp=args.keep_tmp)
    print(report(results))
    print(f"\nresults written to {out}")
    return 0


if __name__ == "__main__":
    os.chdir(harness.REPO_ROOT)
    sys.exit(main())

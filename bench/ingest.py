"""Ingest benchmark: jieba cost, the Elasticsearch bulk ceiling, and the full Celery pipeline.

    .venv/bin/python bench/ingest.py [--records 200000] [--seed 7] [--out FILE]

On one synthetic CSL corpus (bench/corpus.py) it measures, one after another:

  (a) tokenization, single process: every record through `get_tokenizer("rjieba")`, a sample through
      the pure-Python `jieba` backend (extrapolated), and how often the two agree token for token;
  (b) the Elasticsearch ceiling: the same records, already turned into documents, bulk-indexed
      with external versions exactly as ingest/writer.py writes them (streaming_bulk, and
      parallel_bulk with 2 threads; the better one is the ceiling);
  (c) the pipeline: `ingest.submit.submit()` + a real `chaxin worker --concurrency 2`, from the
      submit call until the job table says done.

Every phase runs on its own fresh index prefix (bench-<hex>-...), on a Redis database of its own
(so no other worker takes the tasks) and a throw-away SQLite job database; all indices are
dropped at the end. Figures are printed and written to bench/results/ingest-<timestamp>.json.
These are measurements, not tests: nothing here asserts a timing.
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

# Run as a script, this file's directory comes first on sys.path, where bench/ingest.py would
# shadow the `ingest` package: put the repository root there instead, and import helpers as bench.*.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))

from bench import harness
from bench.harness import log, table

TARGET_RATIO = 0.8


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--records", type=int, default=200_000, help="synthetic records (default 200000)")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument(
        "--source", type=Path, default=None, help="CSL JSONL(.gz) to recombine (default: shared, else demo)"
    )
    p.add_argument(
        "--out", type=Path, default=None, help="JSON results file (default bench/results/ingest-<ts>.json)"
    )
    p.add_argument(
        "--jieba-sample", type=int, default=5000, help="records tokenized with the slow `jieba` backend"
    )
    p.add_argument("--breakdown-sample", type=int, default=20000,
                   help="records used to split rjieba time into fold / cut / filter+join")  # fmt: skip
    p.add_argument(
        "--bulk", choices=["both", "streaming", "parallel"], default="both", help="ceiling variants to run"
    )
    p.add_argument("--concurrency", type=int, default=2, help="worker processes for the pipeline run")
    p.add_argument("--jats-records", type=int, default=2000,
                   help="JATS article files for the JATS pipeline run (0 skips it)")  # fmt: skip
    p.add_argument("--large-file-mb", type=float, default=50,
                   help="size of the one-file PubMed XML parsed for peak RSS (0 skips it)")  # fmt: skip
    p.add_argument(
        "--redis-db", type=int, default=11, help="Redis database used as the benchmark's Celery queue"
    )
    p.add_argument("--database-url", default=None, help="job database (default: a temporary SQLite file)")
    p.add_argument(
        "--job-timeout", type=float, default=1800.0, help="give up waiting for the pipeline job (s)"
    )
    p.add_argument("--keep-tmp", action="store_true", help="keep the temp dir (corpus, worker log)")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="chaxin-bench-ingest-"))
    base = harness.new_prefix()
    database_url = args.database_url or f"sqlite:///{tmp / 'jobs.sqlite3'}"
    env = harness.isolate_env(prefix=base, redis_db=args.redis_db, database_url=database_url)
    log(f"prefix {base}, temp dir {tmp}, Redis {env['REDIS_URL']}, jobs {database_url}")
    results: dict[str, Any] = {
        "benchmark": "ingest",
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": harness.machine_info(),
        "params": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        "prefix": base,
    }
    out = args.out or harness.default_out("ingest")
    bench = IngestBench(args, tmp, base, env, database_url, results)
    try:
        bench.run()
    except BaseException as exc:
        results["error"] = f"{type(exc).__name__}: {exc}"
        raise
    finally:
        try:
            bench.cleanup()
        except Exception as exc:  # noqa: BLE001 - never hide the run's own error
            log(f"cleanup failed: {exc}")
        results["peak_rss_mb"] = harness.peak_rss_mb()
        results["finished_at"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
        harness.write_json(out, results)
        if not args.keep_tmp:
            shutil.rmtree(tmp, ignore_errors=True)
    print(bench.report())
    print(f"\nresults written to {out}")
    return 0


class IngestBench:
    def __init__(self, args: argparse.Namespace, tmp: Path, base: str, env: dict[str, str],
                 database_url: str, results: dict[str, Any]) -> None:  # fmt: skip
        self.args = args
        self.tmp = tmp
        self.base = base
        self.env = env
        self.database_url = database_url
        self.results = results
        self.prefixes: list[str] = []
        self.worker: harness.Proc | None = None
        self.es: Any = None

    # ------------------------------------------------------------------ phases

    def run(self) -> None:
        from conf.clients import make_es
        from conf.settings import get_settings

        self.settings = get_settings()
        self.es = make_es(self.settings)
        self.es.cluster.health(timeout="5s")
        self.results["elasticsearch"] = {
            "url": self.settings.effective_es_url,
            "version": _es_version(self.es),
        }

        path = self.build_corpus()
        records = self.parse(path)
        self.tokenize(records)
        docs = self.build_docs(records)
        self.ceiling(records, docs)
        del docs
        gc.collect()
        self.pipeline(path, len(records))
        if self.args.jats_records:
            self.jats()
        if self.args.large_file_mb:
            self.large_file()
        self.summary()

    def build_corpus(self) -> Path:
        from bench.corpus import build_corpus

        path = self.tmp / "corpus.jsonl"
        log(f"building a {self.args.records:,}-record corpus (seed {self.args.seed}) ...")
        t0 = time.perf_counter()
        synthetic, info = build_corpus(self.args.records, self.args.seed, path, self.args.source)
        info["build_seconds"] = round(time.perf_counter() - t0, 2)
        del synthetic
        self.results["corpus"] = info
        log(f"corpus: {info['records']:,} records, {info['bytes'] / 1e6:.1f} MB in {info['build_seconds']}s")
        return path

    def parse(self, path: Path) -> list[Any]:
        """CSL lines -> Records, with csl.parse_line as the worker does (same IDs, one version)."""
        from datetime import UTC, datetime

        from ingest.formats import csl

        lines = path.read_text(encoding="utf-8").splitlines()
        now = datetime.now(UTC)
        version = time.time_ns() // 1000
        t0 = time.perf_counter()
        records = [csl.parse_line(line, now=now, version=version) for line in lines]
        dt = time.perf_counter() - t0
        ids = {r.id for r in records}
        self.results["parse"] = {"records": len(records), "seconds": round(dt, 3), "records_per_s": round(len(records) / dt, 1),
                                 "distinct_ids": len(ids)}  # fmt: skip
        if len(ids) != len(records):
            log(f"WARNING: {len(records) - len(ids)} records share an ID (same normalised title)")
        return records

    def tokenize(self, records: list[Any]) -> None:
        from mappings.analysis.normalize import fold
        from mappings.analysis.tokenizer import get_tokenizer

        n = len(records)
        rng = random.Random(self.args.seed)
        sample_n = min(self.args.jieba_sample, n)
        sample = sorted(rng.sample(range(n), sample_n))
        sample_set = set(sample)
        out: dict[str, Any] = {
            "what": "Tokenizer.joined() on title, abstract and each keyword: the value of the ix.* jieba fields "
            "(fold + cut + drop non-word tokens)"
        }

        def cut_record(tk: Any, r: Any) -> tuple[Any, ...]:
            return (
                tk.joined(r.title),
                tk.joined(r.abstract) if r.abstract else "",
                [tk.joined(k) for k in r.keywords],
            )

        # rjieba on every record.
        t0 = time.perf_counter()
        rj = get_tokenizer("rjieba")
        rj.joined("预热")
        load_rj = time.perf_counter() - t0
        log(f"tokenizing {n:,} records with rjieba ...")
        rj_tokens: dict[int, Any] = {}
        t0 = time.perf_counter()
        for i, r in enumerate(records):
            toks = cut_record(rj, r)
            if i in sample_set:
                rj_tokens[i] = toks
        dt_rj = time.perf_counter() - t0
        chars = sum(len(r.title) + len(r.abstract or "") + sum(map(len, r.keywords)) for r in records)
        out["rjieba"] = {"records": n, "seconds": round(dt_rj, 2), "records_per_s": round(n / dt_rj, 1),
                         "chars_per_s": round(chars / dt_rj), "load_seconds": round(load_rj, 2), "extrapolated": False}  # fmt: skip

        # The pure-Python backend on a sample, extrapolated to the corpus.
        t0 = time.perf_counter()
        pj = get_tokenizer("jieba")
        pj.joined("预热")
        load_pj = time.perf_counter() - t0
        log(f"tokenizing a {sample_n:,}-record sample with jieba (pure Python) ...")
        t0 = time.perf_counter()
        pj_tokens = {i: cut_record(pj, records[i]) for i in sample}
        dt_pj = time.perf_counter() - t0
        rate_pj = sample_n / dt_pj
        out["jieba"] = {"records": sample_n, "seconds": round(dt_pj, 2), "records_per_s": round(rate_pj, 1),
                        "load_seconds": round(load_pj, 2), "extrapolated": True,
                        "extrapolated_seconds_for_corpus": round(n / rate_pj, 1)}  # fmt: skip

        same = same_title = same_abstract = same_keywords = 0
        diffs: list[dict[str, Any]] = []
        for i in sample:
            # Token lists: the joined field values split on the spaces that join them.
            a = (rj_tokens[i][0].split(), rj_tokens[i][1].split(), [k.split() for k in rj_tokens[i][2]])
            b = (pj_tokens[i][0].split(), pj_tokens[i][1].split(), [k.split() for k in pj_tokens[i][2]])
            same_title += a[0] == b[0]
            same_abstract += a[1] == b[1]
            same_keywords += a[2] == b[2]
            if a == b:
                same += 1
            elif len(diffs) < 5:
                diffs.append(_first_difference(records[i], a, b))
        out["agreement"] = {
            "sample": sample_n,
            "identical_records": same,
            "identical_share": round(same / sample_n, 4),
            "identical_title_share": round(same_title / sample_n, 4),
            "identical_abstract_share": round(same_abstract / sample_n, 4),
            "identical_keywords_share": round(same_keywords / sample_n, 4),
            "examples": diffs,
        }

        # Where rjieba's time goes, on a sample: fold, the Rust cut, and the rest (token filter + join),
        # the last derived as joined() minus the first two so that it holds whatever joined() does.
        bn = min(self.args.breakdown_sample, n)
        raw_texts: list[str] = []
        for r in records[:bn]:
            raw_texts += [r.title, *([r.abstract] if r.abstract else []), *r.keywords]
        t0 = time.perf_counter()
        folded = [fold(t) for t in raw_texts]
        t_fold = time.perf_counter() - t0
        cut = rj._cut
        t0 = time.perf_counter()
        raw = [cut(t) for t in folded]
        t_cut = time.perf_counter() - t0
        t0 = time.perf_counter()
        kept = [rj.joined(t) for t in raw_texts]
        t_total = time.perf_counter() - t0
        t_rest = max(0.0, t_total - t_fold - t_cut)
        out["rjieba_breakdown"] = {
            "records": bn,
            "joined_seconds": round(t_total, 3),
            "fold_seconds": round(t_fold, 3),
            "cut_seconds": round(t_cut, 3),
            "filter_and_join_seconds": round(t_rest, 3),
            "fold_share": round(t_fold / t_total, 3),
            "cut_share": round(t_cut / t_total, 3),
            "filter_and_join_share": round(t_rest / t_total, 3),
            "raw_tokens": sum(len(list(x)) for x in raw),
            "kept_tokens": sum(len(x.split()) for x in kept),
        }
        self.results["tokenize"] = out

    def build_docs(self, records: list[Any]) -> list[dict[str, Any]]:
        """index_document() for every record (outside any ES timing): the work a worker does per record."""
        from ingest.document import index_document
        from mappings.analysis.tokenizer import get_tokenizer

        tk = get_tokenizer(self.settings.tokenizer_backend)
        log(f"building {len(records):,} documents with index_document ({tk.backend}) ...")
        t0 = time.perf_counter()
        docs = [index_document(r, tk) for r in records]
        dt = time.perf_counter() - t0
        self.results["documents"] = {"backend": tk.backend, "records": len(docs), "seconds": round(dt, 2),
                                     "records_per_s": round(len(docs) / dt, 1)}  # fmt: skip
        return docs

    def ceiling(self, records: list[Any], docs: list[dict[str, Any]]) -> None:
        from elasticsearch import helpers

        from ingest.index_admin import create, drop_all
        from mappings.analysis.tokenizer import get_tokenizer
        from mappings.naming import IndexNames

        modes = ["streaming", "parallel"] if self.args.bulk == "both" else [self.args.bulk]
        runs: list[dict[str, Any]] = []
        for mode in modes:
            prefix = f"{self.base}-es-{mode[:3]}"
            self.prefixes.append(prefix)
            names = IndexNames(prefix)
            index = create(self.es, names, get_tokenizer(self.settings.tokenizer_backend), if_missing=False)
            target = names.write_alias

            def actions(target: str = target) -> Any:
                # Exactly the action ingest/writer.py yields, with the document already built.
                for r, d in zip(records, docs, strict=True):
                    yield {
                        "_index": target,
                        "_id": r.id,
                        "version": r.version,
                        "version_type": "external_gte",
                        "_source": d,
                    }

            opts: dict[str, Any] = {"chunk_size": self.settings.bulk_max_docs, "max_chunk_bytes": self.settings.bulk_max_bytes,
                    "raise_on_error": False, "raise_on_exception": True}  # fmt: skip
            self._settle()
            log(f"ES ceiling: {mode}_bulk of {len(docs):,} documents into {index} ...")
            cpu0 = self._es_cpu_ms()
            ok = failed = 0
            statuses: dict[int, int] = {}
            t0 = time.perf_counter()
            if mode == "streaming":
                it = helpers.streaming_bulk(self.es, actions(), max_retries=3, initial_backoff=1, **opts)
            else:
                it = helpers.parallel_bulk(self.es, actions(), thread_count=2, queue_size=4, **opts)
            for success, item in it:
                if success:
                    ok += 1
                else:
                    failed += 1
                    st = item.get("index", {}).get("status", 0)
                    statuses[st] = statuses.get(st, 0) + 1
            dt = time.perf_counter() - t0
            cpu = (self._es_cpu_ms() - cpu0) / 1000
            self.es.indices.refresh(index=target)
            count = self.es.count(index=names.read_alias)["count"]
            runs.append({
                "mode": f"{mode}_bulk" + (" (2 threads)" if mode == "parallel" else ""),
                "index": index, "records": len(docs), "indexed": ok, "failed": failed, "failed_statuses": statuses,
                "seconds": round(dt, 2), "records_per_s": round(len(docs) / dt, 1), "es_cpu_seconds": round(cpu, 1),
                "doc_count_after_refresh": count,
            })  # fmt: skip
            log(f"  {mode}: {len(docs) / dt:,.0f} records/s ({dt:.1f}s), {failed} failed, count {count:,}")
            drop_all(self.es, names)
        best = max(runs, key=lambda r: r["records_per_s"])
        self.results["ceiling"] = {"runs": runs, "best": best["mode"], "records_per_s": best["records_per_s"],
                                   "seconds": best["seconds"]}  # fmt: skip

    def jats(self) -> None:
        from bench.xml_corpus import build_jats_dir

        folder = self.tmp / "jats"
        log(f"building {self.args.jats_records:,} JATS article files ...")
        self.results["jats_corpus"] = build_jats_dir(folder, self.args.jats_records)
        self.pipeline(folder, self.args.jats_records, fmt="jats", key="pipeline_jats")

    def large_file(self) -> None:
        """A large single XML file: parsed incrementally, so memory stays flat whatever its size."""
        import json
        import subprocess

        from bench.xml_corpus import build_pubmed_file

        path = self.tmp / "pubmed-large.xml"
        log(f"building a {self.args.large_file_mb:g} MB PubMed file ...")
        info = build_pubmed_file(path, self.args.large_file_mb)
        probe = (
            "import json, sys, time\n"
            "from datetime import UTC, datetime\n"
            "from pathlib import Path\n"
            "from ingest.formats import parse_file\n"
            "from ingest.errors import RecordError\n"
            # VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the forking parent across exec.
            "def hwm():\n"
            "    line = next(l for l in open('/proc/self/status') if l.startswith('VmHWM'))\n"
            "    return int(line.split()[1]) / 1024\n"
            "base = hwm()\n"
            "t0 = time.perf_counter(); n = e = 0\n"
            "if sys.argv[1] != '-':\n"
            "    for r in parse_file('jats', Path(sys.argv[1]), now=datetime.now(UTC), version=1):\n"
            "        e += isinstance(r, RecordError); n += 1\n"
            "print(json.dumps({'items': n, 'errors': e, 'seconds': time.perf_counter() - t0, 'baseline_rss_mb': base,\n"
            "                  'peak_rss_mb': hwm()}))\n"
        )
        root = str(Path(__file__).resolve().parent.parent)
        out = subprocess.run([sys.executable, "-c", probe, str(path)], capture_output=True, text=True, cwd=root,
                             check=True)  # fmt: skip
        parsed = json.loads(out.stdout.strip().splitlines()[-1])
        self.results["large_file"] = {
            **info, "mb": round(int(info["bytes"]) / 1024 / 1024, 1), "records": parsed["items"],
            "errors": parsed["errors"], "parse_seconds": round(parsed["seconds"], 2),
            "records_per_s": round(parsed["items"] / parsed["seconds"], 1),
            "interpreter_rss_mb_before_parse": round(parsed["baseline_rss_mb"], 1),
            "peak_rss_mb": round(parsed["peak_rss_mb"], 1),
        }  # fmt: skip
        log(
            f"large file: {parsed['items']:,} articles from {info['bytes']:,} bytes, peak RSS {parsed['peak_rss_mb']:.0f} MB"
        )
        self.pipeline(path, int(str(info["articles"])), fmt="jats", key="pipeline_large_file")

    def pipeline(self, path: Path, n: int, *, fmt: str = "csl", key: str = "pipeline") -> None:
        import resource

        from appdb.session import upgrade
        from ingest.index_admin import drop_all
        from ingest.submit import submit
        from mappings.naming import IndexNames

        prefix = f"{self.base}-{key.replace('_', '-')}"
        self.prefixes.append(prefix)
        names = IndexNames(prefix)
        settings = self.settings.model_copy(update={"index_prefix": prefix})
        env = {**self.env, "CHAXIN_INDEX_PREFIX": prefix}
        upgrade(self.database_url)  # once up front, so neither the worker nor submit() races on it
        log(f"starting `chaxin worker --concurrency {self.args.concurrency}` for prefix {prefix} ...")
        self.worker = harness.start_worker(env, self.tmp / "worker.log", concurrency=self.args.concurrency)
        self._settle()
        ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu0 = self._es_cpu_ms()
        log(f"pipeline: submit({path.name}) ...")
        t0 = time.perf_counter()
        job_id, chunks = submit(settings, fmt, path)
        t_submit = time.perf_counter() - t0

        def progress(st: Any) -> None:
            if st.chunks_done and st.chunks_done % max(1, st.chunks_total // 10) == 0:
                el = time.perf_counter() - t0
                log(
                    f"  {st.chunks_done}/{st.chunks_total} chunks, {st.seen:,} records, {st.seen / el:,.0f} records/s"
                )

        status = harness.wait_for_job(self.database_url, job_id, timeout=self.args.job_timeout,
                                      on_progress=progress, worker=self.worker)  # fmt: skip
        dt = time.perf_counter() - t0
        es_cpu = (self._es_cpu_ms() - cpu0) / 1000
        worker_rss = self.worker.peak_tree_rss_mb
        self.worker.stop()
        ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        worker_cpu = (ru1.ru_utime + ru1.ru_stime) - (ru0.ru_utime + ru0.ru_stime)
        self.worker = None
        self.es.indices.refresh(index=names.read_alias)
        count = self.es.count(index=names.read_alias)["count"]
        st = status.as_dict()
        self.results[key] = {
            "format": fmt, "prefix": prefix, "job_id": job_id, "chunks": chunks, "state": st["state"], "concurrency": self.args.concurrency,
            "tokenizer": settings.tokenizer_backend, "records": n, "seen": st["seen"], "indexed": st["indexed"],
            "skipped": st["skipped"], "failed": st["failed"],
            "submit_call_seconds": round(t_submit, 2), "seconds": round(dt, 2), "records_per_s": round(n / dt, 1),
            "job_reported_records_per_s": st["records_per_second"], "worker_cpu_seconds": round(worker_cpu, 1),
            "es_cpu_seconds": round(es_cpu, 1), "doc_count_after_refresh": count,
            "worker_peak_rss_mb": worker_rss,
        }  # fmt: skip
        log(
            f"{key}: {n / dt:,.0f} records/s ({dt:.1f}s), state {st['state']}, indexed {st['indexed']:,}, count {count:,}"
        )
        drop_all(self.es, names)

    def summary(self) -> None:
        pipe = self.results["pipeline"]["records_per_s"]
        ceil = self.results["ceiling"]["records_per_s"]
        tok = self.results["tokenize"]
        n = self.results["corpus"]["records"]
        self.results["summary"] = {
            "records": n,
            "pipeline_records_per_s": pipe,
            "ceiling_records_per_s": ceil,
            "ratio_pipeline_over_ceiling": round(pipe / ceil, 3),
            "target_ratio": TARGET_RATIO,
            "meets_target": pipe / ceil >= TARGET_RATIO,
            "rjieba_seconds_single_process": tok["rjieba"]["seconds"],
            "jieba_seconds_single_process_extrapolated": tok["jieba"]["extrapolated_seconds_for_corpus"],
            "document_build_seconds_single_process": self.results["documents"]["seconds"],
            "es_ceiling_seconds": self.results["ceiling"]["seconds"],
            "pipeline_seconds": self.results["pipeline"]["seconds"],
            "jats_pipeline_records_per_s": self.results.get("pipeline_jats", {}).get("records_per_s"),
            "large_file_peak_rss_mb": self.results.get("large_file", {}).get("peak_rss_mb"),
        }

    # ------------------------------------------------------------------ helpers

    def _es_cpu_ms(self) -> int:
        stats = self.es.nodes.stats(metric="process")
        return sum(node["process"]["cpu"]["total_in_millis"] for node in stats["nodes"].values())

    def _settle(self, seconds: float = 3.0) -> None:
        # Let Elasticsearch finish merges and deletions of the previous phase before timing the next,
        # and note the load average: other processes on the machine skew every figure.
        time.sleep(seconds)
        self.es.cluster.health(wait_for_status="yellow", timeout="60s")
        self.results.setdefault("load_average_before_phases", []).append(
            [round(x, 2) for x in os.getloadavg()]
        )

    def cleanup(self) -> None:
        if self.worker is not None:
            self.worker.stop()
            self.worker = None
        if self.es is not None:
            from ingest.index_admin import drop_all
            from mappings.naming import IndexNames

            for prefix in [self.base, *self.prefixes]:
                try:
                    drop_all(self.es, IndexNames(prefix))
                except Exception as exc:  # noqa: BLE001 - cleanup goes on
                    log(f"could not drop indices of {prefix}: {exc}")

    # ------------------------------------------------------------------ report

    def report(self) -> str:
        r = self.results
        parts: list[str] = []
        c = r.get("corpus")
        if c:
            parts.append(table(["corpus", "value"], [
                ["source", c["source"]], ["records", c["records"]], ["size (MB)", round(c["bytes"] / 1e6, 1)],
                ["avg title chars", c["avg_title_chars"]], ["avg abstract chars", c["avg_abstract_chars"]],
                ["avg keywords", c["avg_keywords"]], ["seed", c["seed"]], ["build seconds", c["build_seconds"]],
            ], title="== Synthetic corpus"))  # fmt: skip
        t = r.get("tokenize")
        if t:
            n = c["records"]
            rows = [
                ["rjieba", t["rjieba"]["records"], t["rjieba"]["seconds"], t["rjieba"]["records_per_s"], t["rjieba"]["seconds"], "no"],
                ["jieba", t["jieba"]["records"], t["jieba"]["seconds"], t["jieba"]["records_per_s"],
                 t["jieba"]["extrapolated_seconds_for_corpus"], f"yes, from {t['jieba']['records']:,}"],
            ]  # fmt: skip
            parts.append(table(["backend", "records", "seconds", "records/s", f"s for {n:,}", "extrapolated"], rows,
                               title="== (a) Tokenization, single process (Tokenizer.joined on title, abstract, each keyword)"))  # fmt: skip
            a = t["agreement"]
            parts.append(table(["rjieba vs jieba", "share"], [
                ["identical records", f"{a['identical_share']:.2%} ({a['identical_records']:,}/{a['sample']:,})"],
                ["identical titles", f"{a['identical_title_share']:.2%}"],
                ["identical abstracts", f"{a['identical_abstract_share']:.2%}"],
                ["identical keyword lists", f"{a['identical_keywords_share']:.2%}"],
            ]))  # fmt: skip
            b = t["rjieba_breakdown"]
            parts.append(table(["rjieba joined() time split", "seconds", "share"], [
                ["fold (NFKC + t2s + lower)", b["fold_seconds"], f"{b['fold_share']:.0%}"],
                ["rjieba cut (Rust)", b["cut_seconds"], f"{b['cut_share']:.0%}"],
                ["token filter + join (rest)", b["filter_and_join_seconds"], f"{b['filter_and_join_share']:.0%}"],
                ["total joined()", b["joined_seconds"], "100%"],
            ], title=f"   on the first {b['records']:,} records", digits=3))  # fmt: skip
        d = r.get("documents")
        if d:
            parts.append(table(["step", "records", "seconds", "records/s"], [
                ["parse (csl.parse_line)", r["parse"]["records"], r["parse"]["seconds"], r["parse"]["records_per_s"]],
                [f"index_document ({d['backend']})", d["records"], d["seconds"], d["records_per_s"]],
            ], title="== Per-record work outside Elasticsearch, single process"))  # fmt: skip
        ce = r.get("ceiling")
        if ce:
            rows = [
                [x["mode"], x["records"], x["failed"], x["seconds"], x["records_per_s"], x["es_cpu_seconds"]]
                for x in ce["runs"]
            ]
            parts.append(table(["bulk (pre-built docs)", "records", "failed", "seconds", "records/s", "ES CPU s"], rows,
                               title="== (b) Elasticsearch ceiling (chunk 1000 docs / 5 MB, external_gte versions)"))  # fmt: skip
        p = r.get("pipeline")
        if p:
            parts.append(table(["pipeline", "value"], [
                ["job state", p["state"]], ["chunks", p["chunks"]], ["worker concurrency", p["concurrency"]],
                ["indexed / failed", f"{p['indexed']:,} / {p['failed']:,}"],
                ["submit() call seconds", p["submit_call_seconds"]], ["submit -> done seconds", p["seconds"]],
                ["records/s (submit -> done)", p["records_per_s"]],
                ["records/s (job table, started -> finished)", p["job_reported_records_per_s"]],
                ["worker CPU seconds (all processes)", p["worker_cpu_seconds"]],
                ["Elasticsearch CPU seconds", p["es_cpu_seconds"]],
            ], title="== (c) Full pipeline: submit() + chaxin worker"))  # fmt: skip
        for key, title in (("pipeline_jats", "== (d) JATS pipeline: a folder of article files, batched into tasks"),
                           ("pipeline_large_file", "== (e) One large PubMed XML file through the pipeline")):  # fmt: skip
            j = r.get(key)
            if j:
                parts.append(table([key, "value"], [
                    ["records submitted", j["records"]], ["chunks (files)", j["chunks"]],
                    ["indexed / failed", f"{j['indexed']:,} / {j['failed']:,}"], ["submit -> done seconds", j["seconds"]],
                    ["records/s (submit -> done)", j["records_per_s"]],
                    ["worker peak RSS MB (all processes, sampled)", j["worker_peak_rss_mb"]],
                ], title=title))  # fmt: skip
        lf = r.get("large_file")
        if lf:
            parts.append(table(["large file, parsed alone (iterparse)", "value"], [
                ["file MB", lf["mb"]], ["articles", lf["records"]], ["parse errors", lf["errors"]],
                ["parse seconds", lf["parse_seconds"]], ["records/s", lf["records_per_s"]],
                ["interpreter RSS before parsing MB", lf["interpreter_rss_mb_before_parse"]],
                ["peak RSS MB", lf["peak_rss_mb"]],
            ], title="== (f) Peak memory parsing one large XML file"))  # fmt: skip
        s = r.get("summary")
        if s:
            parts.append(table(["summary", "value"], [
                ["pipeline records/s", s["pipeline_records_per_s"]],
                ["ceiling records/s", s["ceiling_records_per_s"]],
                ["ratio pipeline / ceiling", f"{s['ratio_pipeline_over_ceiling']:.2f} (target >= {TARGET_RATIO})"],
                ["rjieba seconds (1 process)", s["rjieba_seconds_single_process"]],
                ["jieba seconds (1 process, extrapolated)", s["jieba_seconds_single_process_extrapolated"]],
                ["index_document seconds (1 process)", s["document_build_seconds_single_process"]],
                ["ES bulk seconds (ceiling)", s["es_ceiling_seconds"]],
                ["pipeline seconds", s["pipeline_seconds"]],
            ], title="== Summary"))  # fmt: skip
        rss = r.get("peak_rss_mb")
        if rss:
            line = f"peak RSS: bench process {rss:,.0f} MB (holds the whole corpus as records and documents)"
            if p and p.get("worker_peak_rss_mb"):
                line += f"; worker, all processes (sampled) {p['worker_peak_rss_mb']:,.0f} MB"
            parts.append(line)
        return "\n\n".join(parts)


def _es_version(es: Any) -> str:
    nodes = es.nodes.info(filter_path="nodes.*.version")["nodes"]
    return ", ".join(sorted({n["version"] for n in nodes.values()}))


def _first_difference(record: Any, a: Any, b: Any) -> dict[str, Any]:
    names = ("title", "abstract", "keywords")
    for name, x, y in zip(names, a, b, strict=True):
        if x != y:
            if name == "keywords":
                for kx, ky in zip(x, y, strict=True):
                    if kx != ky:
                        return {"id": record.source_id, "field": name, "rjieba": kx, "jieba": ky}
            # Show the first window where the token lists part ways.
            k = next((i for i, (u, v) in enumerate(zip(x, y, strict=False)) if u != v), min(len(x), len(y)))
            return {
                "id": record.source_id,
                "field": name,
                "rjieba": x[max(0, k - 2) : k + 4],
                "jieba": y[max(0, k - 2) : k + 4],
            }
    return {"id": record.source_id}


if __name__ == "__main__":
    os.chdir(harness.REPO_ROOT)
    sys.exit(main())

"""Shared plumbing for the benchmark scripts: isolated environment, subprocesses, tables, JSON output.

Nothing here imports project code at module level: the scripts must set the environment
(index prefix, Redis database, database URL) *before* `conf.settings` and the Celery app are imported.
"""

from __future__ import annotations

import json
import math
import os
import platform
import resource
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
RESULTS_DIR = BENCH_DIR / "results"
VENV_BIN = Path(sys.executable).parent
# `python -m` from the checkout (Proc's cwd), not the venv's `chaxin` script: that one imports the
# package the venv was installed from, which need not be this checkout.
CHAXIN = [sys.executable, "-m", "chaxin.cli"]

if str(REPO_ROOT) not in sys.path:
    sys.path.insert(1, str(REPO_ROOT))


def new_prefix(tag: str = "") -> str:
    """A fresh, index-safe prefix such as `bench-3f9a1c2e` (or `bench-3f9a1c2e-pipe`)."""
    base = f"bench-{secrets.token_hex(4)}"
    return f"{base}-{tag}" if tag else base


def redis_url_with_db(db: int) -> str:
    """The configured Redis server (REDIS_URL, else the local default) with another database number.

    A separate database means a separate Celery queue: a worker somebody else started on the
    default database cannot steal the benchmark's tasks (and vice versa).
    """
    base = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"
    parts = urlsplit(base)
    return urlunsplit((parts.scheme, parts.netloc, f"/{db}", parts.query, parts.fragment))


def isolate_env(*, prefix: str, redis_db: int, database_url: str) -> dict[str, str]:
    """Point this process (and the subprocesses it starts) at the benchmark's own prefix, queue and database."""
    env = {
        "CHAXIN_INDEX_PREFIX": prefix,
        "REDIS_URL": redis_url_with_db(redis_db),
        "DATABASE_URL": database_url,
    }
    os.environ.update(env)
    return env


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def peak_rss_mb() -> float:
    """Peak resident set size of this process in MB (Linux reports KiB).

    RUSAGE_CHILDREN is no use for the subprocesses: a child forked from a large bench process
    counts the parent's pages it held before exec. Subprocesses are sampled instead (Proc.sample_rss).
    """
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def _children(pid: int) -> list[int]:
    out: list[int] = []
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            out += [int(x) for x in (task / "children").read_text().split()]
    except OSError:
        pass
    return out


def _tree_kb(pid: int, path: str, key: str) -> float:
    total_kb = 0
    stack = [pid]
    while stack:
        p = stack.pop()
        try:
            for line in Path(f"/proc/{p}/{path}").read_text().splitlines():
                if line.startswith(key):
                    total_kb += int(line.split()[1])
                    break
        except OSError:
            continue
        stack += _children(p)
    return round(total_kb / 1024, 1)


def tree_rss_mb(pid: int) -> float:
    """Current RSS of a process and all its descendants (Linux /proc), in MB.

    Pages the processes share (the interpreter, the extension modules' code) count once per process."""
    return _tree_kb(pid, "status", "VmRSS:")


def tree_pss_mb(pid: int) -> float:
    """Current PSS of a process and all its descendants, in MB: each shared page split among the
    processes that map it, so the sum is what the tree takes from the machine."""
    return _tree_kb(pid, "smaps_rollup", "Pss:")


def machine_info() -> dict[str, Any]:
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "hostname": platform.node(),
    }


# ------------------------------------------------------------------ subprocesses


class Proc:
    """A subprocess in its own session, logging to a file, stopped by its own id."""

    def __init__(self, name: str, args: Sequence[str], env: dict[str, str], log_path: Path) -> None:
        self.name = name
        self.log_path = log_path
        self._log = log_path.open("wb")
        self.popen = subprocess.Popen(
            list(args), env={**os.environ, **env}, stdout=self._log, stderr=subprocess.STDOUT,
            cwd=REPO_ROOT, start_new_session=True,
        )  # fmt: skip

        self.peak_tree_rss_mb = 0.0

    @property
    def pid(self) -> int:
        return self.popen.pid

    def sample_rss(self) -> float:
        """Sample the RSS of this process tree; remembers the peak."""
        rss = tree_rss_mb(self.popen.pid) if self.alive() else 0.0
        self.peak_tree_rss_mb = max(self.peak_tree_rss_mb, rss)
        return rss

    def sample_pss(self) -> float:
        """Sample the PSS of this process tree (see tree_pss_mb)."""
        return tree_pss_mb(self.popen.pid) if self.alive() else 0.0

    def alive(self) -> bool:
        return self.popen.poll() is None

    def tail(self, lines: int = 30) -> str:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def stop(self, timeout: float = 30.0) -> int | None:
        """SIGTERM (warm shutdown for Celery, graceful for uvicorn); SIGKILL its process group if it lingers."""
        if self.alive():
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(self.popen.pid, signal.SIGKILL)  # the group we created for this child only
                except ProcessLookupError:
                    pass
                self.popen.wait(timeout=10)
        self._log.close()
        return self.popen.returncode


def start_worker(env: dict[str, str], log_path: Path, concurrency: int = 2, timeout: float = 60.0) -> Proc:
    """`chaxin worker` on the benchmark queue; returns once it answers a Celery ping."""
    proc = Proc(
        "worker", [*CHAXIN, "worker", "--concurrency", str(concurrency), "--loglevel", "INFO"], env, log_path
    )
    from ingest.celery_app import app  # env is set by now

    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        if not proc.alive():
            raise RuntimeError(f"worker exited early (code {proc.popen.returncode}):\n{proc.tail()}")
        try:
            if app.control.ping(timeout=0.5):
                return proc
        except Exception as exc:  # noqa: BLE001 - broker not ready yet, keep polling
            last = exc
        time.sleep(0.3)
    proc.stop()
    raise RuntimeError(f"worker did not answer a ping within {timeout}s (last error: {last}):\n{proc.tail()}")


# A benchmark sends hundreds of anonymous requests a minute from one address: under the public limits
# most of them would be 429s and the figures would measure the limiter; and an anonymous export stops
# at 500 records, so a 10,000-record export would time 500. Raised for the bench's own API only,
# unless the caller set them, and said so in the output.
BENCH_RATE_LIMITS = {
    "CHAXIN_ANON_SEARCH_PER_MINUTE": "1000000",
    "CHAXIN_ANON_EXPORT_PER_MINUTE": "1000000",
    "CHAXIN_ANON_EXPORT_MAX": "1000000",
}


def start_api(env: dict[str, str], log_path: Path, port: int, timeout: float = 180.0,
              extra_args: Sequence[str] = ()) -> Proc:  # fmt: skip
    """`chaxin serve` on a free port, with the anonymous rate limits raised; returns once /healthz answers 200."""
    import httpx

    raised = {k: v for k, v in BENCH_RATE_LIMITS.items() if k not in env}
    if raised:
        log(
            "rate limits and the anonymous export cap raised for this benchmark's API: " + ", ".join(f"{k}={v}" for k, v in raised.items())
        )
    env = {**env, **raised}
    proc = Proc("api", [*CHAXIN, "serve", "--port", str(port), *extra_args], env, log_path)
    deadline = time.monotonic() + timeout
    last = ""
    while time.monotonic() < deadline:
        if not proc.alive():
            raise RuntimeError(f"API exited early (code {proc.popen.returncode}):\n{proc.tail()}")
        try:
            r = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2.0)
            if r.status_code == 200:
                return proc
            last = r.text
        except httpx.HTTPError as exc:
            last = type(exc).__name__
        time.sleep(0.3)
    proc.stop()
    raise RuntimeError(f"API /healthz not ready within {timeout}s (last: {last}):\n{proc.tail()}")


def wait_for_job(database_url: str, job_id: int, *, timeout: float, poll: float = 0.25,
                 on_progress: Callable[[Any], None] | None = None, worker: Proc | None = None) -> Any:  # fmt: skip
    """Poll the job table until the job is done or failed; returns the final JobStatus."""
    from appdb.jobs import job_status
    from appdb.session import session_factory

    Session = session_factory(database_url)
    deadline = time.monotonic() + timeout
    last_done = -1
    while True:
        with Session() as session:
            status = job_status(session, job_id)
        if status is None:
            raise RuntimeError(f"job {job_id} not found")
        if status.state in ("done", "failed"):
            return status
        if on_progress and status.chunks_done != last_done:
            last_done = status.chunks_done
            on_progress(status)
        if worker is not None:
            if not worker.alive():
                raise RuntimeError(f"worker died while job {job_id} was running:\n{worker.tail()}")
            worker.sample_rss()
        if time.monotonic() > deadline:
            raise TimeoutError(f"job {job_id} not done after {timeout}s: {status.as_dict()}")
        time.sleep(poll)


# ------------------------------------------------------------------ numbers and output


def percentile(values: Sequence[float], pct: float) -> float:
    """Linear-interpolated percentile (like numpy's default)."""
    if not values:
        return float("nan")
    xs = sorted(values)
    k = (len(xs) - 1) * pct / 100
    lo = int(k)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (k - lo)


def fmt_num(value: Any, digits: int = 1) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        if math.isnan(value):
            return "-"
        return f"{value:,.{digits}f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def table(
    headers: Sequence[str], rows: Sequence[Sequence[Any]], title: str | None = None, digits: int = 1
) -> str:
    """A plain-text table; first column left-aligned, the rest right-aligned."""
    cells = [[fmt_num(c, digits) for c in row] for row in rows]
    widths = [
        max(_width(h), *(_width(r[i]) for r in cells)) if cells else _width(h) for i, h in enumerate(headers)
    ]
    out: list[str] = []
    if title:
        out.append(title)
    sep = "  "
    out.append(sep.join(_pad(h, widths[i], left=i == 0) for i, h in enumerate(headers)))
    out.append(sep.join("-" * w for w in widths))
    for row in cells:
        out.append(sep.join(_pad(c, widths[i], left=i == 0) for i, c in enumerate(row)))
    return "\n".join(out)


def _width(text: str) -> int:
    # CJK characters take two terminal columns.
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def _pad(text: str, width: int, left: bool) -> str:
    gap = " " * (width - _width(text))
    return text + gap if left else gap + text


def default_out(name: str) -> Path:
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    return RESULTS_DIR / f"{name}-{stamp}.json"


def write_json(path: Path, data: dict[str, Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return path


def close_run(results: dict[str, Any], out: Path, tmp: Path, *, keep_tmp: bool) -> None:
    """The end of a benchmark run, whether it finished or failed: closing figures, the results file,
    and the temporary folder gone unless it is to be kept."""
    results["load_average_at_end"] = os.getloadavg()
    results["peak_rss_mb"] = peak_rss_mb()
    results["finished_at"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    write_json(out, results)
    if not keep_tmp:
        shutil.rmtree(tmp, ignore_errors=True)


def log(msg: str) -> None:
    """Progress goes to stderr so the tables on stdout stay clean."""
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)

"""Two `chaxin serve` and two `chaxin worker` started at once on a fresh database all come up.

Each runs the Alembic upgrade at start; the migration lock (appdb/session.py) lets one migrate while
the others wait and then find the schema at head. Real processes, SQLite and PostgreSQL both.
"""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import redis
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, text

from appdb.session import alembic_config
from conf.settings import REPO_ROOT, Settings
from tests.conftest import SPARE_REDIS_DB

pytestmark = [pytest.mark.usefixtures("services"), pytest.mark.worker]

START_TIMEOUT = 120  # four Python processes importing the app at once on two shared cores


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database URL with nothing in it yet: a new SQLite file, or a new PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'fresh.sqlite3'}"
        return
    base = os.environ.get("CHAXIN_TEST_PG_URL", "")
    if not base:
        pytest.skip("CHAXIN_TEST_PG_URL not set (CI sets it; see .ci/run)")
    schema = f"start_{secrets.token_hex(4)}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    sep = "&" if "?" in base else "?"
    try:
        yield f"{base}{sep}options=-csearch_path%3D{schema}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


def schema_revision(url: str) -> str | None:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()


def test_two_servers_and_two_workers_start_together(fresh_database: str, tmp_path: Path) -> None:
    base = Settings()
    env = {
        **os.environ,
        "DATABASE_URL": fresh_database,
        "ES_URL": base.effective_es_url,
        # A Redis database nobody queues tasks in: these workers must not take the suite's tasks.
        "REDIS_URL": base.effective_redis_url.rsplit("/", 1)[0] + f"/{SPARE_REDIS_DB}",
        "CHAXIN_INDEX_PREFIX": f"tstart-{secrets.token_hex(4)}",
        "CHAXIN_SERVICES_DIR": str(tmp_path / "services"),
    }
    ports = [free_port(), free_port()]
    commands = [
        *([sys.executable, "-m", "chaxin.cli", "serve", "--port", str(p)] for p in ports),
        *([sys.executable, "-m", "chaxin.cli", "worker", "--concurrency", "1"] for _ in range(2)),
    ]
    logs = [tmp_path / f"proc{i}.log" for i in range(len(commands))]
    procs: list[subprocess.Popen[bytes]] = []
    try:
        for cmd, log in zip(commands, logs, strict=True):
            with log.open("wb") as out:
                procs.append(subprocess.Popen(cmd, env=env, cwd=REPO_ROOT, stdout=out, stderr=subprocess.STDOUT,
                                              start_new_session=True))  # fmt: skip
        up = [False] * len(procs)
        deadline = time.monotonic() + START_TIMEOUT
        while not all(up) and time.monotonic() < deadline:
            for i, proc in enumerate(procs):
                if up[i]:
                    continue
                assert proc.poll() is None, f"{commands[i][3]} exited:\n{logs[i].read_text()[-3000:]}"
                if i < len(ports):
                    try:
                        up[i] = httpx.get(f"http://127.0.0.1:{ports[i]}/healthz", timeout=2).status_code == 200
                    except httpx.HTTPError:
                        pass
                else:
                    up[i] = "ready." in logs[i].read_text(errors="replace")
            time.sleep(0.5)
        assert all(up), "not all came up: " + "; ".join(
            f"{commands[i][3]}: {logs[i].read_text(errors='replace')[-1500:]}" for i in range(len(procs)) if not up[i]
        )
    finally:
        for proc in procs:
            if proc.poll() is None:
                os.killpg(proc.pid, 15)
        for proc in procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, 9)
                proc.wait()
        redis.Redis.from_url(env["REDIS_URL"]).flushdb()  # the workers' queue bindings

    head = ScriptDirectory.from_config(alembic_config(fresh_database)).get_current_head()
    assert schema_revision(fresh_database) == head
    for log in logs:
        assert "Traceback" not in log.read_text(errors="replace"), log.read_text(errors="replace")[-3000:]

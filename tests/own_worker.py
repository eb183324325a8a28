"""A worker of a test's own, on a Redis database no other worker reads (SPARE_REDIS_DB), with settings
passed through its environment; and polling helpers for its jobs."""

from __future__ import annotations

import gzip
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import redis
from elasticsearch import Elasticsearch, helpers

from appdb.jobs import JobStatus, job_status
from appdb.session import session_factory, upgrade
from conf.settings import Settings
from ingest.formats.csl import parse_line
from ingest.index_admin import drop_all
from mappings.naming import IndexNames
from tests.conftest import SPARE_REDIS_DB, Worker, new_prefix, settings_for


class EnvWorker(Worker):
    """The conftest worker, with settings that conftest does not pass on."""

    def __init__(self, settings: Settings, log_path: Path, extra_env: dict[str, str]) -> None:
        super().__init__(settings, log_path)
        self.extra_env = extra_env

    def env(self) -> dict[str, str]:
        return {**super().env(), **self.extra_env}

    @property
    def pgid(self) -> int:
        assert self.proc is not None
        return self.proc.pid  # started with start_new_session: its own process group

    def log_tail(self, chars: int = 3000) -> str:
        return self.log_path.read_text(errors="replace")[-chars:] if self.log_path.exists() else ""


@contextmanager
def own_broker(es: Elasticsearch, tmp_path: Path, kind: str, **updates: object) -> Iterator[Settings]:
    """Settings with a fresh prefix, an SQLite database and the spare Redis database, emptied before and after."""
    base = settings_for(new_prefix(kind), f"sqlite:///{tmp_path / 'jobs.sqlite3'}")
    redis_url = base.effective_redis_url.rsplit("/", 1)[0] + f"/{SPARE_REDIS_DB}"
    settings = base.model_copy(update={"redis_url": redis_url, **updates})
    upgrade(settings.effective_database_url)
    broker = redis.Redis.from_url(redis_url)
    broker.flushdb()
    try:
        yield settings
    finally:
        broker.flushdb()
        broker.close()
        drop_all(es, IndexNames(settings.index_prefix))


def status_of(settings: Settings, job_id: int) -> JobStatus:
    with session_factory(settings.effective_database_url)() as session:
        status = job_status(session, job_id)
    assert status is not None
    return status


def wait_for(settings: Settings, job_id: int, done: int, timeout: float) -> JobStatus:
    """Poll until at least `done` chunks are recorded, or the timeout passes."""
    deadline = time.monotonic() + timeout
    status = status_of(settings, job_id)
    while status.chunks_done < done and time.monotonic() < deadline:
        time.sleep(0.1)
        status = status_of(settings, job_id)
    return status


def write_corpus(path: Path, count: int, tag: str) -> list[str]:
    """`count` CSL lines; returns the record IDs the tasks will give them, in line order."""
    now = datetime.now(UTC)
    lines = [
        f'{{"id": "{tag}-{i}", "title": "石墨烯负极材料的制备与表征 {tag} {i}", "issued": {{"date-parts": [[2020]]}}}}'
        for i in range(count)
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return [parse_line(line, now=now, version=1).id for line in lines]


def expected_ids(path: Path) -> set[str]:
    """The record IDs a gzipped CSL corpus holds, parsed the way the tasks parse it."""
    now = datetime.now(UTC)
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        return {parse_line(line, now=now, version=1).id for line in fh if line.strip()}


def indexed_ids(es: Elasticsearch, settings: Settings) -> list[str]:
    alias = IndexNames(settings.index_prefix).read_alias
    es.indices.refresh(index=alias)
    hits = helpers.scan(es, index=alias, query={"query": {"match_all": {}}, "_source": False}, size=1000)
    return [hit["_id"] for hit in hits]

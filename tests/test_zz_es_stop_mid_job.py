"""Elasticsearch stopped in the middle of a job and started again: the job completes once it is back.

Runs after the other tests (file name), since it stops the shared local node; it always starts
it again. The worker has a Redis database of its own, like the crash test's.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from elasticsearch import Elasticsearch

from appdb.jobs import job_errors
from appdb.session import session_factory
from chaxin.services import es_start, es_stop
from conf.settings import Settings
from ingest.index_admin import drop_all
from ingest.submit import submit
from mappings.naming import IndexNames
from tests.conftest import DEMO, launcher_node, new_prefix, settings_for
from tests.own_worker import EnvWorker, expected_ids, indexed_ids, status_of, wait_for

pytestmark = [pytest.mark.worker, pytest.mark.stops_services]

# Neither the developer's 0, the suite's 15 nor the crash test's 14.
OUTAGE_REDIS_DB = 13
CHUNK_LINES = 50  # the 2,000-line demo corpus becomes 40 tasks
BULK_DOCS = 10  # several bulk requests per chunk, so the stop can cut one chunk's writes in two
STOPPED_FOR = 10  # seconds Elasticsearch stays down: tasks fail and back off meanwhile


@pytest.fixture
def local_node() -> Settings:
    return launcher_node(Settings())


@pytest.fixture
def outage_settings(database_url: str, es: Elasticsearch, local_node: Settings) -> Iterator[Settings]:
    base = settings_for(new_prefix("esstop"), database_url)
    redis_url = base.effective_redis_url.rsplit("/", 1)[0] + f"/{OUTAGE_REDIS_DB}"
    settings = base.model_copy(update={"redis_url": redis_url, "ingest_chunk_lines": CHUNK_LINES})
    broker = redis.Redis.from_url(redis_url)
    broker.flushdb()
    yield settings
    es_start(local_node)  # a no-op when the test got it back up; never leave the suite without a node
    es.cluster.health(wait_for_status="yellow", timeout="60s")
    broker.flushdb()
    broker.close()
    drop_all(es, IndexNames(settings.index_prefix))


def test_job_completes_once_elasticsearch_is_back(
    outage_settings: Settings, local_node: Settings, es: Elasticsearch, tmp_path: Path
) -> None:
    settings = outage_settings
    expected = expected_ids(DEMO)
    worker = EnvWorker(settings, tmp_path / "worker.log", {"CHAXIN_BULK_MAX_DOCS": str(BULK_DOCS)})
    try:
        worker.start()
        job_id, chunks = submit(settings, "csl", DEMO)
        assert chunks == len(expected) // CHUNK_LINES

        wait_for(settings, job_id, done=3, timeout=60)
        es_stop(local_node)
        stopped = status_of(settings, job_id)
        assert stopped.chunks_done < chunks, f"the job ended before Elasticsearch stopped: {stopped}"
        time.sleep(STOPPED_FOR)
        during = status_of(settings, job_id)
        # While the node is away the job waits: nothing is given up on and quarantined.
        assert during.state == "running" and during.chunks_done < chunks and during.failed == 0, during
        assert "Elasticsearch unavailable" in worker.log_path.read_text(), "no task met the outage"

        es_start(local_node)
        es.cluster.health(wait_for_status="yellow", timeout="60s")
        status = wait_for(settings, job_id, done=chunks, timeout=75)
    finally:
        es_start(local_node)
        worker.stop()

    assert status.state == "done" and status.chunks_done == chunks, f"{status}\n{worker.log_tail()}"
    with session_factory(settings.effective_database_url)() as session:
        assert job_errors(session, job_id) == []
    ids = indexed_ids(es, settings)
    assert len(ids) == len(set(ids)) == len(expected)
    assert set(ids) == expected
    assert (status.seen, status.failed) == (len(expected), 0), status
    assert (status.indexed, status.skipped, status.merged) == (len(expected), 0, 0), status

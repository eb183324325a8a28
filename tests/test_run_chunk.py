"""`ingest.pipeline.run_chunk` called directly, without a worker: what the Celery task does with a chunk."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import redis
from elasticsearch import Elasticsearch

from appdb.jobs import create_job, job_status
from appdb.session import session_factory, upgrade
from conf.clients import make_redis
from conf.settings import Settings
from ingest.pipeline import ChunkWork, Outcome, RetryLater, run_chunk
from ingest.write_lease import rebuild_lock_key
from mappings.naming import IndexNames
from tests.conftest import settings_for

GOOD = {"id": "run-chunk-1", "title": "一种新型钙钛矿太阳能电池的制备", "abstract": "摘要", "keywords": ["钙钛矿"]}


@pytest.fixture
def settings(index_names: IndexNames, tmp_path: Path) -> Settings:
    # Linking would queue a task for a worker this test does not have.
    url = f"sqlite:///{tmp_path / 'chaxin.sqlite3'}"
    upgrade(url)
    return settings_for(index_names.prefix, url).model_copy(update={"citation_linking": False})


def _chunk_file(tmp_path: Path) -> Path:
    lines = [
        json.dumps(GOOD, ensure_ascii=False),
        '{"id": "cut-short", "title": ',
        json.dumps({**GOOD, "id": "run-chunk-2", "title": "量子点发光二极管研究"}, ensure_ascii=False),
    ]
    path = tmp_path / "chunk.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _job(settings: Settings, path: Path) -> ChunkWork:
    with session_factory(settings.effective_database_url).begin() as session:
        job_id = create_job(session, "csl", str(path), 1).id
    chunk = {"chunk_no": 0, "start_line": 1, "end_line": 3, "start_offset": 0}
    return ChunkWork(job_id, "csl", str(path), settings.index_prefix, chunk, origin="chunk.jsonl")


def _status(settings: Settings, job_id: int) -> dict[str, object]:
    with session_factory(settings.effective_database_url)() as session:
        status = job_status(session, job_id)
    assert status is not None
    return status.as_dict()


def _count(es: Elasticsearch, names: IndexNames) -> int:
    es.indices.refresh(index=names.read_alias)
    return int(es.count(index=names.read_alias)["count"])


def test_a_chunk_is_written_and_recorded_once(
    settings: Settings, es: Elasticsearch, index_names: IndexNames, tmp_path: Path
) -> None:
    work = _job(settings, _chunk_file(tmp_path))
    broker = make_redis(settings)
    assert run_chunk(work, settings, es, broker) is Outcome.DONE
    status = _status(settings, work.job_id)
    assert (status["state"], status["seen"], status["indexed"], status["failed"]) == ("done", 3, 2, 1)
    assert _count(es, index_names) == 2
    # Delivered twice (acks_late): the recorded chunk is not done again.
    assert run_chunk(work, settings, es, broker) is Outcome.DONE
    assert _status(settings, work.job_id)["seen"] == 3


def test_a_running_rebuild_sends_the_chunk_back_to_the_queue(
    settings: Settings, es: Elasticsearch, index_names: IndexNames, tmp_path: Path
) -> None:
    work = _job(settings, _chunk_file(tmp_path))
    broker: redis.Redis = make_redis(settings)
    broker.set(rebuild_lock_key(index_names), "test", ex=60)
    try:
        assert run_chunk(work, settings, es, broker) is Outcome.REQUEUE
    finally:
        broker.delete(rebuild_lock_key(index_names))
    assert _status(settings, work.job_id)["state"] == "queued"
    assert _count(es, index_names) == 0


def test_an_outage_is_retried_while_retries_last_then_quarantined(
    settings: Settings, es: Elasticsearch, index_names: IndexNames, tmp_path: Path
) -> None:
    work = _job(settings, _chunk_file(tmp_path))
    broker = make_redis(settings)
    down = Elasticsearch("http://127.0.0.1:9", max_retries=0, request_timeout=2)
    with pytest.raises(RetryLater):
        run_chunk(work, settings, down, broker, may_retry=True)
    assert _status(settings, work.job_id)["failed"] == 0, "nothing recorded before the retry"
    assert run_chunk(work, settings, down, broker, may_retry=False) is Outcome.DONE
    status = _status(settings, work.job_id)
    assert (status["state"], status["indexed"], status["failed"]) == ("done", 0, 3)
    assert _count(es, index_names) == 0

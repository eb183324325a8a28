"""A chunk task lost at the broker (celery#7950's window, here removed from the queue by hand):
`chaxin ingest resume` sends it again, and a worker does so itself for a job that has stalled.
The job ends with exactly the expected records, none twice. Real worker, Redis and Elasticsearch.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis
from elasticsearch import Elasticsearch

from conf.clients import make_redis
from conf.settings import REPO_ROOT, Settings
from ingest.resume import _chunk_of, _queue_lists, chunks_in_broker, resume
from ingest.submit import submit
from tests.own_worker import EnvWorker, indexed_ids, own_broker, status_of, wait_for, write_corpus

pytestmark = pytest.mark.worker

CHUNK_LINES = 10
CHUNKS = 4
LOST = 2


def lose_message(r: redis.Redis, job_id: int, chunk_no: int) -> None:
    """Take one chunk's message off the queue, as a worker killed between taking and recording it would."""
    for name in _queue_lists("celery"):
        for raw in r.lrange(name, 0, -1):
            if _chunk_of(json.loads(raw)) == (job_id, chunk_no):
                assert r.lrem(name, 1, raw) == 1
                return
    raise AssertionError(f"no queued message for chunk {chunk_no}")


def cli(worker: EnvWorker, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "chaxin.cli", *args], env=worker.env(), cwd=REPO_ROOT,
                          capture_output=True, text=True, timeout=180, check=False)  # fmt: skip


def queue_job_and_lose_a_chunk(settings: Settings, corpus: Path) -> int:
    job_id, chunks = submit(settings, "csl", corpus)
    assert chunks == CHUNKS
    r = make_redis(settings)
    everything = {(job_id, n) for n in range(CHUNKS)}
    assert chunks_in_broker(r, [job_id]) == everything
    nothing_lost = resume(settings, job_id)
    assert (nothing_lost.resent, nothing_lost.in_flight) == ([], list(range(CHUNKS))), "queued chunks stay as they are"
    lose_message(r, job_id, LOST)
    assert chunks_in_broker(r, [job_id]) == everything - {(job_id, LOST)}
    return job_id


def assert_exactly(es: Elasticsearch, settings: Settings, job_id: int, expected: list[str]) -> None:
    status = status_of(settings, job_id)
    assert status.state == "done" and status.chunks_done == CHUNKS, status
    ids = indexed_ids(es, settings)
    assert len(ids) == len(set(ids)) and sorted(ids) == sorted(expected)
    assert (status.seen, status.indexed, status.skipped, status.failed) == (len(expected), len(expected), 0, 0), status
    assert status.resumed_chunks == 1 and status.resumed_at, status


def test_resume_sends_the_lost_chunk_again(es: Elasticsearch, tmp_path: Path) -> None:
    corpus = tmp_path / "corpus.jsonl"
    expected = write_corpus(corpus, CHUNKS * CHUNK_LINES, "resume")
    with own_broker(es, tmp_path, "resume", ingest_chunk_lines=CHUNK_LINES) as settings:
        worker = EnvWorker(settings, tmp_path / "worker.log", {})
        job_id = queue_job_and_lose_a_chunk(settings, corpus)
        try:
            worker.start()
            stuck = wait_for(settings, job_id, done=CHUNKS - 1, timeout=60)
            time.sleep(1)
            stuck = status_of(settings, job_id)
            assert (stuck.state, stuck.chunks_done) == ("running", CHUNKS - 1), stuck

            out = cli(worker, "ingest", "resume", str(job_id), "--wait")
            assert out.returncode == 0, out.stderr
            assert f"sent again chunk(s) {LOST}" in out.stdout
            status_json = json.loads(cli(worker, "ingest", "status", str(job_id)).stdout)
            again = cli(worker, "ingest", "resume", str(job_id))
        finally:
            worker.stop()
        assert_exactly(es, settings, job_id, expected)
        assert status_json["resumed_chunks"] == 1 and status_json["resumed_at"], status_json
        assert status_json["state"] == "done"
        assert again.returncode == 0 and "no chunk lost" in again.stdout


def test_a_worker_resumes_a_stalled_job_itself(es: Elasticsearch, tmp_path: Path) -> None:
    corpus = tmp_path / "corpus.jsonl"
    expected = write_corpus(corpus, CHUNKS * CHUNK_LINES, "stall")
    with own_broker(es, tmp_path, "stall", ingest_chunk_lines=CHUNK_LINES) as settings:
        # A short visibility timeout: a job is stalled after 3 s without progress.
        worker = EnvWorker(settings, tmp_path / "worker.log", {"CHAXIN_BROKER_VISIBILITY_TIMEOUT": "3"})
        job_id = queue_job_and_lose_a_chunk(settings, corpus)
        try:
            worker.start()
            status = wait_for(settings, job_id, done=CHUNKS, timeout=60)
        finally:
            worker.stop()
        assert status.chunks_done == CHUNKS, f"{status}\n{worker.log_tail()}"
        assert f"chunks [{LOST}] sent again" in worker.log_tail(50_000)
        assert_exactly(es, settings, job_id, expected)

"""A worker killed with SIGKILL in the middle of a job: a new worker finishes it, nothing lost or counted twice.

The worker here has a Redis database of its own, so the session `pipeline` worker (database 15)
never takes its tasks, and a short broker visibility timeout, so Redis hands the tasks the dead
worker had taken to the new one within seconds rather than the production ten minutes.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from elasticsearch import Elasticsearch

from appdb.jobs import job_errors
from appdb.session import session_factory
from conf.settings import Settings
from ingest.index_admin import drop_all
from ingest.submit import submit
from mappings.naming import IndexNames
from tests.conftest import DEMO, new_prefix, settings_for
from tests.own_worker import EnvWorker, expected_ids, indexed_ids, status_of, wait_for

pytestmark = [pytest.mark.worker, pytest.mark.stops_services]

# Neither the developer's database 0 nor the test suite's 15 (the session `pipeline` worker's).
CRASH_REDIS_DB = 14
# Seconds before Redis gives a dead worker's unacknowledged tasks to another worker.
VISIBILITY_TIMEOUT = 5
CHUNK_LINES = 50  # the 2,000-line demo corpus becomes 40 tasks
BULK_DOCS = 10  # five bulk requests per chunk, so the kill lands with a chunk partly written
QUEUE = "celery"  # Celery's default queue: its Redis lists, beside the `unacked` hash
# Chunks go on kombu's priority steps (fair share per job): step 0 is the bare name, step p is
# the name + "\x06\x16" + p.
QUEUE_LISTS = [QUEUE] + [f"{QUEUE}\x06\x16{p}" for p in range(1, 10)]


def queued_messages(broker: redis.Redis) -> int:
    return sum(int(broker.llen(name)) for name in QUEUE_LISTS)


def living_in_group(pgid: int) -> list[int]:
    """PIDs of the process group that still run (zombies awaiting their reaper do not count)."""
    alive = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            alive.append(int(stat.parent.name))
    return alive


def kill_mid_chunk(
    worker: EnvWorker, settings: Settings, job_id: int, after: int, timeout: float = 60
) -> int:
    """SIGKILL the worker's process group once `after` chunks are recorded, while its tasks are mid-chunk.

    It waits for a moment when no chunk has just finished. Right after one finishes, the worker
    pops the next task off the Redis list and only then records it as unacknowledged, in a second
    command (kombu's Redis transport; celery/celery#7950): a kill in between loses that task at
    the broker. That window is the transport's, not the ingest tasks', which are what this tests.
    Returns the chunks recorded when the signal went out.
    """
    deadline = time.monotonic() + timeout
    last, changed = -1, time.monotonic()
    while time.monotonic() < deadline:
        done = status_of(settings, job_id).chunks_done
        now = time.monotonic()
        if done != last:
            last, changed = done, now
        elif done >= after and now - changed >= 0.1:
            worker.stop(signal.SIGKILL)  # the whole group: the main process and its prefork children
            return done
        time.sleep(0.005)
    raise AssertionError(f"no moment to kill the worker: {status_of(settings, job_id)}\n{worker.log_tail()}")


@pytest.fixture
def crash_settings(database_url: str, es: Elasticsearch) -> Iterator[Settings]:
    base = settings_for(new_prefix("crash"), database_url)
    redis_url = base.effective_redis_url.rsplit("/", 1)[0] + f"/{CRASH_REDIS_DB}"
    settings = base.model_copy(update={"redis_url": redis_url, "ingest_chunk_lines": CHUNK_LINES})
    broker = redis.Redis.from_url(redis_url)
    broker.flushdb()
    yield settings
    broker.flushdb()
    broker.close()
    drop_all(es, IndexNames(settings.index_prefix))


def test_sigkilled_worker_loses_and_duplicates_nothing(
    crash_settings: Settings, es: Elasticsearch, tmp_path: Path
) -> None:
    settings = crash_settings
    expected = expected_ids(DEMO)
    extra_env = {
        "CHAXIN_BROKER_VISIBILITY_TIMEOUT": str(VISIBILITY_TIMEOUT),
        "CHAXIN_BULK_MAX_DOCS": str(BULK_DOCS),
    }
    first = EnvWorker(settings, tmp_path / "first.log", extra_env)
    second = EnvWorker(settings, tmp_path / "second.log", extra_env)
    broker = redis.Redis.from_url(settings.effective_redis_url)
    try:
        first.start()
        pgid = first.pgid
        job_id, chunks = submit(settings, "csl", DEMO)
        assert chunks == len(expected) // CHUNK_LINES

        signalled = kill_mid_chunk(first, settings, job_id, after=3)
        deadline = time.monotonic() + 10
        while living_in_group(pgid) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not living_in_group(pgid), "a pool child outlived SIGKILL"
        at_kill = status_of(settings, job_id)
        queued, taken = queued_messages(broker), broker.hlen("unacked")
        assert at_kill.state == "running" and 3 <= signalled <= at_kill.chunks_done < chunks, at_kill
        assert taken >= 1, "the killed worker held no task: there is nothing to redeliver"
        # Every chunk is recorded, still queued, or held for redelivery: none vanished with the worker.
        assert at_kill.chunks_done + queued + taken >= chunks, (at_kill, queued, taken)

        second.start()
        status = wait_for(settings, job_id, done=chunks, timeout=60)
        left = {"queued": queued_messages(broker), "unacked": broker.hlen("unacked")}
    finally:
        first.stop(signal.SIGKILL)
        second.stop()
        broker.close()

    assert status.state == "done" and status.chunks_done == chunks, f"{status} {left}\n{second.log_tail()}"
    with session_factory(settings.effective_database_url)() as session:
        assert job_errors(session, job_id) == []
    ids = indexed_ids(es, settings)
    assert len(ids) == len(set(ids)) == len(expected), "Elasticsearch holds each record exactly once"
    assert set(ids) == expected
    assert (status.seen, status.failed) == (len(expected), 0), status
    # Each record counted once, as written by this job: what the killed worker wrote before it died
    # is this job's write too, not a "repeated or late write" for the job to call skipped.
    assert (status.indexed, status.skipped, status.merged) == (len(expected), 0, 0), status

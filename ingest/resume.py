"""Send again the chunk tasks of a job that the broker lost.

Kombu's Redis transport takes a message off the queue and records it as unacknowledged in two
commands; a worker killed between them loses the task (celery/celery#7950), and its job never ends.
`resume` finds the job's chunks that have no result row and are neither queued nor held by a worker,
and sends their tasks (kept with the job at submit) again. Every worker runs it on its own for jobs
with no progress for longer than the broker's visibility timeout, the time after which a dead
worker's tasks would have come back by themselves. A chunk sent twice is still recorded once.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import redis
from celery.signals import worker_ready

from appdb.jobs import note_resumed, stalled_jobs, unrecorded_chunk_tasks
from appdb.models import IngestJob
from appdb.session import session_factory
from conf.clients import make_redis
from conf.settings import Settings, get_settings
from ingest.celery_app import CHUNK_TASK, PRIORITY_STEPS, broker_id, producer_for

log = logging.getLogger(__name__)

# Kombu's Redis transport: priority step p of a queue is the list `queue + SEP + p` (step 0 the bare
# name), and taken but unacknowledged messages wait in the hash `unacked`.
_PRIORITY_SEP = "\x06\x16"
_UNACKED = "unacked"
_PAGE = 1000


class ResumeError(RuntimeError):
    """Shown to the user as is."""


@dataclass
class ResumeResult:
    job_id: int
    resent: list[int]  # chunk numbers sent again
    in_flight: list[int]  # unrecorded, but queued or held by a worker: left alone


def _queue_lists(queue: str) -> list[str]:
    return [queue] + [f"{queue}{_PRIORITY_SEP}{p}" for p in range(1, PRIORITY_STEPS)]


def messages_in_broker(r: redis.Redis, queue: str = "celery") -> Iterator[dict[str, Any]]:
    """Every task message still queued on `queue` (each priority step) or taken by a worker and not
    yet acknowledged (retries waiting for their countdown included). What is not a message is skipped."""

    def parsed(raw: bytes | str) -> dict[str, Any] | None:
        try:
            item = json.loads(raw)
        except ValueError:
            return None
        message = item[0] if isinstance(item, list) and item else item  # unacked: [message, exchange, key]
        return message if isinstance(message, dict) else None

    for name in _queue_lists(queue):
        start = 0
        while page := r.lrange(name, start, start + _PAGE - 1):
            for raw in page:
                if (message := parsed(raw)) is not None:
                    yield message
            start += _PAGE
    for _, raw in r.hscan_iter(_UNACKED, count=_PAGE):
        if (message := parsed(raw)) is not None:
            yield message


def task_args(message: dict[str, Any], task: str) -> list[Any] | None:
    """The positional arguments of a message of `task`, else None."""
    if message.get("headers", {}).get("task") != task:
        return None
    body: Any = message.get("body", "")
    if message.get("properties", {}).get("body_encoding") == "base64":
        body = base64.b64decode(body)
    try:
        args = json.loads(body)[0]
    except (ValueError, KeyError, IndexError, TypeError):
        return None
    return args if isinstance(args, list) else None


def _chunk_of(message: dict[str, Any]) -> tuple[int, int] | None:
    """(job, chunk) of a chunk task's message, else None."""
    args = task_args(message, CHUNK_TASK)
    return (int(args[0]), int(args[4]["chunk_no"])) if args is not None else None


def chunks_in_broker(r: redis.Redis, jobs: Iterable[int], queue: str = "celery") -> set[tuple[int, int]]:
    """(job, chunk) of every chunk task of `jobs` still queued or taken by a worker."""
    wanted = set(jobs)
    found: set[tuple[int, int]] = set()
    for message in messages_in_broker(r, queue):
        try:
            key = _chunk_of(message)
        except (ValueError, KeyError, IndexError, TypeError):
            continue  # not a message of ours
        if key and key[0] in wanted:
            found.add(key)
    return found


def resume(settings: Settings, job_id: int, *, in_broker: set[tuple[int, int]] | None = None) -> ResumeResult:
    """Send again the tasks of the job's chunks that have no result row and are not in the broker."""
    Session = session_factory(settings.effective_database_url)
    with Session() as session:
        if session.get(IngestJob, job_id) is None:
            raise ResumeError(f"没有编号为 {job_id} 的任务")
    # The broker first, the result rows second: a chunk finishing in between is then seen as
    # recorded, never as lost.
    if in_broker is None:
        in_broker = chunks_in_broker(make_redis(settings), [job_id])
    with Session() as session:
        missing = unrecorded_chunk_tasks(session, job_id)
    if missing is None:
        raise ResumeError(f"任务 {job_id} 排队时未保存分块任务（早于续传功能），无法续传；请重新导入该文件")
    lost = [t for t in missing if (job_id, t.chunk_no) not in in_broker]
    if lost:
        with Session.begin() as session:
            note_resumed(session, job_id, len(lost))
        producer = producer_for(settings)
        for task in lost:
            producer.send_task(CHUNK_TASK, args=task.args, kwargs=task.kwargs, priority=task.priority)
    return ResumeResult(
        job_id, [t.chunk_no for t in lost], [t.chunk_no for t in missing if (job_id, t.chunk_no) in in_broker]
    )


def resume_stalled(settings: Settings) -> list[ResumeResult]:
    """Resume every job of this broker with no progress for longer than the visibility timeout."""
    with session_factory(settings.effective_database_url)() as session:
        jobs = stalled_jobs(session, broker_id(settings), settings.broker_visibility_timeout)
    if not jobs:
        return []
    in_broker = chunks_in_broker(make_redis(settings), jobs)
    results = [resume(settings, job_id, in_broker=in_broker) for job_id in jobs]
    for result in results:
        if result.resent:
            log.warning("job %s had no progress for %ss: chunks %s sent again", result.job_id,
                        settings.broker_visibility_timeout, result.resent)  # fmt: skip
    return results


def sweep_forever(
    settings: Settings, stop: threading.Event, name: str, what: str, sweep: Callable[[Settings], object]
) -> None:
    """Run `sweep` every half visibility timeout (1-60 s) until `stop`, in one worker at a time per
    broker and database (a Redis lock named for `name`), whichever worker it is. `what` is for the log."""
    interval = max(1.0, min(60.0, settings.broker_visibility_timeout / 2))
    digest = hashlib.sha256(settings.effective_database_url.encode()).hexdigest()[:16]
    key = f"chaxin:{name}-sweep:{broker_id(settings)}:{digest}"
    r = make_redis(settings)
    while not stop.wait(interval):
        try:
            lock = r.lock(key, timeout=max(60.0, interval * 5), blocking=False)
            if not lock.acquire():
                continue
            try:
                sweep(settings)
            finally:
                try:
                    lock.release()
                except redis.exceptions.LockError:
                    pass
        except Exception:  # a database or broker hiccup must not end the sweeps
            log.exception("looking for stalled %s failed", what)


_stop = threading.Event()


@worker_ready.connect  # type: ignore[untyped-decorator]
def _start_sweeper(**_: Any) -> None:
    threading.Thread(target=sweep_forever, args=(get_settings(), _stop, "resume", "ingest jobs", resume_stalled),
                     name="resume-stalled", daemon=True).start()  # fmt: skip

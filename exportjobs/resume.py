"""Send again the task of an export job that the broker lost.

The same loss as an ingest chunk's (ingest/resume.py, celery/celery#7950): a worker killed between
taking the message and recording it as unacknowledged, and the job stays "queued" while its user
waits. Every worker sweeps for export jobs neither submitted nor started for longer than the
broker's visibility timeout whose message is neither queued nor held by a worker, and sends their
task again with this worker's index prefix (one deployment, one prefix). Two runs of one job are
harmless: each writes its own file and only the first to finish is recorded (exportjobs/tasks.py).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from typing import Any

import redis
from celery.signals import worker_ready

from appdb import exports
from appdb.session import session_factory
from conf.clients import make_redis
from conf.settings import Settings, get_settings
from ingest.celery_app import EXPORT_TASK, producer_for
from ingest.resume import messages_in_broker, sweep_forever, task_args

log = logging.getLogger(__name__)


def exports_in_broker(r: redis.Redis, jobs: Iterable[int], queue: str = "celery") -> set[int]:
    """The export jobs among `jobs` whose task is still queued or taken by a worker."""
    wanted = set(jobs)
    found: set[int] = set()
    for message in messages_in_broker(r, queue):
        args = task_args(message, EXPORT_TASK)
        if args and isinstance(args[0], int) and args[0] in wanted:
            found.add(args[0])
    return found


def resume_stalled_exports(settings: Settings) -> list[int]:
    """Send again the tasks of stalled export jobs that the broker no longer holds; their IDs."""
    Session = session_factory(settings.effective_database_url)
    with Session() as session:
        jobs = exports.stalled(session, settings.broker_visibility_timeout)
    if not jobs:
        return []
    # The broker first, the job states second: a job finishing in between is then seen as finished.
    held = exports_in_broker(make_redis(settings), jobs)
    with Session() as session:
        still = set(exports.stalled(session, settings.broker_visibility_timeout))
    lost = [job_id for job_id in jobs if job_id in still and job_id not in held]
    producer = producer_for(settings)
    for job_id in lost:
        producer.send_task(EXPORT_TASK, args=[job_id, settings.index_prefix])
    if lost:
        log.warning("export jobs %s had no task in the broker for %ss: sent again", lost,
                    settings.broker_visibility_timeout)  # fmt: skip
    return lost


_stop = threading.Event()


@worker_ready.connect  # type: ignore[untyped-decorator]
def _start_sweeper(**_: Any) -> None:
    threading.Thread(target=sweep_forever, args=(get_settings(), _stop, "export-resume", "export jobs",
                     resume_stalled_exports), name="resume-stalled-exports", daemon=True).start()  # fmt: skip

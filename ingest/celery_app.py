"""The Celery application that runs ingestion tasks."""

from __future__ import annotations

import hashlib
from functools import lru_cache

from celery import Celery

from conf.settings import Settings, get_settings

CHUNK_TASK = "ingest.chunk"
# Citation linking lives in citeindex/, which ingest never imports: it is named here, not imported.
LINK_TASK = "citeindex.link_records"
# Export jobs (exportjobs/) are queued by the web layer by this name.
EXPORT_TASK = "exportjobs.run"
TASK_MODULES = ["ingest.tasks", "ingest.resume", "citeindex.tasks", "exportjobs.tasks", "exportjobs.resume"]
# Task priorities 0 (first) to 9 on Redis, one list each; ingest/submit.py spreads a job over them.
PRIORITY_STEPS = 10


def make_celery(settings: Settings | None = None, *, with_tasks: bool = True) -> Celery:
    settings = settings or get_settings()
    app = Celery(
        "chaxin",
        broker=settings.effective_redis_url,
        backend=settings.effective_redis_url,
        include=TASK_MODULES if with_tasks else [],
    )
    app.conf.update(
        task_acks_late=True,
        # A task whose worker dies is given back to the queue instead of being lost.
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_serializer="json",
        accept_content=["json"],
        result_expires=3600,
        task_ignore_result=True,
        broker_connection_retry_on_startup=True,
        # Redis redelivers unacknowledged tasks (a worker killed mid-task) after the visibility timeout.
        # Kombu looks for them every interval x throttle seconds (10 x 10 by default, so up to 100 s
        # late); look every tenth of the timeout instead, at most every 10 s. A worker killed during
        # a look leaves its lock behind: let it expire within the timeout too (kombu's default: 300 s).
        broker_transport_options={
            "visibility_timeout": settings.broker_visibility_timeout,
            "unacked_restore_interval": max(1, min(10, settings.broker_visibility_timeout // 10)),
            "unacked_restore_throttle": 1,
            "unacked_mutex_expire": min(300, settings.broker_visibility_timeout),
            "priority_steps": list(range(PRIORITY_STEPS)),
            "queue_order_strategy": "priority",
        },
        worker_hijack_root_logger=False,
    )
    return app


@lru_cache(maxsize=8)
def _producer(broker_url: str) -> Celery:
    return make_celery(get_settings().model_copy(update={"redis_url": broker_url}), with_tasks=False)


def producer_for(settings: Settings) -> Celery:
    """A client-side app for sending tasks by name to the broker these settings name."""
    return _producer(settings.effective_redis_url)


app = make_celery()


def broker_id(settings: Settings) -> str:
    """Names the broker a job's tasks went to, without keeping its URL (which may hold a password)."""
    return hashlib.sha256(settings.effective_redis_url.encode()).hexdigest()[:16]

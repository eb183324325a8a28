"""The Celery application that runs ingestion tasks."""

from __future__ import annotations

from celery import Celery

from conf.settings import get_settings


def make_celery() -> Celery:
    settings = get_settings()
    app = Celery(
        "chaxin",
        broker=settings.effective_redis_url,
        backend=settings.effective_redis_url,
        include=["ingest.tasks"],
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
        # Redis redelivers unacknowledged tasks after this long (a worker killed mid-task).
        broker_transport_options={"visibility_timeout": 600},
        worker_hijack_root_logger=False,
    )
    return app


app = make_celery()

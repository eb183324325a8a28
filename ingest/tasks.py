"""Celery tasks. They carry a job ID, a file path and a line range, never documents."""

from __future__ import annotations

import logging
from typing import Any

from celery import Task

from conf.clients import worker_es, worker_redis
from conf.settings import get_settings
from ingest.celery_app import CHUNK_TASK, app
from ingest.pipeline import ChunkWork, Outcome, RetryLater, run_chunk

log = logging.getLogger(__name__)

# With backoff capped at 60 s, about half an hour of Elasticsearch outage before records are quarantined.
ES_RETRIES = 35
REQUEUE_AFTER = 15  # seconds


# Celery's decorator is untyped; the task body below is fully typed.
@app.task(bind=True, acks_late=True, max_retries=ES_RETRIES, name=CHUNK_TASK)  # type: ignore[untyped-decorator]
def ingest_chunk(
    self: Task,
    job_id: int,
    fmt: str,
    path: str,
    index_prefix: str,
    chunk: dict[str, Any],
    origin: str | None = None,
    sha256: str | None = None,
    version: int | None = None,
    files: list[list[str]] | None = None,
) -> None:
    """One chunk of a job (`ingest.pipeline.run_chunk`), with Celery's retries and re-queues."""
    work = ChunkWork(job_id, fmt, path, index_prefix, chunk, origin, sha256, version, files)
    retries = self.request.retries
    try:
        outcome = run_chunk(
            work, get_settings(), worker_es(), worker_redis(), may_retry=retries < (self.max_retries or 0)
        )
    except RetryLater as later:
        countdown = min(60, 2 ** min(retries, 6))
        log.warning(
            "job %s chunk %s: Elasticsearch unavailable (%s); retry in %ss",
            job_id,
            chunk.get("chunk_no"),
            later.cause,
            countdown,
        )
        raise self.retry(exc=later.cause, countdown=countdown) from later.cause
    if outcome is Outcome.REQUEUE:
        # Re-queue rather than retry: a long rebuild must not use up the retries kept for outages.
        self.apply_async(
            args=[job_id, fmt, path, index_prefix, chunk],
            kwargs={"origin": origin, "sha256": sha256, "version": version, "files": files},
            countdown=REQUEUE_AFTER,
        )

"""Celery tasks of the citation index. They carry an index name and record IDs, never documents.

- `citeindex.link_records`: queued by ingest (by name) after each written chunk; it notes the chunk's
  records and their possible citers for the refresh (citeindex/refresh.py), and writes nothing;
- `citeindex.refresh_counts`: relinks what was noted and recounts what may have changed, one write per
  record (one runs at a time per index: a lock);
- `citeindex.plan_relink` / `citeindex.relink_chunk`: `chaxin citations relink`, recorded as a job in
  the ingest-job tables so `--wait`, `chaxin ingest status` and the API show its progress.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from celery import Task
from elasticsearch import ApiError, TransportError
from sqlalchemy import update

from appdb.jobs import ChunkSpec, chunk_done, mark_running, record_chunk
from appdb.models import IngestJob
from appdb.session import session_factory
from citeindex.counts import mark_dirty
from citeindex.link import LinkResult, link_records
from citeindex.refresh import note_arrivals, pending, refresh
from conf.clients import worker_es, worker_redis
from conf.settings import get_settings
from ingest.celery_app import LINK_TASK, app
from ingest.writer import RetryableBulkError, is_retryable
from mappings.analysis.tokenizer import Tokenizer, get_tokenizer

log = logging.getLogger(__name__)

REFRESH_TASK = "citeindex.refresh_counts"
PLAN_TASK = "citeindex.plan_relink"
RELINK_TASK = "citeindex.relink_chunk"
RELINK_FORMAT = "citations-relink"  # the job's `format` in the ingest-job table
RETRIES = 35
# Link tasks of several chunks note records within seconds; one refresh serves them all, and the
# more it serves, the fewer times a record cited from several chunks is written.
REFRESH_DELAY = 10
REFRESH_LOCK_SECONDS = 1800  # a refresh pass of 20,000 records takes minutes on a loaded machine


def _tokenizer() -> Tokenizer:
    return get_tokenizer(get_settings().tokenizer_backend)


_TRANSIENT = (ApiError, TransportError, RetryableBulkError)


def _retry(task: Task, exc: BaseException) -> None:
    if is_retryable(exc) and task.request.retries < (task.max_retries or 0):
        raise task.retry(exc=exc, countdown=min(60, 2 ** min(task.request.retries, 6))) from exc
    raise exc


def _refresh_flag(index: str) -> str:
    return f"chaxin:citations:refresh-queued:{index}"


def schedule_refresh(index: str) -> None:
    """Queue one count refresh for `index` unless one is already queued and not yet started."""
    if worker_redis().set(_refresh_flag(index), "1", nx=True, ex=600):
        app.send_task(REFRESH_TASK, args=[index], countdown=REFRESH_DELAY)


def _link(index: str, ids: list[str], *, incoming: bool, recount: bool) -> LinkResult:
    result = link_records(worker_es(), index, ids, _tokenizer(), incoming=incoming)
    dirty = result.dirty | (set(ids) if recount else set())
    if mark_dirty(worker_redis(), index, dirty):
        schedule_refresh(index)
    return result


# Celery's decorator is untyped; the task bodies are fully typed.
@app.task(bind=True, acks_late=True, max_retries=RETRIES, name=LINK_TASK)  # type: ignore[untyped-decorator]
def link_task(self: Task, index: str, ids: list[str]) -> None:
    try:
        note_arrivals(worker_es(), worker_redis(), index, ids)
    except _TRANSIENT as exc:
        _retry(self, exc)
        return
    schedule_refresh(index)


def _lock(index: str) -> str:
    return f"chaxin:citations:refresh-lock:{index}"


@app.task(bind=True, acks_late=True, max_retries=RETRIES, name=REFRESH_TASK)  # type: ignore[untyped-decorator]
def refresh_task(self: Task, index: str) -> None:
    r = worker_redis()
    # Cleared first: records noted from now on queue the next refresh, and none is left behind.
    r.delete(_refresh_flag(index))
    token = uuid.uuid4().hex
    if not r.set(_lock(index), token, nx=True, ex=REFRESH_LOCK_SECONDS):
        # Another refresh runs (two would correct the same counts twice): this one comes back later.
        app.send_task(REFRESH_TASK, args=[index], countdown=REFRESH_DELAY)
        return
    try:
        result = refresh(worker_es(), r, index, _tokenizer())
        log.info("citation refresh of %s: %s", index, result)
    except _TRANSIENT as exc:
        _retry(self, exc)
    finally:
        if r.get(_lock(index)) in (token, token.encode()):
            r.delete(_lock(index))
    if pending(r, index):
        schedule_refresh(index)


def _session() -> Any:
    return session_factory(get_settings().effective_database_url)


@app.task(bind=True, acks_late=True, max_retries=RETRIES, name=PLAN_TASK)  # type: ignore[untyped-decorator]
def plan_relink(self: Task, job_id: int, index: str, size: int) -> None:
    """Page through every record ID (point in time, sorted by ID) and queue one relink chunk per page."""
    es = worker_es()
    pit = es.open_point_in_time(index=index, keep_alive="5m")["id"]
    chunk_no, after = 0, None
    try:
        while True:
            body: dict[str, Any] = {
                "size": size, "query": {"match_all": {}}, "_source": False,
                "pit": {"id": pit, "keep_alive": "5m"}, "sort": [{"id": "asc"}],
            }  # fmt: skip
            if after is not None:
                body["search_after"] = after
            resp = es.search(body=body)
            pit = resp.get("pit_id", pit)
            hits = resp["hits"]["hits"]
            if not hits:
                break
            app.send_task(RELINK_TASK, args=[job_id, index, chunk_no, [h["_id"] for h in hits]])
            chunk_no += 1
            after = hits[-1]["sort"]
    except _TRANSIENT as exc:
        _retry(self, exc)
    finally:
        es.close_point_in_time(id=pit)
    with _session().begin() as session:
        # The count at submission was an estimate (ingest may have gone on): the pages are the chunks.
        values: dict[str, Any] = {"chunks_total": chunk_no}
        if chunk_no == 0:
            values.update(state="done", message="索引中没有记录")
        session.execute(update(IngestJob).where(IngestJob.id == job_id).values(**values))


@app.task(bind=True, acks_late=True, max_retries=RETRIES, name=RELINK_TASK)  # type: ignore[untyped-decorator]
def relink_chunk(self: Task, job_id: int, index: str, chunk_no: int, ids: list[str]) -> None:
    Session = _session()
    with Session.begin() as session:
        if chunk_done(session, job_id, chunk_no):
            return
        mark_running(session, job_id)
    try:
        # Every record's outgoing links are recomputed, so together they cover every link; each
        # record's own counts are recounted too (a refresh lost to a crashed worker heals here).
        result = _link(index, ids, incoming=False, recount=True)
    except _TRANSIENT as exc:
        _retry(self, exc)
        return
    errors = [(rid, "引文链接写入多次冲突，未更新", None) for rid in result.failed]
    spec = ChunkSpec(chunk_no, chunk_no * len(ids) + 1, chunk_no * len(ids) + len(ids), None)
    with Session.begin() as session:
        record_chunk(
            session, job_id, spec, file=index, seen=result.examined, indexed=len(result.changed),
            skipped=result.examined - len(result.changed), errors=errors,
        )  # fmt: skip

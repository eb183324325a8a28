"""The Celery task of an export job. It carries the job's ID and index prefix, never records."""

from __future__ import annotations

import json
import logging
import os
import secrets
import time
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any

from celery import Task
from elasticsearch import Elasticsearch

from appdb import exports
from appdb.accounts import identity_for
from appdb.session import session_factory
from conf.clients import make_es
from conf.settings import Settings, get_settings
from ingest.celery_app import EXPORT_TASK, app
from mappings.analysis.tokenizer import get_tokenizer
from mappings.naming import IndexNames
from search.errors import BadQuery, SearchUnavailable
from search.export import FORMATS
from search.principal import principal_for
from search.service import SearchService

log = logging.getLogger(__name__)

# Progress is written at most this often (seconds), so a fast export does not spend its time on the database.
PROGRESS_EVERY = 1.0
RETRIES = 5


@lru_cache(maxsize=1)
def _es() -> Elasticsearch:
    return make_es(get_settings())


def _counted(records: Iterator[dict[str, Any]], settings: Settings, job_id: int, seen: list[int]) -> Iterator[dict[str, Any]]:
    Session = session_factory(settings.effective_database_url)
    last = time.monotonic()
    for record in records:
        seen[0] += 1
        yield record
        if time.monotonic() - last >= PROGRESS_EVERY:
            with Session.begin() as session:
                exports.progress(session, job_id, seen[0])
            last = time.monotonic()


def _remove_expired(settings: Settings) -> None:
    """Files of finished jobs past CHAXIN_EXPORT_KEEP_HOURS: each export job sweeps before it writes."""
    Session = session_factory(settings.effective_database_url)
    with Session.begin() as session:
        for job_id, path in exports.expired_files(session, settings.export_keep_hours):
            Path(path).unlink(missing_ok=True)
            exports.forget_file(session, job_id)


# Celery's decorator is untyped; the task body below is fully typed.
@app.task(bind=True, acks_late=True, max_retries=RETRIES, name=EXPORT_TASK)  # type: ignore[untyped-decorator]
def run_export(self: Task, job_id: int, index_prefix: str) -> None:
    settings = get_settings()
    Session = session_factory(settings.effective_database_url)
    _remove_expired(settings)
    with Session.begin() as session:
        job = exports.start(session, job_id)
        if job is None:
            return  # finished already: a redelivered task
        identity = identity_for(session, job.user_id)
        fmt_name, sort, limit = job.format, job.sort, job.max_records
        query = json.loads(job.query_json)
    if identity is None:
        with Session.begin() as session:
            exports.fail(session, job_id, "提交导出的账号已停用或已删除，导出未进行")
        return
    fmt = FORMATS[fmt_name]
    out_dir = settings.effective_export_dir
    out_dir.mkdir(parents=True, exist_ok=True)
    run = secrets.token_hex(8)
    final = out_dir / f"export-{job_id}-{run}.{fmt.extension}"
    # One name per run: the resume sweep may send a slow job's task again, and two runs must not
    # write into one file. The run that finishes first keeps its file and removes what dead runs left.
    partial = out_dir / f"export-{job_id}-{run}.{fmt.extension}.part"
    service = SearchService(_es(), IndexNames(index_prefix), get_tokenizer(settings.tokenizer_backend))
    seen = [0]
    try:
        # The access policy is applied as the job's user, read again now: a grant revoked since
        # submission no longer counts.
        records = service.iter_records(query, sort=sort, limit=limit, principal=principal_for(identity))
        with partial.open("wb") as fh:
            for chunk in fmt.write(_counted(records, settings, job_id, seen)):
                fh.write(chunk)
        os.replace(partial, final)
    except SearchUnavailable as exc:
        partial.unlink(missing_ok=True)
        if self.request.retries < (self.max_retries or 0):
            log.warning("export job %s: %s; retrying", job_id, exc)
            raise self.retry(exc=exc, countdown=min(60, 5 * 2**self.request.retries)) from exc
        with Session.begin() as session:
            exports.fail(session, job_id, f"{exc}；请稍后重新提交导出")
        return
    except BadQuery as exc:
        partial.unlink(missing_ok=True)
        with Session.begin() as session:
            exports.fail(session, job_id, str(exc))
        return
    except Exception as exc:
        partial.unlink(missing_ok=True)
        log.exception("export job %s failed", job_id)
        with Session.begin() as session:
            exports.fail(session, job_id, f"导出失败（{type(exc).__name__}），请重新提交")
        return
    with Session.begin() as session:
        first = exports.finish(session, job_id, written=seen[0], path=final, size=final.stat().st_size)
    if not first:
        final.unlink(missing_ok=True)
        return
    for left in out_dir.glob(f"export-{job_id}-*.part"):
        left.unlink(missing_ok=True)

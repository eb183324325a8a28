"""Exports of a whole result set, or of selected records, in every supported format.

Up to CHAXIN_EXPORT_JOB_THRESHOLD records stream while the user waits (`GET /export`); more, up to
CHAXIN_EXPORT_MAX, run as an export job (`POST /exports`): a worker writes the file (exportjobs/),
the job shows its progress and keeps the file for download for CHAXIN_EXPORT_KEEP_HOURS.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response
from fastapi.responses import FileResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from appdb import exports
from appdb.models import ExportJob
from appdb.session import session_factory
from ingest.celery_app import EXPORT_TASK, producer_for
from search.errors import BadQuery
from search.export import DEFAULT_FORMAT, FORMATS
from search.fields import FACETS_BY_NAME
from search.principal import Principal
from search.query import MAX_QUERY_CHARS
from web.api import DbId, json_response
from web.deps import FacetFilters, State, Who, owner_of
from web.identity import record_audit
from web.ratelimit import rate_limit_anonymous_export
from web.state import AppState

router = APIRouter(prefix="/api/v1")
MAX_IDS = 1_000
SITE_NAME = "查新平台"
BEIJING = timezone(timedelta(hours=8))
# Characters no file name may hold on Windows, macOS or Linux, and runs of spaces.
_UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f\x7f]+')
_SPACES = re.compile(r"\s+")
MAX_NAME_QUERY = 40


def export_filename(q: str, extension: str, day: str) -> str:
    """`查新平台-石墨烯-20261203.ris`: the site, the query (made safe, shortened) and the date."""
    words = _SPACES.sub("_", _UNSAFE.sub(" ", q).strip()).strip("._")[:MAX_NAME_QUERY]
    return "-".join(p for p in (SITE_NAME, words, day) if p) + f".{extension}"


def _today() -> str:
    return datetime.now(BEIJING).strftime("%Y%m%d")


def _disposition(q: str, extension: str) -> str:
    return _disposition_of(export_filename(q, extension, _today()), extension)


def _disposition_of(filename: str, extension: str) -> str:
    """RFC 6266: an ASCII name for old clients, the UTF-8 one (RFC 5987) for everyone else."""
    day = _today()
    return f"attachment; filename=\"chaxin-export-{day}.{extension}\"; filename*=UTF-8''{quote(filename, safe='')}"


def _in_order(records: Iterator[dict[str, Any]], wanted: list[str]) -> Iterator[dict[str, Any]]:
    """Selected records in the order they were chosen (the list's order), not the engine's."""
    rank = {rid: n for n, rid in enumerate(dict.fromkeys(wanted))}
    yield from sorted(records, key=lambda r: rank.get(str(r.get("id")), len(rank)))


def _primed(records: Iterator[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """Fetch the first page before the response starts, so an outage is a 503 rather than a cut-off file."""
    first = list(itertools.islice(records, 1))
    return itertools.chain(first, records)


def _planned(
    state: AppState, principal: Principal, query: dict[str, Any], limit: int | None
) -> tuple[int, int]:
    """(hits, records to write) for an export of `query`, or a clear refusal past the cap."""
    cap = state.settings.export_max_records
    if limit is not None and limit > cap:
        raise BadQuery(f"单次导出最多 {cap:,} 条，请把 limit 设为不超过 {cap:,} 的数")
    total = state.search.count(query, principal=principal)
    if limit is None and total > cap:
        raise BadQuery(
            f"本次检索命中 {total:,} 条，超过单次导出上限 {cap:,} 条：请增加检索条件缩小范围，"
            f"或指定 limit（不超过 {cap:,}）只导出排在前面的记录"
        )
    return total, min(total, limit or cap)


@router.get("/export", response_model=None, dependencies=[Depends(rate_limit_anonymous_export)])
def export(
    request: Request,
    state: State,
    principal: Who,
    filters: FacetFilters,
    q: Annotated[str, Query(max_length=5 * MAX_QUERY_CHARS)] = "",
    mode: Annotated[Literal["simple", "pro"], Query()] = "simple",
    format: Annotated[str, Query(description="导出格式")] = DEFAULT_FORMAT,
    sort: Annotated[Literal["relevance", "year_desc", "year_asc", "cited_desc"], Query()] = "relevance",
    ids: Annotated[list[str] | None, Query(description="只导出这些记录（可重复，或以逗号分隔）")] = None,
    limit: Annotated[
        int | None, Query(ge=1, description="最多导出多少条（不超过导出上限 CHAXIN_EXPORT_MAX，默认 100,000）")
    ] = None,
) -> StreamingResponse:
    fmt = FORMATS.get(format)
    if fmt is None:
        raise BadQuery(f"不支持的导出格式：{format}（可用：{'、'.join(FORMATS)}）")
    cap = state.settings.export_max_records
    if limit is not None and limit > cap:
        raise BadQuery(f"单次导出最多 {cap:,} 条，请把 limit 设为不超过 {cap:,} 的数")
    wanted: list[str] = []
    if ids:
        wanted = [i for part in ids for i in part.split(",") if i.strip()]
        if len(wanted) > MAX_IDS:
            raise BadQuery(f"一次最多导出 {MAX_IDS} 条选中的记录")
        query: dict[str, Any] = {"ids": {"values": wanted}}
        count = len(wanted)
    else:
        history = state.history.resolver(owner_of(principal))
        query = state.search.query_for(q, mode=mode, filters=filters, history=history)
        if not principal.authenticated:
            count = limit or state.settings.anon_export_max_records
        else:
            count = _planned(state, principal, query, limit)[1]
            threshold = state.settings.export_job_threshold
            if count > threshold:
                raise HTTPException(
                    status_code=409,
                    detail=f"本次将导出 {count:,} 条，超过 {threshold:,} 条的导出在后台生成："
                    "请提交导出任务（POST /api/v1/exports，参数相同），完成后从任务下载文件",
                )
    if not principal.authenticated:
        # A visitor's export is a sample, not the corpus: signed-in users get up to the full cap.
        count = min(count, state.settings.anon_export_max_records)
    # The policy is applied inside iter_records: 限制 records never come out, hidden fields never get written.
    records = state.search.iter_records(query, sort=sort, limit=max(count, 1), principal=principal)
    if ids:
        records = _in_order(records, wanted)  # at most MAX_IDS, so sorting in memory is fine
    records = _primed(records)
    # Logged once the export is sure to start: a 503 before the first record is no export.
    record_audit(request, "export", {"format": format, "mode": mode, "q": q[:500], "filters": filters,
                                     "ids": wanted[:100] if ids else None, "limit": count})  # fmt: skip
    return StreamingResponse(
        fmt.write(records),
        media_type=fmt.media_type,
        headers={"Content-Disposition": _disposition(q, fmt.extension)},
    )


class ExportJobRequest(BaseModel):
    """An export job: the same parameters as `GET /export` (without `ids`), as JSON."""

    model_config = ConfigDict(extra="forbid")

    q: str = Field(default="", max_length=5 * MAX_QUERY_CHARS, description="检索词或检索式")
    mode: Literal["simple", "pro"] = "simple"
    format: str = Field(default=DEFAULT_FORMAT, max_length=32, description="导出格式")
    sort: Literal["relevance", "year_desc", "year_asc", "cited_desc"] = "relevance"
    filters: dict[str, list[Annotated[str, Field(max_length=200)]]] = Field(
        default_factory=dict, description="分面筛选，如 {\"year\": [\"2020\"]}"
    )
    limit: int | None = Field(default=None, ge=1, description="最多导出多少条（不超过导出上限）")


def _signed_in(principal: Principal) -> int:
    if principal.user_id is None:
        raise HTTPException(status_code=401, detail="请先登录：导出任务只对已登录用户开放")
    return principal.user_id


def queue_export(request: Request, state: AppState, principal: Principal, body: ExportJobRequest) -> int:
    """Check, record and queue an export job (the API's and the workspace's); returns its ID."""
    user_id = _signed_in(principal)
    fmt = FORMATS.get(body.format)
    if fmt is None:
        raise BadQuery(f"不支持的导出格式：{body.format}（可用：{'、'.join(FORMATS)}）")
    unknown = [name for name in body.filters if name not in FACETS_BY_NAME]
    if unknown:
        raise BadQuery(f"未知的筛选项：{'、'.join(unknown)}（可用：{'、'.join(FACETS_BY_NAME)}）")
    history = state.history.resolver(owner_of(principal))
    query = state.search.query_for(body.q, mode=body.mode, filters=body.filters, history=history)
    total, count = _planned(state, principal, query, body.limit)
    if count == 0:
        raise BadQuery("本次检索没有可导出的记录")
    req = exports.ExportRequest(
        user_id=user_id, format=fmt.name, q=body.q, mode=body.mode, sort=body.sort, query=query,
        max_records=count, total=count, file_name=export_filename(body.q, fmt.extension, _today()),
    )  # fmt: skip
    with session_factory(state.settings.effective_database_url).begin() as session:
        job_id = exports.create_export_job(session, req).id
    # Queued after the commit, so the worker always finds the job. It carries the ID, never records.
    producer_for(state.settings).send_task(EXPORT_TASK, args=[job_id, state.settings.index_prefix])
    record_audit(request, "export_job", {"job": job_id, "format": fmt.name, "mode": body.mode,
                                         "q": body.q[:500], "filters": body.filters, "records": count,
                                         "hits": total})  # fmt: skip
    return job_id


def job_view(state: AppState, principal: Principal, job_id: int) -> dict[str, Any]:
    """An export job as its user sees it (404 for anyone else), with `download` once the file is ready."""
    with session_factory(state.settings.effective_database_url)() as session:
        job = _job(principal, job_id, session)
        return _view(exports.export_status(job, state.settings.export_keep_hours))


@router.post("/exports", response_model=None, status_code=202)
def submit_export(request: Request, state: State, principal: Who, body: ExportJobRequest) -> Response:
    """Queue an export of a whole result set; answers 202 with the job (follow `GET /exports/{id}`)."""
    job_id = queue_export(request, state, principal, body)
    return json_response(job_view(state, principal, job_id), status_code=202)


def _job(principal: Principal, job_id: int, session: Session) -> ExportJob:
    job = exports.visible_job(session, job_id, user_id=principal.user_id, platform_admin=principal.platform_admin)
    if job is None:
        raise HTTPException(status_code=404, detail=f"没有编号为 {job_id} 的导出任务")
    return job


def _view(status: exports.ExportStatus) -> dict[str, Any]:
    body = status.as_dict()
    body["download"] = f"/api/v1/exports/{status.id}/file" if status.state == "done" else None
    return body


@router.get("/exports", response_model=None)
def export_jobs(state: State, principal: Who) -> Response:
    """The caller's export jobs, newest first (the last 50)."""
    user_id = _signed_in(principal)
    with session_factory(state.settings.effective_database_url)() as session:
        jobs = exports.user_jobs(session, user_id)
        keep = state.settings.export_keep_hours
        return json_response({"jobs": [_view(exports.export_status(j, keep)) for j in jobs]})


@router.get("/exports/{job_id}", response_model=None)
def export_job(state: State, principal: Who, job_id: DbId) -> Response:
    """State and progress (`written` of `total`) of an export job; `download` once the file is ready."""
    _signed_in(principal)
    return json_response(job_view(state, principal, job_id))


@router.get("/exports/{job_id}/file", response_model=None)
def export_file(state: State, principal: Who, job_id: DbId) -> Response:
    """The finished file of an export job, for the user who submitted it."""
    _signed_in(principal)
    with session_factory(state.settings.effective_database_url)() as session:
        job = _job(principal, job_id, session)
        job_state, path, fmt_name, file_name = job.state, job.path, job.format, job.file_name
        written, total = job.written, job.total
    if job_state == "expired" or (job_state == "done" and (not path or not Path(path).is_file())):
        raise HTTPException(
            status_code=410,
            detail=f"导出文件已超过保存期限（{state.settings.export_keep_hours} 小时）被删除，请重新提交导出",
        )
    if job_state == "failed":
        raise HTTPException(status_code=409, detail="该导出任务失败，没有文件：请查看任务说明后重新提交")
    if job_state != "done" or path is None:
        raise HTTPException(status_code=409, detail=f"导出尚未完成（已写出 {written:,} / {total:,} 条），请稍后再下载")
    fmt = FORMATS[fmt_name]
    return FileResponse(path, media_type=fmt.media_type,
                        headers={"Content-Disposition": _disposition_of(file_name, fmt.extension)})  # fmt: skip

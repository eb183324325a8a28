"""Ingest over HTTP: upload a file as a job, then follow its status and quarantined records."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, HTTPException, Query, Response, UploadFile
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from appdb.jobs import Submitter, job_errors, job_status, may_see_job
from appdb.models import IngestJob
from ingest.formats import FORMATS
from ingest.submit import ServiceUnavailable, SubmitError, submit
from search.policy import Visibility, visibility
from search.principal import Principal, Role
from web.api import DbId, json_response
from web.deps import Db, State, Who


def require_staff(principal: Who) -> Principal:
    """Imports change what everyone searches, and job errors quote raw source text: staff only."""
    if not principal.authenticated:
        raise HTTPException(status_code=401, detail="请先登录")
    if not principal.staff:
        raise HTTPException(status_code=403, detail="只有查新员、审核员和管理员可以导入数据或查看导入任务")
    return principal


router = APIRouter(prefix="/api/v1/ingest", dependencies=[Depends(require_staff)])

Staff = Annotated[Principal, Depends(require_staff)]


def _visible_job(session: Session, principal: Principal, job_id: int) -> None:
    """A job another person submitted is as absent as one that does not exist (no probing by number)."""
    job = session.get(IngestJob, job_id)
    if job is None or not may_see_job(
        job, user_id=principal.user_id, centre=principal.centre,
        centre_admin=principal.has(Role.centre_admin), platform_admin=principal.platform_admin,
    ):  # fmt: skip
        raise HTTPException(status_code=404, detail=f"没有编号为 {job_id} 的导入任务")


@router.get("/jobs/{job_id}", response_model=None)
def job(db: Db, principal: Staff, job_id: DbId) -> Response:
    """State, counts (seen, indexed, merged, skipped, failed) and throughput, live while the job runs."""
    _visible_job(db, principal, job_id)
    status = job_status(db, job_id)
    if status is None:
        raise HTTPException(status_code=404, detail=f"没有编号为 {job_id} 的导入任务")
    return json_response(status.as_dict())


def _sees_restricted(principal: Principal) -> Callable[[str], bool]:
    # An error about a 限制 report is shown to whoever may see that report: admins and its grantees.
    return lambda rid: (
        visibility(principal, {"id": rid, "tech_report": {"access_level": "restricted"}}) > Visibility.NONE
    )


@router.get("/jobs/{job_id}/errors", response_model=None)
def errors(
    db: Db, principal: Staff, job_id: DbId, limit: Annotated[int, Query(ge=1, le=10_000)] = 1000
) -> Response:
    """The job's quarantined records: file, position, reason and the raw snippet."""
    _visible_job(db, principal, job_id)
    found = job_errors(db, job_id, limit=limit, sees_record=_sees_restricted(principal))
    return json_response({"job_id": job_id, "errors": found})


_UPLOAD_BLOCK = 1024 * 1024


@router.post("", response_model=None, status_code=202)
async def upload(
    state: State,
    file: Annotated[UploadFile, File(description="源文件")],
    format: Annotated[str, Form(description="源格式，如 jats、ris、csl")],
    principal: Staff,
    lower_access: Annotated[
        bool, Form(description="允许本次导入降低已有科技报告的访问级别（仅平台管理员；记入审计日志）")
    ] = False,
) -> Response:
    """Queue an uploaded file for ingest; answers with the job ID to follow.

    The job carries who submitted it: the worker lets it update an existing tech report only for a
    platform admin or the report's own centre, and lower an access level only with `lower_access`.
    """
    if format not in FORMATS:
        raise HTTPException(status_code=400, detail=f"不支持的格式：{format}（可用：{'、'.join(FORMATS)}）")
    if lower_access and not principal.platform_admin:
        raise HTTPException(status_code=403, detail="只有平台管理员可以允许导入降低访问级别")
    submitter = Submitter(
        user_id=principal.user_id, centre=principal.centre,
        platform_admin=principal.platform_admin, lower_access=lower_access,
    )  # fmt: skip
    settings = state.settings
    spool = settings.effective_raw_store_dir / "uploads"
    spool.mkdir(parents=True, exist_ok=True)
    name = Path(file.filename or "upload").name or "upload"
    fd, tmp_name = tempfile.mkstemp(dir=spool, prefix=".upload-")
    tmp = Path(tmp_name)
    size = 0
    try:
        with os.fdopen(fd, "wb") as out:
            while block := await file.read(_UPLOAD_BLOCK):
                size += len(block)
                if size > settings.upload_max_bytes:
                    raise HTTPException(
                        status_code=413, detail=f"文件超过上传上限（{settings.upload_max_bytes} 字节）"
                    )
                out.write(block)
        if size == 0:
            raise HTTPException(status_code=400, detail=f"上传的文件为空：{name}")
        try:
            job_id, chunks = await run_in_threadpool(
                submit, settings, format, tmp, name=name, move=True, submitter=submitter
            )
        except ServiceUnavailable as exc:
            raise HTTPException(status_code=503, detail=str(exc)) from None
        except SubmitError as exc:
            raise HTTPException(status_code=400, detail=str(exc)) from None
    finally:
        tmp.unlink(missing_ok=True)
    body = {
        "job_id": job_id,
        "chunks": chunks,
        "file": name,
        "bytes": size,
        "status": f"/api/v1/ingest/jobs/{job_id}",
    }
    return json_response(body, status_code=202)

"""Ingest job status and quarantined records, read from the application database."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Response

from appdb.jobs import job_errors, job_status
from appdb.session import session_factory
from web.api import json_response
from web.state import AppState, app_state

router = APIRouter(prefix="/api/v1/ingest")
State = Annotated[AppState, Depends(app_state)]


@router.get("/jobs/{job_id}", response_model=None)
def job(state: State, job_id: int) -> Response:
    """State, counts (seen, indexed, skipped, failed) and throughput, live while the job runs."""
    with session_factory(state.settings.effective_database_url)() as session:
        status = job_status(session, job_id)
    if status is None:
        raise HTTPException(status_code=404, detail=f"没有编号为 {job_id} 的导入任务")
    return json_response(status.as_dict())


@router.get("/jobs/{job_id}/errors", response_model=None)
def errors(state: State, job_id: int, limit: Annotated[int, Query(ge=1, le=10_000)] = 1000) -> Response:
    """The job's quarantined records: file, position, reason and the raw snippet."""
    with session_factory(state.settings.effective_database_url)() as session:
        if job_status(session, job_id) is None:
            raise HTTPException(status_code=404, detail=f"没有编号为 {job_id} 的导入任务")
        return json_response({"job_id": job_id, "errors": job_errors(session, job_id, limit=limit)})

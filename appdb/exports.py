"""Reading and writing export-job state. Shared by the API and the worker (exportjobs/)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from appdb.models import ExportJob

# A job in one of these states is never run again (expired: done, and its file deleted).
FINISHED = ("done", "failed", "expired")


@dataclass(frozen=True)
class ExportRequest:
    """What an export job writes: everything the worker needs, and no record."""

    user_id: int
    format: str
    q: str
    mode: str
    sort: str
    query: dict[str, Any]  # compiled, before the access policy
    max_records: int
    total: int
    file_name: str


@dataclass
class ExportStatus:
    id: int
    state: str
    format: str
    q: str
    total: int
    written: int
    progress: float  # 0-1
    bytes: int | None
    file_name: str
    message: str | None
    created_at: str | None
    started_at: str | None
    finished_at: str | None
    expires_at: str | None  # when the finished file is deleted

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def create_export_job(session: Session, req: ExportRequest) -> ExportJob:
    job = ExportJob(
        user_id=req.user_id, state="queued", format=req.format, q=req.q, mode=req.mode, sort=req.sort,
        query_json=json.dumps(req.query, ensure_ascii=False), max_records=req.max_records, total=req.total,
        written=0, file_name=req.file_name,
    )  # fmt: skip
    session.add(job)
    session.flush()
    return job


def _iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()


def export_status(job: ExportJob, keep_hours: int) -> ExportStatus:
    expires = job.finished_at + timedelta(hours=keep_hours) if job.finished_at and job.state == "done" else None
    progress = 1.0 if job.state == "done" else (min(1.0, job.written / job.total) if job.total else 0.0)
    return ExportStatus(
        id=job.id, state=job.state, format=job.format, q=job.q, total=job.total, written=job.written,
        progress=round(progress, 4), bytes=job.bytes, file_name=job.file_name, message=job.message,
        created_at=_iso(job.created_at), started_at=_iso(job.started_at), finished_at=_iso(job.finished_at),
        expires_at=_iso(expires),
    )  # fmt: skip


def visible_job(session: Session, job_id: int, *, user_id: int | None, platform_admin: bool) -> ExportJob | None:
    """The job, for its own user and platform admins; None for anyone else (as if it did not exist)."""
    job = session.get(ExportJob, job_id)
    if job is None or user_id is None:
        return None
    return job if platform_admin or job.user_id == user_id else None


def user_jobs(session: Session, user_id: int, limit: int = 50) -> list[ExportJob]:
    return list(
        session.scalars(
            select(ExportJob).where(ExportJob.user_id == user_id).order_by(ExportJob.id.desc()).limit(limit)
        )
    )


def start(session: Session, job_id: int) -> ExportJob | None:
    """Mark the job running (again, when a worker died mid-file) and return it; None if it is finished or gone."""
    job = session.get(ExportJob, job_id)
    if job is None or job.state in FINISHED:
        return None
    job.state = "running"
    job.started_at = datetime.now(UTC)
    job.written = 0
    return job


def progress(session: Session, job_id: int, written: int) -> None:
    session.execute(update(ExportJob).where(ExportJob.id == job_id).values(written=written))


def finish(session: Session, job_id: int, *, written: int, path: Path, size: int) -> bool:
    """Record the finished file; False when another run of the same job finished first (a task sent
    again by the resume sweep while the first was only slow), whose file then stands."""
    done = session.execute(
        update(ExportJob).where(ExportJob.id == job_id, ExportJob.state.not_in(FINISHED)).values(
            state="done", written=written, path=str(path), bytes=size, finished_at=datetime.now(UTC)
        )
    )  # fmt: skip
    return bool(getattr(done, "rowcount", 0))


def stalled(session: Session, idle_seconds: float) -> list[int]:
    """Unfinished jobs neither submitted nor started in the last `idle_seconds`: their task may be lost."""
    cutoff = datetime.now(UTC).timestamp() - idle_seconds
    rows = session.execute(
        select(ExportJob.id, ExportJob.created_at, ExportJob.started_at).where(ExportJob.state.in_(("queued", "running")))
    ).all()
    return [
        job_id for job_id, created, started in rows
        if max(_aware(m).timestamp() for m in (created, started) if m is not None) < cutoff
    ]  # fmt: skip


def fail(session: Session, job_id: int, message: str) -> None:
    """Mark the job failed, unless another run of it finished first."""
    session.execute(
        update(ExportJob).where(ExportJob.id == job_id, ExportJob.state.not_in(FINISHED)).values(
            state="failed", message=message[:1000], finished_at=datetime.now(UTC)
        )
    )  # fmt: skip


def expired_files(session: Session, keep_hours: int) -> list[tuple[int, str]]:
    """Finished jobs whose file is past its keeping time: (job id, path)."""
    cutoff = datetime.now(UTC) - timedelta(hours=keep_hours)
    rows = session.execute(
        select(ExportJob.id, ExportJob.path, ExportJob.finished_at).where(
            ExportJob.state == "done", ExportJob.path.is_not(None)
        )
    ).all()
    return [(jid, path) for jid, path, done in rows if done and _aware(done) < cutoff and path]


def forget_file(session: Session, job_id: int) -> None:
    session.execute(
        update(ExportJob).where(ExportJob.id == job_id).values(state="expired", path=None)
    )


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)  # SQLite gives naive UTC back

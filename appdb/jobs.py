"""Reading and writing ingest-job state. Shared by the CLI, the API and the worker."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from appdb.models import IngestChunk, IngestError, IngestJob


@dataclass(frozen=True)
class ChunkSpec:
    chunk_no: int
    start_line: int  # 1-based, inclusive
    end_line: int  # inclusive
    start_offset: int | None  # byte offset of start_line, when the file can be seeked


# (position, reason, raw snippet) or, when a chunk spans several files, (position, reason, snippet, file).
ChunkError = tuple[str, str, str | None] | tuple[str, str, str | None, str]


@dataclass
class JobStatus:
    id: int
    format: str
    path: str
    state: str
    chunks_total: int
    chunks_done: int
    seen: int
    indexed: int
    skipped: int  # already in the index as is: a repeated or late write
    merged: int  # of the indexed, records another source had already supplied
    failed: int
    message: str | None
    created_at: str | None
    started_at: str | None
    finished_at: str | None
    records_per_second: float | None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def create_job(session: Session, fmt: str, path: str, chunks_total: int) -> IngestJob:
    job = IngestJob(
        format=fmt, path=path, state="queued" if chunks_total else "done", chunks_total=chunks_total
    )
    if not chunks_total:
        job.finished_at = datetime.now(UTC)
        job.message = "文件为空"
    session.add(job)
    session.flush()
    return job


def mark_running(session: Session, job_id: int) -> None:
    session.execute(
        update(IngestJob)
        .where(IngestJob.id == job_id, IngestJob.state == "queued")
        .values(state="running", started_at=datetime.now(UTC))
    )


def chunk_done(session: Session, job_id: int, chunk_no: int) -> bool:
    found = session.scalar(
        select(IngestChunk.id).where(IngestChunk.job_id == job_id, IngestChunk.chunk_no == chunk_no)
    )
    return found is not None


def record_chunk(
    session: Session,
    job_id: int,
    spec: ChunkSpec,
    *,
    file: str,
    seen: int,
    indexed: int,
    skipped: int,
    merged: int = 0,
    errors: Sequence[ChunkError],
) -> bool:
    """Store one finished chunk with its errors, exactly once. Returns False if it was already stored."""
    session.execute(
        delete(IngestError).where(IngestError.job_id == job_id, IngestError.chunk_no == spec.chunk_no)
    )
    for error in errors:
        position, reason, snippet = error[0], error[1], error[2]
        error_file = error[3] if len(error) == 4 else file
        session.add(
            IngestError(
                job_id=job_id, chunk_no=spec.chunk_no, file=error_file, position=position, reason=reason,
                snippet=(snippet[:2000] if snippet else None),
            )
        )  # fmt: skip
    session.add(
        IngestChunk(
            job_id=job_id, chunk_no=spec.chunk_no, start_line=spec.start_line, end_line=spec.end_line,
            seen=seen, indexed=indexed, skipped=skipped, merged=merged, failed=len(errors),
        )
    )  # fmt: skip
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        return False
    done = (
        session.scalar(select(func.count()).select_from(IngestChunk).where(IngestChunk.job_id == job_id)) or 0
    )
    job = session.get(IngestJob, job_id)
    if job is not None and done >= job.chunks_total and job.state != "done":
        job.state = "done"
        job.finished_at = datetime.now(UTC)
    return True


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def job_status(session: Session, job_id: int) -> JobStatus | None:
    job = session.get(IngestJob, job_id)
    if job is None:
        return None
    row = session.execute(
        select(
            func.count(IngestChunk.id),
            func.coalesce(func.sum(IngestChunk.seen), 0),
            func.coalesce(func.sum(IngestChunk.indexed), 0),
            func.coalesce(func.sum(IngestChunk.skipped), 0),
            func.coalesce(func.sum(IngestChunk.merged), 0),
            func.coalesce(func.sum(IngestChunk.failed), 0),
            func.max(IngestChunk.finished_at),
        ).where(IngestChunk.job_id == job_id)
    ).one()
    done, seen, indexed, skipped, merged, failed = (int(v) for v in row[:6])
    state, finished_at = job.state, job.finished_at
    if done >= job.chunks_total and state in ("queued", "running"):
        # The last two chunks can finish in parallel transactions, each counting the other's row as
        # not there yet, so neither marks the job done: the chunk rows are what says it is.
        state, finished_at = "done", row[6]
    rate = None
    if job.started_at and seen:
        start = job.started_at if job.started_at.tzinfo else job.started_at.replace(tzinfo=UTC)
        end = finished_at or datetime.now(UTC)
        end = end if end.tzinfo else end.replace(tzinfo=UTC)
        elapsed = (end - start).total_seconds()
        rate = round(seen / elapsed, 1) if elapsed > 0 else None
    return JobStatus(
        id=job.id, format=job.format, path=job.path, state=state, chunks_total=job.chunks_total,
        chunks_done=done, seen=seen, indexed=indexed, skipped=skipped, merged=merged, failed=failed,
        message=job.message,
        created_at=_iso(job.created_at), started_at=_iso(job.started_at), finished_at=_iso(finished_at),
        records_per_second=rate,
    )  # fmt: skip


def job_errors(session: Session, job_id: int, limit: int = 1000) -> list[dict[str, Any]]:
    rows = session.scalars(
        select(IngestError)
        .where(IngestError.job_id == job_id)
        .order_by(IngestError.chunk_no, IngestError.id)
        .limit(limit)
    )
    return [{"file": e.file, "position": e.position, "reason": e.reason, "snippet": e.snippet} for e in rows]

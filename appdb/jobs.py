"""Reading and writing ingest-job state. Shared by the CLI, the API and the worker."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from appdb.models import IngestChunk, IngestChunkTask, IngestError, IngestJob, TechReportOwner


@dataclass(frozen=True)
class Submitter:
    """Who queued a job, as the worker checks its writes against it.

    `user_id` None is an operator at the command line of the server, who may update any record but,
    like everyone, lowers an access level only with `lower_access` (an audited admin decision).
    """

    user_id: int | None = None
    centre: str | None = None
    platform_admin: bool = False
    lower_access: bool = False

    @property
    def operator(self) -> bool:
        return self.user_id is None


OPERATOR = Submitter()


@dataclass(frozen=True)
class ChunkSpec:
    chunk_no: int
    start_line: int  # 1-based, inclusive
    end_line: int  # inclusive
    start_offset: int | None  # byte offset of start_line, when the file can be seeked


# (position, reason, raw snippet) or, when a chunk spans several files, (position, reason, snippet, file),
# and for an error about a 限制 report also its record ID (position, reason, snippet, file, record ID).
ChunkError = (
    tuple[str, str, str | None] | tuple[str, str, str | None, str] | tuple[str, str, str | None, str, str]
)


@dataclass(frozen=True)
class ChunkTask:
    """One chunk's task as queued: sent again unchanged when it was lost (`resume`)."""

    chunk_no: int
    args: list[Any]
    kwargs: dict[str, Any]
    priority: int


def store_chunk_tasks(session: Session, job_id: int, tasks: Sequence[ChunkTask]) -> None:
    for t in tasks:
        session.add(
            IngestChunkTask(job_id=job_id, chunk_no=t.chunk_no, priority=t.priority,
                            args=json.dumps(t.args, ensure_ascii=False),
                            kwargs=json.dumps(t.kwargs, ensure_ascii=False))
        )  # fmt: skip


def unrecorded_chunk_tasks(session: Session, job_id: int) -> list[ChunkTask] | None:
    """The tasks of the job's chunks that have no result row; None for a job queued before tasks were kept."""
    rows = session.scalars(
        select(IngestChunkTask).where(IngestChunkTask.job_id == job_id).order_by(IngestChunkTask.chunk_no)
    ).all()
    if not rows:
        return None
    recorded = set(session.scalars(select(IngestChunk.chunk_no).where(IngestChunk.job_id == job_id)))
    return [
        ChunkTask(r.chunk_no, json.loads(r.args), json.loads(r.kwargs), r.priority)
        for r in rows
        if r.chunk_no not in recorded
    ]


def note_resumed(session: Session, job_id: int, chunks: int) -> None:
    job = session.get(IngestJob, job_id)
    if job is not None:
        job.resumed_at = datetime.now(UTC)
        job.resumed_chunks = (job.resumed_chunks or 0) + chunks


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)  # SQLite gives naive UTC back


def stalled_jobs(session: Session, broker: str, idle_seconds: float) -> list[int]:
    """Unfinished jobs queued on `broker` with nothing recorded (nor resumed) for `idle_seconds`."""
    jobs = session.scalars(
        select(IngestJob).where(IngestJob.state.in_(("queued", "running")), IngestJob.broker == broker)
    ).all()
    cutoff = datetime.now(UTC).timestamp() - idle_seconds
    stalled = []
    for job in jobs:
        done, last = session.execute(
            select(func.count(IngestChunk.id), func.max(IngestChunk.finished_at)).where(IngestChunk.job_id == job.id)
        ).one()
        if done >= job.chunks_total:
            continue
        moments = [m for m in (last, job.started_at, job.created_at, job.resumed_at) if m is not None]
        if moments and max(_aware(m) for m in moments).timestamp() < cutoff:
            stalled.append(job.id)
    return stalled


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
    # Chunks sent again because their tasks were lost (`chaxin ingest resume`), and when last.
    resumed_chunks: int = 0
    resumed_at: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def create_job(
    session: Session, fmt: str, path: str, chunks_total: int, submitter: Submitter = OPERATOR,
    *, broker: str | None = None,
) -> IngestJob:  # fmt: skip
    job = IngestJob(
        format=fmt, path=path, state="queued" if chunks_total else "done", chunks_total=chunks_total,
        submitted_by=submitter.user_id, submitter_centre=submitter.centre,
        submitter_admin=submitter.platform_admin, lower_access=submitter.lower_access, broker=broker,
    )  # fmt: skip
    if not chunks_total:
        job.finished_at = datetime.now(UTC)
        job.message = "文件为空"
    session.add(job)
    session.flush()
    return job


def job_submitter(session: Session, job_id: int) -> Submitter:
    job = session.get(IngestJob, job_id)
    if job is None:
        return OPERATOR
    return Submitter(
        user_id=job.submitted_by, centre=job.submitter_centre,
        platform_admin=bool(job.submitter_admin), lower_access=bool(job.lower_access),
    )  # fmt: skip


def may_see_job(job: IngestJob, *, user_id: int | None, centre: str | None, centre_admin: bool,
                platform_admin: bool) -> bool:  # fmt: skip
    """The submitter, the submitter's centre admin and platform admins; command-line jobs: admins only."""
    if platform_admin:
        return True
    if job.submitted_by is None or user_id is None:
        return False
    if job.submitted_by == user_id:
        return True
    return centre_admin and centre is not None and job.submitter_centre == centre


def report_owners(session: Session, record_ids: Sequence[str]) -> dict[str, str]:
    if not record_ids:
        return {}
    rows = session.execute(
        select(TechReportOwner.record_id, TechReportOwner.centre).where(
            TechReportOwner.record_id.in_(record_ids)
        )
    )
    return dict(rows.tuples().all())


def claim_reports(session: Session, record_ids: Sequence[str], centre: str, job_id: int) -> None:
    """The centre whose upload created these tech reports owns them (first writer wins)."""
    taken = report_owners(session, record_ids)
    for rid in dict.fromkeys(record_ids):
        if rid not in taken:
            session.add(TechReportOwner(record_id=rid, centre=centre, job_id=job_id))


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
        error_file = error[3] if len(error) >= 4 else file
        record_id = error[4] if len(error) == 5 else None
        session.add(
            IngestError(
                job_id=job_id, chunk_no=spec.chunk_no, file=error_file, position=position, reason=reason,
                snippet=(snippet[:2000] if snippet else None), record_id=record_id,
                restricted=record_id is not None,
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
        records_per_second=rate, resumed_chunks=job.resumed_chunks or 0, resumed_at=_iso(job.resumed_at),
    )  # fmt: skip


# What stands in for an error about a 限制 report, for a reader who may not see that report.
HIDDEN_ERROR = "该记录涉及限制级科技报告，详情仅对有权查看该报告的人员显示"


def job_errors(
    session: Session, job_id: int, limit: int = 1000, *, sees_record: Callable[[str], bool] | None = None
) -> list[dict[str, Any]]:
    """The job's errors; those about a 限制 report only in full where `sees_record(record_id)` (None: all)."""
    rows = session.scalars(
        select(IngestError)
        .where(IngestError.job_id == job_id)
        .order_by(IngestError.chunk_no, IngestError.id)
        .limit(limit)
    )
    out = []
    for e in rows:
        if e.restricted and sees_record is not None and not sees_record(e.record_id or ""):
            out.append({"file": e.file, "position": e.position, "reason": HIDDEN_ERROR, "snippet": None})
        else:
            out.append({"file": e.file, "position": e.position, "reason": e.reason, "snippet": e.snippet})
    return out

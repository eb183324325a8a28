"""One chunk of an ingest job, start to end: parse, write to the index, record the outcome.

A plain function, so that tests run a chunk without a worker; `ingest.tasks` is the Celery task that
unpacks its arguments, calls `run_chunk`, and turns its answers into Celery's retries and re-queues.
"""

from __future__ import annotations

import enum
import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import redis
from elasticsearch import Elasticsearch

from appdb.jobs import (
    ChunkError,
    ChunkSpec,
    chunk_done,
    claim_reports,
    job_submitter,
    mark_running,
    record_chunk,
    report_owners,
)
from appdb.session import session_factory
from conf.settings import Settings
from ingest.celery_app import LINK_TASK, app
from ingest.chunks import MAX_LINE_BYTES, read_chunk
from ingest.errors import RecordError
from ingest.formats import LINE_FORMATS, parse_file
from ingest.guard import guard_for
from ingest.write_lease import RebuildRunning, rebuild_lock_key, write_lease
from ingest.writer import is_retryable, write_records
from mappings.analysis.tokenizer import get_tokenizer
from mappings.model import Record, SourceRef
from mappings.naming import IndexNames

log = logging.getLogger(__name__)

# A parsed chunk waits this long for a running rebuild before it goes back to the queue. Not longer:
# a task holding its worker past the broker's visibility timeout would be handed out a second time.
LEASE_WAIT = 30


@dataclass(frozen=True)
class ChunkWork:
    """What a queued chunk task carries: a job ID, a file path and a line range, never documents.

    `files` is a batch of whole files ([raw path, name as submitted, SHA-256] each); without it
    `path`, `origin` and `sha256` name the one file."""

    job_id: int
    fmt: str
    path: str
    index_prefix: str
    chunk: dict[str, Any]
    origin: str | None = None
    sha256: str | None = None
    version: int | None = None
    files: list[list[str]] | None = None


class Outcome(enum.Enum):
    DONE = "done"  # recorded (or found recorded already)
    REQUEUE = "requeue"  # a rebuild is copying the index, or the write lease lapsed: queue the chunk again


class RetryLater(Exception):
    """Elasticsearch is unavailable and the caller may retry: nothing of this chunk is recorded yet."""

    def __init__(self, cause: BaseException) -> None:
        super().__init__(str(cause))
        self.cause = cause


def _version_now() -> int:
    # Microseconds since the epoch: later ingests of the same record always carry a higher version.
    return time.time_ns() // 1000


Parsed = tuple[list[tuple[str, Record]], list[tuple[str, str, str | None]], int]


def _parse_lines(fmt: str, path: Path, spec: ChunkSpec, *, now: datetime, version: int) -> Parsed:
    parse = LINE_FORMATS[fmt]
    records: list[tuple[str, Record]] = []
    errors: list[tuple[str, str, str | None]] = []
    seen = 0
    for line_no, raw in read_chunk(path, spec):
        if raw is None:
            seen += 1
            errors.append(
                (f"第 {line_no} 行", f"行过长（超过 {MAX_LINE_BYTES // 1024 // 1024} MB），已跳过", None)
            )
            continue
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            seen += 1
            errors.append(
                (
                    f"第 {line_no} 行",
                    f"不是 UTF-8 编码（字节 {exc.start}）",
                    raw[:500].decode("utf-8", "replace"),
                )
            )
            continue
        if not text.strip():
            continue
        seen += 1
        try:
            records.append((f"第 {line_no} 行", parse(text, now=now, version=version)))
        except RecordError as exc:
            errors.append((f"第 {line_no} 行", str(exc), text.rstrip("\r\n")[:500]))
    return records, errors, seen


def _parse_file(fmt: str, path: Path, *, now: datetime, version: int, origin: str | None) -> Parsed:
    records: list[tuple[str, Record]] = []
    errors: list[tuple[str, str, str | None]] = []
    seen = 0
    try:
        # An upload has no folder of its own; a file given on the command line does.
        origin_dir = Path(origin).parent if origin and Path(origin).is_absolute() else None
        for item in parse_file(fmt, path, now=now, version=version, origin_dir=origin_dir):
            seen += 1
            if isinstance(item, RecordError):
                errors.append((f"第 {seen} 项", str(item), None))
            else:
                records.append((f"第 {seen} 项", item))
    except Exception as exc:
        log.exception("parser %s failed on %s", fmt, path)
        errors.append(("文件", f"无法解析（{type(exc).__name__}: {exc}）"[:1000], None))
        seen = max(seen, 1)
    return records, errors, seen


def _with_source(record: Record, sha256: str | None, file: str, position: str) -> Record:
    # A parser that knows more of its source (the database's own ID, WoS editions) sets its one
    # SourceRef; the pipeline only adds where the record was read from.
    if record.sources:
        ref = record.sources[0].model_copy(update={"raw_sha256": sha256, "file": file, "position": position})
    else:
        ref = SourceRef(
            source=record.source, source_id=record.source_id, version=record.version,
            raw_sha256=sha256, file=file, position=position,
        )  # fmt: skip
    return record.model_copy(update={"sources": [ref]})


def _test_hold(folder: Path, chunk_no: int) -> None:
    """Tests only (CHAXIN_INGEST_TEST_HOLD): a parsed chunk waits, before it writes, while the file
    hold-<chunk no> exists in `folder`, and says so with held-<chunk no>."""
    hold = folder / f"hold-{chunk_no}"
    if not hold.exists():
        return
    (folder / f"held-{chunk_no}").touch()
    while hold.exists():
        time.sleep(0.1)


def run_chunk(
    work: ChunkWork, settings: Settings, es: Elasticsearch, broker: redis.Redis, *, may_retry: bool = False
) -> Outcome:
    """Parse the chunk, write its records and record the outcome with the job.

    An Elasticsearch outage raises `RetryLater` while `may_retry`; after that (or for any other
    failure) the chunk's records are quarantined as errors so that the job still ends."""
    spec = ChunkSpec(**work.chunk)
    names = IndexNames(work.index_prefix)
    if broker.exists(rebuild_lock_key(names)):
        # A full rebuild is copying the index: wait for it before doing any work.
        return Outcome.REQUEUE
    Session = session_factory(settings.effective_database_url)
    with Session.begin() as session:
        if chunk_done(session, work.job_id, spec.chunk_no):
            return Outcome.DONE
        mark_running(session, work.job_id)
        submitter = job_submitter(session, work.job_id)

    now = datetime.now(UTC)
    version = work.version or _version_now()  # tasks queued before jobs carried a version
    shown = work.origin or Path(work.path).name
    if work.fmt in LINE_FORMATS:
        parsed, line_errors, seen = _parse_lines(work.fmt, Path(work.path), spec, now=now, version=version)
        records = [(pos, _with_source(r, work.sha256, shown, pos)) for pos, r in parsed]
        errors: list[ChunkError] = [(pos, reason, snippet, shown) for pos, reason, snippet in line_errors]
    else:
        records, errors, seen = [], [], 0
        for file_path, file_origin, file_sha in work.files or [[work.path, shown, work.sha256 or ""]]:
            parsed, file_errors, file_seen = _parse_file(
                work.fmt, Path(file_path), now=now, version=version, origin=file_origin
            )
            records += [(pos, _with_source(r, file_sha or None, file_origin, pos)) for pos, r in parsed]
            errors += [(pos, reason, snippet, file_origin) for pos, reason, snippet in file_errors]
            seen += file_seen
    tokenizer = get_tokenizer(settings.tokenizer_backend)
    with Session() as session:
        owners = report_owners(session, [r.id for _, r in records if r.tech_report is not None])
    if settings.ingest_test_hold_dir:
        _test_hold(settings.ingest_test_hold_dir, spec.chunk_no)
    try:
        # The lease keeps a rebuild from copying while this chunk writes (ingest/write_lease.py).
        with write_lease(broker, names, wait=LEASE_WAIT) as lease:
            result = write_records(
                es, names.write_alias, records, tokenizer,
                max_docs=settings.bulk_max_docs, max_bytes=settings.bulk_max_bytes,
                guard=guard_for(submitter, owners),
            )  # fmt: skip
        if not lease.valid:
            # The lease lapsed mid-write, so a rebuild may have copied without these writes: write again.
            log.error(
                "job %s chunk %s: write lease lapsed; writing the chunk again", work.job_id, spec.chunk_no
            )
            return Outcome.REQUEUE
    except RebuildRunning:
        log.info("job %s chunk %s waits for the rebuild of %s", work.job_id, spec.chunk_no, names.read_alias)
        return Outcome.REQUEUE
    except Exception as exc:
        if may_retry and is_retryable(exc):
            raise RetryLater(exc) from exc
        # Out of retries, or a bug: the chunk's records are quarantined so the job still ends.
        log.exception("job %s chunk %s failed", work.job_id, spec.chunk_no)
        reason = f"写入索引失败：{type(exc).__name__}: {exc}"[:1000]
        errors.extend((pos, reason, None, r.sources[0].file or shown) for pos, r in records)
        with Session.begin() as session:
            record_chunk(
                session, work.job_id, spec, file=shown, seen=seen, indexed=0, skipped=0, errors=errors
            )
        return Outcome.DONE
    if settings.citation_linking and result.to_link:
        # Before the chunk is recorded: a task that dies in between runs again and queues it again.
        app.send_task(LINK_TASK, args=[names.write_alias, result.to_link])
    files_of = {pos: r.sources[0].file or shown for pos, r in records}
    for pos, reason in result.failed:
        rid = result.restricted.get(pos)
        file = files_of.get(pos, shown)
        errors.append((pos, reason, None, file, rid) if rid else (pos, reason, None, file))
    created_reports = {r.id for _, r in records if r.tech_report is not None} & set(result.created)
    with Session.begin() as session:
        if created_reports and submitter.centre:
            claim_reports(session, sorted(created_reports), submitter.centre, work.job_id)
        record_chunk(
            session, work.job_id, spec, file=shown, seen=seen, indexed=result.indexed, skipped=result.skipped,
            merged=result.merged, errors=errors,
        )  # fmt: skip
    return Outcome.DONE

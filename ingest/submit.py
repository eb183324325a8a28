"""Create an ingest job and queue its tasks, after the job is committed."""

from __future__ import annotations

import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import redis
from elasticsearch import ConnectionError as ESConnectionError

from appdb.accounts import audit
from appdb.jobs import OPERATOR, ChunkSpec, ChunkTask, Submitter, create_job, store_chunk_tasks
from appdb.session import session_factory, upgrade
from conf.clients import make_es, make_redis
from conf.settings import Settings
from ingest.celery_app import CHUNK_TASK, PRIORITY_STEPS, broker_id, producer_for
from ingest.chunks import ChunkLimitError, plan_chunks
from ingest.formats import FORMATS, LINE_FORMATS
from ingest.index_admin import create, index_fingerprint
from ingest.raw_store import RawStore, StoredFile
from mappings.analysis.tokenizer import get_tokenizer
from mappings.naming import IndexNames


class SubmitError(RuntimeError):
    """Shown to the user as is."""


class ServiceUnavailable(SubmitError):
    """Elasticsearch or Redis cannot be reached: nothing was written, try again later."""


def fair_priority(chunk_no: int, share: int) -> int:
    """Each job's first `share` chunks go at the top priority, the next `share` one step lower, ...

    So a job queued behind a large one starts at once: its first chunks outrank the large job's later
    ones, and one upload cannot starve the others. (Redis: 0 is the highest of the ten steps.)
    """
    return min(PRIORITY_STEPS - 1, chunk_no // share)


def _batches(files: list[StoredFile], max_files: int, max_bytes: int) -> list[list[StoredFile]]:
    """Consecutive files grouped up to a count and a size; a file larger than the limit goes alone."""
    batches: list[list[StoredFile]] = []
    size = 0
    for f in files:
        length = f.path.stat().st_size
        if not batches or len(batches[-1]) >= max_files or size + length > max_bytes:
            batches.append([])
            size = 0
        batches[-1].append(f)
        size += length
    return batches


def _shown_name(submitted: Path, file: Path, name: str | None) -> str:
    # Errors name the file as the user gave it: the submitted path, or an upload's own name.
    if name and submitted.is_file():
        return name
    if name:
        return f"{name}/{file.relative_to(submitted)}"
    return str(file)


def submit(
    settings: Settings,
    fmt: str,
    path: Path,
    *,
    name: str | None = None,
    move: bool = False,
    submitter: Submitter = OPERATOR,
) -> tuple[int, int]:
    """Plan, record and queue a job. Returns (job id, number of chunks).

    Each file is first kept in the raw store, and tasks read it from there: the job can always
    be replayed, and a source file edited or deleted after submitting changes nothing. `name`
    and `move` are for uploads, whose temporary file has no meaningful name of its own. The job
    carries `submitter`, against whom the worker checks every write (ingest/guard.py).
    """
    if fmt not in FORMATS:
        raise SubmitError(f"不支持的格式：{fmt}（可用：{', '.join(FORMATS)}）")
    path = path.resolve()
    if not path.exists():
        raise SubmitError(f"找不到文件：{name or path}")
    if fmt in LINE_FORMATS and not path.is_file():
        raise SubmitError(f"格式 {fmt} 需要一个文件，而不是目录：{path}")
    # Check both services before writing anything, so a failure leaves no half-made job behind.
    es = make_es(settings)
    try:
        es.cluster.health(timeout="5s")
    except ESConnectionError:
        raise ServiceUnavailable(
            f"无法连接 Elasticsearch（{settings.effective_es_url}）。请先运行 `make services`，或设置 ES_URL。"
        ) from None
    try:
        make_redis(settings).ping()
    except redis.exceptions.ConnectionError:
        raise ServiceUnavailable(
            f"无法连接 Redis（{settings.effective_redis_url}），任务无法排队。"
        ) from None
    names = IndexNames(settings.index_prefix)
    tokenizer = get_tokenizer(settings.tokenizer_backend)
    create(es, names, tokenizer, if_missing=True, shards=settings.index_shards, replicas=settings.index_replicas)
    built_with = index_fingerprint(es, names.write_alias)
    if built_with != tokenizer.fingerprint:
        # Mixing analyses in one index would make queries miss documents cut the other way.
        raise SubmitError(
            f"索引由分词器 {built_with} 构建，当前分词器为 {tokenizer.fingerprint}。"
            "请先运行 `chaxin index rebuild`，再导入。"
        )

    store = RawStore(settings.effective_raw_store_dir)
    work: list[tuple[list[StoredFile], ChunkSpec]]
    if fmt in LINE_FORMATS:
        stored = store.put(path, fmt=fmt, name=name or str(path), move=move)
        try:
            specs = plan_chunks(
                stored.path, settings.ingest_chunk_lines,
                max_lines=settings.ingest_max_lines, max_bytes=settings.ingest_max_bytes,
            )  # fmt: skip
        except ChunkLimitError as exc:
            raise SubmitError(str(exc)) from None
        work = [([stored], spec) for spec in specs]
    else:
        # Hidden files (.DS_Store, editor swap files) are not sources.
        files = [path] if path.is_file() else sorted(
            p for p in path.rglob("*") if p.is_file() and not any(part.startswith(".") for part in p.relative_to(path).parts)
        )  # fmt: skip
        if not files:
            raise SubmitError(f"目录中没有可导入的文件：{name or path}")
        kept = [store.put(f, fmt=fmt, name=_shown_name(path, f, name), move=move) for f in files]
        batches = _batches(kept, settings.ingest_batch_files, settings.ingest_batch_bytes)
        work = [(batch, ChunkSpec(i, 1, 0, None)) for i, batch in enumerate(batches)]
    # One version for the whole job, fixed now: every attempt of a task (a retry, or a redelivery
    # after its worker died) writes the same version, so it recognises what an earlier attempt wrote.
    version = time.time_ns() // 1000
    url = settings.effective_database_url
    upgrade(url)
    with session_factory(url).begin() as session:
        # An upload's job names the file as uploaded, never the server's spool path.
        job = create_job(session, fmt, name or str(path), len(work), submitter, broker=broker_id(settings))
        job_id = job.id
        tasks = [_task(job_id, fmt, names, batch, spec, version, settings) for batch, spec in work]
        # Kept with the job, so `chaxin ingest resume` can send a lost task again just as it was.
        store_chunk_tasks(session, job_id, tasks)
        if submitter.lower_access:
            actor = f"user:{submitter.user_id}" if submitter.user_id is not None else "cli"
            audit(
                session,
                actor,
                "ingest.lower_access",
                {"job_id": job_id, "format": fmt, "file": name or str(path)},
            )

    producer = producer_for(settings)
    for task in tasks:
        producer.send_task(CHUNK_TASK, args=task.args, kwargs=task.kwargs, priority=task.priority)
    return job_id, len(work)


def _task(
    job_id: int, fmt: str, names: IndexNames, batch: list[StoredFile], spec: ChunkSpec, version: int,
    settings: Settings,
) -> ChunkTask:  # fmt: skip
    first = batch[0]
    kwargs: dict[str, Any] = {"origin": first.name, "sha256": first.sha256, "version": version}
    if fmt not in LINE_FORMATS:
        kwargs["files"] = [[str(f.path), f.name, f.sha256] for f in batch]
    return ChunkTask(
        chunk_no=spec.chunk_no, args=[job_id, fmt, str(first.path), names.prefix, asdict(spec)], kwargs=kwargs,
        priority=fair_priority(spec.chunk_no, settings.ingest_fair_share),
    )  # fmt: skip

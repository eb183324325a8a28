"""The application database: migrations match the models, on every supported backend."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from appdb.models import Base
from appdb.session import engine_for


def test_migrations_match_models(database_url: str) -> None:
    with engine_for(database_url).connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []


def test_a_chunk_is_recorded_once_even_when_its_task_runs_twice(database_url: str) -> None:
    from appdb.jobs import ChunkSpec, create_job, job_errors, job_status, record_chunk
    from appdb.session import session_factory

    sessions = session_factory(database_url)
    with sessions.begin() as session:
        job_id = create_job(session, "csl", "/data/x.jsonl", 2).id
    spec = ChunkSpec(0, 1, 10, 0)
    with sessions.begin() as session:
        first = record_chunk(session, job_id, spec, file="/data/x.jsonl", seen=10, indexed=9, skipped=0,
                             errors=[("第 3 行", "缺少题名（title）", None)])  # fmt: skip
    # A redelivered task that skipped the chunk_done check must neither count again nor lose the errors.
    with sessions.begin() as session:
        again = record_chunk(session, job_id, spec, file="/data/x.jsonl", seen=10, indexed=10, skipped=0, errors=[])
    assert (first, again) == (True, False)
    with sessions() as session:
        status = job_status(session, job_id)
        assert status is not None and (status.seen, status.indexed, status.failed) == (10, 9, 1)
        assert [e["position"] for e in job_errors(session, job_id)] == ["第 3 行"]
        assert status.state == "queued", "one of two chunks done"

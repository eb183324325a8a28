"""Engine and session factory, plus schema upgrade through Alembic."""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, make_url, text
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


# Unbounded on purpose: an engine evicted from a bounded cache is garbage-collected with its pooled
# connections still open (a process that talks to many databases, like the test suite, hit this).
@cache
def engine_for(url: str) -> Engine:
    if url.startswith("sqlite"):
        return _sqlite_engine(url)
    return create_engine(url, pool_pre_ping=True)


def _sqlite_engine(url: str, *pragmas: str) -> Engine:
    # Several worker processes write job rows; WAL and a busy timeout keep them from failing on locks.
    engine = create_engine(url, connect_args={"timeout": 30})

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_conn, _record):  # type: ignore[no-untyped-def]
        cur = dbapi_conn.cursor()
        for pragma in ("journal_mode=WAL", "foreign_keys=ON", *pragmas):
            cur.execute(f"PRAGMA {pragma}")
        cur.close()

    return engine


def session_factory(url: str) -> sessionmaker[Session]:
    return sessionmaker(engine_for(url), expire_on_commit=False)


@cache
def _relaxed_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        # In WAL mode a commit then skips the fsync: it is in the log, and readers see it, at once;
        # the log reaches the disk at the next checkpoint or at the next commit that does sync.
        return _sqlite_engine(url, "synchronous=NORMAL")
    if url.startswith("postgresql"):
        # The same for PostgreSQL: the commit returns before its WAL record is flushed (wal_writer_delay).
        return create_engine(url, pool_pre_ping=True, connect_args={"options": "-c synchronous_commit=off"})
    return engine_for(url)


def relaxed_session_factory(url: str) -> sessionmaker[Session]:
    """Sessions whose commits do not wait for the disk: for frequent small rows on a request's path
    (the search history row of every pro search) whose loss in a power cut, not in a crash of the
    process, is the price of a commit in 0.2 ms rather than an fsync's 5-10 ms (bench/query.py).

    Never for rows a report, an audit or a job's progress depends on: those use `session_factory`."""
    return sessionmaker(_relaxed_engine(url), expire_on_commit=False)


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


# One number for every Chaxin process: pg_advisory_lock keys are per database, so this serialises
# the migrations of one database only.
MIGRATION_LOCK_KEY = 0x43484158  # "CHAX"


@contextmanager
def migration_lock(url: str) -> Iterator[None]:
    """Held while migrating, so processes starting together (serve and workers) migrate one at a time;
    those coming after find the schema at head and Alembic does nothing."""
    if url.startswith("postgresql"):
        # A session-level advisory lock on a connection of its own, held across Alembic's transaction.
        with engine_for(url).connect() as conn:
            conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
            try:
                yield
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK_KEY})
                conn.commit()
        return
    database = make_url(url).database if url.startswith("sqlite") else None
    if not database or database == ":memory:":
        yield
        return
    # SQLite: an exclusive lock on a file beside the database. Its own file rather than the database's
    # locks, which Alembic's DDL and the WAL pragma take and drop themselves.
    lock_path = Path(database).with_name(Path(database).name + ".migrate-lock")
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with lock_path.open("a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def upgrade(url: str) -> None:
    with migration_lock(url):
        command.upgrade(alembic_config(url), "head")

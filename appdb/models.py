"""SQLAlchemy tables. Schema changes go through Alembic (appdb/migrations)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Integer, String, Text, UniqueConstraint, func
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class IngestJob(Base):
    __tablename__ = "ingest_jobs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    format: Mapped[str] = mapped_column(String(32))
    path: Mapped[str] = mapped_column(Text)
    # queued -> running -> done | failed
    state: Mapped[str] = mapped_column(String(16), default="queued")
    chunks_total: Mapped[int] = mapped_column(Integer, default=0)
    message: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class IngestChunk(Base):
    """One task's unit of work. Written once when the chunk completes, so a retried chunk never counts twice."""

    __tablename__ = "ingest_chunks"
    __table_args__ = (UniqueConstraint("job_id", "chunk_no"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("ingest_jobs.id", ondelete="CASCADE"), index=True)
    chunk_no: Mapped[int] = mapped_column(Integer)
    start_line: Mapped[int] = mapped_column(Integer)
    end_line: Mapped[int] = mapped_column(Integer)
    seen: Mapped[int] = mapped_column(Integer, default=0)
    indexed: Mapped[int] = mapped_column(Integer, default=0)
    skipped: Mapped[int] = mapped_column(Integer, default=0)
    merged: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    failed: Mapped[int] = mapped_column(Integer, default=0)
    finished_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class IngestError(Base):
    """A record that could not be parsed, validated or indexed, with where it was and why."""

    __tablename__ = "ingest_errors"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("ingest_jobs.id", ondelete="CASCADE"), index=True)
    chunk_no: Mapped[int] = mapped_column(Integer)
    file: Mapped[str] = mapped_column(Text)
    position: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text)
    snippet: Mapped[str | None] = mapped_column(Text, nullable=True)


class SearchHistoryEntry(Base):
    """One search an analyst ran, numbered per owner (#1, #2, ...), with the query it compiled to."""

    __tablename__ = "search_history"
    __table_args__ = (UniqueConstraint("owner", "number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # A user ID once accounts exist; until then an anonymous session token.
    owner: Mapped[str] = mapped_column(String(64), index=True)
    number: Mapped[int] = mapped_column(Integer)
    expression: Mapped[str] = mapped_column(Text)
    normalized: Mapped[str] = mapped_column(Text)
    cnki: Mapped[str] = mapped_column(Text)
    # The compiled query is kept so that `#n` means what ran then, not a re-reading of it.
    query_json: Mapped[str] = mapped_column(Text)
    total: Mapped[int] = mapped_column(Integer)
    name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class SavedStrategy(Base):
    """A named search strategy (检索策略) an analyst saved to load again."""

    __tablename__ = "saved_strategies"
    __table_args__ = (UniqueConstraint("owner", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner: Mapped[str] = mapped_column(String(64), index=True)
    name: Mapped[str] = mapped_column(String(200))
    expression: Mapped[str] = mapped_column(Text)
    normalized: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

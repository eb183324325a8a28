"""Search history (#1, #2, ...) and saved strategies, per owner.

The owner is a parameter everywhere: an anonymous session token today, a user ID once accounts exist.
"""

from __future__ import annotations

import json
import random
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import Insert, Table, bindparam, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from appdb.models import SavedStrategy, SearchHistoryEntry
from search.errors import BadQuery
from search.query import HistoryResolver, normalized, parse

MAX_NAME = 200
# One stored entry, compiled query and readings together. The compiler already caps what `#n`
# expands to (search/query/compiler.py); this is the store's own bound, whoever calls it.
MAX_ENTRY_BYTES = 1024 * 1024


class NotFound(LookupError):
    """No such history entry or strategy for this owner."""


@dataclass(frozen=True)
class HistoryEntry:
    number: int
    expression: str
    normalized: str
    cnki: str
    total: int
    name: str | None
    created_at: str | None

    @classmethod
    def of(cls, row: SearchHistoryEntry) -> HistoryEntry:
        return cls(row.number, row.expression, row.normalized, row.cnki, row.total, row.name,
                   row.created_at.isoformat() if row.created_at else None)  # fmt: skip


def _check_name(name: str) -> str:
    name = name.strip()
    if not name:
        raise BadQuery("名称不能为空")
    if len(name) > MAX_NAME:
        raise BadQuery(f"名称过长（上限 {MAX_NAME} 字）")
    return name


def _numbered_insert() -> Insert:
    """One statement that numbers and stores a row: no read-then-write window between two searches
    of the same owner, and, built once, no statement building or ORM unit of work per pro search."""
    entry = cast(Table, SearchHistoryEntry.__table__)
    columns = ("owner", "expression", "normalized", "cnki", "query_json", "total", "created_at")
    numbered = select(
        func.coalesce(func.max(entry.c.number), 0) + 1, *(bindparam(c, type_=entry.c[c].type) for c in columns)
    ).where(entry.c.owner == bindparam("owner"))
    return insert(entry).from_select(["number", *columns], numbered).returning(entry.c.number)


_ADD = _numbered_insert()


class HistoryStore:
    def __init__(self, sessions: sessionmaker[Session], *, writes: sessionmaker[Session] | None = None) -> None:
        self.sessions = sessions
        # Where `add` commits: every pro search writes a row, so the web app passes sessions whose
        # commit does not wait for the disk (appdb.session.relaxed_session_factory).
        self.writes = writes or sessions

    def resolver(self, owner: str) -> HistoryResolver:
        """`#n` -> the compiled query of that entry, or None (the compiler reports unknown numbers)."""

        def resolve(number: int) -> dict[str, Any] | None:
            with self.sessions() as session:
                row = self._row(session, owner, number)
                return json.loads(row.query_json) if row else None

        return resolve

    @staticmethod
    def _row(session: Session, owner: str, number: int) -> SearchHistoryEntry | None:
        return session.scalar(
            select(SearchHistoryEntry).where(SearchHistoryEntry.owner == owner, SearchHistoryEntry.number == number)
        )

    def add(self, owner: str, *, expression: str, normalized: str, cnki: str, query: dict[str, Any],
            total: int) -> int:  # fmt: skip
        """Store a search and return its number. Concurrent searches of one owner retry, never clash."""
        query_json = json.dumps(query, ensure_ascii=False)
        size = sum(len(t.encode("utf-8")) for t in (query_json, expression, normalized, cnki))
        if size > MAX_ENTRY_BYTES:
            raise BadQuery(
                f"检索式过大（{size // 1024} KB），无法存入检索历史（上限 {MAX_ENTRY_BYTES // 1024} KB）"
            )
        values = {"owner": owner, "expression": expression, "normalized": normalized, "cnki": cnki,
                  "query_json": query_json, "total": total, "created_at": datetime.now(UTC)}  # fmt: skip
        for attempt in range(50):
            if attempt:
                # Another search of the same owner took the number (PostgreSQL reads max() before it
                # inserts); back off a little, with jitter.
                time.sleep(random.uniform(0, 0.005 * attempt))
            try:
                with self.writes.begin() as session:
                    return int(session.execute(_ADD, values).scalar_one())
            except IntegrityError:
                continue
        raise RuntimeError("could not number the history entry")

    def entries(self, owner: str) -> list[HistoryEntry]:
        with self.sessions() as session:
            rows = session.scalars(
                select(SearchHistoryEntry).where(SearchHistoryEntry.owner == owner).order_by(SearchHistoryEntry.number)
            )
            return [HistoryEntry.of(r) for r in rows]

    def get(self, owner: str, number: int) -> HistoryEntry:
        with self.sessions() as session:
            row = self._row(session, owner, number)
            if row is None:
                raise NotFound(f"检索历史中没有 #{number}")
            return HistoryEntry.of(row)

    def rename(self, owner: str, number: int, name: str) -> HistoryEntry:
        name = _check_name(name)
        with self.sessions.begin() as session:
            row = self._row(session, owner, number)
            if row is None:
                raise NotFound(f"检索历史中没有 #{number}")
            row.name = name
            return HistoryEntry.of(row)

    def delete(self, owner: str, number: int) -> None:
        """Forget one entry. Later entries keep their meaning: their 系统解读 was spelt out when added."""
        with self.sessions.begin() as session:
            row = self._row(session, owner, number)
            if row is None:
                raise NotFound(f"检索历史中没有 #{number}")
            session.delete(row)

    def clear(self, owner: str) -> int:
        """Forget every entry of `owner` (numbering starts again at #1); returns how many went."""
        with self.sessions.begin() as session:
            rows = list(session.scalars(select(SearchHistoryEntry).where(SearchHistoryEntry.owner == owner)))
            for row in rows:
                session.delete(row)
            return len(rows)

    def save_strategy(self, owner: str, name: str, expression: str) -> dict[str, Any]:
        name = _check_name(name)
        reading = normalized(parse(expression))  # refuses what would not run again
        try:
            with self.sessions.begin() as session:
                row = SavedStrategy(owner=owner, name=name, expression=expression, normalized=reading,
                                    created_at=datetime.now(UTC))  # fmt: skip
                session.add(row)
                session.flush()
                return _strategy(row)
        except IntegrityError:
            raise BadQuery(f"已有名为「{name}」的检索策略") from None

    def strategies(self, owner: str) -> list[dict[str, Any]]:
        with self.sessions() as session:
            rows = session.scalars(select(SavedStrategy).where(SavedStrategy.owner == owner).order_by(SavedStrategy.id))
            return [_strategy(r) for r in rows]

    def strategy(self, owner: str, strategy_id: int) -> dict[str, Any]:
        with self.sessions() as session:
            row = session.get(SavedStrategy, strategy_id)
            if row is None or row.owner != owner:
                raise NotFound("没有该检索策略")
            return _strategy(row)


def _strategy(row: SavedStrategy) -> dict[str, Any]:
    return {"id": row.id, "name": row.name, "expression": row.expression, "normalized": row.normalized,
            "created_at": row.created_at.isoformat() if row.created_at else None}  # fmt: skip

"""Combining what several sources say about one record (same stable ID) into one record.

Each field keeps the richer value: a value over none, the longer text, the longer list, and
nested blocks (patent, standard, ...) field by field. The record lists every source that
supplied it. A source's own older version never displaces its newer one, so a late write is
a no-op, as external versions made it before records were merged.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any

from pydantic import BaseModel

from mappings.model import Record, SourceRef

# Bookkeeping, not content: two records equal in everything else are the same record.
_BOOKKEEPING = {"sources", "version", "ingested_at", "source", "source_id"}


class Outcome(Enum):
    NEW = "new"  # nothing indexed under this ID yet
    UNCHANGED = "unchanged"  # the index already says all of this: no write
    UPDATED = "updated"  # a newer version from a source the record already lists
    MERGED = "merged"  # a source the record did not list yet


@dataclass(frozen=True)
class Merge:
    record: Record
    outcome: Outcome


def source_refs(record: Record) -> list[SourceRef]:
    """The record's sources, including the primary one for records written before `sources` existed."""
    if record.sources:
        return list(record.sources)
    return [SourceRef(source=record.source, source_id=record.source_id, version=record.version)]


def _key(ref: SourceRef) -> tuple[str, str]:
    return ref.source, ref.source_id


def _richer(old: Any, new: Any) -> Any:
    if old is None or old == "" or old == []:
        return new
    if new is None or new == "" or new == []:
        return old
    if isinstance(old, BaseModel) and isinstance(new, BaseModel) and type(old) is type(new):
        return type(old).model_validate(
            {name: _richer(getattr(old, name), getattr(new, name)) for name in type(old).model_fields}
        )
    if isinstance(old, str) and isinstance(new, str):
        return new if len(new.strip()) > len(old.strip()) else old
    if isinstance(old, list) and isinstance(new, list):
        return new if len(new) > len(old) else old
    return old  # numbers, dates, enums: the first source's value stands


def _content(record: Record) -> dict[str, Any]:
    return record.model_dump(exclude=_BOOKKEEPING)


def merge(existing: Record | None, incoming: Record) -> Merge:
    """What to write for `incoming` given what the index holds under its ID."""
    if existing is None:
        if incoming.sources:
            return Merge(incoming, Outcome.NEW)  # lists its sources already (the pipeline sets them)
        return Merge(incoming.model_copy(update={"sources": source_refs(incoming)}), Outcome.NEW)
    known = {_key(r): r for r in source_refs(existing)}
    arriving = source_refs(incoming)
    fresh = [r for r in arriving if _key(r) not in known]
    newer = [r for r in arriving if _key(r) in known and r.version > known[_key(r)].version]
    # The same source and version from another file or place: two files of one delivery that describe
    # the same work (a publisher's two XML files with one DOI). Both have something to say.
    sibling = [r for r in arriving if _key(r) in known and r.version == known[_key(r)].version
               and (r.raw_sha256, r.position) != (known[_key(r)].raw_sha256, known[_key(r)].position)]  # fmt: skip
    if not fresh and not newer and not sibling:
        return Merge(existing, Outcome.UNCHANGED)  # a late or repeated write
    if not fresh and _content(incoming) == _content(existing):
        return Merge(existing, Outcome.UNCHANGED)  # the same file again: nothing to change
    if not fresh and not sibling and len(known) == 1:
        # The record's only source sent a new version: it replaces the old one outright, so a
        # corrected title or a removed keyword takes effect instead of losing to "richer".
        sources = [
            r if _key(r) not in known else max(r, known[_key(r)], key=lambda s: s.version) for r in arriving
        ]
        updated = incoming.model_copy(
            update={"sources": sources, "source": existing.source, "source_id": existing.source_id}
        )
        return Merge(updated, Outcome.UPDATED)
    refs = dict(known)
    for ref in arriving:
        if _key(ref) not in refs or ref.version > refs[_key(ref)].version:
            refs[_key(ref)] = ref
    fields = {name: _richer(getattr(existing, name), getattr(incoming, name)) for name in _content(existing)}
    merged = Record.model_validate(
        {
            **fields,
            "source": existing.source,
            "source_id": existing.source_id,
            "sources": list(refs.values()),
            "version": max(existing.version, incoming.version),
            "ingested_at": max(existing.ingested_at, incoming.ingested_at),
        }
    )
    if not fresh and _content(merged) == _content(existing):
        return Merge(existing, Outcome.UNCHANGED)  # a source re-sent what the record already says
    return Merge(merged, Outcome.MERGED if fresh else Outcome.UPDATED)

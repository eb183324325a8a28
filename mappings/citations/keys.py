"""Blocking keys: one key space shared by references and records, so a reference and the record it
cites share at least one key. Few keys per item (they are stored on 1.05 B records):
`doi:<doi>`, `t:<title fingerprint>:<year>` and `a:<first-author surname>:<year>:<first page>`.
Years are written as stored; matching ±1 years is done by the candidate query asking for both
neighbouring years' keys (see `reference_keys`).
"""

from __future__ import annotations

import hashlib
import re
from functools import lru_cache

from mappings.analysis.normalize import fold
from mappings.citations.doi import normalize_doi
from mappings.citations.names import first_surname
from mappings.model import Record, Reference

_NON_WORD = re.compile(r"[\W_]+", re.UNICODE)
_FIRST_PAGE = re.compile(r"[A-Za-z]?\d+")


# Folding (NFKC, opencc) is the dear part of a key, and a title recurs: in each reference citing
# it, and each time a record is relinked.
@lru_cache(maxsize=65536)
def title_fingerprint(title: str) -> str | None:
    """Folded title without spaces or punctuation, hashed short; None when too short to mean anything."""
    text = _NON_WORD.sub("", fold(title))
    if len(text) < 6:
        return None
    return hashlib.blake2b(text[:200].encode(), digest_size=8).hexdigest()


def first_page(pages: str | None) -> str | None:
    if not pages:
        return None
    m = _FIRST_PAGE.search(pages)
    return m.group(0).lower().lstrip("0") or None if m else None


def _keys(
    doi: str | None, title: str | None, surname: str | None, years: tuple[int, ...], pages: str | None
) -> list[str]:
    keys: list[str] = []
    norm = normalize_doi(doi) if doi else None
    if norm:
        keys.append(f"doi:{norm}")
    fp = title_fingerprint(title) if title else None
    page = first_page(pages)
    for y in years:
        if fp:
            keys.append(f"t:{fp}:{y}")
        if surname and page:
            keys.append(f"a:{surname}:{y}:{page}")
    return keys


# A reference's keys are asked for on every write of its record (stored keys) and every time it is
# resolved (lookup keys): memoised on the fields they are made of.
@lru_cache(maxsize=1 << 17)
def _ref_keys(
    doi: str | None, title: str | None, author: str | None, year: int | None, pages: str | None, spread: bool
) -> tuple[str, ...]:
    years = (year - 1, year, year + 1) if year and spread else (year,) if year else ()
    surname = first_surname(author) if author else None
    return tuple(_keys(doi, title, surname, years, pages))


def reference_keys(ref: Reference) -> list[str]:
    """Keys to look a reference up by (its year and the neighbours, for online-first dates)."""
    author = ref.authors[0] if ref.authors else None
    return list(_ref_keys(ref.doi, ref.title, author, ref.year, ref.pages, True))


def reference_stored_keys(ref: Reference) -> list[str]:
    """Keys stored on an unresolved reference: its own year only (records look up their ±1 years)."""
    author = ref.authors[0] if ref.authors else None
    return list(_ref_keys(ref.doi, ref.title, author, ref.year, ref.pages, False))


def record_keys(record: Record) -> list[str]:
    """Keys stored on a record (field `match_keys`); its own year only."""
    surname = first_surname(record.authors[0].name) if record.authors else None
    return _keys(record.doi, record.title, surname, (record.year,) if record.year else (), record.pages)


def record_lookup_keys(record: Record) -> list[str]:
    """Keys a newly arrived record uses to find unresolved references citing it (its year ±1)."""
    surname = first_surname(record.authors[0].name) if record.authors else None
    years = (record.year - 1, record.year, record.year + 1) if record.year else ()
    return _keys(record.doi, record.title, surname, years, record.pages)

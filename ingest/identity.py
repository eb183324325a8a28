"""Stable record IDs, so the same document always lands on the same index entry."""

from __future__ import annotations

import hashlib

from ingest.normalize_text import chinese_stops
from mappings.analysis.normalize import normalize


def _digest(*parts: str) -> str:
    return hashlib.sha1("\x1f".join(parts).encode("utf-8")).hexdigest()[:24]


def record_id(
    *,
    title: str,
    year: int | None = None,
    first_author: str | None = None,
    doi: str | None = None,
    patent_number: str | None = None,
    standard_number: str | None = None,
    report_no: str | None = None,
) -> str:
    """An identifier from the strongest key the record has, else from normalised title, year and first author."""
    if doi:
        return "doi-" + _digest(doi.strip().lower())
    if patent_number:
        return "pat-" + _digest(patent_number.strip().upper())
    if standard_number:
        return "std-" + _digest(standard_number.strip().upper())
    if report_no:
        return "rpt-" + _digest(report_no.strip().upper())
    return "ttl-" + _digest(normalize(chinese_stops(title)), str(year or ""), normalize(first_author or ""))

"""DOI normalisation: one canonical lowercase form for every way sources write a DOI."""

from __future__ import annotations

import re

# A DOI is "10.<registrant>/<suffix>"; the suffix may hold almost anything but whitespace, so the
# end is decided by trimming punctuation a sentence or a list puts after it.
_DOI = re.compile(r"10\.\d{4,9}/[^\s\[\]<>\"{}|\\^`,;]+", re.IGNORECASE)
_TRAILING = ".,;:)]}>'\""


def _trim(doi: str) -> str:
    doi = doi.rstrip(_TRAILING)
    # A closing parenthesis belongs to the DOI only when it closes one opened inside it.
    return doi


def normalize_doi(s: str) -> str | None:
    """The first DOI in s, lowercased and without resolver prefix or trailing punctuation; None if none."""
    found = dois_in(s)
    return found[0] if found else None


def dois_in(s: str) -> list[str]:
    """Every DOI in s in order, deduplicated (WoS writes `DOI DOI 10.x` and `[10.a, 10.b]` lists)."""
    out: list[str] = []
    for m in _DOI.finditer(s):
        doi = _trim(m.group(0)).lower()
        if "/" in doi and not doi.endswith("/") and doi not in out:
            out.append(doi)
    return out

"""DOI normalisation: one canonical lowercase form for every way sources write a DOI."""

from __future__ import annotations

import re

# A DOI is "10.<registrant>/<suffix>"; the suffix may hold almost anything but whitespace, so the
# end is decided by trimming punctuation a sentence or a list puts after it.
_SUFFIX = r"[^\s\[\]<>\"{}|\\^`,;]+"
# A DOI in free text, as PDF extraction leaves it: a line break may follow "10." or the "/"
# ("10.  1111/j.1365-294X.2009.04419.x", "10.1038/  nchembio.174"). After a break the suffix must
# hold a digit or a full stop, so "10.1000/ Next words" does not swallow a word.
DOI_IN_TEXT = re.compile(
    rf"(?<!\d)10\.\s{{0,3}}\d{{4,9}}/(?:{_SUFFIX}|\s{{1,3}}(?=[^\s]*[\d.]){_SUFFIX})", re.IGNORECASE
)
_SPACE = re.compile(r"\s+")
_TRAILING = ".,;:)]}>'\""
# Wiley's SICI-shaped DOIs hold `<`, `>` and `;` ("10.1002/(SICI)1097-4571(199009)41:6<391::AID-ASI1>3.0.CO;2-9").
# Cut at the first `<` or `;`, two papers of one issue would share a DOI and be linked as one.
_SICI = re.compile(r"10\.\d{4,9}/\(SICI\)[^\s<>;]*<[^\s<>;]*>[\d.]+\.[A-Z]{2};2-[0-9A-Z#]", re.IGNORECASE)


def _trim(doi: str) -> str:
    # A closing parenthesis belongs to the DOI only when it closes one opened inside it
    # ("10.1016/0022-2836(81)90087-5" keeps its own; "(doi: 10.1000/x)" gives its last one back).
    while doi and doi[-1] in _TRAILING:
        if doi[-1] == ")" and doi.count("(") >= doi.count(")"):
            break
        doi = doi[:-1]
    return doi


def normalize_doi(s: str) -> str | None:
    """The first DOI in s, lowercased and without resolver prefix or trailing punctuation; None if none."""
    found = dois_in(s)
    return found[0] if found else None


def dois_in(s: str) -> list[str]:
    """Every DOI in s in order, deduplicated (WoS writes `DOI DOI 10.x` and `[10.a, 10.b]` lists)."""
    out: list[str] = []
    sici = [(m.start(), m.end()) for m in _SICI.finditer(s)]
    found = [(m.start(), m.group(0)) for m in _SICI.finditer(s)]
    found += [
        (m.start(), _trim(_SPACE.sub("", m.group(0))))
        for m in DOI_IN_TEXT.finditer(s)
        if not any(a <= m.start() < b for a, b in sici)
    ]
    for _, raw in sorted(found):
        doi = raw.lower()
        if "/" in doi and not doi.endswith("/") and doi not in out:
            out.append(doi)
    return out

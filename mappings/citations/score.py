"""Deciding whether a reference and a candidate record are the same work.

Precision before recall: a certified citation count must never rest on a guess, so when two
candidates fit equally well (the CSSCI same-title pair of 2018 and 2020; Small 1985 vol. 7 vs 8)
the answer is no match. Title similarity is difflib's ratio on folded text (standard library, good
enough for short titles; no dependency).

Weights were tuned on the biblio-glutton set (bench/citations.py): volume and first page agreeing
weigh as much as a tenth of the title, because two different papers almost never share title,
volume and first page; a title that only covers part of the other (a PDF-cut or truncated title),
or a record title found whole in the raw string where the parse cut the title elsewhere, counts only
with both of them agreeing. The table of evidence and weights is in docs/citations.md §3.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher

from mappings.analysis.normalize import fold
from mappings.citations.doi import normalize_doi
from mappings.citations.keys import first_page
from mappings.citations.names import same_author
from mappings.model import Record, Reference

ACCEPT = 0.75  # lowest score that links
_MARGIN = 0.05  # a runner-up this close to the best makes the choice a guess
_NON_WORD = re.compile(r"[\W_]+", re.UNICODE)


@dataclass(frozen=True)
class Match:
    record_id: str | None
    score: float
    reason: str


def _norm(s: str | None) -> str:
    return _NON_WORD.sub("", fold(s)) if s else ""


def title_similarity(a: str | None, b: str | None) -> float:
    na, nb = _norm(a), _norm(b)
    if not na or not nb:
        return 0.0
    if na == nb:
        return 1.0
    return SequenceMatcher(None, na, nb, autojunk=False).ratio()


def partial_title(a: str | None, b: str | None) -> float:
    """How much of the shorter title lies in the longer one, in order (0 when under 20 characters)."""
    na, nb = _norm(a), _norm(b)
    short, long_ = (na, nb) if len(na) <= len(nb) else (nb, na)
    if len(short) < 20:
        return 0.0
    blocks = SequenceMatcher(None, short, long_, autojunk=False).get_matching_blocks()
    return sum(b.size for b in blocks) / len(short)


def _vol(v: str | None) -> str:
    return (v or "").strip().lower().lstrip("0")


_HAN = re.compile(r"[\u3400-\u9fff]")
_RAW_NUMBER = re.compile(r"[a-z]?\d+")
_MIN_COVER_CHARS = 20  # a record title shorter than this proves nothing by being found in a string
_MIN_BLOCK = 4  # shorter runs of common characters are chance, not the same words


def _raw_text(ref: Reference) -> str:
    """The raw string folded to letters and digits; empty for Chinese strings, which have parsers of
    their own and titles too short for the containment test."""
    if not ref.raw or _HAN.search(ref.raw):
        return ""
    return _norm(ref.raw)


def cover(title: str | None, text: str) -> float:
    """How much of `title` (folded) appears in `text` (already folded) in order, in runs of four
    characters or more; 0 for a title too short to tell."""
    nt = _norm(title)
    if len(nt) < _MIN_COVER_CHARS or not text:
        return 0.0
    blocks = SequenceMatcher(None, nt, text, autojunk=False).get_matching_blocks()
    return sum(b.size for b in blocks if b.size >= _MIN_BLOCK) / len(nt)


def _prefix(short: str | None, long_: str | None) -> bool:
    """Whether `short` (ten characters or more, folded) begins `long_`."""
    ns, nl = _norm(short), _norm(long_)
    return len(ns) >= 10 and len(nl) > len(ns) and nl.startswith(ns)


def _raw_numbers(ref: Reference) -> set[str]:
    return {n.lstrip("0") for n in _RAW_NUMBER.findall((ref.raw or "").lower())} if ref.raw else set()


def score(ref: Reference, rec: Record) -> tuple[float, str]:
    """0..1 and the evidence; a contradiction on year, volume or first page scores 0."""
    ref_doi = normalize_doi(ref.doi) if ref.doi else None
    rec_doi = normalize_doi(rec.doi) if rec.doi else None
    if ref_doi and rec_doi:
        return (1.0, "doi") if ref_doi == rec_doi else (0.0, "doi differs")
    if ref.year and rec.year and abs(ref.year - rec.year) > 1:
        return 0.0, "year differs"
    rv, cv = _vol(ref.volume), _vol(rec.volume)
    if rv and cv and rv != cv:
        return 0.0, "volume differs"
    rp, cp = first_page(ref.pages), first_page(rec.pages)
    if rp and cp and rp != cp:
        return 0.0, "first page differs"
    author = bool(ref.authors and rec.authors) and same_author(ref.authors[0], rec.authors[0].name)
    if ref.authors and rec.authors and not author:
        # References name the first author; the record's list may order differently.
        author = any(same_author(ref.authors[0], a.name) for a in rec.authors[:3])
    vol_ok, page_ok = bool(rv and rv == cv), bool(rp and rp == cp)
    raw = _raw_text(ref)
    if raw and not (rv and rp):
        # The parse missed the numbers ("Mar. Biotechnol. 10, 166-180" after a title it could not
        # place): the record's volume and first page standing in the string as numbers count.
        numbers = _raw_numbers(ref)
        vol_ok = vol_ok or bool(not rv and cv and cv in numbers)
        page_ok = page_ok or bool(not rp and cp and cp in numbers)
    venue_ok = bool(ref.venue and rec.venue and title_similarity(ref.venue, rec.venue) > 0.8)
    reasons: list[str] = []
    s = 0.0
    t = title_similarity(ref.title, rec.title) if ref.title else 0.0
    # The record's whole title standing in the string counts where the parse cut the title elsewhere
    # (a title of two sentences, an author list run into it, no layout found at all): with volume
    # and first page agreeing, two different papers cannot look like this.
    inside = bool(raw and vol_ok and page_ok) and cover(rec.title, raw) >= 0.95
    if inside and t < 0.95:
        s = 0.6 * 0.95
        reasons.append("title in string")
    elif t >= 0.8:
        s = 0.6 * t
        reasons.append(f"title {t:.2f}")
    elif ref.title and vol_ok and page_ok and partial_title(ref.title, rec.title) >= 0.95:
        # One title is a cut of the other (a truncated string, a title cut short by the source).
        s = 0.6 * 0.8
        reasons.append("title part")
    elif ref.title and vol_ok and page_ok and venue_ok and _prefix(rec.title, ref.title):
        # A record title cut after its first words ("Sperm cells of", as NLM cuts at italics): it
        # only confirms what volume, first page and venue already say.
        s = 0.6 * 0.85
        reasons.append("title prefix")
    elif ref.title:
        return 0.0, f"title {t:.2f}"
    else:
        # No title (WoS CR, "Cramer RD (2003) J Med Chem 46:374-389"): author, volume and first page
        # must all agree, and the year or the venue too.
        if not (author and vol_ok and page_ok and ((ref.year and ref.year == rec.year) or venue_ok)):
            return 0.0, "no title, incomplete evidence"
        s = 0.6
        reasons.append("author+volume+page")
    if author:
        s += 0.15
        reasons.append("author")
    elif ref.authors and rec.authors and t >= 0.95 and vol_ok and page_ok and venue_ok:
        # Title, volume, first page and venue all agree: the names differ by a typo, a PDF glyph or a
        # parse ("Capuano F" for Capuana, "Kamin´skiKamin´ski M"); two papers cannot agree on the rest.
        s -= 0.05
        reasons.append("author differs, all else agrees")
    elif ref.authors and rec.authors:
        s -= 0.2
        reasons.append("author differs")
    if ref.year and rec.year:
        s += 0.1 if ref.year == rec.year else 0.05
        reasons.append("year" if ref.year == rec.year else "year±1")
    if vol_ok:
        s += 0.1
        reasons.append("volume")
    if page_ok:
        s += 0.1
        reasons.append("page")
    if venue_ok:
        s += 0.05
        reasons.append("venue")
    return min(s, 1.0), ", ".join(reasons)


def best_match(ref: Reference, candidates: Sequence[Record]) -> Match:
    scored = sorted(((score(ref, c), c.id) for c in candidates), key=lambda x: -x[0][0])
    if not scored or scored[0][0][0] < ACCEPT:
        best = scored[0][0][0] if scored else 0.0
        return Match(None, best, "no candidate fits")
    (top, why), top_id = scored[0]
    if (
        len(scored) > 1
        and scored[1][0][0] >= ACCEPT
        and top - scored[1][0][0] < _MARGIN
        and scored[1][1] != top_id
    ):
        return Match(None, top, f"ambiguous: {top_id} and {scored[1][1]}")
    return Match(top_id, top, why)

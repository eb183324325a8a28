"""Raw reference strings to structured fields.

Written by hand: the well-kept English parsers (GROBID, CERMINE, anystyle, refextract's models)
need model files or servers this project cannot fetch or run, and none reads GB/T 7714 or CSSCI's
dotted layout. The styles are rigid enough for patterns: GB/T 7714 `作者. 题名[J]. 刊名, 年, 卷(期): 页.`,
CSSCI `作者.题名.刊名.年.卷(期)`, WoS `CR` `Author, year, VENUE, Vvol, Ppage, DOI x`. Anything
that does not fit keeps only `raw` (never guessed fields).
"""

from __future__ import annotations

import re

from mappings.citations.doi import dois_in
from mappings.citations.parse_en import parse_english
from mappings.model import Reference

MAX_RAW = 2000  # longest raw reference string accepted (characters)

GBT_TYPE_CODES = ("M", "C", "G", "N", "J", "D", "R", "S", "P", "DB", "CP", "EB", "A", "CM", "DS", "Z", "PP")
_TYPE = re.compile(
    r"\[(" + "|".join(sorted(GBT_TYPE_CODES, key=len, reverse=True)) + r")(?:/(?:OL|CD|MT|DK))?\]"
)
_YEAR = re.compile(r"(?<!\d)(1[5-9]\d\d|20\d\d)(?!\d)")
_VOL_ISSUE = re.compile(r"(\d+)?\s*[(（]\s*([^)）]+)\s*[)）]")
_PAGES = re.compile(r"[:：]\s*([A-Za-z]?\d+(?:\s*[-–~]\s*[A-Za-z]?\d+)?)")
_NUMBERING = re.compile(r"^\s*(?:\[\d+\]|\d+[.、)]\s*)")
_HAN = re.compile(r"[\u3400-\u9fff]")
_WOS_CR = re.compile(r"^(?P<author>[^,]+),\s*(?P<year>\d{4}),\s*(?P<rest>.*)$")


def _clean(s: str) -> str:
    return s.strip().strip(".,;:，。；：").strip()


def _noise(text: str) -> bool:
    body = re.sub(r"https?://\S+|www\.\S+", "", text)
    return len(re.findall(r"[A-Za-z\u3400-\u9fff]", body)) < 4


def parse_wos_cr(raw: str) -> Reference:
    """One WoS `CR` entry: `Small H, 1985, SCIENTOMETRICS, V7, P391, DOI 10.1007/BF02016680`."""
    dois = dois_in(raw)
    m = _WOS_CR.match(raw.strip())
    if not m:
        return Reference(raw=raw, doi=dois[0] if dois else None)
    author = m.group("author").strip()
    parts = [p.strip() for p in re.split(r",\s*(?=DOI\b|V\d|P[A-Za-z]?\d|\S)", m.group("rest"))]
    venue = volume = pages = None
    for p in parts:
        if p.startswith("DOI"):
            continue
        if re.fullmatch(r"V[\w\-]+", p):
            volume = p[1:]
        elif re.fullmatch(r"P[A-Za-z]?\d[\w\-]*", p):
            pages = p[1:]
        elif venue is None and p and not p.startswith("["):
            venue = p
    return Reference(
        raw=raw,
        authors=[] if author.strip("[]").lower() == "anonymous" else [author],
        year=int(m.group("year")),
        venue=venue,
        volume=volume,
        pages=pages,
        doi=dois[0] if dois else None,
    )


def _parse_gbt(raw: str, text: str, tm: re.Match[str]) -> Reference:
    head, tail = text[: tm.start()], text[tm.end() :]
    authors_part, _, title = head.rpartition(". ") if ". " in head else head.rpartition(".")
    authors = [
        a.strip()
        for a in re.split(r"[,，、;；]", authors_part)
        if a.strip() and a.strip() not in ("等", "et al")
    ]
    tail = tail.lstrip(". ")
    venue = _clean(re.split(r"[,，]\s*(?=\d{4})", tail)[0]) if tail else None
    year_m = _YEAR.search(tail)
    vi = _VOL_ISSUE.search(tail[year_m.end() :]) if year_m else None
    pg = _PAGES.search(tail)
    return Reference(
        raw=raw,
        authors=[a for a in authors if a],
        title=_clean(title) or None,
        venue=venue or None,
        year=int(year_m.group(1)) if year_m else None,
        volume=vi.group(1) if vi and vi.group(1) else None,
        issue=vi.group(2).strip() if vi else None,
        pages=pg.group(1).replace(" ", "") if pg else None,
        doi=next(iter(dois_in(raw)), None),
        type_code=tm.group(1),
    )


def _parse_cssci(raw: str, text: str) -> Reference | None:
    # 作者.题名.刊名.年.卷(期): the year field is the anchor.
    parts = text.split(".")
    for i in range(len(parts) - 1, 1, -1):
        if re.fullmatch(r"\s*(1[5-9]\d\d|20\d\d)\s*", parts[i]):
            rest = ".".join(parts[i + 1 :])
            vi = _VOL_ISSUE.search(rest)
            author_end = 1
            # Latin names are written "Aittola,M." which the split cuts after the initial.
            while author_end < i - 2 and re.fullmatch(r"[A-Z]{1,2}|\s*", parts[author_end]):
                author_end += 1
            authors_s = ".".join(parts[:author_end]).strip()
            title = ".".join(parts[author_end : i - 1]).strip()
            venue = parts[i - 1].strip()
            if not title:
                return None
            return Reference(
                raw=raw,
                authors=[authors_s] if authors_s else [],
                title=title,
                venue=venue or None,
                year=int(parts[i]),
                volume=vi.group(1) if vi and vi.group(1) else None,
                issue=vi.group(2).strip() if vi else None,
                language="zh" if _HAN.search(title) else None,
            )
    return None


def parse_reference(raw: str) -> Reference:
    """Structured fields for a raw reference string; only `raw` when nothing can be read safely."""
    raw = raw[:MAX_RAW]
    text = _NUMBERING.sub("", raw).strip()
    if _noise(text):
        return Reference(raw=raw)
    tm = _TYPE.search(text)
    if tm:
        return _parse_gbt(raw, text, tm)
    if _WOS_CR.match(text) and re.search(r",\s*(V\d|P\d|DOI\b)", text):
        return parse_wos_cr(text).model_copy(update={"raw": raw})
    # English layouts first: CSSCI's dotted split would read "Chan. 2010. Title." as its own fields.
    if not _HAN.search(text) and (english := parse_english(raw)) is not None:
        return english
    cssci = _parse_cssci(raw, text)
    if cssci is not None:
        return cssci
    dois = dois_in(text)
    year = _YEAR.search(text)
    return Reference(raw=raw, doi=dois[0] if dois else None, year=int(year.group(1)) if year else None)

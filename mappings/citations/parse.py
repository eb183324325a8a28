"""Raw reference strings to structured fields.

The Chinese styles live in parse_zh; this module dispatches and reads WoS `CR`.

Written by hand: the well-kept English parsers (GROBID, CERMINE, anystyle, refextract's models)
need model files or servers this project cannot fetch or run, and none reads GB/T 7714 or CSSCI's
dotted layout. The styles are rigid enough for patterns: GB/T 7714 `作者. 题名[J]. 刊名, 年, 卷(期): 页.`,
CSSCI `作者.题名.刊名.年.卷(期)`, WoS `CR` `Author, year, VENUE, Vvol, Ppage, DOI x`. Anything
that does not fit keeps only `raw` (never guessed fields).
"""

from __future__ import annotations

import re

from mappings.citations.doi import dois_in
from mappings.citations.parse_zh import TYPE_MARK, YEAR, cssci_shaped, parse_cssci, parse_gbt
from mappings.model import Reference

MAX_RAW = 2000  # longest raw reference string accepted (characters)

_NUMBERING = re.compile(r"^\s*(?:\[\d+\]|\d+[.、)]\s*)")
_WOS_CR = re.compile(r"^(?P<author>[^,]+),\s*(?P<year>\d{4}),\s*(?P<rest>.*)$")


def _noise(text: str) -> bool:
    # Fewer than four letters outside URLs; a Chinese character counts as two ("区块链" is a title).
    body = re.sub(r"https?://\S+|www\.\S+", "", text)
    return len(re.findall(r"[A-Za-z]", body)) + 2 * len(re.findall(r"[\u3400-\u9fff]", body)) < 4


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


def parse_cssci_reference(raw: str) -> Reference:
    """One line of a CSSCI export's 【参考文献】 (`9.王雨.题名.图书馆论坛.2020.40(6)`): the layout is
    known, so it is read as CSSCI whatever its script; noise keeps only `raw`."""
    raw = raw[:MAX_RAW]
    text = _NUMBERING.sub("", raw, count=1).strip()
    if _noise(text):
        return Reference(raw=raw)
    return parse_cssci(raw, text)


def parse_reference(raw: str) -> Reference:
    """Structured fields for a raw reference string; only `raw` when nothing can be read safely."""
    raw = raw[:MAX_RAW]
    text = _NUMBERING.sub("", raw).strip()
    if _noise(text):
        return Reference(raw=raw)
    tm = TYPE_MARK.search(text)
    if tm:
        return parse_gbt(raw, text, tm)
    if _WOS_CR.match(text) and re.search(r",\s*(V\d|P\d|DOI\b)", text):
        return parse_wos_cr(text).model_copy(update={"raw": raw})
    if cssci_shaped(text):
        return parse_cssci(raw, text)
    dois = dois_in(text)
    year = YEAR.search(text)
    return Reference(raw=raw, doi=dois[0] if dois else None, year=int(year.group(1)) if year else None)

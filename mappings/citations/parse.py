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
from mappings.citations.parse_en import parse_english
from mappings.citations.parse_zh import TYPE_MARK, YEAR, cssci_shaped, parse_cssci, parse_gbt
from mappings.model import Reference

MAX_RAW = 2000  # longest raw reference string accepted (characters)

_HAN = re.compile(r"[\u3400-\u9fff]")
_NUMBERING = re.compile(r"^\s*(?:\[\d+\]|\d+[.、)]\s*)")
_WOS_CR = re.compile(r"^(?P<author>[^,]+),\s*(?P<year>\d{4}),\s*(?P<rest>.*)$")


def _noise(text: str) -> bool:
    # Fewer than four letters outside URLs; a Chinese character counts as two ("区块链" is a title).
    body = re.sub(r"https?://\S+|www\.\S+", "", text)
    return len(re.findall(r"[A-Za-z]", body)) + 2 * len(re.findall(r"[\u3400-\u9fff]", body)) < 4


# WoS writes the cited DOI last: "DOI 10.x", "DOI DOI 10.x", "DOI [10.a, DOI 10.b]".
_WOS_DOI = re.compile(r",\s*DOI\s+(?:DOI\s+)?(\[[^\]]*\]?|\S.*)$")
_WOS_DOI_SHAPE = re.compile(r"^10\.\d{4,9}/\S+$")
# "V7", "VAC19", "VE88D", "VB", "VX", "Vthird"; not "VAMOS" or "VARIATIONALINEQUALIT", which are venues.
_WOS_VOLUME = re.compile(r"^V([A-Za-z]{0,3}\d[\w\-.]*|[A-Z]|[IVXLC]+|[a-z]+)$")
_WOS_PAGE = re.compile(r"^(?:[Pp]([A-Za-z]{0,5}\d[\w\-~?]*|[IVXLCDM]+)|ARTN\s+(\S+))$")
_WOS_HIDDEN = ("[anonymous]", "[no title captured]")


def _wos_dois(field: str) -> list[str]:
    # Read from the field itself, not by a general DOI pattern: SICI DOIs hold ";", "<" and ">"
    # (10.1002/(SICI)1097-4571(199009)41:6<391::AID-ASI1>3.0.CO;2-9) that end a DOI in free text.
    items = field.strip("[] ").split(", ") if field.startswith("[") else [field]
    out: list[str] = []
    for item in items:
        doi = re.sub(r"^(?:DOI\s+)+", "", item.strip()).rstrip(".").lower()
        if _WOS_DOI_SHAPE.match(doi) and doi not in out:
            out.append(doi)
    return out


def parse_wos_cr(raw: str) -> Reference:
    """One WoS `CR` entry: `Small H, 1985, SCIENTOMETRICS, V7, P391, DOI 10.1007/BF02016680`.

    Fields by position: first author, year, source, then `V`olume and `P`age tokens and the DOI at the
    end; any may be missing. The venue is what lies between, commas included (long proceedings titles)."""
    text = raw.strip()
    dois: list[str] = []
    if dm := _WOS_DOI.search(text):
        dois, text = _wos_dois(dm.group(1).strip()), text[: dm.start()]
    tokens = [t.strip() for t in text.split(", ")]
    author = tokens.pop(0) if tokens and not re.fullmatch(r"\d{4}", tokens[0]) else ""
    year = int(tokens.pop(0)) if tokens and re.fullmatch(r"(1[5-9]|20)\d\d", tokens[0]) else None
    volume = pages = None
    while tokens and (pm := _WOS_PAGE.match(tokens[-1])) and pages is None and volume is None:
        pages = pm.group(1) or pm.group(2)
        tokens.pop()
    if tokens and (vm := _WOS_VOLUME.match(tokens[-1])):
        volume = vm.group(1)
        tokens.pop()
    venue = ", ".join(t for t in tokens if t) or None
    if venue and venue.lower() in _WOS_HIDDEN:
        venue = None
    if author.lower() in _WOS_HIDDEN:
        author = ""
    if not (author or year or venue or dois):
        return Reference(raw=raw)  # "[No title captured]"
    return Reference(
        raw=raw,
        authors=[author.lstrip("*")] if author else [],
        year=year,
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


# A DOI given as its resolver link, alone: "https://doi.org/10.1007/BF02016680", "dx.doi.org/…", "doi:10.…".
_DOI_LINK = re.compile(r"^(?:(?:https?://)?(?:dx\.)?doi\.org/|doi:\s*)(10\.\S+)$", re.IGNORECASE)


def parse_reference(raw: str) -> Reference:
    """Structured fields for a raw reference string; only `raw` when nothing can be read safely."""
    raw = raw[:MAX_RAW]
    text = _NUMBERING.sub("", raw).strip()
    if (link := _DOI_LINK.match(text)) and (dois := dois_in(link.group(1))):
        return Reference(raw=raw, doi=dois[0])  # a URL, but one that names its work
    if _noise(text):
        return Reference(raw=raw)
    tm = TYPE_MARK.search(text)
    if tm:
        return parse_gbt(raw, text, tm)
    if _WOS_CR.match(text) and re.search(r",\s*(V\d|P\d|DOI\b)", text):
        return parse_wos_cr(text).model_copy(update={"raw": raw})
    # English layouts first: CSSCI's dotted split would read "Chan. 2010. Title." as its own fields.
    if not _HAN.search(text) and (english := parse_english(raw)) is not None:
        return english
    if cssci_shaped(text):
        return parse_cssci(raw, text)
    dois = dois_in(text)
    year = YEAR.search(text)
    return Reference(raw=raw, doi=dois[0] if dois else None, year=int(year.group(1)) if year else None)

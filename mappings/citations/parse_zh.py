"""The Chinese reference styles: GB/T 7714 (`作者. 题名[J]. 刊名, 年, 卷(期): 页.`) and CSSCI's dotted
export layout (`作者.题名.刊名.年.卷(期)`, books `作者.书名.出版地:出版者`).

Written by hand: no maintained parser reads either style (the English ones, GROBID, anystyle,
CERMINE, need models and know neither). Both styles are rigid, so each field is taken from a known
position, and a field that is not where the style puts it stays empty rather than guessed.
"""

from __future__ import annotations

import re

from mappings.citations.doi import dois_in
from mappings.model import Reference

GBT_TYPE_CODES = ("M", "C", "G", "N", "J", "D", "R", "S", "P", "DB", "CP", "EB", "A", "CM", "DS", "Z", "PP")
TYPE_MARK = re.compile(
    r"\[(" + "|".join(sorted(GBT_TYPE_CODES, key=len, reverse=True)) + r")(?:\s*/\s*(?:OL|CD|MT|DK))?\]"
)
YEAR = re.compile(r"(?<!\d)(1[5-9]\d\d|20\d\d)(?!\d)")
_VOL_ISSUE = re.compile(r"(\d+)?\s*[(（]\s*([^)）]+?)\s*[)）]")
_VOLUME = re.compile(r"^\s*(\d+)\s*(?=[:：]|$)")
_PAGE_RANGE = r"[A-Za-z]?\d+(?:\s*[-–—~]\s*[A-Za-z]?\d+)?"
_PAGES = re.compile(rf"[:：]\s*({_PAGE_RANGE}(?:\s*[,，]\s*{_PAGE_RANGE})*)")  # "85-90, 95"
_GBT_PATENT_NO = re.compile(r"[:：]\s*(?:中国|[A-Z][a-z]+)?[,，]?\s*([A-Z]{0,2}\d[\dA-Z.]{5,})\s*$")
_UNKNOWN = re.compile(r"不详|^\[?s\.\s?n\.\]?$|^\[?s\.\s?l\.\]?$", re.IGNORECASE)
_HAN = re.compile(r"[\u3400-\u9fff]")
# "北京:科学出版社", "New York:John Wiley and Sons": a place of at most a few words, then the publisher.
_PLACE_PUBLISHER = re.compile(r"^(?P<place>[^:：,，.]{1,30})[:：](?P<publisher>[^:：]+)$")
_PUBLISHER_WORD = re.compile(
    r"出版|书局|印书馆|书社|Press|Publish|Verlag|Wiley|Springer|Elsevier", re.IGNORECASE
)
_THESIS = re.compile(r"[:：]\s*(?:博士|硕士)?学位论文$")
_STANDARD_NO = re.compile(r"[:：]\s*((?:GB|GB/T|GB/Z|ISO|IEC|ANSI|[A-Z]{2}/T)\s*[\d.\-—]+)$")


def _clean(s: str) -> str:
    return s.strip().strip(".,;:，。；：").strip()


def _authors(part: str) -> list[str]:
    names = [a.strip() for a in re.split(r"[,，、;；]", part) if a.strip()]
    return [n for n in names if n.lower() not in ("等", "et al", "et al.", "等.")]


def _zh(*texts: str | None) -> str | None:
    return "zh" if any(t and _HAN.search(t) for t in texts) else None


# --- GB/T 7714 ---------------------------------------------------------------------------------------


def parse_gbt(raw: str, text: str, mark: re.Match[str]) -> Reference:
    """`text` is the reference without its list number; `mark` its type code `[J]`, `[M]`, `[EB/OL]` …"""
    code = mark.group(1)
    head, tail = text[: mark.start()], text[mark.end() :].lstrip(". ．").strip()
    sep = ". " if ". " in head else "."
    authors_part, _, title = head.rpartition(sep)
    patent_number = None
    if code == "P" and (pn := _GBT_PATENT_NO.search(title)):
        # "题名: 中国, 88105607.3" / "题名: CN1234567A": the number is the patent's key, not its title.
        title, patent_number = title[: pn.start()], re.sub(r"\s+", "", pn.group(1))
    if code == "S":
        title = _STANDARD_NO.sub("", title)  # "信息与文献 参考文献著录规则: GB/T 7714—2015"
        if not authors_part:
            title = re.sub(r"^[A-Z/]+\s*[\d.]+\s*[-—–]\s*\d{4}\s*", "", title)  # "GB/T 7714—2015 信息与文献…"
    year_m = YEAR.search(tail)
    venue: str | None = None
    volume = issue = pages = None
    if code in ("EB", "DB", "CP", "P"):
        pass  # "(2020-01-02)[2021-03-04]. https://…", a patent's date: no venue
    elif code == "N":
        venue = _clean(re.split(r"[,，]", tail)[0]) or None  # 报纸名, 2020-01-02(3)
        page = re.search(r"[(（]\s*(\d+)\s*[)）]", tail)
        pages = page.group(1) if page else None
    else:
        host = tail.startswith("//")
        if host:
            # "[M]//李承森. 植物科学进展. 北京: 高等教育出版社, 1998": the venue is the host work's title.
            parts = [p for p in re.split(r"\.\s+|\.(?=[^\s\d])", tail[2:]) if p.strip()]
            tail = ". ".join(parts[1:]) if len(parts) > 2 else ". ".join(parts)
            year_m = YEAR.search(tail)
        venue_part = re.split(r"[,，]\s*(?=(?:1[5-9]|20)\d\d)", tail)[0] if year_m else tail.split(", ")[0]
        book = code in ("M", "D", "R", "C", "S", "A", "G")
        if host or book:
            venue_part = re.split(r"\.\s+", venue_part)[-1 if not host else 0]  # drop "刻本. " (edition)
        pm = _PLACE_PUBLISHER.match(_clean(venue_part))
        venue = _clean(pm.group("publisher") if pm and book and not host else venue_part) or None
        if venue and _UNKNOWN.search(venue):
            venue = None
        after = tail[year_m.end() :] if year_m else ""
        if not book:
            vi = _VOL_ISSUE.search(after)
            if vi and not after[: vi.start()].strip(" ,，"):
                volume, issue = vi.group(1), vi.group(2)
            elif vm := _VOLUME.match(after.lstrip(",， ")):
                volume = vm.group(1)
        pg = _PAGES.search(after if year_m else tail)
        pages = re.sub(r"\s+", "", pg.group(1)).replace("，", ",") if pg else None
    return Reference(
        raw=raw,
        authors=_authors(authors_part),
        title=_clean(title) or None,
        venue=venue if venue and not venue.startswith("http") else None,
        year=int(year_m.group(1)) if year_m else None,
        volume=volume,
        issue=issue.strip() if issue else None,
        pages=pages,
        doi=next(iter(dois_in(raw)), None),
        patent_number=patent_number,
        type_code=code,
        language=_zh(title, venue),
    )


# --- CSSCI dotted ------------------------------------------------------------------------------------

# The separator dot: never followed by a space ("Library 4. 0"), never between digits ("2.0", "36625.5").
_SEP = re.compile(r"(?<!\d)\.(?!\s)|(?<=\d)\.(?!\d)(?!\s)")
# A Latin author whose initials end in a dot, then the separator: "Aittola,M..", "King,D.L..".
_LATIN_AUTHOR = re.compile(r"^([^.,\u3400-\u9fff]{1,60},[^,\u3400-\u9fff]{0,40}?)\.(?=\.)")
# Journal tail: ".2010.32(7)", ".2019.(6)", ".2012", ".2005.15".
_JOURNAL_TAIL = re.compile(
    r"\.(1[5-9]\d\d|20\d\d)(?:\.(?:([A-Z]?\d*(?:-[A-Z])?)\s*[(（]([^)）]*)[)）]|(\d+)))?\.?\s*$"
)
# Book, thesis, proceedings tail: ",2013", ",1999:184-197", ":ACM,2014:2155-2160".
_COMMA_TAIL = re.compile(r",\s*(1[5-9]\d\d|20\d\d)(?:[:：]\s*(\d+(?:\s*[-–]\s*\d+)?))?\s*$")
# An online-first journal citation with the issue but no year: ".图书馆建设.(12)".
_ISSUE_ONLY_TAIL = re.compile(r"\.(\d*)\s*[(（](\d{1,3})[)）]\s*$")
# A newspaper: ".科技日报.9.13(6)" is month.day(page), no year.
_NEWS_TAIL = re.compile(r"\.(\d{1,2})\.(\d{1,2})(?:\s*[(（](\d+)[)）])?\s*$")
# A patent cited by its number alone: "一种用于图书馆机器人的书本上架装置.CN202880264U".
_PATENT_TAIL = re.compile(r"\.([A-Z]{2}\d{6,}(?:\.\d)?[A-Z]\d?)\s*$")


def _split_fields(s: str) -> list[str]:
    out, start = [], 0
    for m in _SEP.finditer(s):
        out.append(s[start : m.start()])
        start = m.end()
    out.append(s[start:])
    return out


def parse_cssci(raw: str, text: str) -> Reference:
    """One CSSCI 【参考文献】 line, its list number already removed: `作者.题名.刊名.年.卷(期)`."""
    if not _SEP.search(text):
        return Reference(raw=raw)  # one field: author or title, the layout cannot say which
    if text.startswith("."):
        author, rest = "", text[1:]
    elif m := _LATIN_AUTHOR.match(text):
        author, rest = m.group(1) + ".", text[m.end() + 1 :]
    else:
        author, _, rest = text.partition(".")
    year: int | None = None
    volume = issue = pages = type_code = None
    if tm := _JOURNAL_TAIL.search(rest):
        year = int(tm.group(1))
        volume = tm.group(2) or tm.group(4) or None
        issue = (tm.group(3) or "").strip() or None
        rest = rest[: tm.start()]
    elif tm := _COMMA_TAIL.search(rest):
        year = int(tm.group(1))
        pages = re.sub(r"\s+", "", tm.group(2)) if tm.group(2) else None
        rest = rest[: tm.start()]
    elif tm := _NEWS_TAIL.search(rest):
        pages, type_code = tm.group(3), "N"
        rest = rest[: tm.start()]
    elif tm := _ISSUE_ONLY_TAIL.search(rest):
        volume, issue = tm.group(1) or None, tm.group(2)
        rest = rest[: tm.start()]
    elif tm := _PATENT_TAIL.search(text):
        # The list gives no inventor: the first field is the title.
        return Reference(
            raw=raw,
            title=_clean(text[: tm.start()]) or None,
            patent_number=tm.group(1),
            type_code="P",
            language=_zh(text),
        )
    fields = [f for f in _split_fields(rest.rstrip(".")) if f.strip()] or [""]
    title, venue = fields[0], None
    if len(fields) >= 2:
        title, venue = ".".join(fields[:-1]), fields[-1]
    if (
        venue
        and (pm := _PLACE_PUBLISHER.match(venue))
        and (_PUBLISHER_WORD.search(pm.group("publisher")) or _THESIS.search(title))
    ):
        venue = pm.group("publisher")
        type_code = None if pages else "M"  # pages after a publisher may be a proceedings paper
    if _THESIS.search(title):
        title, type_code = _THESIS.sub("", title), "D"
    elif sm := _STANDARD_NO.search(title):
        title, type_code = title[: sm.start()], "S"
    title, venue = _clean(title), _clean(venue or "")
    return Reference(
        raw=raw,
        authors=[_clean(author)] if _clean(author) else [],
        title=title or None,
        venue=venue or None,
        year=year,
        volume=volume,
        issue=issue,
        pages=pages,
        type_code=type_code,
        language=_zh(title, venue),
    )


def cssci_shaped(text: str) -> bool:
    """Whether a string (list number removed) has CSSCI's dotted layout: dots with no space after them
    between the fields, and a journal, book or proceedings tail."""
    if ". " in text or not _SEP.search(text):
        return False
    if any(p.search(text) for p in (_JOURNAL_TAIL, _COMMA_TAIL, _ISSUE_ONLY_TAIL, _NEWS_TAIL, _PATENT_TAIL)):
        return True
    fields = _split_fields(text.rstrip("."))
    pm = _PLACE_PUBLISHER.match(fields[-1])
    if pm and _PUBLISHER_WORD.search(pm.group("publisher")):
        return True
    # An online-first citation with neither year nor volume: "段美珍.题名.图书情报工作."
    return len(fields) == 3 and bool(_HAN.search(text)) and all(f.strip() for f in fields)

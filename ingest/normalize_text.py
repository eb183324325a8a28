"""Record-level text and identifier normalisation shared by the format parsers.

Everything here is a pure function of its input, so the same source value always normalises the same
way whatever format it arrived in (which is what keeps title+year+author IDs stable across formats).
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from urllib.parse import unquote

from mappings.analysis.normalize import fold

# Han ideographs (BMP, compatibility, extensions B-H) and 〇: the characters whose neighbours decide
# whether a half-width punctuation mark is really Chinese punctuation.
_HAN = "\u3007\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
_HAN_RE = re.compile(f"[{_HAN}]")
# Full-width brackets count as Chinese context too, so "（SP）." still ends a Chinese sentence.
_BEFORE = f"[{_HAN}）】」』》〉]"
_AFTER = f"[{_HAN}（【「『《〈]"
# For joining wrapped lines: CJK punctuation and full-width forms also mean "no space here".
_CJKISH = re.compile(f"[{_HAN}\u3000-\u303f\uff00-\uffef]")

_WS = re.compile(r"\s+")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b-\u200d\ufeff]")
_PAREN_PAIR = re.compile(r"\s*\(([^()]*)\)\s*")
_ASCII_MARKS = " .,;:?!"
_FULL = {",": "，", ";": "；", ":": "：", "?": "？", "!": "！"}
# Comma, semicolon and colon are Chinese when either neighbour is; two digits around a comma or colon
# (2,4-D; 1:2) never have a Han neighbour, so they are left alone by construction.
_SEP_AFTER_HAN = re.compile(f"(?<={_BEFORE})\\s*([,;:])\\s*")
_SEP_BEFORE_HAN = re.compile(f"\\s*([,;:])\\s*(?={_AFTER})")
# A full stop, question or exclamation mark is Chinese only when it closes Chinese text; "2.方法" (a
# numbered list) and "等..." (an ellipsis) stay as they are.
_STOP = re.compile(f"(?<={_BEFORE})\\s*\\.(?![.\\d])\\s*")
# In a title only a closing stop is rewritten: "医用电气设备.光电X射线影像增强器特性" is how the
# standard names itself, and GB/T 7714 records a title as its source gives it.
_FINAL_STOP = re.compile(f"(?<={_BEFORE})\\s*\\.\\s*$")
_QUERY = re.compile(f"(?<={_BEFORE})\\s*([?!])\\s*")


def has_cjk(s: str | None) -> bool:
    return bool(s) and _HAN_RE.search(s or "") is not None


def _repair_parens(s: str) -> str:
    def pair(m: re.Match[str]) -> str:
        inner = m.group(1)
        start, end = m.span()
        # The nearest characters outside decide, looking past spaces and a mark: "（SP）.方法".
        before = s[:start].rstrip(_ASCII_MARKS)[-1:]
        after = s[end:].lstrip(_ASCII_MARKS)[:1]
        if has_cjk(inner) or has_cjk(before) or has_cjk(after):
            return f"（{inner.strip()}）"
        return m.group(0)

    for _ in range(3):  # innermost pairs first; a converted pair lets its enclosing pair match next
        repaired = _PAREN_PAIR.sub(pair, s)
        if repaired == s:
            break
        s = repaired
    return s


def clean_text(s: str | None, *, title: bool = False) -> str:
    """NFKC, whitespace collapsed, half-width punctuation inside Chinese text made full-width
    (in a `title`, a full stop only where it closes the title)."""
    if not s:
        return ""
    s = unicodedata.normalize("NFKC", s)
    s = _CONTROL.sub("", s)
    s = _WS.sub(" ", s).strip()
    if not has_cjk(s):
        return s
    s = _repair_parens(s)
    s = _SEP_AFTER_HAN.sub(lambda m: _FULL[m.group(1)], s)
    s = _SEP_BEFORE_HAN.sub(lambda m: _FULL[m.group(1)], s)
    s = (_FINAL_STOP if title else _STOP).sub("。", s)
    return _QUERY.sub(lambda m: _FULL[m.group(1)], s)


def chinese_stops(s: str) -> str:
    """A full stop inside Chinese text as `clean_text` writes it outside titles: record IDs hash
    titles this way, so a title that keeps its "." keeps the ID it had before titles kept it."""
    return _STOP.sub("。", s) if has_cjk(s) else s


def clean_or_none(s: str | None, *, title: bool = False) -> str | None:
    return clean_text(s, title=title) or None


def tidy_title(s: str | None) -> str:
    """clean_text, minus the closing full stop MEDLINE and CABI put on every title."""
    title = clean_text(s, title=True)
    return title[:-1].rstrip() if title.endswith(".") and not title.endswith("..") else title


def join_lines(head: str, tail: str) -> str:
    """Join a hard-wrapped continuation line: no space where either side is Chinese."""
    head, tail = head.rstrip(), tail.strip()
    if not head or not tail:
        return head or tail
    if _CJKISH.match(head[-1]) or _CJKISH.match(tail[0]) or tail[0] in ",.;:)]":
        return head + tail
    return f"{head} {tail}"


def split_values(s: str | None) -> list[str]:
    """A ';'/'；'-joined list (CNKI keywords, names); empty pieces dropped."""
    return [p.strip() for p in re.split(r"[;；]", s or "") if p.strip()]


_DOI_PREFIX = re.compile(r"^(?:https?://)?(?:dx\.)?doi\.org/|^doi\s*[:：]\s*|^info:doi/", re.IGNORECASE)
_DOI_SHAPE = re.compile(r"^10\.\d{3,9}/\S+$")
_DOI_IN_TEXT = re.compile(r"\b(10\.\d{3,9}/[^\s\"<>]+)")


def normalize_doi(s: str | None) -> str | None:
    """Bare lowercase DOI ("10.xxxx/yyy") or None when the value is not one."""
    if not s:
        return None
    value = unicodedata.normalize("NFKC", s).strip()
    for _ in range(2):  # "doi: https://doi.org/10..." happens
        value = _DOI_PREFIX.sub("", value).strip()
    value = unquote(value).rstrip(".,;")
    value = value.lower()
    return value if _DOI_SHAPE.match(value) else None


def find_doi(text: str | None) -> str | None:
    """The first DOI inside free text or a URL (a CNKI link, a mixed citation)."""
    m = _DOI_IN_TEXT.search(unquote(text or ""))
    return normalize_doi(m.group(1)) if m else None


_DASHES = re.compile(r"[\u2010-\u2015\u2212\ufe58\ufe63\uff0d~～]+")
_STD_SPLIT = re.compile(r"^([A-Za-z]+(?:\d+(?=/))?(?:/[A-Za-z]+)*)\s*(\d.*)$")
_STD_SHAPE = re.compile(r"^[A-Z]+(?:\d+)?(?:/[A-Z]+)* \d+(?:\.\d+)*(?:[-:]\d{2,4})?$")


def normalize_standard_number(s: str) -> str:
    """Standard numbers in one form: "GB/T 7714—2015", "GB／T7714－2015" … -> "GB/T 7714-2015".

    Shapes that are not "CODE[/T] number[-year]" come back only tidied (dashes, spaces).
    """
    value = unicodedata.normalize("NFKC", s).strip()
    value = _DASHES.sub("-", value)
    value = re.sub(r"\s*([/:-])\s*", r"\1", value)
    value = _WS.sub(" ", value)
    m = _STD_SPLIT.match(value)
    if not m:
        return value
    return f"{m.group(1).upper()} {m.group(2)}"


def looks_like_standard_number(s: str | None) -> bool:
    return bool(s) and _STD_SHAPE.match(normalize_standard_number(s or "")) is not None


_PATENT_SHAPE = re.compile(r"^(?:ZL|[A-Z]{2})\s?\d{5,}(?:\.[\dX])?(?:[-\s]?[A-Z]\d?)?$")


def looks_like_patent_number(s: str | None) -> bool:
    return bool(s) and _PATENT_SHAPE.match(unicodedata.normalize("NFKC", s or "").strip().upper()) is not None


_YEAR = re.compile(r"(?<!\d)(1[5-9]\d\d|20\d\d|2100)(?!\d)")


def parse_year(s: str | None) -> int | None:
    """The first plausible year in a date-ish string ("2019-05-12", "FEB 2011", "2013年5月")."""
    m = _YEAR.search(unicodedata.normalize("NFKC", s or ""))
    return int(m.group(1)) if m else None


_MONTHS = {m: i for i, m in enumerate(("jan", "feb", "mar", "apr", "may", "jun",
                                        "jul", "aug", "sep", "oct", "nov", "dec"), 1)}  # fmt: skip
_YMD = re.compile(r"(?<!\d)(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})(?!\d)")
_MDY = re.compile(r"\b([a-z]{3})[a-z]*\.?\s+(\d{1,2}),?\s+(\d{4})\b", re.IGNORECASE)


def parse_date(s: str | None) -> date | None:
    """A full calendar date, or None when the string has less than year, month and day."""
    text = unicodedata.normalize("NFKC", s or "")
    m = _YMD.search(text)
    parts: tuple[int, int, int] | None = None
    if m:
        parts = (int(m.group(1)), int(m.group(2)), int(m.group(3)))
    else:
        m = _MDY.search(text)
        if m and m.group(1).lower() in _MONTHS:
            parts = (int(m.group(3)), _MONTHS[m.group(1).lower()], int(m.group(2)))
    if parts is None:
        return None
    try:
        return date(*parts)
    except ValueError:
        return None


_YM = re.compile(r"(?<!\d)(\d{4})\s*[-/.年]\s*(\d{1,2})(?!\d)")


def partial_date(s: str | None) -> str | None:
    """ "2000-11-20", "2013-09" or None: a date as precise as the string gives it, at least a month."""
    if full := parse_date(s):
        return full.isoformat()
    m = _YM.search(unicodedata.normalize("NFKC", s or ""))
    if m and 1 <= int(m.group(2)) <= 12:
        return f"{m.group(1)}-{int(m.group(2)):02d}"
    return None


def _expand_last_page(first: str, last: str) -> str:
    # "1865-76" means 1865-1876 (MEDLINE and many reference lists abbreviate the last page).
    if first.isdigit() and last.isdigit() and len(last) < len(first):
        return first[: len(first) - len(last)] + last
    return last


def _page(p: str) -> str:
    p = p.strip()
    return (p.lstrip("0") or p) if p.isdigit() else p


def normalize_pages(first: str | None, last: str | None = None) -> str | None:
    """Page ranges as "12-18", from ("12", "18") or "12－18"/"12—18"/"12~18"; "1865-76" expanded."""
    text = unicodedata.normalize("NFKC", first or "").strip()
    if not text:
        return None
    text = _DASHES.sub("-", text)
    text = re.sub(r"\s*-\s*", "-", text)
    if last and last.strip():
        end = _page(unicodedata.normalize("NFKC", last))
        start = _page(text)
        if end and end != start and "-" not in start:
            return f"{start}-{_expand_last_page(start, end)}"
        return start
    m = re.fullmatch(r"(\d+)-(\d+)", text)
    if m:
        start, end = _page(m.group(1)), _page(m.group(2))
        return start if start == end else f"{start}-{_expand_last_page(start, end)}"
    return _page(text)


def normalize_number(s: str | None) -> str | None:
    """Volume/issue: "07" -> "7" so the same issue matches across sources."""
    value = clean_text(s)
    if not value:
        return None
    return (value.lstrip("0") or "0") if value.isdigit() else value


_PARTICLES = {"van", "von", "der", "den", "de", "del", "della", "di", "da", "du",
              "la", "le", "dos", "das", "ter"}  # fmt: skip
_SUFFIXES = {"jr", "sr", "ii", "iii", "iv"}
_NAME_NOISE = re.compile(r"\([^)]*\)|\S+@\S+")


def _strip_accents(s: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", s) if not unicodedata.combining(c))


def _is_initials(token: str) -> bool:
    letters = re.sub(r"[.\-]", "", token)
    return 0 < len(letters) <= 3 and letters.isalpha() and letters.isupper()


def _initials(given: str) -> str:
    out = []
    for part in re.split(r"[\s.,\-]+", given):
        if not part or part.lower().rstrip(".") in _SUFFIXES:
            continue
        # "JA" / "JAF" (already initials, as in "Smith JA") contribute every letter.
        out.append(part if _is_initials(part) else part[0])
    return "".join(out)


def author_key(name: str | None) -> str:
    """A matching form: Chinese names folded without spaces; Western names as "surname initials"."""
    if not name:
        return ""
    s = _NAME_NOISE.sub(" ", unicodedata.normalize("NFKC", name)).strip()
    if has_cjk(s):
        return re.sub(r"\s+", "", fold(s))
    s = _strip_accents(s).replace("’", "").replace("'", "")
    if "," in s:
        surname, given = (p.strip() for p in s.split(",", 1))
    else:
        tokens = s.split()
        if not tokens:
            return ""
        if len(tokens) == 1:
            return tokens[0].lower()
        if _is_initials(tokens[-1]):  # "Smith JA", "LI W": surname first, initials last
            surname, given = " ".join(tokens[:-1]), tokens[-1]
        elif len(tokens[0]) > 1 and tokens[0].isalpha() and tokens[0].isupper() and not tokens[1].isupper():
            surname, given = tokens[0], " ".join(tokens[1:])  # "ZHANG Yin-ping"
        else:
            i = len(tokens) - 1
            while i > 1 and tokens[i - 1].lower() in _PARTICLES:
                i -= 1
            surname, given = " ".join(tokens[i:]), " ".join(tokens[:i])
    surname = _WS.sub(" ", surname.replace(".", " ")).strip().lower()
    return f"{surname} {_initials(given).lower()}".strip()

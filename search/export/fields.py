"""Read the fields every writer needs from a record dict (`Record.model_dump(mode="json")`).

Writers take plain dicts, not `Record` objects, because exports stream `_source` documents straight
from the index: validating 50,000 of them again would cost time and buy nothing. So every accessor
here tolerates a missing key, a None, a blank string or a value of the wrong type, and returns a
clean value or None; no writer ever prints "None".
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

RecordDict = Mapping[str, Any]


_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ebef]")
# Control characters break line-based formats and XML (XLSX); tab and newline are handled separately.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_LINE_BREAKS = re.compile(r"\s*[\r\n\u2028\u2029\x85\x0b\x0c]+\s*")
_SPACES = re.compile(r"[ \t\u00a0\u3000]+")


def has_cjk(value: str | None) -> bool:
    return bool(value) and _CJK.search(value or "") is not None


def clean(value: object) -> str | None:
    """One line of text: breaks and runs of spaces become one space; blank becomes None."""
    if value is None or isinstance(value, (dict, list, bool)):
        return None
    text = _CONTROL.sub("", str(value))
    text = _SPACES.sub(" ", _LINE_BREAKS.sub(" ", text)).strip()
    return text or None


def clean_block(value: object) -> str | None:
    """Like `clean`, but keeps line breaks (as \\n) for formats that can hold them (CSV, XLSX)."""
    if value is None or isinstance(value, (dict, list, bool)):
        return None
    text = _CONTROL.sub("", str(value).replace("\r\n", "\n").replace("\r", "\n"))
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    return "\n".join(line for line in lines if line) or None


def text(rec: RecordDict, *path: str) -> str | None:
    """`text(rec, "patent", "publication_number")`: the cleaned value at that path, or None."""
    value: Any = rec
    for key in path:
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return clean(value)


def strings(rec: RecordDict, *path: str) -> list[str]:
    """A list field (keywords, clc, funds, applicants …) with blanks dropped and duplicates removed."""
    value: Any = rec
    for key in path:
        if not isinstance(value, Mapping):
            return []
        value = value.get(key)
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        return []
    return list(dict.fromkeys(c for v in value if (c := clean(v))))


def _author_dicts(rec: RecordDict) -> list[Mapping[str, Any]]:
    raw = rec.get("authors")
    if not isinstance(raw, list):
        return []
    found = [(i, a) for i, a in enumerate(raw) if isinstance(a, Mapping) and clean(a.get("name"))]

    def order(item: tuple[int, Mapping[str, Any]]) -> tuple[int, int]:
        i, author = item
        o = author.get("order")
        return (o if isinstance(o, int) else 1_000_000 + i, i)

    return [a for _, a in sorted(found, key=order)]


def authors(rec: RecordDict) -> list[str]:
    """Author names in `order`; the model keeps order explicit, so list position is only a tie-break."""
    return [n for a in _author_dicts(rec) if (n := clean(a.get("name")))]


def corresponding_authors(rec: RecordDict) -> list[str]:
    return [n for a in _author_dicts(rec) if a.get("corresponding") is True and (n := clean(a.get("name")))]


def author_affiliations(rec: RecordDict) -> list[str | None]:
    """One affiliation (or None) per name in `authors(rec)`."""
    return [clean(a.get("affiliation")) for a in _author_dicts(rec)]


def affiliations(rec: RecordDict) -> list[str]:
    """Distinct affiliations in author order."""
    return list(dict.fromkeys(a for a in author_affiliations(rec) if a))


def year(rec: RecordDict) -> str | None:
    """The year as text; for a standard without one, the year of its issue date."""
    y = rec.get("year")
    if isinstance(y, int) and not isinstance(y, bool):
        return str(y)
    if (s := clean(y)) and s.isdigit():
        return s
    issued = text(rec, "standard", "issue_date")
    return issued[:4] if issued and issued[:4].isdigit() else None


def doc_type(rec: RecordDict) -> str:
    return clean(rec.get("doc_type")) or ""


def is_chinese(rec: RecordDict) -> bool:
    """Whether the entry is written in Chinese: `language` when set, else Chinese characters in the title."""
    lang = (clean(rec.get("language")) or "").lower()
    if lang:
        return lang.startswith(("zh", "chi", "zho", "cn")) or has_cjk(lang)
    return has_cjk(clean(rec.get("title")))


_RANGE = re.compile(r"^\s*([^-–—~]+?)\s*(?:--?|[–—~])\s*(.+?)\s*$")


def page_range(pages: str | None) -> tuple[str | None, str | None]:
    """("356", "362") from "356-362", "356--362" or "356–362"; (pages, None) when it is no range."""
    if not pages:
        return None, None
    m = _RANGE.match(pages)
    if not m:
        return pages, None
    return m.group(1), m.group(2)


def pages(rec: RecordDict) -> str | None:
    """Pages with a plain hyphen between first and last page, as GB/T 7714 writes them."""
    start, end = page_range(text(rec, "pages"))
    return f"{start}-{end}" if start and end else start


def doc_number(rec: RecordDict) -> str | None:
    """The number that identifies a patent, standard or report; None for other types."""
    kind = doc_type(rec)
    if kind == "patent":
        return text(rec, "patent", "publication_number") or text(rec, "patent", "application_number")
    if kind == "standard":
        return text(rec, "standard", "standard_number")
    if kind == "tech_report":
        return text(rec, "tech_report", "report_no")
    if kind == "report":
        return text(rec, "report", "report_no")
    return None


_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def full_date(rec: RecordDict, *path: str) -> str | None:
    """ "YYYY-MM-DD" from the field at `path` (a patent's publication date), else from the record's
    `date`; None when neither holds a full date."""
    for value in (text(rec, *path) if path else None, text(rec, "date")):
        if value and _ISO_DATE.match(value[:10]):
            return value[:10]
    return None


def publisher(rec: RecordDict) -> str | None:
    """The body that issued the document: a thesis's degree-granting university (`thesis.institution`;
    records from before that field keep it in `publisher` or `venue`), the organisation behind a
    report, else the publisher."""
    kind = doc_type(rec)
    if kind == "thesis":
        return text(rec, "thesis", "institution") or text(rec, "publisher") or text(rec, "venue")
    if kind == "tech_report":
        return text(rec, "tech_report", "organisation") or text(rec, "publisher")
    if kind == "report":
        return text(rec, "report", "institution") or text(rec, "publisher")
    return text(rec, "publisher")

"""WIPO ST.36 and EPO patent XML: `patent-document` (WIPO ST.36 publications, EPO/MAREC/CLEF-IP
documents with `ucid`, WIPO OCR full texts) and EPO OPS `fulltext-document`.

ST.36 is the standard USPTO's v4 DTDs were cut from, so the element names (document-id, parties,
patcit/nplcit) are the same; the differences handled here are multilingual titles, abstracts and
claims (the document's own language is the record's, English goes to `title_en`), the several
`format` renderings of one party list in EPO data, and citations from search reports with their X/Y/A
category. Gzipped files (`.xml.gz`, as EPO and MAREC ship them) are read as they stream.
"""

from __future__ import annotations

import gzip
import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from ingest.errors import RecordError
from ingest.formats._patent_numbers import (
    canonical_application_number,
    canonical_patent_number,
    classification_symbol,
    compact_date,
    compact_year,
    normalize_ipc,
)
from ingest.formats._patent_record import PatentFields
from ingest.formats._patent_xml import (
    DocumentTooLarge,
    PatentXml,
    flat,
    lines,
    path,
    text,
    xml_records,
)
from ingest.formats.xml_tree import Element, child, children, descendants, local
from ingest.normalize_text import find_doi, parse_year
from mappings.model import Record, Reference

NOT_ST36 = "文件不是 ST.36 / EPO 专利 XML"
_GZIP_MAGIC = b"\x1f\x8b"
_ROOTS = ("patent-document", "fulltext-document")
# EPO data lists each party several times, once per `format`; the fullest rendering wins.
_FORMAT_RANK = {"original": 0, "intermediate": 1, "epo": 2}
_IPCR_STRING = re.compile(r"^\s*([A-H]\d\d[A-Z])\s*(\d{1,4})\s*/\s*(\d+)")
# Parts of a search-report citation that are not the citation itself.
_CITATION_EXTRAS = frozenset({"rel-passage", "category", "rel-claims", "passage"})


def _lang(el: Element | None) -> str:
    if el is None:
        return ""
    value = el.get("lang") or el.get("{http://www.w3.org/XML/1998/namespace}lang") or ""
    return value.strip().lower()


def _in_language(elements: list[Element], lang: str) -> Element | None:
    """The element in `lang`, else the English one, else the first."""
    for wanted in (lang, "en"):
        for el in elements:
            if _lang(el) == wanted:
                return el
    return elements[0] if elements else None


def _best_format(elements: list[Element]) -> list[Element]:
    if not elements:
        return []
    best = min(_FORMAT_RANK.get(e.get("format") or "", 3) for e in elements)
    return [e for e in elements if _FORMAT_RANK.get(e.get("format") or "", 3) == best]


def _name(party: Element) -> str | None:
    book = child(party, "addressbook")
    book = party if book is None else book
    org = text(child(book, "orgname"))
    last, first = text(child(book, "last-name")), text(child(book, "first-name"))
    middle = text(child(book, "middle-name"))
    given = " ".join(p for p in (first, middle) if p)
    person = f"{last}, {given}" if last and given else last or given
    return org or person or text(child(book, "name"))


def _parties(parties: Element | None, group: str, member: str) -> list[Element]:
    return _best_format(children(child(parties, group), member))


def _is_inventor(applicant: Element) -> bool:
    # ST.36 spells the attribute both ways ("app-type", "apptype"), and the value "applicant-inventor".
    return "inventor" in (applicant.get("app-type") or applicant.get("apptype") or "")


def _names(parties: list[Element]) -> list[str]:
    return [n for p in parties if (n := _name(p))]


def _classifications(biblio: Element | None) -> tuple[list[str], list[str]]:
    def ipcr(el: Element) -> str | None:
        if child(el, "section") is not None:
            fields = (flat(child(el, n)) for n in ("section", "class", "subclass", "main-group", "subgroup"))
            return classification_symbol(*fields)
        # MAREC writes the whole IPCR record as one fixed-width string: "A61K  31/675  20060101AFI…".
        match = _IPCR_STRING.match(flat(el))
        return f"{match.group(1)} {int(match.group(2))}/{match.group(3)}" if match else None

    tech = child(biblio, "technical-data")
    holders = [h for h in (biblio, tech) if h is not None]
    ipc: list[str] = []
    cpc: list[str] = []
    for holder in holders:
        for old in children(holder, "classification-ipc"):
            ipc += [s for c in children(old, "main-classification", "further-classification")
                    if (s := normalize_ipc(flat(c)))]  # fmt: skip
        ipc += [s for c in descendants(child(holder, "classifications-ipcr"), "classification-ipcr")
                if (s := ipcr(c))]  # fmt: skip
        cpc += [s for c in descendants(child(holder, "classifications-cpc"), "classification-cpc")
                if (s := ipcr(c))]  # fmt: skip
    return ipc, cpc


def _citation(cited: Element, default_category: str | None) -> Reference:
    holder = cited.getparent()
    category = text(child(cited, "category")) or text(child(holder, "category")) or default_category
    if local(cited) == "nplcit":
        raw = text(cited, _CITATION_EXTRAS)
        return Reference(raw=raw, year=parse_year(raw), doi=find_doi(raw), category=category)
    doc = child(cited, "document-id")
    country, number, kind = (flat(child(doc, n)) for n in ("country", "doc-number", "kind"))
    name, when = text(child(doc, "name")), flat(child(doc, "date"))
    written = " ".join(p for p in (country, number, kind) if p) or cited.get("dnum") or ""
    extras = ", ".join(p for p in (name, when) if p)
    return Reference(
        raw=f"{written} ({extras})" if extras else written or None,
        authors=[name] if name else [],
        year=compact_year(when),
        patent_number=canonical_patent_number(number, country or None, kind or None)
        or canonical_patent_number(cited.get("dnum")),
        category=category,
    )


def _references(root: Element, description: Element | None) -> list[Reference]:
    references: list[Reference] = []
    biblio = child(root, "bibliographic-data")
    for holder in (biblio, child(root, "search-report-data")):
        references += [_citation(c, None) for c in descendants(holder, "patcit", "nplcit")]
    # Documents the applicant names in the description: the only citations many publications carry.
    references += [_citation(c, "cited in description") for c in descendants(description, "patcit", "nplcit")]
    return references


def _fields(root: Element) -> PatentFields:
    if local(root) == "fulltext-document":
        raise RecordError("缺少题名：EPO OPS 全文文档只有说明书，没有题名等著录项目")
    biblio = child(root, "bibliographic-data")
    if biblio is None:
        raise RecordError("缺少题名：文档没有著录项目（bibliographic-data），只有说明书和权利要求的全文")
    lang = _lang(root) or _lang(biblio) or "en"
    pub = path(biblio, "publication-reference", "document-id")
    app = path(biblio, "application-reference", "document-id")
    titles = children(biblio, "invention-title") or children(
        child(biblio, "technical-data"), "invention-title"
    )
    title = _in_language(titles, lang)
    english = next((t for t in titles if _lang(t) == "en"), None)
    parties = child(biblio, "parties")
    applicants = _parties(parties, "applicants", "applicant")
    descriptions = children(root, "description")
    description = _in_language(descriptions, lang)
    claims = _in_language(children(root, "claims"), _lang(description) or lang)
    ipc, cpc = _classifications(biblio)
    country = flat(child(pub, "country")) or root.get("country") or ""
    return PatentFields(
        title=text(title),
        title_en=text(english) if english is not None and english is not title else None,
        country=country,
        number=flat(child(pub, "doc-number")) or root.get("doc-number") or root.get("docnumber"),
        kind=flat(child(pub, "kind")) or root.get("kind"),
        application_number=canonical_application_number(flat(child(app, "doc-number")),
                                                        flat(child(app, "country")) or country),
        application_date=compact_date(flat(child(app, "date"))),
        publication_date=compact_date(flat(child(pub, "date")) or root.get("date")
                                      or root.get("date-published")),
        inventors=_names(_parties(parties, "inventors", "inventor") or [a for a in applicants if _is_inventor(a)]),
        applicants=_names([a for a in applicants if not _is_inventor(a)])
        + _names(_parties(parties, "assignees", "assignee")),
        ipc=ipc,
        cpc=cpc,
        abstract=text(_in_language(children(root, "abstract"), _lang(title) or lang)),
        full_text=lines(description, frozenset({"invention-title"})) + lines(claims),
        references=_references(root, description),
        language=(_lang(title) or lang)[:2] or None,
    )  # fmt: skip


_FORMAT = PatentXml(
    source="st36", builders=dict.fromkeys(_ROOTS, _fields), not_this=NOT_ST36, document="ST.36 / EPO 专利文献"
)


def parse_file(path: Path, *, now: datetime, version: int) -> Iterator[Record | RecordError]:
    """One Record per ST.36 / EPO patent document in the file; a RecordError for each that fails."""
    try:
        with path.open("rb") as fh:
            head = fh.read(4096)
    except OSError as exc:
        yield RecordError(f"无法读取文件：{exc.strerror or exc}")
        return
    if not head.strip():
        yield RecordError("文件为空")
        return
    try:
        if head.startswith(_GZIP_MAGIC):
            with gzip.open(path, "rb") as gz:
                yield from xml_records(gz, path, _FORMAT, now=now, version=version)  # type: ignore[arg-type]
        elif head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<"):
            with path.open("rb") as fh:
                yield from xml_records(fh, path, _FORMAT, now=now, version=version)
        else:
            yield RecordError(f"{NOT_ST36}：不是 XML")
    except (OSError, EOFError) as exc:  # a truncated or corrupt gzip stream
        yield RecordError(f"无法解压文件：{exc}")
    except DocumentTooLarge as exc:  # a gzip bomb, or one endless document
        yield RecordError(str(exc))

"""USPTO bulk patent data: v4.x grant and application XML, the 2001-2004 formats, and APS Green Book text.

Handled: `us-patent-grant` / `us-patent-application` (ICE DTD v4.0-v4.5, 2005 on), the 2001-2004
pre-grant publication XML (`patent-application-publication`), the 2001-2004 grant "SGML as XML"
(`PATDOC`, ST.32 `<B110>` tags) and the 1976-2001 APS "Green Book" fixed-field text (`PATN`).

A weekly bulk file is many XML documents one after another, each with its own `<?xml ...?>`
declaration and DOCTYPE: the file is read line by line and cut at each declaration, so only one patent
is held in memory at a time. The DTDs are never loaded; their entities (`&lsquo;`, `&minus;`) stay
entity nodes and are turned into characters by name (see `_patent_xml`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from functools import partial
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
from ingest.formats._patent_record import PatentFields, numbered_record
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
from ingest.normalize_text import clean_or_none, find_doi, parse_year
from mappings.model import Record, Reference

NOT_USPTO = "文件不是 USPTO 专利文献"
_BOM = b"\xef\xbb\xbf"


# --- shared pieces ----------------------------------------------------------------------------------


def _person(book: Element | None) -> str | None:
    """ "Last, First Middle" for a person; the organisation's name otherwise."""
    last = text(child(book, "last-name", "family-name"))
    given = " ".join(t for t in (text(child(book, "first-name", "given-name")),
                                 text(child(book, "middle-name"))) if t)  # fmt: skip
    suffix = text(child(book, "suffix"))
    if last or given:
        name = f"{last}, {given}" if last and given else last or given
        return f"{name}, {suffix}" if suffix else name
    return text(child(book, "orgname", "organization-name")) or text(child(book, "name"))


def _party(el: Element) -> str | None:
    book = child(el, "addressbook")
    book = el if book is None else book
    # The 2001 publications nest a person's parts in <name>; later DTDs put them in the addressbook.
    nested = child(book, "name")
    person = _person(nested) if nested is not None and len(nested) else _person(book)
    return text(child(book, "orgname", "organization-name")) or person


def _patcit(patcit: Element, category: str | None) -> Reference:
    doc = child(patcit, "document-id")
    country, number, kind = (flat(child(doc, n)) for n in ("country", "doc-number", "kind"))
    name, when = text(child(doc, "name")), flat(child(doc, "date"))
    canonical = canonical_patent_number(number, country or None, kind or None)
    raw = " ".join(p for p in (country, number, kind) if p)
    extras = ", ".join(p for p in (name, when) if p)
    return Reference(
        raw=clean_or_none(f"{raw} ({extras})" if extras else raw) or text(patcit),
        authors=[name] if name else [],
        year=compact_year(when),
        patent_number=canonical,
        category=category,
    )


def _nplcit(nplcit: Element, category: str | None) -> Reference:
    raw = text(nplcit)
    return Reference(raw=raw, year=parse_year(raw), doi=find_doi(raw), category=category)


def _citations(container: Element | None) -> list[Reference]:
    references: list[Reference] = []
    for citation in children(container, "us-citation", "citation"):
        category = text(child(citation, "category"))
        for cited in citation:
            if local(cited) == "patcit":
                references.append(_patcit(cited, category))
            elif local(cited) == "nplcit":
                references.append(_nplcit(cited, category))
    return references


# --- v4.x: us-patent-grant / us-patent-application --------------------------------------------------


def _v4_classifications(biblio: Element) -> tuple[list[str], list[str]]:
    def symbols(elements: list[Element]) -> list[str]:
        found = (
            classification_symbol(*(flat(child(c, n)) for n in ("section", "class", "subclass",
                                                                 "main-group", "subgroup")))
            for c in elements
        )  # fmt: skip
        return [s for s in found if s]

    ipc = symbols(descendants(child(biblio, "classifications-ipcr"), "classification-ipcr"))
    for old in children(biblio, "classification-ipc"):  # v4.0-v4.1: "G06F015/16" as written
        ipc += [s for c in children(old, "main-classification", "further-classification")
                if (s := normalize_ipc(flat(c)))]  # fmt: skip
    cpc = symbols(descendants(child(biblio, "classifications-cpc"), "classification-cpc"))
    return ipc, cpc


def _v4(root: Element) -> PatentFields:
    biblio = child(root, "us-bibliographic-data-grant", "us-bibliographic-data-application")
    if biblio is None:
        raise RecordError("缺少著录项目（us-bibliographic-data-grant/application）")
    pub = path(biblio, "publication-reference", "document-id")
    app = path(biblio, "application-reference", "document-id")
    parties = child(biblio, "us-parties", "parties")
    applicants = children(child(parties, "us-applicants", "applicants"), "us-applicant", "applicant")
    inventors = children(child(parties, "inventors"), "inventor") or children(
        child(biblio, "inventors"), "inventor"
    )
    if not inventors:  # v4.0-v4.2 list inventors as applicants of type "applicant-inventor"
        inventors = [a for a in applicants if "inventor" in (a.get("app-type") or "")]
    assignees = children(child(biblio, "assignees"), "assignee") or children(
        child(parties, "assignees"), "assignee"
    )
    ipc, cpc = _v4_classifications(biblio)
    return PatentFields(
        title=text(child(biblio, "invention-title")),
        country=flat(child(pub, "country")) or root.get("country"),
        number=flat(child(pub, "doc-number")),
        kind=flat(child(pub, "kind")),
        application_number=canonical_application_number(flat(child(app, "doc-number")),
                                                         flat(child(app, "country")) or "US"),
        application_date=compact_date(flat(child(app, "date"))),
        publication_date=compact_date(flat(child(pub, "date")) or root.get("date-publ")),
        inventors=[n for i in inventors if (n := _party(i))],
        applicants=[n for a in applicants + assignees
                    if "inventor" not in (a.get("app-type") or "") if (n := _party(a))],
        ipc=ipc,
        cpc=cpc,
        abstract=text(child(root, "abstract")),
        full_text=lines(child(root, "description")) + lines(child(root, "claims")),
        references=_citations(child(biblio, "us-references-cited", "references-cited")),
    )  # fmt: skip


# --- 2001-2004 pre-grant publications: patent-application-publication ------------------------------


def _pap(root: Element) -> PatentFields:
    biblio = child(root, "subdoc-bibliographic-information")
    if biblio is None:
        raise RecordError("缺少著录项目（subdoc-bibliographic-information）")
    pub = child(biblio, "document-id")
    filing = child(biblio, "domestic-filing-data")
    tech = child(biblio, "technical-information")
    inventors = children(child(biblio, "inventors"), "first-named-inventor", "inventor")
    ipc_el = child(tech, "classification-ipc")
    ipc = [s for c in descendants(ipc_el, "ipc") if (s := normalize_ipc(flat(c)))]
    return PatentFields(
        title=text(child(tech, "title-of-invention")),
        country="US",
        number=flat(child(pub, "doc-number")),
        kind=flat(child(pub, "kind-code")),
        application_number=canonical_application_number(
            flat(path(filing, "application-number", "doc-number")), "US"
        ),
        application_date=compact_date(flat(child(filing, "filing-date"))),
        publication_date=compact_date(flat(child(pub, "document-date"))),
        inventors=[n for i in inventors if (n := _person(child(i, "name")))],
        applicants=[n for a in children(biblio, "assignee") if (n := _party(a))],
        ipc=ipc,
        abstract=text(child(root, "subdoc-abstract"), frozenset({"heading"})),
        full_text=lines(child(root, "subdoc-description")) + lines(child(root, "subdoc-claims")),
    )


# --- 2001-2004 grants: PATDOC (ST.32 tags as XML) ---------------------------------------------------


def _pdat(el: Element | None, *steps: str) -> str:
    """The text below a chain of ST.32 tags, whatever PDAT/STEXT wrappers sit under it."""
    return flat(path(el, *steps))


def _st32_name(party: Element | None) -> str | None:
    nam = path(party, "PARTY-US", "NAM") if child(party, "PARTY-US") is not None else child(party, "NAM")
    org = text(child(nam, "ONM"))
    last, given = text(child(nam, "SNM")), text(child(nam, "FNM"))
    if last and given:
        return f"{last}, {given}"
    return org or last or given


def _st32_citations(b560: Element | None) -> list[Reference]:
    references: list[Reference] = []
    for cited in children(b560, "B561", "B562"):
        category = next(
            (local(m).lower().replace("-", " ") for m in cited if local(m).startswith("CITED-BY-")), None
        )
        if local(cited) == "B562":
            references.append(_nplcit(child(cited, "NCIT"), category))
            continue
        pcit = child(cited, "PCIT")
        doc = child(pcit, "DOC")
        number, kind, country = _pdat(doc, "DNUM"), _pdat(doc, "KIND"), _pdat(doc, "CTRY")
        name, when = _st32_name(pcit), _pdat(doc, "DATE")
        raw = " ".join(p for p in (country or "US", number, kind) if p)
        extras = ", ".join(p for p in (name, when) if p)
        references.append(
            Reference(
                raw=f"{raw} ({extras})" if extras else raw,
                authors=[name] if name else [],
                year=compact_year(when),
                patent_number=canonical_patent_number(number, country or "US", kind or None),
                category=category,
            )
        )
    return references


def _sgml(root: Element) -> PatentFields:
    biblio = child(root, "SDOBI")
    if biblio is None:
        raise RecordError("缺少著录项目（SDOBI）")
    b100, b200, b500 = child(biblio, "B100"), child(biblio, "B200"), child(biblio, "B500")
    b700 = child(biblio, "B700")
    # Design patents put their Locarno class ("1402") in B511: only IPC symbols (section A-H) are kept.
    ipc = [s for c in children(child(b500, "B510"), "B511", "B512")
           if (s := normalize_ipc(flat(c))) and s[0] in "ABCDEFGH"]  # fmt: skip
    return PatentFields(
        title=text(child(b500, "B540")),
        country=_pdat(b100, "B190") or "US",
        number=_pdat(b100, "B110", "DNUM"),
        kind=_pdat(b100, "B130"),
        application_number=canonical_application_number(_pdat(b200, "B210", "DNUM"), "US"),
        application_date=compact_date(_pdat(b200, "B220", "DATE")),
        publication_date=compact_date(_pdat(b100, "B140", "DATE")),
        inventors=[n for i in children(child(b700, "B720"), "B721") if (n := _st32_name(i))],
        applicants=[n for a in children(child(b700, "B730"), "B731") if (n := _st32_name(a))],
        ipc=ipc,
        abstract=text(child(root, "SDOAB")),
        full_text=lines(child(root, "SDODE")) + lines(child(root, "SDOCL")),
        references=_st32_citations(child(b500, "B560")),
    )


_FORMAT = PatentXml(
    source="uspto",
    builders={
        "us-patent-grant": _v4,
        "us-patent-application": _v4,
        "patent-application-publication": _pap,
        "PATDOC": _sgml,
    },
    not_this=NOT_USPTO,
    document="USPTO 专利文献",
    root_note="，不是 USPTO 专利 XML",
)


# --- files ------------------------------------------------------------------------------------------


def _sniff(head: bytes) -> str:
    body = head.lstrip(_BOM + b" \t\r\n")
    if not body:
        return "empty"
    if body.startswith(b"PK\x03\x04"):
        return "zip"
    if body.startswith(b"<"):
        return "xml"
    if re.match(rb"PATN\s", body) or body.startswith(b"HHHHHT"):
        return "greenbook"
    return "text"


def _xml_records(file: Path, now: datetime, version: int) -> Iterator[Record | RecordError]:
    with file.open("rb") as fh:
        yield from xml_records(fh, file, _FORMAT, now=now, version=version)


# --- 1976-2001 APS "Green Book" text ---------------------------------------------------------------

_GB_SECTION = re.compile(r"^[A-Z]{4}$")
_GB_FIELD = re.compile(r"^([A-Z][A-Z0-9]{2,3})\s+(.*)$")
# Text-bearing fields of the description and claim sections: paragraphs, headings, indented levels,
# the claims' "We claim:" statement and tables. NUM ("1.") repeats what the claim paragraph starts with.
_GB_TEXT = frozenset({"PAR", "PAC", "PAL", "PA0", "PA1", "PA2", "PA3", "PA4", "PA5", "STM", "TBL", "EQU"})
_GB_BODY = ("BSUM", "DRWD", "DETD", "CLMS", "DCLM")
# WKU series prefixes (design, reissue, plant, statutory invention registration) and their kind codes;
# a plain number is a utility grant, kind "A" before 2001.
_GB_KINDS = {"D": "S", "RE": "E", "PP": "P", "H": "H", "T": "I"}

GbSection = tuple[str, list[tuple[str, str]]]


def _gb_patents(file: Path) -> Iterator[tuple[int, list[GbSection]]]:
    """(first line, sections) per patent: each starts at a PATN line; continuation lines are indented."""
    sections: list[GbSection] = []
    start = 0
    with file.open("r", encoding="utf-8", errors="replace") as fh:
        for lineno, raw in enumerate(fh, 1):
            line = raw.rstrip("\r\n")
            if not line.strip():
                continue
            if line[0].isspace():
                if sections and sections[-1][1]:
                    tag, value = sections[-1][1][-1]
                    sections[-1][1][-1] = (tag, f"{value} {line.strip()}")
                continue
            head = line.strip()
            if _GB_SECTION.match(head):
                if head == "PATN":
                    if sections:
                        yield start, sections
                    sections, start = [], lineno
                sections.append((head, []))
            elif (match := _GB_FIELD.match(head)) and sections:
                sections[-1][1].append((match.group(1), match.group(2).strip()))
    if sections:
        yield start, sections


def _gb_field(fields: list[tuple[str, str]], tag: str) -> str:
    return next((value for t, value in fields if t == tag), "")


def _gb_name(value: str) -> str:
    # APS writes "Surname; Given": the comma form used for every other inventor here.
    return ", ".join(p.strip() for p in value.split(";") if p.strip())


def _gb_reference(section: str, fields: list[tuple[str, str]]) -> list[Reference]:
    if section == "OREF":
        return [_nplcit_text(value) for tag, value in fields if tag in _GB_TEXT]
    number, when, name = _gb_field(fields, "PNO"), _gb_field(fields, "ISD"), _gb_field(fields, "NAM")
    country = "US" if section == "UREF" else _gb_field(fields, "CNT")[:2]
    extras = ", ".join(p for p in (name, when) if p)
    return [
        Reference(
            raw=f"{country} {number} ({extras})" if extras else f"{country} {number}",
            authors=[name] if name else [],
            year=compact_year(when),
            patent_number=canonical_patent_number(number, country),
        )
    ]


def _nplcit_text(raw: str) -> Reference:
    return Reference(raw=clean_or_none(raw), year=parse_year(raw), doi=find_doi(raw))


def _gb_fields(sections: list[GbSection]) -> PatentFields:
    patn = sections[0][1]
    wku = _gb_field(patn, "WKU")
    number = wku[:-1] if len(wku) == 9 else wku  # the ninth character is a check digit
    series = number.rstrip("0123456789")
    apn, src = _gb_field(patn, "APN"), _gb_field(patn, "SRC")
    apn = apn[:-1] if len(apn) == 7 else apn  # likewise the seventh of an application number
    fields = PatentFields(
        title=clean_or_none(_gb_field(patn, "TTL")),
        country="US",
        number=number,
        kind=_GB_KINDS.get(series, "A" if not series else ""),
        application_number=canonical_application_number(src.zfill(2) + apn if src.isdigit() else apn, "US"),
        application_date=compact_date(_gb_field(patn, "APD")),
        publication_date=compact_date(_gb_field(patn, "ISD")),
    )
    abstract: list[str] = []
    for section, values in sections[1:]:
        if section == "INVT":
            fields.inventors.append(_gb_name(_gb_field(values, "NAM")))
        elif section == "ASSG":
            fields.applicants.append(_gb_name(_gb_field(values, "NAM")))
        elif section == "CLAS":
            fields.ipc += [s for tag, value in values if tag == "ICL" if (s := normalize_ipc(value))]
        elif section in ("UREF", "FREF", "OREF"):
            fields.references += _gb_reference(section, values)
        elif section == "ABST":
            abstract += [value for tag, value in values if tag in _GB_TEXT]
        elif section in _GB_BODY:
            fields.full_text += [t for tag, value in values if tag in _GB_TEXT if (t := clean_or_none(value))]
    fields.abstract = clean_or_none(" ".join(abstract))
    return fields


def _greenbook_records(file: Path, now: datetime, version: int) -> Iterator[Record | RecordError]:
    n = 0
    for start, sections in _gb_patents(file):
        n += 1
        fields = partial(_gb_fields, sections)
        yield numbered_record(
            n, start, fields, source="uspto", file_name=file.name, now=now, version=version
        )
    if n == 0:
        yield RecordError(f"{NOT_USPTO}：APS Green Book 文本中没有 PATN 记录")


def parse_file(path: Path, *, now: datetime, version: int) -> Iterator[Record | RecordError]:
    """One Record per patent document in a USPTO bulk file; a RecordError for each that fails."""
    try:
        with path.open("rb") as fh:
            head = fh.read(4096)
    except OSError as exc:
        yield RecordError(f"无法读取文件：{exc.strerror or exc}")
        return
    kind = _sniff(head)
    if kind == "empty":
        yield RecordError("文件为空")
    elif kind == "zip":
        yield RecordError(
            f"{NOT_USPTO}：ZIP 压缩包（如 XML4IP 申请档案包，只有摘要、权利要求、说明书片段，"
            "没有题名和著录项目），请解压后导入其中的专利 XML"
        )
    elif kind == "greenbook":
        yield from _greenbook_records(path, now, version)
    elif kind == "text":
        snippet = head.lstrip(_BOM + b" \t\r\n")[:30].decode("utf-8", "replace").split("\n")[0]
        yield RecordError(f"{NOT_USPTO}：既不是 XML 也不是 APS Green Book 文本（开头为 “{snippet}”）")
    else:
        try:
            yield from _xml_records(path, now, version)
        except DocumentTooLarge as exc:
            yield RecordError(str(exc))

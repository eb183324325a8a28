"""GROBID TEI: full-text output (header, body, parsed references) and GROBID's own training files.

What a file becomes:
- GROBID output (`<TEI>` with a `teiHeader/fileDesc` naming the paper; `<teiCorpus>` of them): one Record
  per document. Title, authors with affiliations, venue, year, DOI, ISSN, publisher from the header's
  `sourceDesc/biblStruct`; abstract and keywords from `profileDesc`; `text/body` whitespace-collapsed into
  `full_text`; `listBibl` entries into `references`.
- GROBID header-reference training data (`*.header-reference.xml`, `*.header.reference.xml`): the tagged
  citation line printed in a paper's own header. It is the paper itself, so it becomes a Record when it
  names the paper (a `level="a"` title); most only give the journal and are rejected with that reason.
- GROBID citation training data (a `listBibl` of tagged `<bibl>` with no document header): the reference
  list of some unnamed paper. The cited works are not documents this source supplies, so the file is
  rejected with one RecordError saying what it is.

Raw versus structured references. GROBID keeps the reference as printed in `note[@type="raw_reference"]`
and its parse in the `biblStruct` fields; the parse is sometimes wrong (author names shifted across
PDF hyphenation, a year taken from a page range). The raw string is the ground truth, so a structured
value is kept only when the raw string bears it out (compared on letters and digits, case and accents
folded, so "in- terventions" still matches "interventions"):
- title: dropped when it does not occur in the raw string;
- year: when missing or not in the raw string, the raw string's year is used if the raw string holds
  exactly one year, else there is none;
- authors: unless every name occurs in the raw string written the same way (all forenames-then-surname
  or all surname-then-forenames, initials allowed), the whole list is dropped: a list shifted by one
  name is wrong as a whole, not name by name;
- DOI: when it does not occur in the raw string, the raw string's DOI (or none) replaces it.
References without a raw string (consolidated against Crossref) keep every structured value.

Author names: a record's authors are "Surname, Forenames" (as the JATS parser writes them), so the
surname stays unambiguous; a reference's authors are "Forenames Surname", as cited, because the record
page joins them with commas. Chinese names are surname and given name run together.

XML is parsed with lxml, DTDs never loaded, entities never expanded, the network never touched. Two
quirks of real files are tolerated rather than reported: GROBID's training files carry `xml:id="0"`
(not a valid NCName), and a file may use HTML entities (`&lsquo;`) without declaring them.
"""

from __future__ import annotations

import html.entities
import re
import unicodedata
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from lxml import etree
from pydantic import ValidationError

from ingest.errors import RecordError, reason
from ingest.formats import xml_safe
from ingest.formats.xml_safe import syntax_error
from ingest.identity import record_id
from ingest.normalize_text import (
    author_key,
    clean_or_none,
    clean_text,
    find_doi,
    has_cjk,
    normalize_doi,
    normalize_number,
    normalize_pages,
    parse_year,
    tidy_title,
)
from mappings.model import Author, DocType, Record, Reference

Element = Any  # lxml is untyped

MAX_FILE_BYTES = 200_000_000
SOURCE = "grobid"

# Elements that sit inside running text: no space is put around them when flattening. Everything else
# is a block or a field and is set off by spaces, so "<forename>Ivan</forename><surname>" stays apart.
_INLINE = frozenset({"hi", "ref", "emph", "foreign", "num", "measure", "unit"})
_BODY_SKIP = frozenset({"table"})  # cell grids are numbers without their layout; captions are kept
_TOLERATED = frozenset({"DTD_XMLID_VALUE"})
_ISSN = re.compile(r"^(\d{4})-?(\d{3}[\dX])$")
_YEARS = re.compile(r"(?<!\d)(1[5-9]\d\d|20\d\d)(?!\d)")
_HEADER_REFERENCE_NAME = re.compile(r"header[._-]reference", re.IGNORECASE)
_XML_DECL = re.compile(rb"^(\xef\xbb\xbf)?\s*(<\?xml[^>]*\?>)?")
_ENCODING_DECL = re.compile(rb"^\s*<\?xml[^>]*encoding\s*=", re.IGNORECASE)
_INITIALS = re.compile(r"^(?:[A-Z][a-z]?\.?\s*-?\s*)+$")
_NAME_JOINERS = re.compile(r"\s+(?:and|et|und|&)\s+(?!al\b)|;", re.IGNORECASE)
_ET_AL = re.compile(r"\bet\s*al\.?$|^al\.?$", re.IGNORECASE)


# --- reading the XML --------------------------------------------------------------------------------


def _decoded(data: bytes) -> bytes:
    """UTF-8 bytes for lxml: undeclared non-UTF-8 input is taken as GB18030 (GBK's superset)."""
    if data.startswith((b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")) or _ENCODING_DECL.match(data):
        return data  # the file says what it is; lxml honours that
    try:
        data.decode("utf-8")
        return data
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030").encode("utf-8")
    except UnicodeDecodeError:
        raise RecordError("文件编码无法识别：不是 UTF-8，也不是 GBK/GB18030，且没有声明编码") from None


def _with_external_subset(data: bytes) -> bytes:
    # With an external DTD named (and never loaded), libxml2 treats undeclared entities as possibly
    # defined there: they stay entity nodes instead of ending the parse. Inserted on the declaration's
    # line so error line numbers still match the file.
    m = _XML_DECL.match(data)
    end = m.end() if m else 0
    return data[:end] + b'<!DOCTYPE TEI SYSTEM "grobid-tei.dtd">' + data[end:]


def _syntax_error(exc: etree.XMLSyntaxError) -> RecordError:
    line = f"第 {exc.lineno} 行" if exc.lineno else "文件"
    return RecordError(syntax_error(line, exc.msg))


def _parse_xml(data: bytes) -> Element:
    parser = xml_safe.parser(recover=False)
    try:
        return etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        # The parser's own log: the exception's may still hold errors of earlier parses in this thread.
        kinds = {e.type_name for e in parser.error_log if e.level_name in ("ERROR", "FATAL")}
        if kinds and kinds <= _TOLERATED:
            # The only complaint is a non-NCName xml:id; recovering from it loses nothing.
            return etree.fromstring(data, xml_safe.parser(recover=True))
        if "ERR_UNDECLARED_ENTITY" in kinds and b"<!DOCTYPE" not in data[:4096]:
            try:
                return etree.fromstring(_with_external_subset(data), xml_safe.parser(recover=False))
            except etree.XMLSyntaxError as retry:
                raise _syntax_error(retry) from None
        raise _syntax_error(exc) from None


def _load(path: Path) -> Element:
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise RecordError(f"文件过大（{size} 字节，上限 {MAX_FILE_BYTES}）")
    data = path.read_bytes()
    if not data.strip():
        raise RecordError("文件为空")
    head = data.lstrip(b"\xef\xbb\xbf \t\r\n")
    if not head.startswith(b"<") and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        looks = "JSON" if head.startswith((b"{", b"[")) else "纯文本，例如一行一条的引文列表"
        raise RecordError(f"文件不是 GROBID TEI XML（不是 XML，看起来是{looks}）")
    return _parse_xml(_decoded(data))


# --- element helpers --------------------------------------------------------------------------------


def _local(el: Element) -> str:
    tag = el.tag
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _children(el: Element | None, *names: str) -> list[Element]:
    return [] if el is None else [c for c in el if _local(c) in names]


def _child(el: Element | None, *names: str) -> Element | None:
    return next(iter(_children(el, *names)), None)


def _all(el: Element | None, name: str) -> list[Element]:
    return [] if el is None else list(el.iter("{*}" + name))


def _entity_char(node: Element) -> str:
    # Looked up by name only: a document cannot give a declared entity its own (possibly huge) text.
    return html.entities.html5.get(f"{node.name};", " ")


def _flatten(el: Element | None, skip: frozenset[str] = frozenset(), *, tagged: bool = False) -> str:
    """The element's text, inline markup run together and every other element set off by spaces.

    `tagged`: a training `<bibl>`, whose field tags sit in the printed text with the separators
    outside them, so every tag is inline (a line break still is a space).
    """
    if el is None:
        return ""
    parts: list[str] = []

    def walk(node: Element) -> None:
        parts.append(node.text or "")
        for child in node:
            if isinstance(child, etree._Entity):
                parts.append(_entity_char(child))
            elif isinstance(child.tag, str) and (name := _local(child)) not in skip:
                spaced = name == "lb" or not (tagged or name in _INLINE)
                parts.append(" " if spaced else "")
                walk(child)
                parts.append(" " if spaced else "")
            parts.append(child.tail or "")

    walk(el)
    return " ".join("".join(parts).split())


def _text(el: Element | None, skip: frozenset[str] = frozenset()) -> str | None:
    return clean_or_none(_flatten(el, skip))


def _fold(s: str | None) -> str:
    """Letters and digits only, case and accents folded: what raw and structured values are compared on."""
    decomposed = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", s or "")).casefold()
    return "".join(c for c in decomposed if c.isalnum())


# --- names and affiliations -------------------------------------------------------------------------


def _name_parts(pers: Element) -> tuple[str, str]:
    """(surname, forenames) of a persName; roleName ("Dr") and genName are not part of the name."""
    surname = clean_text(" ".join(_flatten(s) for s in _children(pers, "surname")))
    forenames = clean_text(" ".join(_flatten(f) for f in _children(pers, "forename")))
    if not surname and not forenames:
        return clean_text(_flatten(pers, frozenset({"roleName"}))), ""
    return surname, forenames


def _record_name(pers: Element) -> str:
    surname, forenames = _name_parts(pers)
    if has_cjk(surname + forenames):
        return surname + forenames
    return f"{surname}, {forenames}" if surname and forenames else surname or forenames


def _cited_name(pers: Element) -> str:
    surname, forenames = _name_parts(pers)
    if has_cjk(surname + forenames):
        return surname + forenames
    return f"{forenames} {surname}".strip()


def _affiliation_text(aff: Element) -> str | None:
    # Newer GROBID keeps the affiliation as printed; that beats its own re-assembly.
    raw = next((n for n in _children(aff, "note") if n.get("type") == "raw_affiliation"), None)
    if raw is not None and (text := _text(raw, frozenset({"label"}))):
        return text
    parts = [t for o in _children(aff, "orgName") if (t := _text(o))]
    address = _child(aff, "address")
    parts += [t for a in _children(address, "settlement", "region", "country") if (t := _text(a))]
    return clean_or_none(", ".join(dict.fromkeys(parts))) or _text(aff, frozenset({"note", "label"}))


def _authors(analytic: Element | None) -> list[Author]:
    authors: list[Author] = []
    orphans: list[str] = []  # affiliations GROBID found but could not tie to a name
    for author in _children(analytic, "author"):
        affs = [t for a in _children(author, "affiliation") if (t := _affiliation_text(a))]
        pers = _child(author, "persName")
        name = _record_name(pers) if pers is not None else None
        if not name:
            orphans.extend(affs)
            continue
        affs = list(dict.fromkeys(affs))
        authors.append(
            Author(
                name=name,
                affiliation=affs[0] if affs else None,
                affiliations=affs,
                order=len(authors) + 1,
                corresponding=author.get("role") == "corresp",
            )
        )
    distinct = list(dict.fromkeys(orphans))
    # One unattached affiliation and nobody else's: the paper's only affiliation is everyone's.
    if len(distinct) == 1 and not any(a.affiliations for a in authors):
        for a in authors:
            a.affiliation, a.affiliations = distinct[0], distinct
    return authors


# --- bibliographic fields shared by the header and the references -----------------------------------


def _titles(el: Element | None, level: str) -> list[Element]:
    return [t for t in _children(el, "title") if t.get("level") == level]


def _main_title(el: Element | None, level: str) -> str | None:
    """The full title at a level: GROBID adds the journal's abbreviation as a second `title`."""
    titles = _titles(el, level)
    ranked = sorted(titles, key=lambda t: (t.get("type") == "abbrev", t.get("type") != "main"))
    return next((text for t in ranked if (text := clean_text(_flatten(t), title=True))), None)


def _work_title(el: Element | None, level: str) -> str | None:
    """A cited or described work's title, without the closing full stop a venue name keeps ("Res.")."""
    return tidy_title(_main_title(el, level)) or None


def _meeting(monogr: Element | None) -> str | None:
    meeting = _child(monogr, "meeting")
    # GROBID leaves the "Proc." it cut off as ". of the …" / "the …": keep the name only.
    text = _text(meeting, frozenset({"address"}))
    return clean_or_none(re.sub(r"^[.,;:\s]+(?:of\s+)?(?:the\s+)?", "", text or "")) if text else None


def _scope(imprint: Element | None, *units: str) -> Element | None:
    return next(
        (b for b in _children(imprint, "biblScope") if (b.get("unit") or b.get("type")) in units), None
    )


def _pages(imprint: Element | None) -> str | None:
    scope = _scope(imprint, "page", "pp", "pages")
    if scope is None:
        return None
    if scope.get("from") or scope.get("to"):
        return normalize_pages(scope.get("from") or scope.get("to"), scope.get("to"))
    return normalize_pages(_flatten(scope))


def _date_year(imprint: Element | None) -> int | None:
    dates = _children(imprint, "date")
    dates.sort(key=lambda d: d.get("type") != "published")
    return next((y for d in dates if (y := parse_year(d.get("when") or _flatten(d)))), None)


def _idnos(el: Element | None, *kinds: str) -> list[str]:
    wanted = {k.casefold() for k in kinds}
    return [_flatten(i) for i in _all(el, "idno") if (i.get("type") or "").casefold() in wanted]


def _doi(el: Element | None) -> str | None:
    return next((d for v in _idnos(el, "DOI") if (d := normalize_doi(v))), None)


def _issns(el: Element | None) -> list[str]:
    out = []
    for value in _idnos(el, "ISSN", "eISSN", "ISSNe", "pISSN", "ISSNp"):
        m = _ISSN.match(clean_text(value).upper())
        if m:
            out.append(f"{m.group(1)}-{m.group(2)}")
    return list(dict.fromkeys(out))


# --- references -------------------------------------------------------------------------------------


def _names_in_raw(people: list[Element], raw_key: str) -> bool:
    """Whether every name occurs in the raw string, all written forename-first or all surname-first.

    One order for the whole list: a list shifted by one name ("Quoc V Le, Mohammad Norouzi" parsed as
    "V Quoc", "Mohammad Le") can still match name by name if each may pick its own order.
    """
    fore_first, sur_first = [], []
    for pers in people:
        surname, forenames = _name_parts(pers)
        sur, fore = _fold(surname), _fold(forenames)
        initials = "".join(w[0] for w in re.split(r"[\s.\-]+", forenames) if w).casefold()
        fore_first.append(any(k in raw_key for k in {fore + sur, initials + sur}))
        sur_first.append(any(k in raw_key for k in {sur + fore, sur + initials}))
    return all(fore_first) or all(sur_first)


def _years_in(raw: str) -> list[int]:
    return list(dict.fromkeys(int(y) for y in _YEARS.findall(unicodedata.normalize("NFKC", raw))))


def _trust_raw(fields: dict[str, Any], people: list[Element], raw: str | None) -> dict[str, Any]:
    """Structured values the raw string does not bear out are dropped or replaced (module docstring)."""
    if not raw:
        return fields
    key = _fold(raw)
    if fields["title"] and _fold(fields["title"]) not in key:
        fields["title"] = None
    years = _years_in(raw)
    if fields["year"] not in years:  # wrong, or missing: the raw string's only year, if it has one
        fields["year"] = years[0] if len(years) == 1 else None
    if not _names_in_raw(people, key):
        fields["authors"] = []
    if fields["doi"] and _fold(fields["doi"]) not in key:
        fields["doi"] = find_doi(raw)
    return fields


def _struct_reference(bs: Element) -> Reference:
    analytic = _child(bs, "analytic")
    monogr = _child(bs, "monogr")
    imprint = _child(monogr, "imprint")
    holder = analytic if _children(analytic, "author") else monogr
    people: list[Element] = []
    authors: list[str] = []
    for author in _children(holder, "author"):
        pers = _child(author, "persName")
        if pers is not None:
            people.append(pers)
            name = _cited_name(pers)
        else:
            name = clean_text(_flatten(_child(author, "orgName")))  # a corporate author
        if name:
            authors.append(name)
    article = _work_title(analytic, "a")
    book = _work_title(monogr, "m")
    journal = _main_title(monogr, "j")
    title: str | None
    if article:
        title, venue = article, journal or book or _meeting(monogr)
    else:
        # No part title: a book (or report, thesis) is the cited work itself; a bare journal is a venue.
        title, venue = book, journal or _main_title(monogr, "s")
    raw = _text(next((n for n in _children(bs, "note") if n.get("type") == "raw_reference"), None))
    fields: dict[str, Any] = {
        "title": title,
        "authors": authors,
        "year": _date_year(imprint),
        "doi": _doi(bs) or find_doi(raw),
    }
    fields = _trust_raw(fields, people, raw)
    return Reference(
        raw=raw,
        venue=venue,
        volume=normalize_number(_flatten(_scope(imprint, "volume", "vol"))),
        issue=normalize_number(_flatten(_scope(imprint, "issue"))),
        pages=_pages(imprint),
        **fields,
    )


def _split_names(text: str) -> list[str]:
    """Names from a training `<author>` string: "Suarez, P.A., Pereira, M.S." -> two names."""
    names: list[str] = []
    for piece in (p.strip(" ,.") for chunk in _NAME_JOINERS.split(text) for p in chunk.split(",")):
        if not piece or _ET_AL.search(piece):
            continue
        # "Surname, Initials": an initials-only piece belongs to the lone surname before it.
        if names and _INITIALS.match(piece) and " " not in names[-1] and not _INITIALS.match(names[-1]):
            names[-1] = f"{names[-1]}, {piece}."
        else:
            names.append(piece)
    return names


def _bibl_fields(bibl: Element) -> dict[str, Any]:
    """Fields of a tagged `<bibl>` (GROBID training data and some GROBID output): the tags are the parse."""
    raw = clean_or_none(_flatten(bibl, tagged=True))
    authors = [n for a in _children(bibl, "author") for n in _split_names(_flatten(a, tagged=True))]
    article = _work_title(bibl, "a")
    venue = _main_title(bibl, "j") or _main_title(bibl, "m") or _main_title(bibl, "s")
    if not article and _titles(bibl, "m") and not _titles(bibl, "j"):
        article, venue = _work_title(bibl, "m"), _main_title(bibl, "s")
    return {
        "raw": raw,
        "authors": authors,
        "title": article,
        "venue": venue,
        "journal": _main_title(bibl, "j"),
        "year": _date_year(bibl),
        "volume": normalize_number(_flatten(_scope(bibl, "volume", "vol"))),
        "issue": normalize_number(_flatten(_scope(bibl, "issue"))),
        "pages": _pages(bibl),
        "doi": _doi(bibl) or find_doi(raw),
    }


def _references(text: Element | None) -> list[Reference]:
    references: list[Reference] = []
    for list_bibl in _all(text, "listBibl"):
        for entry in list_bibl:
            name = _local(entry)
            if name == "biblStruct":
                references.append(_struct_reference(entry))
            elif name == "bibl":
                fields = _bibl_fields(entry)
                fields.pop("journal")
                references.append(Reference(**fields))
    return references


# --- the document record ----------------------------------------------------------------------------


def _abstract(profile: Element | None) -> str | None:
    abstract = _child(profile, "abstract")
    if abstract is None:
        return None
    parts = []
    for block in _children(abstract, "div") or [abstract]:
        head = _text(_child(block, "head"))
        body = _text(block, frozenset({"head"}))
        if body:
            parts.append(f"{head.rstrip(':：')}: {body}" if head else body)
    return clean_or_none(" ".join(parts))


def _keywords(profile: Element | None) -> list[str]:
    words: list[str] = []
    for group in _all(profile, "keywords"):
        terms = _children(group, "term")
        if terms:
            words += [t for term in terms if (t := _text(term))]
        else:  # older GROBID: one string, separated as printed
            words += [w.strip() for w in re.split(r"[;,·•；，]", _flatten(group)) if w.strip()]
    return list(dict.fromkeys(clean_text(w) for w in words if clean_text(w)))


def _funds(title_stmt: Element | None, back: Element | None) -> list[str]:
    funds = [t for f in _children(title_stmt, "funder") if (t := _text(f))]
    funds += [
        t for d in _all(back, "div") if d.get("type") == "funding" if (t := _text(d, frozenset({"head"})))
    ]
    return list(dict.fromkeys(funds))


def _doc_type(monogr: Element | None) -> DocType:
    if _titles(monogr, "j"):
        return DocType.journal_article
    if _child(monogr, "meeting") is not None:
        return DocType.conference_paper
    return DocType.other


def _language(tei: Element, header: Element, text: Element | None) -> str | None:
    xml_lang = "{http://www.w3.org/XML/1998/namespace}lang"
    lang = header.get(xml_lang) or (text.get(xml_lang) if text is not None else None) or tei.get(xml_lang)
    return lang.lower().split("-")[0] if lang else None


def _document_fields(tei: Element) -> dict[str, Any]:
    header = _child(tei, "teiHeader")
    file_desc = _child(header, "fileDesc")
    title_stmt = _child(file_desc, "titleStmt")
    pub_stmt = _child(file_desc, "publicationStmt")
    bs = _child(_child(file_desc, "sourceDesc"), "biblStruct")
    analytic, monogr = _child(bs, "analytic"), _child(bs, "monogr")
    imprint = _child(monogr, "imprint")
    profile = _child(header, "profileDesc")
    text = _child(tei, "text")
    title = (
        _work_title(title_stmt, "a")
        or tidy_title(_flatten(_child(title_stmt, "title")))
        or _work_title(analytic, "a")
        or _work_title(monogr, "m")
    )
    return {
        "title": title,
        "authors": _authors(analytic),
        "abstract": _abstract(profile),
        "keywords": _keywords(profile),
        "venue": _main_title(monogr, "j")
        or _meeting(monogr)
        or (_main_title(monogr, "m") if analytic is not None else None),
        "year": _date_year(imprint) or _date_year(pub_stmt),
        "volume": normalize_number(_flatten(_scope(imprint, "volume", "vol"))),
        "issue": normalize_number(_flatten(_scope(imprint, "issue"))),
        "pages": _pages(imprint),
        "doi": _doi(bs),
        "issn": _issns(monogr),
        "isbn": list(dict.fromkeys(clean_text(v) for v in _idnos(monogr, "ISBN", "ISBN13", "ISBN10"))),
        "publisher": _text(_child(pub_stmt, "publisher")) or _text(_child(imprint, "publisher")),
        "language": _language(tei, header, text),
        "funds": _funds(title_stmt, _child(text, "back")),
        "references": _references(text),
        "full_text": _text(_child(text, "body"), _BODY_SKIP),
        "doc_type": _doc_type(monogr),
    }


def _record(fields: dict[str, Any], *, source_id: str, now: datetime, version: int) -> Record:
    title = fields["title"]
    if not title:
        raise RecordError("缺少题名")
    authors: list[Author] = fields["authors"]
    rid = record_id(
        title=title,
        year=fields["year"],
        doi=fields["doi"],
        first_author=author_key(authors[0].name) if authors else None,
    )
    try:
        return Record(
            id=rid, source=SOURCE, source_id=fields["doi"] or source_id, ingested_at=now, version=version,
            **fields,
        )  # fmt: skip
    except ValidationError as exc:
        raise RecordError(reason(exc)) from None


# --- GROBID training files --------------------------------------------------------------------------


def _header_reference_fields(bibls: list[Element]) -> dict[str, Any]:
    """The paper a header-reference file cites as itself, from its first line that names it."""
    for bibl in bibls:
        fields = _bibl_fields(bibl)
        if fields["title"] and _titles(bibl, "a"):
            journal = fields.pop("journal")
            fields.pop("raw")
            names = fields.pop("authors")
            fields["authors"] = [Author(name=n, order=i) for i, n in enumerate(names, 1)]
            fields["doc_type"] = DocType.journal_article if journal else DocType.other
            return fields
    raise RecordError("GROBID 题录引文训练语料：引文没有文献题名（只有刊名、卷期或会议名），不能成为题录")


def _training_file(
    root: Element, path: Path, *, now: datetime, version: int
) -> Iterator[Record | RecordError]:
    bibls = _all(root, "bibl")
    if _HEADER_REFERENCE_NAME.search(path.name) and bibls:
        try:
            yield _record(_header_reference_fields(bibls), source_id=path.name, now=now, version=version)
        except (RecordError, ValidationError) as exc:
            yield exc if isinstance(exc, RecordError) else RecordError(reason(exc))
        return
    yield RecordError(f"文件是 GROBID 引文训练语料（{len(bibls)} 条标注引文），不含文献题录")


# --- entry point ------------------------------------------------------------------------------------


def _is_document(tei: Element) -> bool:
    file_desc = _child(_child(tei, "teiHeader"), "fileDesc")
    return _child(file_desc, "titleStmt") is not None or _child(file_desc, "sourceDesc") is not None


def parse_file(path: Path, *, now: datetime, version: int) -> Iterator[Record | RecordError]:
    """One Record per GROBID TEI document in the file; RecordErrors for what cannot be one."""
    try:
        root = _load(path)
    except (RecordError, ValidationError) as exc:
        yield exc if isinstance(exc, RecordError) else RecordError(reason(exc))
        return
    name = _local(root)
    if name == "teiCorpus":
        documents = _children(root, "TEI")
    elif name in ("TEI", "tei") and _is_document(root):
        documents = [root]
    elif name in ("TEI", "tei", "citations") and _all(root, "bibl"):
        yield from _training_file(root, path, now=now, version=version)
        return
    else:
        yield RecordError(f"文件不是 GROBID TEI XML（根元素是 <{name or root.tag}>，没有 teiHeader 题录）")
        return
    if not documents:
        yield RecordError("teiCorpus 中没有 TEI 文档")
    for n, tei in enumerate(documents, 1):
        try:
            fields = _document_fields(tei)
            source_id = path.name if len(documents) == 1 else f"{path.name}#{n}"
            yield _record(fields, source_id=source_id, now=now, version=version)
        except (RecordError, ValidationError) as exc:
            yield RecordError(f"第 {n} 篇文档：{reason(exc)}")

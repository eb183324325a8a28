"""Tagged exports for reference managers: RIS, EndNote, RefWorks, NoteExpress and BibTeX.

Written by hand rather than with rispy / bibtexparser: rispy's writer needs a sized list (it counts
the references first) and so cannot stream 50,000 records; bibtexparser 2 writes a whole `Library`
at once and leaves LaTeX escaping to another dependency (pylatexenc). Both formats are a few lines
per field. The tests read our output back with rispy and bibtexparser, so the syntax is still checked
by independent parsers.

Tag choices follow what analysts' tools exchange today: the CNKI and Wanfang exports (whose shapes
ingest/formats/tagged.py reads back), the RIS 2011 type list, EndNote's tag table, and Zotero's
RIS mapping for the non-journal types (SN = patent/report number, PB = assignee/institution/
university, T2 = conference name). Every value is one line: line breaks inside an abstract would
start a new tag, so they become spaces.

Choices worth knowing:
* NoteExpress journal fields are {Journal} and {Issue}, as CNKI and Wanfang write them (not the
  EndNote-style {Secondary Title} / {Number}); a conference's name goes in {Secondary Title}.
* RefWorks' reference types include no Standard: standards go out as Generic, number in SN.
* Conference papers are "Conference Proceedings" (EndNote, RefWorks, NoteExpress) and CONF (RIS),
  as CNKI's 会议论文 are papers published in proceedings.
* Authors are never deduplicated: two authors may share a name.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from search.export.fields import (
    RecordDict,
    affiliations,
    authors,
    doc_number,
    doc_type,
    page_range,
    pages,
    publisher,
    strings,
    text,
    year,
)
from search.export.names import is_corporate, surname


@dataclass(frozen=True)
class _Style:
    """One tagged format: its type names and the tag for each semantic field (absent = not written)."""

    types: dict[str, str]
    fallback_type: str
    line: Callable[[str, str], str]
    tags: dict[str, str]
    type_tag: str
    end: str | None = None  # closing line, if the format has one
    joined: frozenset[str] = frozenset()  # fields written once, values joined with "; "


def _ris_line(tag: str, value: str) -> str:
    return f"{tag}  - {value}"


_RIS = _Style(
    types={"journal_article": "JOUR", "thesis": "THES", "conference_paper": "CONF", "patent": "PAT",
           "standard": "STAND", "tech_report": "RPRT", "report": "RPRT", "book": "BOOK", "book_chapter": "CHAP",
           "newspaper_article": "NEWS", "webpage": "ELEC"},
    fallback_type="GEN",
    line=_ris_line,
    type_tag="TY",
    end="ER  - ",
    tags={"title": "TI", "title_en": "TT", "author": "AU", "affiliation": "AD", "journal": "JO",
          "proceedings": "T2", "year": "PY", "volume": "VL", "issue": "IS", "start_page": "SP",
          "end_page": "EP", "number": "SN", "publisher": "PB", "doi": "DO", "keyword": "KW",
          "abstract": "AB", "language": "LA", "place": "CY", "edition": "ET", "supervisor": "A3",
          "editor": "A2", "host": "T2", "newspaper": "JO", "date": "DA", "url": "UR"},
    joined=frozenset({"publisher"}),
)  # fmt: skip

_ENDNOTE = _Style(
    types={"journal_article": "Journal Article", "thesis": "Thesis",
           "conference_paper": "Conference Proceedings", "patent": "Patent", "standard": "Standard",
           "tech_report": "Report", "report": "Report", "book": "Book", "book_chapter": "Book Section",
           "newspaper_article": "Newspaper Article", "webpage": "Web Page"},
    fallback_type="Generic",
    line=lambda tag, value: f"%{tag} {value}",
    type_tag="0",
    # %@ is "ISBN/ISSN", which EndNote's Patent type labels Patent Number; %N is the report number.
    tags={"title": "T", "title_en": "Q", "author": "A", "affiliation": "+", "journal": "J",
          "proceedings": "B", "year": "D", "volume": "V", "issue": "N", "pages": "P",
          "patent_number": "@", "number": "N", "publisher": "I", "doi": "R", "keyword": "K",
          "abstract": "X", "language": "G", "place": "C", "edition": "7", "supervisor": "Y",
          "editor": "E", "host": "B", "newspaper": "J", "date": "8", "url": "U"},
    joined=frozenset({"keyword", "publisher"}),
)  # fmt: skip

_REFWORKS = _Style(
    types={"journal_article": "Journal Article", "thesis": "Dissertation/Thesis",
           # RefWorks has no standard type of its own; CNKI writes "Standard", and so do we.
           "conference_paper": "Conference Proceedings", "patent": "Patent", "standard": "Standard",
           "tech_report": "Report", "report": "Report", "book": "Book, Whole", "book_chapter": "Book, Section",
           "newspaper_article": "Newspaper Article", "webpage": "Web Page"},
    fallback_type="Generic",
    line=lambda tag, value: f"{tag} {value}",
    type_tag="RT",
    tags={"title": "T1", "author": "A1", "affiliation": "AD", "journal": "JF", "proceedings": "T2",
          "year": "YR", "volume": "VO", "issue": "IS", "start_page": "SP", "end_page": "OP",
          "number": "SN", "publisher": "PB", "keyword": "K1", "abstract": "AB", "doi": "DO",
          "language": "LA", "clc": "CL", "fund": "FU", "place": "PP", "edition": "ED", "supervisor": "A3",
          "editor": "A2", "host": "T2", "newspaper": "JF", "date": "FD", "url": "LK"},
    joined=frozenset({"affiliation", "keyword", "publisher", "clc", "fund"}),
)  # fmt: skip

_NOTEEXPRESS = _Style(
    types={"journal_article": "Journal Article", "thesis": "Thesis",
           "conference_paper": "Conference Proceedings", "patent": "Patent", "standard": "Standard",
           "tech_report": "Report", "report": "Report", "book": "Book", "book_chapter": "Book Section",
           "newspaper_article": "Newspaper Article", "webpage": "Web Page"},
    fallback_type="Generic",
    line=lambda tag, value: f"{{{tag}}}: {value}",
    type_tag="Reference Type",
    tags={"title": "Title", "title_en": "Translated Title", "author": "Author",
          "affiliation": "Author Address", "journal": "Journal", "proceedings": "Secondary Title",
          "year": "Year", "volume": "Volume", "issue": "Issue", "pages": "Pages",
          "patent_number": "Patent Number", "standard_number": "Standard Number",
          "number": "Report Number", "publisher": "Publisher", "assignee": "Assignee",
          "keyword": "Keywords", "abstract": "Abstract", "doi": "DOI", "language": "Language",
          "fund": "Fund", "place": "Place Published", "edition": "Edition", "supervisor": "Tertiary Author",
          "editor": "Secondary Author", "host": "Secondary Title", "newspaper": "Journal", "date": "Date",
          "url": "URL"},
    joined=frozenset({"keyword", "assignee", "fund"}),
)  # fmt: skip


def _fields(rec: RecordDict) -> Iterator[tuple[str, str]]:
    """(semantic field, value) pairs in export order; a style maps the fields it knows to tags."""
    kind = doc_type(rec)
    for key in ("title", "title_en"):
        if value := text(rec, key):
            yield key, value
    for name in authors(rec):
        yield "author", name
    for aff in affiliations(rec):
        yield "affiliation", aff
    if kind in ("book_chapter", "conference_paper"):
        for name in strings(rec, "editors"):
            yield "editor", name
    if kind == "thesis" and (supervisor := text(rec, "thesis", "supervisor")):
        for name in split_names(supervisor):
            yield "supervisor", name
    if venue := text(rec, "venue"):
        venue_field = {"journal_article": "journal", "conference_paper": "proceedings", "book_chapter": "host",
                       "webpage": "host", "newspaper_article": "newspaper"}.get(kind)  # fmt: skip
        if venue_field:
            yield venue_field, venue
    for key, value in (("year", year(rec)), ("volume", text(rec, "volume")), ("issue", text(rec, "issue"))):
        if value:
            yield key, value
    if p := pages(rec):
        start, end = page_range(p)
        yield "pages", p
        if start:
            yield "start_page", start
        if end:
            yield "end_page", end
    if number := doc_number(rec):
        specific = {"patent": "patent_number", "standard": "standard_number"}.get(kind)
        yield (specific, number) if specific else ("number", number)
    if body := publisher(rec):
        yield "publisher", body
    if place := text(rec, "place"):
        yield "place", place
    if edition := text(rec, "edition"):
        yield "edition", edition
    if kind in ("newspaper_article", "webpage") and (date := text(rec, "date")):
        yield "date", date
    if kind == "webpage" and (url := text(rec, "url")):
        yield "url", url
    for applicant in strings(rec, "patent", "applicants"):
        yield "assignee", applicant
    for key, values in (("keyword", strings(rec, "keywords")), ("clc", strings(rec, "clc")),
                        ("fund", strings(rec, "funds"))):  # fmt: skip
        for value in values:
            yield key, value
    for key in ("doi", "abstract", "language"):
        if value := text(rec, key):
            yield key, value


# Where a style has no specific tag, a more general one carries the value.
_FALLBACKS = {"patent_number": "number", "standard_number": "number", "assignee": "publisher"}


def split_names(value: str) -> list[str]:
    """A thesis's supervisors, stored as one string joined with "；"."""
    return [n.strip() for n in re.split(r"[;；]", value) if n.strip()]


def _entry(rec: RecordDict, style: _Style) -> str:
    kind = doc_type(rec)
    lines = [style.line(style.type_tag, style.types.get(kind, style.fallback_type))]
    grouped: dict[str, list[str]] = {}
    order: list[str] = []
    for field, value in _fields(rec):
        tag = style.tags.get(field) or style.tags.get(_FALLBACKS.get(field, ""))
        if not tag:
            continue
        if tag not in grouped:
            order.append(tag)
        grouped.setdefault(tag, []).append(value)
    joined_tags = {style.tags[f] for f in style.joined if f in style.tags}
    for tag in order:
        values = grouped[tag]
        if tag in joined_tags:
            lines.append(style.line(tag, "; ".join(values)))
        else:
            lines.extend(style.line(tag, v) for v in values)
    if style.end:
        lines.append(style.end)
    return "\n".join(lines) + "\n\n"


def _writer(style: _Style) -> Callable[[Iterable[RecordDict]], Iterator[str]]:
    def write(records: Iterable[RecordDict]) -> Iterator[str]:
        for rec in records:
            yield _entry(rec, style)

    return write


write_ris = _writer(_RIS)
write_endnote = _writer(_ENDNOTE)
write_refworks = _writer(_REFWORKS)
write_noteexpress = _writer(_NOTEEXPRESS)


# ---- BibTeX -------------------------------------------------------------------------------------

_BIBTEX_TYPES = {"journal_article": "article", "thesis": "phdthesis", "conference_paper": "inproceedings",
                 "patent": "patent", "standard": "standard", "tech_report": "techreport", "report": "techreport",
                 "book": "book", "book_chapter": "incollection", "newspaper_article": "article",
                 "webpage": "online"}  # fmt: skip
_TEX_SPECIAL = {
    "\\": r"\textbackslash{}",
    "{": r"\{",
    "}": r"\}",
    "%": r"\%",
    "&": r"\&",
    "#": r"\#",
    "$": r"\$",
    "_": r"\_",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
}
_TEX_RE = re.compile("|".join(re.escape(c) for c in _TEX_SPECIAL))


def tex(value: str) -> str:
    """Text safe inside a braced BibTeX field: braces and LaTeX specials escaped, so every field's
    braces balance whatever the source text holds."""
    return _TEX_RE.sub(lambda m: _TEX_SPECIAL[m.group(0)], value)


def _bib_name(name: str) -> str:
    # A body in an extra pair of braces is one "last name"; " and " inside it would split it.
    if is_corporate(name) or re.search(r"\band\b", name, re.IGNORECASE):
        return "{" + tex(name) + "}"
    return tex(name)


def bibtex_key(rec: RecordDict) -> str:
    """Stable across exports: first author's Latin surname + year + 10 hex digits of the record id.
    Chinese names give no ASCII surname (no pinyin table here), so those keys start with "ref".
    40 bits of hash keep collisions in a 50,000-record export at about one in a thousand exports."""
    first = next(iter(authors(rec)), "")
    base = re.sub(r"[^a-z]", "", surname(first).lower()) or "ref"
    identity = text(rec, "id") or f"{text(rec, 'title')}|{year(rec)}|{first}"
    digest = hashlib.sha1(identity.encode("utf-8")).hexdigest()[:10]
    return f"{base}{year(rec) or ''}_{digest}"


def _bib_fields(rec: RecordDict) -> Iterator[tuple[str, str]]:
    kind = doc_type(rec)
    names = authors(rec)
    applicants = strings(rec, "patent", "applicants")
    if not names and kind == "patent":
        names = applicants
    if not names and kind in ("tech_report", "report") and (org := publisher(rec)):
        names = [org]
    if names:
        yield "author", " and ".join(_bib_name(n) for n in names)
    if title := text(rec, "title"):
        yield "title", tex(title)
    venue_field = {"journal_article": "journal", "newspaper_article": "journal", "conference_paper": "booktitle",
                   "book_chapter": "booktitle"}.get(kind)  # fmt: skip
    if venue_field and (venue := text(rec, "venue")):
        yield venue_field, tex(venue)
    if (editors := strings(rec, "editors")) and kind in ("book_chapter", "conference_paper"):
        yield "editor", " and ".join(_bib_name(n) for n in editors)
    if body := publisher(rec):
        field = {"thesis": "school", "tech_report": "institution", "report": "institution"}.get(
            kind, "publisher"
        )
        yield field, tex(body)
    if kind == "thesis" and (supervisor := text(rec, "thesis", "supervisor")):
        # BibTeX has no field for a supervisor: BibTeX ignores an unknown field, bibtexparser keeps it.
        yield "supervisor", " and ".join(_bib_name(n) for n in split_names(supervisor))
    if place := text(rec, "place"):
        yield "address", tex(place)
    if edition := text(rec, "edition"):
        yield "edition", tex(edition)
    if applicants and kind == "patent":
        yield "holder", " and ".join(_bib_name(a) for a in applicants)
    for key, value in (("year", year(rec)), ("volume", text(rec, "volume")), ("number", text(rec, "issue"))):
        if value:
            yield key, tex(value)
    if number := doc_number(rec):
        yield "number", tex(number)
    if p := pages(rec):
        yield "pages", tex(p.replace("-", "--", 1) if "--" not in p else p)
    if doi := text(rec, "doi"):
        yield "doi", re.sub(r"[{}\\]", "", doi)  # biblatex reads doi verbatim: escapes would stay in it
    if keywords := strings(rec, "keywords"):
        yield "keywords", tex(", ".join(keywords))
    for key in ("abstract", "language"):
        if value := text(rec, key):
            yield key, tex(value)


def write_bibtex(records: Iterable[RecordDict]) -> Iterator[str]:
    """One @type{key, field = {value}, …} block per record."""
    for rec in records:
        kind = _BIBTEX_TYPES.get(doc_type(rec), "misc")
        body = "".join(f"  {k} = {{{v}}},\n" for k, v in _bib_fields(rec))
        yield f"@{kind}{{{bibtex_key(rec)},\n{body}}}\n\n"

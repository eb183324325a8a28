"""Saved OAI-PMH responses: ListRecords and GetRecord pages with oai_dc, marcxml or arXiv metadata.

A response is read with `xml_safe.iterparse`; each OAI <record> is mapped when it ends and then cleared, so a
large ListRecords page never sits in memory whole. `parse_stream` is shared with the harvester
(ingest/oai_harvest.py), which also needs the page's resumptionToken and OAI error codes: they are
collected in a `PageInfo` as the page is read.

- Deleted records (header status="deleted") are not yielded: there is nothing to index.
- OAI errors (<error code="badResumptionToken">, noRecordsMatch …) and malformed XML become
  RecordErrors; records read before a syntax error still come out.
- Responses to other verbs (Identify, ListSets, ListIdentifiers …) hold no records and say so.
- source is "oai:<repositoryIdentifier>": taken from OAI identifiers of the form
  "oai:arXiv.org:1101.4388"; otherwise the host of the request's base URL; otherwise "oai".
- Metadata: oai_dc (Dublin Core), MARCXML (mapped by ingest.formats.marc) and arXiv's own format.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

from lxml import etree
from pydantic import ValidationError

from ingest.errors import RecordError, reason
from ingest.formats import marc, xml_safe
from ingest.identity import record_id
from ingest.normalize_text import (
    author_key,
    clean_or_none,
    clean_text,
    find_doi,
    has_cjk,
    normalize_doi,
    parse_year,
    tidy_title,
)
from mappings.model import Author, DocType, Record

Element = Any  # lxml is untyped

OAI_NS = "http://www.openarchives.org/OAI/2.0/"
DC_NS = "http://purl.org/dc/elements/1.1/"
ARXIV_NS = "http://arxiv.org/OAI/arXiv/"
_RECORD_PARENTS = {"ListRecords", "GetRecord"}
_OTHER_VERBS = {"Identify", "ListSets", "ListMetadataFormats", "ListIdentifiers"}
_OAI_ID = re.compile(r"^oai:([^:]+):.+$", re.IGNORECASE)
_DATESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z)?$")
# dc:type words -> DocType, checked in this order against the lowercased value.
_DC_TYPES = (
    ("thesis", DocType.thesis), ("dissertation", DocType.thesis), ("doctoral", DocType.thesis),
    ("conference", DocType.conference_paper), ("proceeding", DocType.conference_paper),
    ("patent", DocType.patent), ("book chapter", DocType.other), ("book", DocType.book),
    ("article", DocType.journal_article), ("journal", DocType.journal_article),
)  # fmt: skip
_LANGS = {"eng": "en", "chi": "zh", "zho": "zh", "dut": "nl", "nld": "nl", "ger": "de", "deu": "de",
          "fre": "fr", "fra": "fr", "jpn": "ja", "spa": "es", "rus": "ru"}  # fmt: skip


@dataclass
class PageInfo:
    """What a response says about itself, filled in while it is read."""

    verb: str | None = None
    base_url: str | None = None
    resumption_token: str | None = None
    complete_list_size: int | None = None
    error_codes: list[str] = field(default_factory=list)
    records: int = 0  # OAI <record> elements seen, deleted ones included
    deleted: int = 0


def _local(el: Element) -> str:
    tag = el.tag
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _namespace(el: Element) -> str:
    tag = el.tag
    return tag[1:].split("}", 1)[0] if isinstance(tag, str) and tag.startswith("{") else ""


def _text(el: Element | None) -> str:
    if el is None:
        return ""
    return clean_text(marc.plain_text(el))


def _children(el: Element | None, name: str) -> list[Element]:
    return [] if el is None else [c for c in el if _local(c) == name]


def _child(el: Element | None, name: str) -> Element | None:
    found = _children(el, name)
    return found[0] if found else None


def source_name(identifier: str, base_url: str | None) -> str:
    m = _OAI_ID.match(identifier)
    if m:
        return f"oai:{m.group(1)}"
    host = urlsplit(base_url or "").hostname
    return f"oai:{host}" if host else "oai"


# --- metadata formats ------------------------------------------------------------------------------


def _finish(fields: dict[str, Any], *, now: datetime, version: int) -> Record:
    title = fields.get("title")
    if not title:
        raise RecordError("缺少题名")
    authors: list[Author] = fields.get("authors", [])
    try:
        return Record(
            id=record_id(
                title=title,
                year=fields.get("year"),
                doi=fields.get("doi"),
                first_author=author_key(authors[0].name) if authors else None,
            ),
            ingested_at=now,
            version=version,
            **fields,
        )
    except ValidationError as exc:
        raise RecordError(reason(exc)) from None


def _people(names: list[str]) -> list[Author]:
    unique = list(dict.fromkeys(n for n in names if n))
    return [Author(name=n, order=i) for i, n in enumerate(unique, 1)]


def _dc_type(types: list[str]) -> DocType:
    for value in (t.lower() for t in types):
        for word, doc_type in _DC_TYPES:
            if word in value:
                return doc_type
    return DocType.other


def _dc_language(values: list[str]) -> str | None:
    for value in values:
        code = re.split(r"[_-]", value.strip().lower())[0]
        if code and code.isalpha() and code not in ("other", "und", "mul"):
            return _LANGS.get(code, code) if len(code) in (2, 3) else None
    return None


def _dc_record(dc: Element, base: dict[str, Any], *, now: datetime, version: int) -> Record:
    def values(name: str) -> list[str]:
        return [t for el in dc if _namespace(el) == DC_NS and _local(el) == name if (t := _text(el))]

    # Titles uncleaned: tidy_title keeps a "." between Chinese words that clean_text would rewrite.
    titles = [t for el in dc if _namespace(el) == DC_NS and _local(el) == "title" if (t := tidy_title(marc.plain_text(el)))]
    title = titles[0] if titles else None
    title_en = next((t for t in titles[1:] if has_cjk(title) and not has_cjk(t)), None)
    identifiers = values("identifier")
    doi = next((d for i in identifiers if (d := normalize_doi(i) or find_doi(i))), None)
    years = [y for d in values("date") if (y := parse_year(d))]
    # DSpace lists the same person as creator and contributor; contributors count only without creators.
    authors = _people(values("creator") or values("contributor"))
    return _finish(
        {
            **base,
            "doc_type": _dc_type(values("type")),
            "title": title,
            "title_en": title_en,
            "authors": authors,
            # Repositories repeat the abstract in a second dc:description.
            "abstract": clean_or_none(" ".join(dict.fromkeys(values("description")))),
            "keywords": list(dict.fromkeys(values("subject"))),
            # The earliest date is the issue date; later ones are repository accession stamps.
            "year": min(years) if years else None,
            "doi": doi,
            "publisher": next(iter(values("publisher")), None),
            "url": next((i for i in identifiers if i.startswith(("http://", "https://"))), None),
            "language": _dc_language(values("language")),
        },
        now=now,
        version=version,
    )


def _arxiv_author(author: Element) -> Author | None:
    keyname, forenames = _text(_child(author, "keyname")), _text(_child(author, "forenames"))
    suffix = _text(_child(author, "suffix"))
    name = f"{keyname}, {forenames}" if keyname and forenames else keyname or forenames
    if not name:
        return None
    affiliations = [t for a in _children(author, "affiliation") if (t := _text(a))]
    return Author(
        name=f"{name} {suffix}".strip(),
        affiliation=affiliations[0] if affiliations else None,
        affiliations=affiliations,
        order=1,
    )


def _arxiv_record(meta: Element, base: dict[str, Any], *, now: datetime, version: int) -> Record:
    authors = [a for el in _children(_child(meta, "authors"), "author") if (a := _arxiv_author(el))]
    for i, author in enumerate(authors, 1):
        author.order = i
    arxiv_id = _text(_child(meta, "id"))
    doi = normalize_doi(_text(_child(meta, "doi")).split()[0] if _text(_child(meta, "doi")) else None)
    journal_ref = clean_or_none(_text(_child(meta, "journal-ref")))
    return _finish(
        {
            **base,
            # Published versions carry a DOI or journal-ref; the rest are preprints.
            "doc_type": DocType.journal_article if doi or journal_ref else DocType.other,
            "title": tidy_title(_text(_child(meta, "title"))),
            "authors": authors,
            "abstract": clean_or_none(_text(_child(meta, "abstract"))),
            "category": clean_or_none(_text(_child(meta, "categories"))),
            "venue": journal_ref,
            "year": parse_year(_text(_child(meta, "created"))),
            "doi": doi,
            "url": f"https://arxiv.org/abs/{arxiv_id}" if arxiv_id else None,
            "language": "en",
        },
        now=now,
        version=version,
    )


def _record(
    record: Element, info: PageInfo, *, source: str | None, now: datetime, version: int
) -> Record | None:
    header = _child(record, "header")
    identifier = _text(_child(header, "identifier"))
    if header is not None and header.get("status") == "deleted":
        info.deleted += 1
        return None
    if not identifier:
        raise RecordError("记录头缺少 identifier")
    metadata = _child(record, "metadata")
    payload = next((c for c in metadata if isinstance(c.tag, str)), None) if metadata is not None else None
    if payload is None:
        raise RecordError(f"{identifier}：缺少 metadata")
    name = source or source_name(identifier, info.base_url)
    base: dict[str, Any] = {"source": name, "source_id": identifier}
    if marc.is_marc_record(payload):
        try:
            return marc.record_from_element(
                payload, source=name, source_id=identifier, now=now, version=version
            )
        except (RecordError, ValidationError) as exc:
            raise RecordError(f"{identifier}：{reason(exc)}") from None
    kind = _local(payload)
    try:
        if kind == "dc":
            return _dc_record(payload, base, now=now, version=version)
        if kind == "arXiv" and _namespace(payload) in (ARXIV_NS, ""):
            return _arxiv_record(payload, base, now=now, version=version)
    except (RecordError, ValidationError) as exc:
        raise RecordError(f"{identifier}：{reason(exc)}") from None
    raise RecordError(f"{identifier}：不支持的元数据格式 {payload.tag}")


# --- responses -------------------------------------------------------------------------------------


def _on_error(el: Element, info: PageInfo) -> RecordError:
    code = el.get("code") or "unknown"
    info.error_codes.append(code)
    message = _text(el)
    return RecordError(f"OAI-PMH 错误 {code}" + (f"：{message}" if message else ""))


def _on_token(el: Element, info: PageInfo) -> None:
    info.resumption_token = _text(el) or None
    size = el.get("completeListSize") or ""
    info.complete_list_size = int(size) if size.isdigit() else None


def _on_identify(el: Element) -> RecordError:
    stamp = _text(_child(el, "earliestDatestamp"))
    if stamp and not _DATESTAMP.match(stamp):
        return RecordError(f"Identify 响应的 earliestDatestamp 无效：{stamp}")
    return RecordError("Identify 响应不含记录（需要 ListRecords 或 GetRecord 响应）")


def parse_stream(
    stream: str | IO[bytes],
    info: PageInfo,
    *,
    now: datetime,
    version: int,
    source: str | None = None,
) -> Iterator[Record | RecordError]:
    """Records and errors of one OAI-PMH response (a path or a binary stream); never raises."""
    events = xml_safe.iterparse(stream, kinds=("start", "end"))
    n = 0
    root_checked = False
    try:
        for event, el in events:
            if not root_checked:
                root_checked = True
                if _local(el) != "OAI-PMH" or _namespace(el) not in (OAI_NS, ""):
                    yield RecordError(f"文件不是 OAI-PMH 响应（根元素是 {_local(el)}）")
                    return
            if event == "start":
                if _local(el) in _RECORD_PARENTS | _OTHER_VERBS and info.verb is None:
                    info.verb = _local(el)
                continue
            name = _local(el)
            if name == "request":
                info.base_url = _text(el) or None
            elif name == "error":
                yield _on_error(el, info)
            elif name == "resumptionToken":
                _on_token(el, info)
            elif name == "Identify" and el.getparent() is not None and _local(el.getparent()) == "OAI-PMH":
                yield _on_identify(el)
            elif name == "record" and _local(el.getparent()) in _RECORD_PARENTS:
                n += 1
                info.records += 1
                try:
                    record = _record(el, info, source=source, now=now, version=version)
                    if record is not None:
                        yield record
                except (RecordError, ValidationError) as exc:
                    yield RecordError(f"第 {n} 条记录：{reason(exc)}")
                _drop(el)
    except etree.XMLSyntaxError as exc:
        yield RecordError(f"第 {n + 1} 条记录：{xml_safe.describe(exc)}")
        return
    if info.verb in _OTHER_VERBS - {"Identify"}:
        yield RecordError(f"{info.verb} 响应不含记录（需要 ListRecords 或 GetRecord 响应）")
    elif info.verb is None and not info.error_codes:
        yield RecordError("OAI-PMH 响应中没有 ListRecords 或 GetRecord")


def _drop(el: Element) -> None:
    # Records already mapped are dropped, earlier siblings included, to bound memory on large pages.
    el.clear(keep_tail=False)
    parent = el.getparent()
    if parent is not None:
        while el.getprevious() is not None:
            del parent[0]


def parse_file(path: Path, *, now: datetime, version: int) -> Iterator[Record | RecordError]:
    """One Record per live OAI record in a saved response; a RecordError for each that fails."""
    try:
        if path.stat().st_size == 0:
            yield RecordError("文件为空")
            return
    except OSError as exc:
        yield RecordError(f"无法读取文件：{exc.strerror}")
        return
    with path.open("rb") as stream:  # closed even when the caller stops early
        yield from parse_stream(stream, PageInfo(), now=now, version=version)

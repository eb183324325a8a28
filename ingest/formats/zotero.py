"""Zotero JSON items: what analysts export from their Zotero libraries (and what Zotero's Chinese
translators for CNKI, Wanfang, VIP, patent and standard sites produce).

Accepted shapes: a JSON array of items, one item per line, or lines of `{"items": [...]}` with the
translator that made them (`source_translator`), as in the translators' own test cases. The
translator, else the item's library catalogue, names the source: the same paper exported from
CNKI and from CNKI Oversea is one record listing both.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ingest.errors import RecordError, reason
from ingest.formats._patent_numbers import canonical_patent_number
from ingest.identity import record_id
from ingest.normalize_text import (
    author_key,
    clean_or_none,
    clean_text,
    normalize_doi,
    normalize_standard_number,
    parse_date,
    parse_year,
    partial_date,
    split_values,
    tidy_title,
)
from mappings.model import AccessLevel, Author, DocType, Record

MAX_FILE_BYTES = 200 * 1024 * 1024

_TYPES = {
    "journalArticle": DocType.journal_article, "magazineArticle": DocType.journal_article,
    "thesis": DocType.thesis, "conferencePaper": DocType.conference_paper, "patent": DocType.patent,
    "standard": DocType.standard, "book": DocType.book, "bookSection": DocType.book_chapter,
    "newspaperArticle": DocType.newspaper_article, "report": DocType.report, "webpage": DocType.webpage,
    "blogPost": DocType.webpage, "forumPost": DocType.webpage,
}  # fmt: skip
# Zotero's `place` is a place of publication only for these types: a patent's is its country, a
# conference paper's is the meeting's city as the CNKI translator fills it (会议地点, "中国上海"), and
# the NSTRS translator's an unrelated category ("其他").
_PLACE_TYPES = {DocType.book, DocType.book_chapter, DocType.thesis, DocType.report, DocType.newspaper_article}
# Who a thesis's `contributor` is: its supervisor (CNKI, Wanfang and NDLTD translators say so).
_SUPERVISOR_ROLES = {"contributor"}
_AUTHOR_ROLES = {"author", "inventor", "contributor", "programmer", "presenter", "director", "podcaster"}
_NUMBER_LIKE = re.compile(r"\d{5}")  # an application number has at least five digits
_EXTRA_LINE = re.compile(r"^\s*([^:：]{1,40})[:：]\s*(.+?)\s*$")
_LANGS = {"zh": "zh", "zh-cn": "zh", "zh-tw": "zh", "chinese": "zh", "中文": "zh", "en": "en", "en-us": "en",
          "english": "en", "ja": "ja", "ko": "ko", "es": "es", "de": "de", "fr": "fr", "ru": "ru"}  # fmt: skip


def _name(creator: dict[str, Any]) -> str:
    if creator.get("name"):
        return clean_text(str(creator["name"]))
    last = clean_text(str(creator.get("lastName") or ""))
    first = clean_text(str(creator.get("firstName") or ""))
    if not first:
        return last
    # Chinese names are written family name first without a space; Western ones "Family, Given".
    return f"{last}{first}" if re.match(r"[\u3400-\u9fff]", last + first) else f"{last}, {first}"


def _tags(item: dict[str, Any]) -> list[str]:
    tags = [t.get("tag", "") if isinstance(t, dict) else t for t in item.get("tags") or []]
    # Some translators put every keyword into one tag, joined with "；".
    return list(dict.fromkeys(k for t in tags if isinstance(t, str) for k in split_values(t)))


def _s(value: Any) -> str | None:
    """A scalar field as text; Zotero JSON from other tools writes volumes and pages as numbers."""
    if value is None or isinstance(value, (dict, list)):
        return None
    return clean_or_none(str(value))


def _extra(item: dict[str, Any]) -> dict[str, str]:
    fields: dict[str, str] = {}
    for line in str(item.get("extra") or "").splitlines():
        if m := _EXTRA_LINE.match(line):
            fields.setdefault(m.group(1).strip().lower(), m.group(2))
    return fields


def _language(value: Any) -> str | None:
    text = str(value or "").strip().lower()
    return _LANGS.get(text) or _LANGS.get(text.split("-")[0]) if text else None


def _people(creators: list[dict[str, Any]], roles: set[str]) -> list[str]:
    return [n for n in (_name(c) for c in creators if c.get("creatorType", "author") in roles) if n]


def _doc_type(item: dict[str, Any]) -> DocType:
    kind = str(item.get("itemType") or "")
    if kind == "report" and "科技报告" in str(item.get("reportType") or "") and item.get("reportNumber"):
        return DocType.tech_report
    return _TYPES.get(kind, DocType.other)


def record_from_item(item: dict[str, Any], *, source: str, now: datetime, version: int) -> Record:
    """One Zotero item as a Record; RecordError says what is wrong with it."""
    raw_title = item.get("title")
    title = tidy_title(str(raw_title) if isinstance(raw_title, (str, int, float)) else "")
    if not title:
        raise RecordError("缺少题名（title）")
    extra = _extra(item)
    doc_type = _doc_type(item)
    creators = [c for c in item.get("creators") or [] if isinstance(c, dict)]
    roles = _AUTHOR_ROLES - _SUPERVISOR_ROLES if doc_type is DocType.thesis else _AUTHOR_ROLES
    people = [c for c in creators if c.get("creatorType", "author") in roles]
    if not people and doc_type is not DocType.thesis:
        people = creators  # an edited book: its editors are its responsible persons
    names = [n for n in (_name(c) for c in people) if n]
    authors = [Author(name=n, order=i) for i, n in enumerate(names, 1)]
    doi = normalize_doi(item.get("DOI") or extra.get("doi"))
    patent_no = canonical_patent_number(item.get("patentNumber")) if doc_type is DocType.patent else None
    standard_no = normalize_standard_number(str(item["number"])) if doc_type is DocType.standard and item.get(
        "number") else None  # fmt: skip
    report_no = _s(item.get("reportNumber")) if doc_type is DocType.tech_report else None
    year = parse_year(str(item.get("date") or item.get("issueDate") or ""))
    fields: dict[str, Any] = {
        "title": title,
        "title_en": clean_or_none(extra.get("original-title")),
        "authors": authors,
        "abstract": _s(item.get("abstractNote")),
        "keywords": _tags(item),
        "venue": _s(item.get("publicationTitle") or item.get("proceedingsTitle") or item.get("conferenceName")
                    or item.get("bookTitle") or item.get("websiteTitle")),
        "year": year,
        "volume": _s(item.get("volume")),
        "issue": _s(item.get("issue")),
        "pages": _s(item.get("pages")),
        "doi": doi,
        "issn": split_values(_s(item.get("ISSN"))),
        "isbn": split_values(_s(item.get("ISBN"))),
        "publisher": _s(item.get("publisher") or item.get("university") or item.get("institution")),
        "place": _s(item.get("place")) if doc_type in _PLACE_TYPES else None,
        "edition": _s(item.get("edition")),
        "date": partial_date(str(item.get("date") or item.get("issueDate") or "")),
        "accessed": (d.isoformat() if (d := parse_date(str(item.get("accessDate") or ""))) else None),
        # The host book's or proceedings' responsible persons: its author, else its editors.
        "editors": (_people(creators, {"bookAuthor"}) or _people(creators, {"editor"}))
        if doc_type in (DocType.book_chapter, DocType.conference_paper) else [],
        "event": _s(item.get("conferenceName")) if doc_type is DocType.conference_paper else None,
        "url": _s(item.get("url")),
        "clc": split_values(extra.get("clc")),
        "language": _language(item.get("language")),
        "funds": split_values(extra.get("fund")),
    }  # fmt: skip
    if doc_type is DocType.patent:
        fields["patent"] = {
            "publication_number": patent_no,
            # Some translators put the patent's kind ("发明公开") where its number belongs.
            "application_number": app
            if (app := _s(item.get("applicationNumber"))) and _NUMBER_LIKE.search(app)
            else None,
            "applicants": split_values(_s(item.get("assignee"))),
            "publication_date": parse_date(str(item.get("issueDate") or "")),
            "application_date": parse_date(str(item.get("filingDate") or "")),
        }
    if standard_no:
        fields["standard"] = {"standard_number": standard_no, "status": _s(item.get("status"))}
    if doc_type is DocType.thesis:
        supervisors = _people(creators, _SUPERVISOR_ROLES)
        fields["thesis"] = {"degree": _s(item.get("thesisType")), "institution": _s(item.get("university")),
                            "supervisor": "；".join(supervisors) or None}  # fmt: skip
    if report_no:
        # The national report system's public records are the only reports Zotero can reach.
        fields["tech_report"] = {"report_no": report_no, "access_level": AccessLevel.public,
                                 "plan": clean_or_none(extra.get("program")),
                                 "project_no": clean_or_none(extra.get("projectnumber")),
                                 "organisation": _s(item.get("institution"))}  # fmt: skip
    if doc_type is DocType.report:
        fields["report"] = {"report_no": _s(item.get("reportNumber")), "report_type": _s(item.get("reportType")),
                            "institution": _s(item.get("institution"))}  # fmt: skip
    rid = record_id(
        title=title, year=year, first_author=author_key(names[0]) if names else None, doi=doi,
        patent_number=patent_no, standard_number=standard_no, report_no=report_no,
    )  # fmt: skip
    source_id = doi or patent_no or standard_no or report_no or fields["url"] or rid
    try:
        return Record(
            id=rid,
            source=source,
            source_id=source_id,
            doc_type=doc_type,
            ingested_at=now,
            version=version,
            **fields,
        )
    except ValidationError as exc:
        raise RecordError(reason(exc)) from None


def _source(translator: Any, item: dict[str, Any]) -> str:
    return "zotero:" + str(translator or item.get("libraryCatalog") or "zotero")


def _units(path: Path) -> Iterator[tuple[str, Any | RecordError]]:
    """(position, JSON value) per line, or the whole array; errors for lines that are not JSON."""
    with path.open("rb") as fh:
        head = fh.read(64).lstrip()
    if head.startswith(b"["):
        if path.stat().st_size > MAX_FILE_BYTES:
            yield (
                "文件",
                RecordError(f"JSON 数组文件过大（上限 {MAX_FILE_BYTES // 1024 // 1024} MB），请改为每行一条"),
            )
            return
        try:
            items = json.loads(path.read_bytes().decode("utf-8-sig"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            yield "文件", RecordError(f"不是合法的 UTF-8 JSON：{exc}")
            return
        for n, item in enumerate(items, 1):
            yield f"第 {n} 条", item
        return
    with path.open("rb") as fh:
        for n, raw in enumerate(fh, 1):
            if not raw.strip():
                continue
            try:
                yield f"第 {n} 行", json.loads(raw.decode("utf-8-sig"))
            except (UnicodeDecodeError, json.JSONDecodeError) as exc:
                yield f"第 {n} 行", RecordError(f"不是合法的 UTF-8 JSON：{exc}")


def parse_file(path: Path, *, now: datetime, version: int) -> Iterator[Record | RecordError]:
    seen = 0
    for position, unit in _units(path):
        seen += 1
        if isinstance(unit, RecordError):
            yield RecordError(f"{position}：{unit}")
            continue
        if isinstance(unit, dict) and "items" in unit:
            items, translator = unit["items"], unit.get("source_translator")
        else:
            items, translator = [unit], None
        if not isinstance(items, list):
            continue  # a search or list page case: no items to take in
        for k, item in enumerate(items, 1):
            where = position if len(items) == 1 else f"{position}第 {k} 项"
            if not isinstance(item, dict) or "itemType" not in item:
                yield RecordError(f"{where}：不是 Zotero 条目（缺少 itemType）")
                continue
            if item["itemType"] in ("note", "attachment"):
                continue
            try:
                yield record_from_item(item, source=_source(translator, item), now=now, version=version)
            except (RecordError, ValidationError) as exc:
                yield RecordError(f"{where}：{reason(exc)}")
            except (TypeError, AttributeError, ValueError) as exc:
                # A field of an unexpected shape: this item is quarantined, the file goes on.
                yield RecordError(f"{where}：字段结构不符合 Zotero 格式（{type(exc).__name__}: {exc}）")
    if seen == 0:
        yield RecordError("文件为空，或不含 Zotero JSON 条目")

"""Documents found outside the platform: typed in from a form, or read from a database's export file.

Such a document lives in the case only, never in the public index: it is validated as a `Record`
(so it prints through the same GB/T 7714 formatter as any platform record) and stored as the case
document's snapshot, tagged with the database it was found in. Export files (RIS, EndNote/Refer,
RefWorks, NoteExpress, WoS) are read by the ingest parsers the platform already uses for them.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from appdb.models import CaseDocument
from casework import core, evidence, external
from casework.core import CaseError
from ingest.errors import RecordError, reason
from ingest.formats import tagged
from mappings.model import (
    AccessLevel,
    Author,
    DocType,
    PatentInfo,
    Record,
    StandardInfo,
    TechReportInfo,
    ThesisInfo,
)
from reports.model import Origin
from search.principal import Principal

MANUAL_SOURCE = "manual"
IMPORT_SOURCE = "import"
MAX_IMPORT_BYTES = 5_000_000  # an export of a few hundred records; a case never needs more
MAX_IMPORT_RECORDS = 200

# The form's document types and what each one's number field means.
MANUAL_TYPES: dict[str, str] = {
    DocType.journal_article.value: "期刊论文 [J]",
    DocType.thesis.value: "学位论文 [D]",
    DocType.conference_paper.value: "会议论文 [C]",
    DocType.patent.value: "专利 [P]",
    DocType.standard.value: "标准 [S]",
    DocType.tech_report.value: "科技报告 [R]",
    DocType.book.value: "图书 [M]",
    DocType.other.value: "其他 [Z]",
}
MANUAL_FIELDS = ("doc_type", "title", "authors", "venue", "year", "volume", "issue", "pages", "publisher",
                 "number", "doi", "url", "abstract", "language")  # fmt: skip


def _opt(data: Mapping[str, Any], name: str, label: str, limit: int = 2_000) -> str | None:
    return " ".join(core.clean_text(data.get(name), label, limit).split()) or None


def _names(value: object) -> list[str]:
    if isinstance(value, str):
        value = [v for line in value.splitlines() for v in line.replace("；", ";").split(";")]
    return core.string_list(value, "作者")


def manual_record(case_id: int, data: Mapping[str, Any]) -> Record:
    """The typed-in fields as a Record; a missing title or wrong year is refused in Chinese."""
    kind = str(data.get("doc_type") or DocType.journal_article.value)
    if kind not in MANUAL_TYPES:
        raise CaseError("文献类型应为：" + "、".join(MANUAL_TYPES.values()))
    title = _opt(data, "title", "题名", 5_000)
    if not title:
        raise CaseError("请填写文献题名")
    raw_year = str(data.get("year") or "").strip()
    if raw_year and not (raw_year.isascii() and raw_year.isdigit() and len(raw_year) == 4):
        raise CaseError("出版年应为四位年份")
    number = _opt(data, "number", "专利号、标准号或报告编号", 200)
    publisher = _opt(data, "publisher", "出版者或学位授予单位", 500)
    venue = _opt(data, "venue", "刊名、会议录或文献来源", 2_000)
    if kind == DocType.standard.value and not number:
        raise CaseError("标准须填写标准编号")
    if kind == DocType.tech_report.value and not number:
        raise CaseError("科技报告须填写报告编号")
    extra: dict[str, Any] = {}
    if kind == DocType.patent.value and number:
        extra["patent"] = PatentInfo(publication_number=number)
    if kind == DocType.standard.value and number:
        extra["standard"] = StandardInfo(standard_number=number)
    if kind == DocType.tech_report.value and number:
        extra["tech_report"] = TechReportInfo(report_no=number, access_level=AccessLevel.public,
                                              organisation=publisher)  # fmt: skip
    if kind == DocType.thesis.value:
        # The formatter reads a thesis's degree-granting university from `venue`.
        venue = venue or publisher
        extra["thesis"] = ThesisInfo(institution=publisher or venue)
    doc_id = f"case-{case_id}-manual-{uuid.uuid4().hex[:12]}"
    try:
        return Record(
            id=doc_id,
            source="case",
            source_id=doc_id,
            doc_type=DocType(kind),
            title=title,
            authors=[Author(name=n, order=i) for i, n in enumerate(_names(data.get("authors")), 1)],
            venue=venue,
            year=int(raw_year) if raw_year else None,
            volume=_opt(data, "volume", "卷", 50),
            issue=_opt(data, "issue", "期", 50),
            pages=_opt(data, "pages", "页码", 50),
            publisher=publisher if kind != DocType.thesis.value else None,
            doi=_opt(data, "doi", "DOI", 200),
            url=_opt(data, "url", "网址", 2_000),
            abstract=core.clean_text(data.get("abstract"), "摘要", 20_000) or None,
            language=_opt(data, "language", "语种", 16),
            ingested_at=core.now_utc(),
            version=1,
            **extra,
        )
    except ValidationError as exc:
        raise CaseError(f"文献信息有误：{reason(exc)}") from None


def _snapshot(record: Record) -> dict[str, Any]:
    return record.model_dump(mode="json", exclude_none=True)


def _origin_for(database: external.Database, data: Mapping[str, Any]) -> str:
    return str(data.get("origin") or database.origin.value)


def add_manual(session: Session, principal: Principal, case_id: int, data: Mapping[str, Any]) -> CaseDocument:
    """A document typed in by the analyst. `data`: the MANUAL_FIELDS, `database`, and the marking fields
    (relevance, origin, points, description, excerpt); points default to every novelty point."""
    case = core.case_for_editing(session, principal, case_id)
    database = external.find_database(session, case.centre_id, str(data.get("database") or "").strip())
    record = manual_record(case.id, data)
    marks = {k: data[k] for k in ("relevance", "description", "excerpt", "points") if data.get(k)}
    marks.setdefault("points", [p.label for p in core.points(session, case)])
    marks["origin"] = _origin_for(database, data)
    return evidence.add_document(session, principal, case_id, _snapshot(record), marks, source=MANUAL_SOURCE,
                                 database=database.name)  # fmt: skip


@dataclass
class ImportOutcome:
    added: list[CaseDocument] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # already in the case
    errors: list[str] = field(default_factory=list)  # records the parser refused, with position

    @property
    def message(self) -> str:
        parts = [f"已导入 {len(self.added)} 篇文献"]
        if self.skipped:
            parts.append(f"{len(self.skipped)} 篇已在本案件中，未重复导入")
        if self.errors:
            parts.append(f"{len(self.errors)} 条记录无法读取：" + "；".join(self.errors[:5]))
        return "，".join(parts) + "。"


def import_file(
    session: Session,
    principal: Principal,
    case_id: int,
    payload: bytes,
    data: Mapping[str, Any],
) -> ImportOutcome:
    """Every record of an export file, tagged with `data["database"]`, as 一般相关 documents linked to
    every novelty point, to be marked afterwards. Nothing is added if no record could be read."""
    case = core.case_for_editing(session, principal, case_id)
    database = external.find_database(session, case.centre_id, str(data.get("database") or "").strip())
    if not payload:
        raise CaseError("请选择要导入的文献导出文件")
    if len(payload) > MAX_IMPORT_BYTES:
        raise CaseError(f"文件过大（上限 {MAX_IMPORT_BYTES // 1_000_000} MB）")
    fmt = str(data.get("format") or "") or None
    if fmt is not None and fmt not in tagged.SYNTAXES:
        raise CaseError("导出格式应为 RIS、EndNote、RefWorks、NoteExpress 或 Web of Science")
    try:
        text = tagged.decode(payload)
    except RecordError as exc:
        raise CaseError(str(exc)) from None
    outcome = ImportOutcome()
    records: list[Record] = []
    for item in tagged.parse_text(text, now=core.now_utc(), version=1, fmt=fmt):
        if isinstance(item, RecordError):
            outcome.errors.append(str(item))
        else:
            records.append(item)
    if not records:
        raise CaseError("文件中没有可导入的文献：" + "；".join(outcome.errors[:5]))
    if len(records) > MAX_IMPORT_RECORDS:
        raise CaseError(f"一次最多导入 {MAX_IMPORT_RECORDS} 篇文献（文件中有 {len(records)} 篇）")
    labels = [p.label for p in core.points(session, case)]
    for record in records:
        doc_id = f"case-{case.id}-import-{record.id}"[:255]
        exists = session.scalar(
            select(CaseDocument.id).where(CaseDocument.case_id == case.id, CaseDocument.record_id == doc_id)
        )
        if exists is not None:
            outcome.skipped.append(record.title)
            continue
        snapshot = {**_snapshot(record), "id": doc_id}
        marks: dict[str, Any] = {"points": labels}
        if data.get("origin"):
            marks["origin"] = str(data["origin"])
        elif database.origin is Origin.foreign:
            marks["origin"] = Origin.foreign.value
        else:
            marks["origin"] = Origin.domestic.value
        outcome.added.append(
            evidence.add_document(
                session, principal, case_id, snapshot, marks, source=IMPORT_SOURCE, database=database.name
            )
        )
    return outcome

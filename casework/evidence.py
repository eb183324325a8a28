"""Search evidence for a case: the immutable strategy log and the relevant documents.

A strategy entry is written once, when the analyst runs a search "for this case"; afterwards only
whether it appears in report section 四 may change. A document keeps the record's metadata and its
GB/T 7714 reference as they were when it was added, so a later re-ingest cannot change the report.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from appdb.models import CaseDocument, CaseStrategy, NoveltyCase
from casework.core import (
    CaseError,
    CaseNotFound,
    audit,
    aware_utc,
    case_for_editing,
    clean_text,
    loads_list,
    now_utc,
    points,
    require_analyst,
    string_list,
    touch,
)
from reports.model import Origin, Relevance
from search.export.fields import is_chinese
from search.export.gbt7714 import format_entry
from search.principal import Principal

DEFAULT_DATABASE = "Chaxin 平台文献库"
DESCRIPTION_FROM_ABSTRACT = 300


def search_window(case: NoveltyCase, override: bool) -> int | None:
    """The last publication year a case search may return: the commission year unless overridden."""
    return None if override else case.commission_date.year


def record_search(
    session: Session,
    principal: Principal,
    case: NoveltyCase,
    *,
    expression: str,
    normalized: str,
    cnki: str,
    hits: int,
    year_to: int | None,
    override: bool,
    terms_zh: Sequence[str] = (),
    terms_en: Sequence[str] = (),
    database: str = DEFAULT_DATABASE,
) -> CaseStrategy:
    """Append one entry to the strategy log (the caller has run the search and checked access)."""
    require_analyst(principal, case)
    entry = CaseStrategy(
        case_id=case.id,
        database=database,
        year_from=None,
        year_to=year_to,
        terms_zh=json.dumps(string_list(list(terms_zh), "中文检索词"), ensure_ascii=False),
        terms_en=json.dumps(string_list(list(terms_en), "英文检索词"), ensure_ascii=False),
        expression=expression,
        normalized=normalized,
        cnki=cnki,
        hits=hits,
        window_override=override,
        in_report=True,
        run_by=principal.user_id,
        run_at=now_utc(),
    )
    session.add(entry)
    session.flush()
    touch(case)
    audit(session, principal, "case.search", case, strategy_id=entry.id, hits=hits, override=override)
    return entry


def strategies(session: Session, case: NoveltyCase) -> list[CaseStrategy]:
    stmt = select(CaseStrategy).where(CaseStrategy.case_id == case.id).order_by(CaseStrategy.id)
    return list(session.scalars(stmt))


def choose_strategy(
    session: Session, principal: Principal, case_id: int, strategy_id: int, in_report: bool
) -> CaseStrategy:
    case = case_for_editing(session, principal, case_id)
    entry = session.get(CaseStrategy, strategy_id)
    if entry is None or entry.case_id != case.id:
        raise CaseNotFound(f"本案件没有编号为 {strategy_id} 的检索策略")
    entry.in_report = in_report
    touch(case)
    audit(session, principal, "case.choose_strategy", case, strategy_id=strategy_id, in_report=in_report)
    return entry


def _relevance(value: object) -> str:
    try:
        return Relevance(str(value)).value
    except ValueError:
        raise CaseError("相关程度应为“密切相关”或“一般相关”") from None


def _origin(value: object) -> str:
    try:
        return Origin(str(value)).value
    except ValueError:
        raise CaseError("文献来源应为“国内”或“国外”") from None


def _labels(session: Session, case: NoveltyCase, value: object) -> list[str]:
    labels = string_list(value, "关联查新点")
    known = {p.label for p in points(session, case)}
    unknown = [label for label in labels if label not in known]
    if unknown:
        raise CaseError(f"本案件没有查新点：{'、'.join(unknown)}")
    if not labels:
        raise CaseError("请至少关联一个查新点")
    return list(dict.fromkeys(labels))


def add_document(
    session: Session,
    principal: Principal,
    case_id: int,
    record: Mapping[str, Any],
    data: Mapping[str, Any],
    *,
    source: str = "platform",
    database: str = "",
) -> CaseDocument:
    """Add a document to the case; `record` is the record as the search service returned it to the
    analyst, or one typed in or imported (`source` manual / import, found in `database`)."""
    case = case_for_editing(session, principal, case_id)
    record_id = str(record.get("id", ""))
    existing = session.scalar(
        select(CaseDocument.id).where(CaseDocument.case_id == case.id, CaseDocument.record_id == record_id)
    )
    if existing is not None:
        raise CaseError("该文献已在本案件中")
    snapshot = {k: v for k, v in record.items() if k not in ("highlight", "access", "_score")}
    description = clean_text(data.get("description"), "内容简介", 5_000)
    if not description:
        abstract = record.get("abstract")
        description = str(abstract)[:DESCRIPTION_FROM_ABSTRACT] if isinstance(abstract, str) else ""
    origin = data.get("origin") or (
        Origin.domestic.value if is_chinese(dict(record)) else Origin.foreign.value
    )
    doc = CaseDocument(
        case_id=case.id,
        record_id=record_id,
        relevance=_relevance(data.get("relevance", Relevance.general.value)),
        origin=_origin(origin),
        point_labels=json.dumps(_labels(session, case, data.get("points")), ensure_ascii=False),
        description=description,
        excerpt=clean_text(data.get("excerpt"), "原文摘录", 5_000),
        reference=format_entry(dict(snapshot)),
        snapshot=json.dumps(snapshot, ensure_ascii=False, sort_keys=True, default=str),
        source=source,
        database=database,
    )
    session.add(doc)
    session.flush()
    touch(case)
    audit(session, principal, "case.add_document", case, record_id=record_id, relevance=doc.relevance,
          source=source)  # fmt: skip
    return doc


def update_document(
    session: Session, principal: Principal, case_id: int, doc_id: int, data: Mapping[str, Any]
) -> CaseDocument:
    """Re-mark a document (relevance, origin, points, description, excerpt); the snapshot never changes."""
    case = case_for_editing(session, principal, case_id)
    doc = find_document(session, case, doc_id)
    if "relevance" in data:
        doc.relevance = _relevance(data["relevance"])
    if "origin" in data:
        doc.origin = _origin(data["origin"])
    if "points" in data:
        doc.point_labels = json.dumps(_labels(session, case, data["points"]), ensure_ascii=False)
    if "description" in data:
        doc.description = clean_text(data["description"], "内容简介", 5_000)
    if "excerpt" in data:
        doc.excerpt = clean_text(data["excerpt"], "原文摘录", 5_000)
    touch(case)
    audit(session, principal, "case.update_document", case, document_id=doc.id, fields=sorted(data))
    return doc


def remove_document(session: Session, principal: Principal, case_id: int, doc_id: int) -> None:
    case = case_for_editing(session, principal, case_id)
    doc = find_document(session, case, doc_id)
    session.delete(doc)
    touch(case)
    audit(session, principal, "case.remove_document", case, record_id=doc.record_id)


def find_document(session: Session, case: NoveltyCase, doc_id: int) -> CaseDocument:
    doc = session.get(CaseDocument, doc_id)
    if doc is None or doc.case_id != case.id:
        raise CaseNotFound(f"本案件没有编号为 {doc_id} 的文献")
    return doc


def documents(session: Session, case: NoveltyCase) -> list[CaseDocument]:
    stmt = select(CaseDocument).where(CaseDocument.case_id == case.id).order_by(CaseDocument.id)
    return list(session.scalars(stmt))


def document_dict(doc: CaseDocument) -> dict[str, Any]:
    return {
        "id": doc.id,
        "record_id": doc.record_id,
        "relevance": doc.relevance,
        "origin": doc.origin,
        "points": loads_list(doc.point_labels),
        "description": doc.description,
        "excerpt": doc.excerpt,
        "reference": doc.reference,
        "source": doc.source or "platform",
        "database": doc.database or "",
    }


def strategy_dict(entry: CaseStrategy) -> dict[str, Any]:
    return {
        "id": entry.id,
        "database": entry.database,
        "year_from": entry.year_from,
        "year_to": entry.year_to,
        "terms_zh": loads_list(entry.terms_zh),
        "terms_en": loads_list(entry.terms_en),
        "expression": entry.expression,
        "normalized": entry.normalized,
        "cnki": entry.cnki,
        "hits": entry.hits,
        "window_override": entry.window_override,
        "in_report": entry.in_report,
        "run_at": aware_utc(entry.run_at).isoformat(),
        "kind": entry.kind or "platform",
        "origin": entry.origin or "国内",
        "searched_on": entry.searched_on.isoformat() if entry.searched_on else None,
    }

"""The client's paper list: pasted citations, an export file, or records picked by ID.

Every paper is matched to a record of the index as the analyst may see it (the reference matcher of
`POST /api/v1/references/match`, with its candidates kept), then confirmed by the analyst: the match,
another candidate, or "未收录" when no record is the paper. A paper that is not found stays on the
list and prints as 未收录; it is never dropped. A paper listed twice (the same record, or the same
citation text) is merged into the first, and the first carries a note saying so.

A file is read whole before anything is stored: a wrong or broken file is refused with the reason
and the case is left as it was.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from appdb.models import CitationPaper, NoveltyCase
from casework.citation.header import citation_case_for_editing, header_of
from casework.core import CaseError, CaseNotFound, audit, clean_text, load_case, now_utc, touch
from ingest.errors import RecordError
from ingest.formats import tagged
from mappings.analysis.normalize import fold
from mappings.citations.parse import MAX_RAW, parse_reference
from mappings.model import Record, Reference
from search.errors import BadQuery
from search.principal import Principal
from search.reference_match import MAX_REFERENCES, ReferenceMatch, match_parsed
from search.service import SearchService

MAX_PAPERS = 500  # one applicant's list; a centre's largest lists are a few hundred
MAX_UPLOAD_BYTES = 5_000_000
ORIGINS = {"paste": "粘贴题录", "upload": "导入文件", "pick": "检索选取"}
UPLOAD_FORMATS = {"ris": "RIS", "endnote": "EndNote", "noteexpress": "NoteExpress", "wos": "Web of Science",
                  "refworks": "RefWorks"}  # fmt: skip


@dataclass
class Outcome:
    added: list[CitationPaper] = field(default_factory=list)
    merged: list[str] = field(default_factory=list)  # what was merged into which paper, for the analyst
    errors: list[str] = field(default_factory=list)  # records a file's parser refused, with position

    @property
    def message(self) -> str:
        parts = [f"已加入 {len(self.added)} 篇论文"]
        if self.merged:
            parts.append(f"{len(self.merged)} 条重复，已合并：" + "；".join(self.merged[:5]))
        if self.errors:
            parts.append(f"{len(self.errors)} 条记录无法读取：" + "；".join(self.errors[:5]))
        return "，".join(parts) + "。"


def papers(session: Session, case: NoveltyCase) -> list[CitationPaper]:
    return list(session.scalars(select(CitationPaper).where(CitationPaper.case_id == case.id)
                                .order_by(CitationPaper.id)))  # fmt: skip


def _candidates(paper: CitationPaper) -> list[dict[str, Any]]:
    value = json.loads(paper.candidates or "[]")
    return [c for c in value if isinstance(c, dict)] if isinstance(value, list) else []


def status(paper: CitationPaper) -> tuple[str, str]:
    """(key, label) of a paper's match state, as the paper list shows it."""
    if paper.confirmed:
        return ("confirmed", "已确认") if paper.record_id else ("absent", "未收录（已确认）")
    if paper.record_id:
        return "matched", "已匹配，待确认"
    if _candidates(paper):
        return "ambiguous", "有候选记录，待选择"
    return "not_found", "未找到，待确认为未收录"


def paper_dict(paper: CitationPaper, seq: int) -> dict[str, Any]:
    key, label = status(paper)
    return {
        "id": paper.id,
        "seq": seq,
        "origin": paper.origin,
        "input": paper.input,
        "record_id": paper.record_id,
        "confirmed": paper.confirmed,
        "status": key,
        "status_label": label,
        "candidates": _candidates(paper),
        "note": paper.note,
    }


def _key(text: str) -> str:
    return " ".join(fold(text).split())


def _store(
    session: Session, case: NoveltyCase, origin: str, items: Sequence[tuple[str, ReferenceMatch | None, str | None]]
) -> Outcome:
    """Add (input, match, picked id) items to the case, merging duplicates into the paper already listed."""
    outcome = Outcome()
    existing = papers(session, case)
    if len(existing) + len(items) > MAX_PAPERS:
        raise CaseError(f"一个案件最多 {MAX_PAPERS} 篇论文（已有 {len(existing)} 篇，本次 {len(items)} 篇）")
    by_record = {p.record_id: p for p in existing if p.record_id}
    by_text = {_key(p.input): p for p in existing}
    for text, match, picked in items:
        record_id = picked or (match.record_id if match else None)
        same = (by_record.get(record_id) if record_id else None) or by_text.get(_key(text))
        if same is not None:
            seq = existing.index(same) + 1 if same in existing else len(existing) + 1
            note = f"重复条目已合并：{text[:200]}"
            same.note = f"{same.note}\n{note}".strip()
            outcome.merged.append(f"“{text[:40]}”并入第 {seq} 篇")
            continue
        candidates = [
            {"id": c.record_id, "title": c.title, "year": c.year, "score": c.score}
            for c in (match.candidates if match else ())
        ]
        paper = CitationPaper(case_id=case.id, origin=origin, input=text, record_id=record_id,
                              candidates=json.dumps(candidates, ensure_ascii=False), confirmed=False, note="")  # fmt: skip
        session.add(paper)
        existing.append(paper)
        outcome.added.append(paper)
        if record_id:
            by_record[record_id] = paper
        by_text[_key(text)] = paper
    session.flush()
    return outcome


def add_pasted(
    session: Session, principal: Principal, case_id: int, search: SearchService, text: object
) -> Outcome:
    """One citation a line, each matched through the reference matcher with the analyst's access."""
    case, _ = citation_case_for_editing(session, principal, case_id)
    body = clean_text(text, "论文题录", MAX_RAW * MAX_REFERENCES)
    lines = [line.strip() for line in body.splitlines() if line.strip()]
    if not lines:
        raise CaseError("论文清单为空：请粘贴至少一条论文题录（每行一篇）")
    for i, line in enumerate(lines, 1):
        if len(line) > MAX_RAW:
            raise CaseError(f"第 {i} 行超过 {MAX_RAW} 个字符，请检查是否把多篇论文粘在了一行")
    try:
        matches = match_parsed(search.es, search.names, [parse_reference(line) for line in lines],
                               principal=principal)  # fmt: skip
    except BadQuery as exc:
        raise CaseError(str(exc)) from None
    outcome = _store(session, case, "paste", [(line, m, None) for line, m in zip(lines, matches, strict=True)])
    _log(session, principal, case, "paste", outcome)
    return outcome


def _reference_of(record: Record) -> Reference:
    return Reference(
        authors=[a.name for a in record.authors], title=record.title, venue=record.venue, year=record.year,
        volume=record.volume, issue=record.issue, pages=record.pages, doi=record.doi,
    )  # fmt: skip


def _describe(record: Record) -> str:
    names = ", ".join(a.name for a in record.authors[:3])
    parts = [p for p in (names, record.title, record.venue, str(record.year or "")) if p]
    return ". ".join(parts)


def add_upload(
    session: Session,
    principal: Principal,
    case_id: int,
    search: SearchService,
    payload: bytes,
    fmt: str | None,
) -> Outcome:
    """The records of an RIS, EndNote, NoteExpress, RefWorks or WoS export, read by the ingest parsers.

    Nothing is stored unless the file reads: a wrong format or a broken file is a Chinese error."""
    case, _ = citation_case_for_editing(session, principal, case_id)
    if not payload:
        raise CaseError("请选择要导入的论文题录文件")
    if len(payload) > MAX_UPLOAD_BYTES:
        raise CaseError(f"文件过大（上限 {MAX_UPLOAD_BYTES // 1_000_000} MB）")
    if fmt is not None and fmt not in UPLOAD_FORMATS:
        raise CaseError("导入格式应为：" + "、".join(UPLOAD_FORMATS.values()))
    try:
        text = tagged.decode(payload)
    except RecordError as exc:
        raise CaseError(f"文件无法读取：{exc}") from None
    records: list[Record] = []
    errors: list[str] = []
    try:
        for item in tagged.parse_text(text, now=now_utc(), version=1, fmt=fmt):
            if isinstance(item, RecordError):
                errors.append(str(item))
            else:
                records.append(item)
    except RecordError as exc:
        raise CaseError(f"文件格式无法识别：{exc}") from None
    if not records:
        detail = "；".join(errors[:5]) or "文件中没有可识别的题录（请确认是 RIS、EndNote、NoteExpress 或 WoS 导出文件）"
        raise CaseError(f"文件中没有可导入的论文：{detail}")
    matches = match_parsed(search.es, search.names, [_reference_of(r) for r in records], principal=principal)
    items: list[tuple[str, ReferenceMatch | None, str | None]] = []
    for record, match in zip(records, matches, strict=True):
        # The export's own stable ID is the index's when the same source was ingested: exact, no guess.
        same = search.get_record(record.id, principal=principal)
        items.append((_describe(record), match, record.id if same is not None else None))
    outcome = _store(session, case, "upload", items)
    outcome.errors = errors
    _log(session, principal, case, "upload", outcome)
    return outcome


def add_picked(
    session: Session, principal: Principal, case_id: int, search: SearchService, record_ids: object
) -> Outcome:
    """Records chosen from search, by ID; an ID the analyst may not see reads as a missing one."""
    case, _ = citation_case_for_editing(session, principal, case_id)
    if not isinstance(record_ids, list) or not all(isinstance(i, str) for i in record_ids):
        raise CaseError("记录编号应为文本列表")
    ids = [i.strip() for i in record_ids if i.strip()]
    if not ids:
        raise CaseError("论文清单为空：请至少选择一条记录")
    items: list[tuple[str, ReferenceMatch | None, str | None]] = []
    for rid in ids:
        record = search.get_record(rid, principal=principal)
        if record is None:
            raise CaseNotFound(f"没有编号为 {rid} 的记录")
        items.append((str(record.get("title") or rid), None, rid))
    outcome = _store(session, case, "pick", items)
    for paper in outcome.added:
        paper.confirmed = True  # picked by hand: the analyst chose this very record
    _log(session, principal, case, "pick", outcome)
    return outcome


def _log(session: Session, principal: Principal, case: NoveltyCase, origin: str, outcome: Outcome) -> None:
    touch(case)
    audit(session, principal, "case.citation_papers", case, origin=origin, added=len(outcome.added),
          merged=outcome.merged)  # fmt: skip


def find_paper(session: Session, case: NoveltyCase, paper_id: int) -> CitationPaper:
    paper = session.get(CitationPaper, paper_id)
    if paper is None or paper.case_id != case.id:
        raise CaseNotFound(f"本案件没有编号为 {paper_id} 的论文")
    return paper


def confirm(
    session: Session,
    principal: Principal,
    case_id: int,
    paper_id: int,
    search: SearchService,
    data: Mapping[str, Any],
) -> CitationPaper:
    """The analyst's decision on one paper: `record_id` (the match, a candidate or any record they may
    see), or null for 未收录. Confirming a record another paper already holds merges the two."""
    case, _ = citation_case_for_editing(session, principal, case_id)
    paper = find_paper(session, case, paper_id)
    if "record_id" not in data:
        raise CaseError("请指定确认的记录编号，或确认为未收录（record_id 为 null）")
    rid = data["record_id"]
    if rid is not None and (not isinstance(rid, str) or not rid.strip()):
        raise CaseError("记录编号应为文本")
    if rid is not None:
        rid = rid.strip()
        if search.get_record(rid, principal=principal) is None:
            raise CaseNotFound(f"没有编号为 {rid} 的记录")
        other = next((p for p in papers(session, case) if p.record_id == rid and p.id != paper.id), None)
        if other is not None:
            other.note = f"{other.note}\n重复条目已合并：{paper.input[:200]}".strip()
            other.confirmed = True
            session.delete(paper)
            audit(session, principal, "case.citation_confirm", case, paper=paper_id, record_id=rid, merged_into=other.id)
            touch(case)
            session.flush()
            return other
    paper.record_id = rid
    paper.confirmed = True
    audit(session, principal, "case.citation_confirm", case, paper=paper_id, record_id=rid)
    touch(case)
    session.flush()
    return paper


def remove(session: Session, principal: Principal, case_id: int, paper_id: int) -> None:
    case, _ = citation_case_for_editing(session, principal, case_id)
    paper = find_paper(session, case, paper_id)
    session.delete(paper)
    audit(session, principal, "case.citation_remove", case, paper=paper_id, input=paper.input[:200])
    touch(case)


def papers_of(session: Session, principal: Principal, case_id: int) -> tuple[NoveltyCase, list[CitationPaper]]:
    case = load_case(session, principal, case_id)
    header_of(session, case)
    return case, papers(session, case)

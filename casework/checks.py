"""The completeness check a case passes before review (at submit) and again at signing.

Each problem names the place on the case page where it is fixed. Errors block the step; warnings
(a reference missing what GB/T 7714 prints for its type) may be confirmed by the analyst, after which
the reviewer sees them on the case page. What GB/T 7714 requires is read with the same field
accessors the formatter uses, so a warning means exactly "this element will be missing in print".
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from appdb.accounts import CENTRE_CONTACT
from appdb.models import CaseDocument, Centre, NoveltyCase
from casework import core, evidence
from reports.model import Origin, Relevance, Scope
from search.export import fields as f

# A contact block may lack a fax: many centres have none, and the report prints 无 for it.
OPTIONAL_CONTACT = frozenset({"fax"})


@dataclass(frozen=True)
class Problem:
    key: str  # stable for one and the same problem, so a confirmation can name it
    message: str
    anchor: str  # where on the case page (or which page) it is fixed
    warning: bool = False


Requirement = tuple[str, Callable[[f.RecordDict], object]]

_AUTHORS: Requirement = ("责任者", lambda r: f.authors(r))
_TITLE: Requirement = ("题名", lambda r: f.text(r, "title"))
_YEAR: Requirement = ("出版年", f.year)
_VENUE: Requirement = ("文献来源（刊名、会议名称）", lambda r: f.text(r, "venue"))
_NUMBER: Requirement = ("编号（专利号、标准号、报告编号）", f.doc_number)

# The elements GB/T 7714-2025 prints for each type (clause 8); a missing one is a warning.
REQUIRED: dict[str, tuple[Requirement, ...]] = {
    "journal_article": (_AUTHORS, _TITLE, ("刊名", lambda r: f.text(r, "venue")), _YEAR),
    "thesis": (_AUTHORS, _TITLE, ("学位授予单位", f.publisher), _YEAR),
    "conference_paper": (_AUTHORS, _TITLE, _VENUE, _YEAR),
    "patent": (
        ("专利申请者或所有者", lambda r: f.strings(r, "patent", "applicants") or f.authors(r)),
        _TITLE,
        ("专利号", f.doc_number),
        _YEAR,
    ),
    "standard": (("标准编号", f.doc_number), ("标准名称", lambda r: f.text(r, "title"))),
    "tech_report": (
        ("责任者或发布机构", lambda r: f.authors(r) or f.publisher(r)),
        _TITLE,
        ("报告编号", f.doc_number),
        _YEAR,
    ),
    "book": (_AUTHORS, _TITLE, ("出版者", lambda r: f.text(r, "publisher")), _YEAR),
    "book_chapter": (_AUTHORS, _TITLE, ("所在图书", lambda r: f.text(r, "venue")),
                     ("出版者", lambda r: f.text(r, "publisher")), _YEAR),
    "newspaper_article": (_TITLE, ("报纸名", lambda r: f.text(r, "venue")),
                          ("出版日期（年月日）", lambda r: f.full_date(r))),
    "report": (("责任者或发布机构", lambda r: f.authors(r) or f.publisher(r)), _TITLE, _YEAR),
    "webpage": (_TITLE, ("获取和访问路径", lambda r: f.text(r, "url")), ("引用日期", lambda r: f.text(r, "accessed"))),
}  # fmt: skip
_OTHER: tuple[Requirement, ...] = (_TITLE, _YEAR)


def missing_elements(record: f.RecordDict) -> list[str]:
    """What GB/T 7714 prints for this record's type that the record does not have."""
    return [label for label, read in REQUIRED.get(f.doc_type(record), _OTHER) if not read(record)]


def _title(doc: CaseDocument) -> str:
    title = json.loads(doc.snapshot or "{}").get("title") or doc.record_id
    return str(title)[:40]


def reference_warnings(docs: Sequence[CaseDocument]) -> list[Problem]:
    out = []
    for doc in docs:
        missing = missing_elements(json.loads(doc.snapshot or "{}"))
        if missing:
            out.append(Problem(f"ref-{doc.id}-{'-'.join(missing)}",
                               f"文献“{_title(doc)}”缺少 GB/T 7714 要求的著录项目：{'、'.join(missing)}",
                               f"#doc-{doc.id}", warning=True))  # fmt: skip
    return out


def problems(session: Session, case: NoveltyCase) -> list[Problem]:
    """Everything that stands between this case and an issuable report, errors first."""
    out: list[Problem] = []
    for name, label in (("purpose_text", "查新目的"), ("technical_points", "科学技术要点"),
                        ("requirements", "查新要求"), ("overall_conclusion", "总体查新结论")):  # fmt: skip
        if not str(getattr(case, name) or "").strip():
            out.append(Problem(f"text-{name}", f"{label}尚未填写", "#commission"))
    case_points = core.points(session, case)
    if not case_points:
        out.append(Problem("points", "至少需要一个查新点", "#points"))
    for i, p in enumerate(case_points, 1):
        if not p.comparison.strip():
            out.append(
                Problem(f"comparison-{p.label}", f"查新点 {i}（{p.label}）尚无对比分析", f"#point-{p.label}")
            )
        if not p.conclusion.strip():
            out.append(
                Problem(f"conclusion-{p.label}", f"查新点 {i}（{p.label}）尚无查新结论", f"#point-{p.label}")
            )
    docs = evidence.documents(session, case)
    for doc in docs:
        if doc.relevance == Relevance.close.value and not doc.excerpt.strip():
            out.append(
                Problem(f"excerpt-{doc.id}", f"密切相关文献“{_title(doc)}”尚无原文摘录", f"#doc-{doc.id}")
            )
    centre = session.get(Centre, case.centre_id)
    if centre is not None:
        empty = [label for name, (label, _) in CENTRE_CONTACT.items()
                 if name not in OPTIONAL_CONTACT and not str(getattr(centre, name) or "").strip()]  # fmt: skip
        if empty:
            out.append(Problem("centre-contact", f"查新机构信息不完整，缺少：{'、'.join(empty)}（由分中心管理员在分中心页面填写）",
                               f"/workspace/centres/{centre.code}"))  # fmt: skip
    chosen = [s for s in evidence.strategies(session, case) if s.in_report]
    origins = {Origin(s.origin or Origin.domestic.value) for s in chosen}
    if not chosen:
        out.append(
            Problem("scope-none", "尚无写入报告的检索策略（四、文献检索范围及检索策略）", "#strategies")
        )
    elif Origin.domestic not in origins:
        out.append(
            Problem("scope-domestic", "查新范围含国内，但写入报告的检索中没有国内数据库", "#strategies")
        )
    if chosen and case.scope == Scope.domestic_and_foreign.value and Origin.foreign not in origins:
        out.append(Problem("scope-foreign", "查新范围为国内外，但尚未检索任何国外数据库（如 Web of Science、EI、Scopus）",
                           "#strategies"))  # fmt: skip
    return [p for p in out if not p.warning] + reference_warnings(docs)


def errors(found: Sequence[Problem]) -> list[Problem]:
    return [p for p in found if not p.warning]


def warnings(found: Sequence[Problem]) -> list[Problem]:
    return [p for p in found if p.warning]


def confirmed(case: NoveltyCase) -> list[dict[str, str]]:
    """The warnings the analyst confirmed at the last submit: key, message and where."""
    value = json.loads(case.confirmed_warnings or "[]")
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []

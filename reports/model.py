"""What a 科技查新报告 says: the typed input both renderers (DOCX and PDF) take.

The case service builds one `ReportData` from a case and its frozen evidence; nothing here reads a
database or the search index, so a report can be rebuilt byte-for-byte from what the case stored.
Field order and section numbering follow GB/T 32003-2015 practice as summarised in domain.md Part B
§1.1 (cover, header table, 一 … 九, signatures).

Construction checks structure (unique IDs, links that resolve) always, but completeness (excerpts,
one comparison per novelty point, a conclusion, numbers and dates) only for an issued report: a
draft may be previewed at any state of the case, with the gaps shown as 待填写.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum


class ReportDataError(ValueError):
    """The report description is inconsistent; the message is in Chinese and names the field."""


class Purpose(StrEnum):
    project = "立项"  # 各级科技计划申报
    achievement = "成果"  # 鉴定、报奖
    patent = "专利"
    new_product = "新产品"
    other = "其他"


class Scope(StrEnum):
    domestic = "国内"
    domestic_and_foreign = "国内外"


class Relevance(StrEnum):
    close = "密切相关"
    general = "一般相关"


class Origin(StrEnum):
    domestic = "国内"
    foreign = "国外"


# Standard wording of the signed declaration (科技部《科技查新规范》 report template, part 七), kept
# verbatim because centres are audited against it; the order of the three clauses is part of the text.
DECLARATIONS: tuple[str, ...] = (
    "报告中陈述的事实是真实和准确的。",
    "我们按照科技查新规范进行查新、文献分析和审核，并作出上述查新结论。",
    "我们获取的报酬与本报告中的分析、意见和结论无关，也与本报告的使用无关。",
)


# Fields added after the first verification scheme: left out of the hashed form while they hold their
# default, so a report issued before they existed keeps the code it was issued with.
ADDED = {"added": True}


@dataclass(frozen=True)
class Party:
    """A block of the header table: the client (委托人) or the centre (查新机构)."""

    name: str
    address: str = ""  # 通信地址
    postcode: str = ""  # 邮政编码
    principal: str = ""  # 负责人
    contact: str = ""  # 联系人
    phone: str = ""
    fax: str = ""
    email: str = ""  # 电子信箱


@dataclass(frozen=True)
class Person:
    """A signatory: 查新员 or 审核员, with the professional title (职称) printed beside the name."""

    name: str
    title: str  # e.g. 研究馆员, 副研究馆员, 馆员


@dataclass(frozen=True)
class NoveltyPoint:
    id: str  # the case's own ID; documents and comparisons refer to it
    text: str


@dataclass(frozen=True)
class DatabaseSpan:
    """One database or collection searched, with the publication years it covered."""

    name: str
    year_from: int | None = None
    year_to: int | None = None
    # 国内 or 国外 database: which statements 五 and 六 may make.
    origin: Origin = field(default=Origin.domestic, metadata=ADDED)

    @property
    def years(self) -> str:
        if self.year_from is None and self.year_to is None:
            return "不限"
        # A platform search is bounded by the commission year only: "不限—2026", never a bare "—2026".
        return f"{self.year_from or '不限'}—{self.year_to or '不限'}"


@dataclass(frozen=True)
class StrategyEntry:
    """One search from the case's immutable strategy log, as chosen for section 四."""

    database: str
    expression: str  # Chaxin's own (CNKI-style) syntax, as the analyst typed it
    cnki_expression: str  # the same search in CNKI 专业检索 syntax
    hits: int
    run_at: datetime
    # Typed in from the database's own search, not run on the platform.
    external: bool = field(default=False, metadata=ADDED)
    database_origin: Origin = field(default=Origin.domestic, metadata=ADDED)


@dataclass(frozen=True)
class Document:
    """A relevant document as stored on the case (metadata frozen when it was added)."""

    seq: int  # the number printed in front of the reference, 1-based
    reference: str  # GB/T 7714 string, formatted by the caller
    relevance: Relevance
    origin: Origin
    description: str  # 内容简介, usually from the abstract
    excerpt: str = ""  # 原文摘录; required for 密切相关 in an issued report
    points: tuple[str, ...] = ()  # NoveltyPoint IDs this document bears on
    # Where it was found, when not on the platform (CNKI, Web of Science ...).
    database: str = field(default="", metadata=ADDED)


@dataclass(frozen=True)
class PointConclusion:
    """Section 六 for one novelty point: how the documents compare, and the judgement."""

    point_id: str
    comparison: str
    conclusion: str


@dataclass(frozen=True)
class ReportData:
    centre: Party
    project_name_zh: str
    project_name_en: str  # "略" is customary for a domestic-only search
    client: Party
    commission_date: date
    purpose: Purpose
    scope: Scope
    analyst: Person
    reviewer: Person
    purpose_text: str  # 一 查新目的
    technical_points: str  # 二 科学技术要点; paragraphs separated by newlines
    novelty_points: tuple[NoveltyPoint, ...]
    requirements: str  # 三 查新要求
    databases: tuple[DatabaseSpan, ...]
    terms_zh: tuple[str, ...]
    terms_en: tuple[str, ...]
    strategies: tuple[StrategyEntry, ...]
    documents: tuple[Document, ...]
    point_conclusions: tuple[PointConclusion, ...]
    overall_conclusion: str  # 六, for all novelty points together
    draft: bool = True
    report_no: str | None = None  # issued on signing; a signed-but-not-issued draft may have one
    verification_code: str | None = None  # full SHA-256 hex, see reports.verification
    completion_date: date | None = None  # 查新完成日期
    signing_date: date | None = None
    issue_date: date | None = None
    results_summary: str = ""  # optional free text opening section 五
    attachments: tuple[str, ...] = ()  # 八 附件清单
    remarks: str = ""  # 九 备注
    declarations: tuple[str, ...] = field(default=DECLARATIONS)
    # Where a reader checks this report (printed on every page, QR code on the cover). About the
    # report rather than in it, so outside the verification code, like `draft`.
    verify_url: str = ""

    def searched(self, origin: Origin) -> bool:
        """Whether a database of that origin was searched (section 四（一）lists it)."""
        return any(db.origin is origin for db in self.databases)

    def __post_init__(self) -> None:
        refuse_problems(_structure_problems(self), () if self.draft else _completeness_problems(self))

    def point(self, point_id: str) -> NoveltyPoint:
        for p in self.novelty_points:
            if p.id == point_id:
                return p
        raise KeyError(point_id)

    def point_number(self, point_id: str) -> int:
        """The 1-based number a novelty point is printed with (its position, not its ID)."""
        for i, p in enumerate(self.novelty_points, 1):
            if p.id == point_id:
                return i
        raise KeyError(point_id)

    def documents_in(self, relevance: Relevance, origin: Origin) -> list[Document]:
        return sorted(
            (d for d in self.documents if d.relevance is relevance and d.origin is origin),
            key=lambda d: d.seq,
        )


def refuse_problems(*groups: Iterable[str]) -> None:
    """One ReportDataError listing every problem of these groups, in order; nothing when there are none.

    Both kinds of report check their structure always and their completeness once issued, and say
    everything that is wrong at once, so an analyst fixes a case in one pass.
    """
    problems = [problem for group in groups for problem in group]
    if problems:
        raise ReportDataError("；".join(problems))


def duplicates(values: Iterable[object]) -> list[object]:
    """The values that occur more than once, each once, in the order of their second occurrence."""
    seen: set[object] = set()
    dup: list[object] = []
    for v in values:
        if v in seen and v not in dup:
            dup.append(v)
        seen.add(v)
    return dup


def _structure_problems(r: ReportData) -> Iterable[str]:
    if not r.project_name_zh.strip():
        yield "项目中文名称不能为空"
    if not r.centre.name.strip():
        yield "查新机构名称不能为空"
    if not r.client.name.strip():
        yield "委托人名称不能为空"
    if not r.novelty_points:
        yield "至少需要一个查新点"
    ids = [p.id for p in r.novelty_points]
    for d in duplicates(ids):
        yield f"查新点编号重复：{d}"
    known = set(ids)
    for d in duplicates(doc.seq for doc in r.documents):
        yield f"文献序号重复：{d}"
    for doc in r.documents:
        if doc.seq < 1:
            yield f"文献序号必须从 1 开始：{doc.seq}"
        for pid in doc.points:
            if pid not in known:
                yield f"文献 [{doc.seq}] 关联的查新点不存在：{pid}"
    for d in duplicates(c.point_id for c in r.point_conclusions):
        yield f"查新点 {d} 的对比分析重复"
    for c in r.point_conclusions:
        if c.point_id not in known:
            yield f"对比分析所指的查新点不存在：{c.point_id}"
    for s in r.strategies:
        if s.hits < 0:
            yield f"检索命中数不能为负：{s.database}"


def _completeness_problems(r: ReportData) -> Iterable[str]:
    if not r.report_no:
        yield "正式报告必须有报告编号"
    if not r.verification_code:
        yield "正式报告必须有验证码"
    for label, value in (
        ("查新完成日期", r.completion_date),
        ("签字日期", r.signing_date),
        ("签发日期", r.issue_date),
    ):
        if value is None:
            yield f"正式报告必须填写{label}"
    for label, text in (
        ("查新目的", r.purpose_text),
        ("科学技术要点", r.technical_points),
        ("查新要求", r.requirements),
        ("总体查新结论", r.overall_conclusion),
    ):
        if not text.strip():
            yield f"正式报告的{label}不能为空"
    for doc in r.documents:
        if doc.relevance is Relevance.close and not doc.excerpt.strip():
            yield f"密切相关文献 [{doc.seq}] 必须有原文摘录"
    concluded = {c.point_id for c in r.point_conclusions if c.conclusion.strip()}
    for i, p in enumerate(r.novelty_points, 1):
        if p.id not in concluded:
            yield f"查新点 {i} 尚无查新结论"

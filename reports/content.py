"""The wording both renderers share: section titles, labels, dates, groups and footer lines.

DOCX and PDF are laid out by different code, but they must say the same thing in the same order;
everything that is words rather than layout is decided here once.
"""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass
from datetime import date, datetime

import segno

from reports import verification
from reports.model import Document, Origin, Party, Relevance, ReportData, ReportDataError, StrategyEntry

TITLE = "科技查新报告"
HEADER_TABLE_TITLE = "查新项目基本信息"
SECTION_TITLES: tuple[str, ...] = (
    "一、查新目的",
    "二、科学技术要点",
    "三、查新点与查新要求",
    "四、文献检索范围及检索策略",
    "五、检索结果",
    "六、查新结论",
    "七、查新员、审核员声明",
    "八、附件清单",
    "九、备注",
)
SIGNATURE_TITLE = "签字与盖章"
WATERMARK = "草稿"
TO_FILL = "（待填写）"
# MoE writing rules: no field of the report is left blank.
EMPTY = "无"
CHINESE_ORDINALS = ("一", "二", "三", "四", "五", "六", "七", "八", "九", "十")

PARTY_ROWS: tuple[tuple[str, str], ...] = (
    ("通信地址", "address"),
    ("邮政编码", "postcode"),
    ("负责人", "principal"),
    ("联系人", "contact"),
    ("电话", "phone"),
    ("传真", "fax"),
    ("电子信箱", "email"),
)


def fmt_date(d: date | None) -> str:
    if d is None:
        return "    年  月  日"
    return f"{d.year}年{d.month}月{d.day}日"


def fmt_time(t: datetime) -> str:
    return t.strftime("%Y-%m-%d %H:%M")


def paragraphs(text: str, *, draft: bool) -> list[str]:
    """A free-text field split into printed paragraphs; an empty one becomes a visible placeholder."""
    lines = [line.strip() for line in text.replace("\r\n", "\n").split("\n")]
    out = [line for line in lines if line]
    if out:
        return out
    return [TO_FILL if draft else EMPTY]


def or_empty(value: str) -> str:
    return value.strip() or EMPTY


def party_rows(party: Party) -> list[tuple[str, str]]:
    return [(label, or_empty(getattr(party, attr))) for label, attr in PARTY_ROWS]


def report_no_text(r: ReportData) -> str:
    return r.report_no or "（未编号）"


# Cover labels are justified to the width of the longest one (查新完成日期), as printed forms are.
COVER_LABEL_CHARS = 6


def cover_rows(r: ReportData) -> list[tuple[str, str]]:
    """The cover's label/value pairs; labels carry no padding spaces, the renderers justify them."""
    return [
        ("报告编号", report_no_text(r)),
        ("项目名称", r.project_name_zh),
        ("委托人", r.client.name),
        ("委托日期", fmt_date(r.commission_date)),
        ("查新机构", f"{r.centre.name}（盖章）"),
        ("查新完成日期", fmt_date(r.completion_date)),
    ]


def purpose_line(r: ReportData) -> str:
    return f"查新目的：{r.purpose.value}查新"


def scope_line(r: ReportData) -> str:
    return f"查新范围要求：{r.scope.value}"


def points_label(r: ReportData, doc: Document) -> str:
    if not doc.points:
        return EMPTY
    return "、".join(f"查新点{r.point_number(pid)}" for pid in doc.points)


@dataclass(frozen=True)
class DocumentGroup:
    heading: str  # e.g. 1. 国内文献
    documents: list[Document]


@dataclass(frozen=True)
class RelevanceBlock:
    heading: str  # e.g. （一）密切相关文献
    relevance: Relevance
    groups: list[DocumentGroup]


def _origins(r: ReportData) -> list[Origin]:
    """The origins section 五 speaks about: those whose databases were searched, plus any a listed
    document comes from. "未检出国外文献" is a finding only when foreign databases were searched."""
    return [o for o in Origin if r.searched(o) or any(d.origin is o for d in r.documents)]


def scope_statements(r: ReportData) -> list[str]:
    """Section 六's statement of what each searched scope covered; none for a scope not searched."""
    out = []
    for origin in Origin:
        names = [db.name for db in r.databases if db.origin is origin]
        if names:
            out.append(f"{origin.value}文献检索范围：{'、'.join(names)}。")
    return out


def result_blocks(r: ReportData) -> list[RelevanceBlock]:
    """Section 五's documents: by degree of relevance first, then 国内 before 国外, each by number.

    A scope that was not searched has no group at all rather than an empty "未检出" one.
    """
    origins = _origins(r)
    blocks = []
    for i, relevance in enumerate((Relevance.close, Relevance.general)):
        groups = [
            DocumentGroup(f"{j}. {origin.value}{relevance.value}文献", r.documents_in(relevance, origin))
            for j, origin in enumerate(origins, 1)
        ]
        blocks.append(RelevanceBlock(f"（{CHINESE_ORDINALS[i]}）{relevance.value}文献", relevance, groups))
    return blocks


def results_summary(r: ReportData) -> str:
    """The count sentence opening section 五, computed so it can never disagree with the list."""

    def count(relevance: Relevance, origin: Origin | None = None) -> int:
        return sum(
            1 for d in r.documents if d.relevance is relevance and (origin is None or d.origin is origin)
        )

    def split(relevance: Relevance) -> str:
        total = f"{relevance.value}文献 {count(relevance)} 篇"
        if len(_origins(r)) <= 1:
            return total
        parts = "，".join(f"{o.value}文献 {count(relevance, o)} 篇" for o in _origins(r))
        return f"{total}（{parts}）"

    return (
        f"经检索，共检出与本查新项目相关的文献 {len(r.documents)} 篇，"
        f"其中{split(Relevance.close)}，{split(Relevance.general)}。"
    )


def summary_paragraphs(r: ReportData) -> list[str]:
    """Section 五's opening, printed once: the analyst's own summary if written, else the count sentence."""
    if r.results_summary.strip():
        return paragraphs(r.results_summary, draft=r.draft)
    return [results_summary(r)]


def strategy_date(s: StrategyEntry) -> str:
    """When a search ran: the day for one typed in from another database, the minute for a platform one."""
    return s.run_at.strftime("%Y-%m-%d") if s.external else fmt_time(s.run_at)


def verify_line(r: ReportData) -> str:
    """The verification address every page of an issued report prints (empty for a draft)."""
    if r.draft or not r.verify_url:
        return ""
    return f"核验网址：{r.verify_url}"


def qr_png(url: str) -> bytes:
    """The cover's QR code of the verification address (segno: pure Python, no imaging library)."""
    out = io.BytesIO()
    segno.make(url, error="m").save(out, kind="png", scale=4, border=2)
    return out.getvalue()


def qr_data_uri(url: str) -> str:
    out = io.BytesIO()
    segno.make(url, error="m").save(out, kind="svg", scale=4, border=2, xmldecl=False)
    return "data:image/svg+xml;base64," + base64.b64encode(out.getvalue()).decode("ascii")


def footer_line(number: str | None, code: str | None, *, draft: bool, kind: str) -> str:
    """The line every page of a report of this `kind` ("查新报告") carries, before the page number.

    An issued report carries its number and verification code on every page, so a single page
    taken out of the report can still be checked; a draft says plainly that it is not a report.
    """
    if draft:
        prefix = f"报告编号：{number}　" if number else ""
        return f"{prefix}草稿，未经签发，不作为正式{kind}使用"
    assert code is not None  # both report kinds guarantee it for an issued report
    return f"报告编号：{number}　验证码：{verification.display_code(code)}"


def footer_text(r: ReportData) -> str:
    return footer_line(r.report_no, r.verification_code, draft=r.draft, kind="查新报告")


def check_issuable(r: verification.AnyReport) -> None:
    """Refuse to print an issued report whose code does not belong to its content.

    Such a report would fail its own verification; printing it would hand the client a document
    the public check then calls altered.
    """
    if not r.draft and not verification.is_consistent(r):
        raise ReportDataError("验证码与报告内容不符，报告内容在签发后被修改或验证码有误")

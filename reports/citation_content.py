"""The wording of the 收录引证报告 that DOCX, PDF and XLSX share: titles, rows, notes, footer lines.

As for the 查新 report (reports/content.py), layout lives in each renderer and words live here, so
the three files say the same thing in the same order. Every number comes from the model's counts.
"""

from __future__ import annotations

from dataclasses import dataclass

from reports import verification
from reports.citation_model import CitationReportData, CitedPaper, CitingRecord, IndexingEntry
from reports.content import EMPTY, TO_FILL, WATERMARK, fmt_date, or_empty
from reports.model import Person, ReportDataError

TITLE = "论文收录引证报告"
HEADER_TITLE = "委托与检索信息"
CERTIFICATION_TITLE = "检索结论"
INDEXING_TITLE = "附表一　论文收录情况"
CITATION_TITLE = "附表二　论文被引用情况"
CITING_LIST_TITLE = "附表三　引文清单"
NOTES_TITLE = "备注"
SIGNATURE_TITLE = "签字与盖章"
NOT_INDEXED = "未收录"
TOTAL_LABEL = "合计"

INDEXING_HEADERS = ("序号", "论文", "收录数据库", "入藏号", "文献类型")
CITATION_HEADERS = ("序号", "论文", "总被引", "自引", "他引")

__all__ = ["EMPTY", "TO_FILL", "WATERMARK", "fmt_date"]


def report_number_text(r: CitationReportData) -> str:
    return r.report_number or "（未编号）"


def person_text(p: Person | None, *, draft: bool) -> str:
    if p is None:
        return TO_FILL if draft else EMPTY
    return f"{p.name}（{p.title}）" if p.title.strip() else p.name


def databases_text(r: CitationReportData) -> str:
    """Each requested database with the years it covers: `SCIE（2000—2026）；CSSCI（1998—2026）`."""
    if not r.databases:
        return TO_FILL if r.draft else EMPTY
    return "；".join(f"{db.name}（{db.years}）" for db in r.databases)


def contact_text(r: CitationReportData) -> str:
    parts = [
        f"{label}：{value.strip()}"
        for label, value in (
            ("电话", r.client.phone),
            ("电子信箱", r.client.email),
            ("通信地址", r.client.address),
        )
        if value.strip()
    ]
    return "；".join(parts) or EMPTY


def header_rows(r: CitationReportData) -> list[tuple[str, str]]:
    """The header block's label/value pairs, in print order."""
    return [
        ("报告编号", report_number_text(r)),
        ("委托人", r.client.name),
        ("委托人单位", or_empty(r.client_unit)),
        ("联系方式", contact_text(r)),
        ("委托目的", r.purpose.value),
        ("检索数据库及年限", databases_text(r)),
        ("引用截止日期", fmt_date(r.cutoff)),
        ("检索日期", fmt_date(r.search_date)),
        ("检索机构", r.centre.name),
        ("检索人", person_text(r.analyst, draft=r.draft)),
        ("审核人", person_text(r.reviewer, draft=r.draft)),
    ]


@dataclass(frozen=True)
class IndexingRow:
    """One line of 附表一 for a paper: one requested database that holds it, or 未收录."""

    database: str
    accession: str
    doc_type: str


def shown_entries(r: CitationReportData, paper: CitedPaper) -> list[IndexingEntry]:
    """The entries 附表一 prints: those of the requested databases, in the order they were requested.

    The report certifies the requested databases only; with none requested yet (an early draft) it
    shows whatever the paper's record holds.
    """
    if not r.databases:
        return list(paper.indexing)
    return [e for db in r.databases if (e := paper.indexed_in(db.name)) is not None]


def indexing_rows(r: CitationReportData, paper: CitedPaper) -> list[IndexingRow]:
    entries = shown_entries(r, paper)
    if not entries:
        return [IndexingRow(NOT_INDEXED, "—", "—")]
    return [IndexingRow(e.database, e.accession or EMPTY, e.doc_type or EMPTY) for e in entries]


def indexing_summary(r: CitationReportData) -> str:
    """The line under 附表一: papers per requested database, the same counts the certification gives."""
    if not r.databases:
        return ""
    parts = "；".join(f"{db.name} 收录 {r.indexed_count(db.name)} 篇" for db in r.databases)
    return f"共 {len(r.papers)} 篇论文，{parts}。"


def citation_rows(r: CitationReportData) -> list[tuple[str, str, str, str, str]]:
    rows = [(str(p.seq), p.reference, str(p.total), str(p.self_count), str(p.others_count)) for p in r.papers]
    rows.append(("", TOTAL_LABEL, str(r.total_citations), str(r.self_total), str(r.others_total)))
    return rows


def citing_sources_summary(r: CitationReportData) -> str:
    """The line under 附表二: citations by the database each citing record came from."""
    totals: dict[str, list[int]] = {}
    for p in r.papers:
        for db, (total, others) in p.citations_by_database().items():
            pair = totals.setdefault(db, [0, 0])
            pair[0] += total
            pair[1] += others
    if not totals:
        return ""
    parts = "；".join(f"{db or '来源不详'} {t} 次（他引 {o} 次）" for db, (t, o) in sorted(totals.items()))
    return f"施引文献来源：{parts}。"


@dataclass(frozen=True)
class CitingBlock:
    paper: CitedPaper
    heading: str  # `[3] reference`
    counts: str  # `总被引 5 次，自引 1 次，他引 4 次`
    records: list[CitingRecord]  # those printed: all, or 他引 only per the option


def citing_blocks(r: CitationReportData) -> list[CitingBlock]:
    """附表三: every paper of the list in order, each with its (printed) citing records."""
    blocks = []
    for p in r.papers:
        records = [c for c in p.citing if not (r.options.others_only and c.self_citation)]
        counts = f"总被引 {p.total} 次，自引 {p.self_count} 次，他引 {p.others_count} 次"
        blocks.append(CitingBlock(p, f"[{p.seq}] {p.reference}", counts, records))
    return blocks


def citing_list_scope(r: CitationReportData) -> str:
    if r.options.others_only:
        return "本清单仅列他引文献。"
    return "本清单列出全部施引文献，每篇注明自引或他引。"


def citing_line(c: CitingRecord) -> str:
    """The source note after a citing reference: `他引；CSSCI 入藏号 …`."""
    where = c.database or "来源不详"
    if c.accession:
        where = f"{where}　入藏号：{c.accession}"
    return f"{c.mark}；{where}"


def no_citing_text(r: CitationReportData, paper: CitedPaper) -> str:
    if not paper.found:
        return "未检出该论文，无引用记录。"
    if paper.total and r.options.others_only:
        return "无他引文献。"
    return "截至引用截止日期未检出施引文献。"


def notes_lines(r: CitationReportData) -> list[str]:
    """备注: the analyst's exclusions and flipped marks with their reasons, then the fixed notes."""
    lines = [n.strip() for n in r.notes if n.strip()]
    if r.options.show_h_index:
        lines.append(f"h 指数：按全部引用计为 {r.h_index()}，按他引计为 {r.h_index(others_only=True)}。")
    lines.append(
        "自引指施引文献与被引论文有任一作者相同（作者姓名经规范化后比较），其余为他引；"
        f"引用次数统计截至 {fmt_date(r.cutoff)}。"
    )
    missing = [str(p.seq) for p in r.papers if not p.found]
    if missing:
        lines.append(
            f"序号 {'、'.join(missing)} 的论文未在所检数据库中检出，列为未收录，不计入收录与引用统计。"
        )
    return lines


def signature_rows(r: CitationReportData) -> list[tuple[str, str, str, str]]:
    fill = TO_FILL if r.draft else EMPTY
    reviewer_name = r.reviewer.name if r.reviewer else fill
    reviewer_title = r.reviewer.title if r.reviewer else fill
    return [
        ("检索人（签字）", r.analyst.name, "职称", or_empty(r.analyst.title)),
        ("审核人（签字）", reviewer_name, "职称", or_empty(reviewer_title)),
        ("检索机构（盖章）", r.centre.name, "签发日期", fmt_date(r.issue_date)),
    ]


def verify_line(r: CitationReportData) -> str:
    if r.draft or not r.verify_url:
        return ""
    return f"核验网址：{r.verify_url}"


def verification_text(r: CitationReportData) -> str:
    """The verification code printed below the signatures of an issued report (empty for a draft)."""
    if r.draft or not r.verification_code:
        return ""
    return f"验证码：{verification.display_code(r.verification_code)}"


def footer_text(r: CitationReportData) -> str:
    """The line every page carries before the page number, as on the 查新 report."""
    if r.draft:
        number = f"报告编号：{r.report_number}　" if r.report_number else ""
        return f"{number}草稿，未经签发，不作为正式报告使用"
    assert r.verification_code is not None  # CitationReportData guarantees it for an issued report
    return f"报告编号：{r.report_number}　验证码：{verification.display_code(r.verification_code)}"


def created_date(r: CitationReportData) -> str:
    """The date stamped into file metadata: fixed by the content, so the same report gives the same bytes."""
    return (r.issue_date or r.search_date).isoformat()


def check_issuable(r: CitationReportData) -> None:
    """Refuse to print an issued report whose verification code does not belong to its content."""
    if not r.draft and not verification.is_consistent(r):
        raise ReportDataError("验证码与报告内容不符，报告内容在签发后被修改或验证码有误")

"""A 收录引证 case as a `CitationReportData`: live while the case is open, frozen from signing on.

`view` reads the case, its confirmed records and their citers (with the analyst's access) and builds
the report as it stands, with what the pages show beside it: every citer with its state, the papers
each requested database does not hold, and the problems that stand between the case and signing.

At signing `freeze` stores the report's `to_json()` on the case (`cases.snapshot`), counted on the
signing day under the new report number. From then on the report is rebuilt from that snapshot
alone (`issued_report`), so later ingests and relinks never change it or its verification code.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from appdb.accounts import CENTRE_CONTACT
from appdb.models import CitationHeader, CitationPaper, NoveltyCase
from casework import record_policy
from casework.checks import OPTIONAL_CONTACT, Problem
from casework.citation.citing import Citer, adjustments, fetch
from casework.citation.citing import records as citing_records
from casework.citation.header import KIND as KIND
from casework.citation.header import PROJECT_NAME as PROJECT_NAME
from casework.citation.header import header_of, requested, spans
from casework.citation.indexing import indexing
from casework.citation.papers import papers
from casework.core import CaseError, Forbidden, StateConflict, today_local
from casework.report import ISSUED_STATES, signatories, verify_url
from reports import ReportDataError, compute_code
from reports.citation_model import CitationOptions, CitationReportData, CitedPaper, CitingRecord
from reports.model import Party
from search import citations
from search.export.gbt7714 import format_entry
from search.principal import Principal
from search.service import SearchService


@dataclass(frozen=True)
class PaperView:
    paper: CitationPaper
    seq: int
    record: dict[str, Any] | None  # the confirmed (or proposed) record as the analyst may see it
    citers: tuple[Citer, ...]  # every citer found, counted or not
    cited: CitedPaper  # what the report prints for it


@dataclass(frozen=True)
class CaseView:
    case: NoveltyCase
    header: CitationHeader
    papers: tuple[PaperView, ...]
    report: CitationReportData
    problems: tuple[Problem, ...]

    def missing_from(self, database: str) -> list[PaperView]:
        """The papers `database` does not hold (a requested database, for the analyst to see)."""
        return [p for p in self.papers if p.cited.indexed_in(database) is None]


def _note(seq: int, citer: Citer) -> str | None:
    title = citer.title[:80]
    if citer.adjustment == "exclude":
        return f"论文 [{seq}] 的引证文献“{title}”不计入：{citer.reason}"
    if citer.adjustment == "flip":
        was, now = ("自引", "他引") if citer.computed_self else ("他引", "自引")
        return f"论文 [{seq}] 的引证文献“{title}”由{was}改判为{now}：{citer.reason}"
    if citer.adjustment == "include" and citer.window is None:
        year = f"{citer.year} 年" if citer.year else "未注明年份"
        return f"论文 [{seq}] 的引证文献“{title}”（{year}）经核对在引用截止日期之前，计入：{citer.reason}"
    return None


def _cited(seq: int, paper: CitationPaper, record: dict[str, Any] | None, citers: Sequence[Citer]) -> CitedPaper:
    if record is None:
        return CitedPaper(seq=seq, reference=paper.input, found=False)
    counted = tuple(
        CitingRecord(c.reference, c.self_citation, c.database, c.year, c.adjustment == "flip", c.accession)
        for c in citers
        if c.counted
    )
    return CitedPaper(seq=seq, reference=format_entry(record), found=True, indexing=indexing(record),
                      citing=counted)  # fmt: skip


def _problems(session: Session, case: NoveltyCase, views: Sequence[PaperView], header: CitationHeader) -> list[Problem]:
    out: list[Problem] = []
    if not views:
        out.append(Problem("papers-empty", "论文清单为空：请先粘贴、导入或选取委托人的论文", "#papers"))
    if not requested(header):
        out.append(Problem("databases", "尚未选择要证明收录的数据库", "#header"))
    for v in views:
        if v.paper.record_id and v.record is None:
            out.append(Problem(f"gone-{v.paper.id}", f"第 {v.seq} 篇论文确认的记录 {v.paper.record_id} 已不存在或检索人无权查看，"
                               "请重新确认", f"#paper-{v.paper.id}"))  # fmt: skip
        if not v.paper.confirmed:
            out.append(Problem(f"paper-{v.paper.id}", f"第 {v.seq} 篇论文尚未确认匹配记录（或确认为未收录）",
                               f"#paper-{v.paper.id}"))  # fmt: skip
        open_ = [c for c in v.citers if c.undecided]
        if open_:
            out.append(Problem(f"undecided-{v.paper.id}",
                               f"第 {v.seq} 篇论文有 {len(open_)} 条引证文献与引用截止日期同年或未注明年份，"
                               "数据无法判定是否在截止日期之前，请逐条核定计入或排除",
                               f"#paper-{v.paper.id}"))  # fmt: skip
    centre = signatories(session, case)[0]
    empty = [label for name, (label, _) in CENTRE_CONTACT.items()
             if name not in OPTIONAL_CONTACT and not str(getattr(centre, name) or "").strip()]  # fmt: skip
    if empty:
        out.append(Problem("centre-contact", f"检索机构信息不完整，缺少：{'、'.join(empty)}（由分中心管理员填写）",
                           "#header"))  # fmt: skip
    return out


def view(session: Session, case: NoveltyCase, search: SearchService, *, search_date: date | None = None) -> CaseView:
    """The case as it stands, counted now with the analyst's access."""
    header = header_of(session, case)
    analyst = record_policy.principal_of(session, case.analyst_id)
    if analyst is None:
        raise CaseError("本案件的查新员账号已停用，无法按其权限统计引证文献")
    listed = papers(session, case)
    found = citing_records(search, analyst, [p.record_id for p in listed if p.record_id])
    records = {p.id: found.get(p.record_id) if p.record_id else None for p in listed}
    found_ids = [str(r["id"]) for r in records.values() if r is not None]
    citers = fetch(search, analyst, found_ids, header.cutoff_date, adjustments(session, case))
    views = []
    for seq, paper in enumerate(listed, 1):
        record = records[paper.id]
        mine = tuple(citers.get(str(record["id"]), [])) if record is not None else ()
        views.append(PaperView(paper, seq, record, mine, _cited(seq, paper, record, mine)))
    centre, analyst_person, reviewer = signatories(session, case)
    notes = tuple(n for v in views for c in v.citers if (n := _note(v.seq, c)) is not None)
    client = Party(name=case.client_name, address=case.client_address, postcode=case.client_postcode,
                   principal=case.client_principal, contact=case.client_contact, phone=case.client_phone,
                   fax=case.client_fax, email=case.client_email)  # fmt: skip
    try:
        report = CitationReportData(
            centre=centre,
            client=client,
            client_unit=header.client_unit,
            purpose=case.purpose,  # type: ignore[arg-type]  # the model reads it into CitationPurpose
            databases=spans(header),
            cutoff=header.cutoff_date,
            search_date=search_date or today_local(),
            analyst=analyst_person,
            reviewer=reviewer if case.reviewer_id else None,
            papers=tuple(v.cited for v in views),
            options=CitationOptions(others_only=header.others_only, include_citing_list=header.citing_list,
                                    show_h_index=header.show_h_index),  # fmt: skip
            notes=notes,
            report_number=case.report_no,
        )
    except ReportDataError as exc:
        raise CaseError(f"报告内容有误：{exc}") from None
    return CaseView(case, header, tuple(views), report, tuple(_problems(session, case, views, header)))


def rests_on(current: CaseView) -> list[str]:
    """The records the report shows: the confirmed papers and every counted citer."""
    ids = {str(v.record["id"]) for v in current.papers if v.record is not None}
    ids |= {c.id for v in current.papers for c in v.citers if c.counted}
    return sorted(ids)


def _unseen(search: SearchService, reader: Principal | None, ids: Sequence[str]) -> int:
    """How many of `ids` exist but are hidden from `reader` (a record deleted since is not hidden)."""
    if not ids:
        return 0
    wanted = sorted(set(ids))
    body = {"size": len(wanted), "track_total_hits": False, "_source": False,
            "query": {"ids": {"values": wanted}}}  # fmt: skip
    existing = {hit["_id"] for hit in search.es.search(index=search.names.read_alias, body=body)["hits"]["hits"]}
    if reader is None:
        return len(existing)
    resp = search.es.search(index=search.names.read_alias, body=citations.visible_ids_body(wanted, reader))
    return len(existing - {hit["_id"] for hit in resp["hits"]["hits"]})


def require_reader_sees(
    session: Session, search: SearchService, reader: Principal, case: NoveltyCase, current: CaseView | None = None
) -> None:
    """The case's citers and report print every counted record: only for a reader who may see each.

    A 限制 report citing a client's paper counts for an analyst granted it; any other reader of the case
    (the reviewer included) must hold the same grant, else the content is refused, as for the 限制
    documents of a 查新 case (casework.core.require_reader_sees)."""
    if current is not None and reader.user_id == case.analyst_id:
        return  # counted under this very principal's access
    ids = rests_on(current) if current is not None else json.loads(header_of(session, case).frozen_ids or "[]")
    missing = _unseen(search, reader, ids)
    if missing:
        raise Forbidden(f"本案件计入了 {missing} 篇您无权查看的限制级文献，不能查看引证明细或报告")


def require_reviewer_sees(session: Session, search: SearchService, case: NoveltyCase, current: CaseView) -> None:
    missing = _unseen(search, record_policy.principal_of(session, case.reviewer_id), rests_on(current))
    if missing:
        raise Forbidden(f"本案件计入了 {missing} 篇限制级文献，审核员须同样获得这些文献的授权后才能审核或签字")


def freeze(session: Session, case: NoveltyCase, search: SearchService, day: date) -> CitationReportData:
    """At signing: count once more on the signing day and keep the report as it is then."""
    current = view(session, case, search, search_date=day)
    blocking = [p.message for p in current.problems]
    if blocking:
        raise StateConflict("报告尚不完整，不能签字：" + "；".join(blocking))
    require_reviewer_sees(session, search, case, current)
    report = current.report
    _check_issuable(report, day)
    case.snapshot = report.to_json()
    current.header.frozen_ids = json.dumps(rests_on(current))
    return report


def _check_issuable(report: CitationReportData, day: date) -> None:
    # The issued form is checked with a stand-in date and code: what is missing then is the analyst's.
    try:
        dataclasses.replace(report, issue_date=day, verification_code="0" * 64, draft=False)
    except ReportDataError as exc:
        raise StateConflict(f"报告内容不完整，不能签字：{exc}") from None


def frozen(case: NoveltyCase) -> CitationReportData:
    if not case.snapshot:
        raise StateConflict(f"案件 {case.id} 已签字，但没有冻结的报告内容，请联系平台管理员")
    try:
        report = CitationReportData.from_json(case.snapshot)
    except ReportDataError as exc:
        raise StateConflict(f"案件 {case.id} 冻结的报告内容无法读取：{exc}") from None
    return dataclasses.replace(report, issue_date=case.issue_date) if case.issue_date else report


def issue_code(case: NoveltyCase) -> str:
    """The verification code over the frozen report with its issue date."""
    return compute_code(frozen(case))


def report_for(
    session: Session, case: NoveltyCase, search: SearchService | None, *, site_url: str = ""
) -> CitationReportData:
    """The report to show or render: live until signing, the snapshot after; issued ones carry their code."""
    if case.snapshot is None:
        if search is None:
            raise StateConflict("检索服务不可用，无法统计引证文献")
        return view(session, case, search).report
    report = frozen(case)
    if case.state in ISSUED_STATES and case.verification_code:
        return dataclasses.replace(report, draft=False, verification_code=case.verification_code,
                                   verify_url=verify_url(site_url, case.report_no))  # fmt: skip
    return report



def readable_report(
    session: Session, case: NoveltyCase, search: SearchService, reader: Principal, *, site_url: str = ""
) -> CitationReportData:
    """`report_for`, for a reader who may see every record it counts (else Forbidden)."""
    if case.snapshot is None:
        current = view(session, case, search)
        require_reader_sees(session, search, reader, case, current)
        return current.report
    require_reader_sees(session, search, reader, case)
    return report_for(session, case, search, site_url=site_url)

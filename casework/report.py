"""A case as a `reports.ReportData`: the report is generated from the case, never typed by hand.

Documents are numbered in the order section 五 prints them (密切相关 before 一般相关, 国内 before
国外, then in the order they were added), so "[3]" in a comparison means the third printed reference.
Everything that goes into an issued report is frozen on the case when it is signed (names and titles
included), so the report and its verification code can be rebuilt identically at any later time.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from datetime import datetime, time
from urllib.parse import quote

from sqlalchemy.orm import Session

from appdb.accounts import CENTRE_CONTACT
from appdb.models import CaseStrategy, Centre, NoveltyCase, User
from casework.core import LOCAL_TZ, CaseError, aware_utc, loads_list, points
from casework.evidence import documents, strategies
from reports import ReportData, ReportDataError, compute_code
from reports.model import (
    DatabaseSpan,
    Document,
    NoveltyPoint,
    Origin,
    Party,
    Person,
    PointConclusion,
    Purpose,
    Relevance,
    Scope,
    StrategyEntry,
)

ISSUED_STATES = frozenset({"issued", "archived"})
_RELEVANCE_ORDER = {Relevance.close.value: 0, Relevance.general.value: 1}
_ORIGIN_ORDER = {Origin.domestic.value: 0, Origin.foreign.value: 1}


def local_time(moment: datetime) -> datetime:
    # Both databases' values print as Beijing time, to the second.
    return aware_utc(moment).astimezone(LOCAL_TZ).replace(tzinfo=None, microsecond=0)


def _person(user: User | None) -> list[str]:
    if user is None:
        return ["", ""]
    return [user.real_name or user.username, user.professional_title or ""]


def _centre_block(centre: Centre | None) -> dict[str, str]:
    if centre is None:
        return {"name": ""}
    return {"name": centre.name, **{name: getattr(centre, name) or "" for name in CENTRE_CONTACT}}


def freeze_signatories(session: Session, case: NoveltyCase) -> None:
    centre = session.get(Centre, case.centre_id)
    analyst = session.get(User, case.analyst_id)
    reviewer = session.get(User, case.reviewer_id) if case.reviewer_id else None
    case.signatories = json.dumps(
        {"centre": _centre_block(centre), "analyst": _person(analyst), "reviewer": _person(reviewer)},
        ensure_ascii=False,
    )


def signatories(session: Session, case: NoveltyCase) -> tuple[Party, Person, Person]:
    if case.signatories:
        frozen = json.loads(case.signatories)
        block = frozen["centre"]
        # Cases signed before centres had a contact block froze the name alone.
        centre = Party(name=block) if isinstance(block, str) else Party(**block)
        return centre, Person(*frozen["analyst"]), Person(*frozen["reviewer"])
    analyst = _person(session.get(User, case.analyst_id))
    reviewer = _person(session.get(User, case.reviewer_id) if case.reviewer_id else None)
    return Party(**_centre_block(session.get(Centre, case.centre_id))), Person(*analyst), Person(*reviewer)


def report_terms(case: NoveltyCase, chosen: Sequence[CaseStrategy]) -> tuple[list[str], list[str]]:
    """The 检索词 the report prints: the case's own, then those of the searches chosen for section 四."""
    zh = loads_list(case.terms_zh) + [t for s in chosen for t in loads_list(s.terms_zh)]
    en = loads_list(case.terms_en) + [t for s in chosen for t in loads_list(s.terms_en)]
    return list(dict.fromkeys(zh)), list(dict.fromkeys(en))


def verify_url(base: str, report_no: str | None) -> str:
    """Where a reader checks the report: the public `/verify/{number}` page of this site."""
    if not base or not report_no:
        return ""
    return f"{base.rstrip('/')}/verify/{quote(report_no, safe='')}"


def build_report(session: Session, case: NoveltyCase, *, site_url: str = "") -> ReportData:
    """The report as it stands: a draft (watermarked 草稿) until issued, then the issued report.

    `site_url` is the public address of this site; an issued report prints its verification URL."""
    report = _content(session, case)
    if case.state in ISSUED_STATES and case.verification_code:
        return dataclasses.replace(report, draft=False, verification_code=case.verification_code,
                                   verify_url=verify_url(site_url, case.report_no))  # fmt: skip
    return report


def _run_at(s: CaseStrategy) -> datetime:
    # A search typed in from another database is dated by the day it ran there.
    if s.searched_on is not None:
        return datetime.combine(s.searched_on, time())
    return local_time(s.run_at)


def _content(session: Session, case: NoveltyCase) -> ReportData:
    centre, analyst, reviewer = signatories(session, case)
    case_points = points(session, case)
    docs = sorted(
        documents(session, case),
        key=lambda d: (_RELEVANCE_ORDER.get(d.relevance, 9), _ORIGIN_ORDER.get(d.origin, 9), d.id),
    )
    chosen = [s for s in strategies(session, case) if s.in_report]
    spans: dict[str, tuple[int | None, int | None]] = {}
    origins = {s.database: Origin(s.origin or Origin.domestic.value) for s in chosen}
    for s in chosen:
        low, high = spans.get(s.database, (s.year_from, s.year_to))
        spans[s.database] = (
            None if low is None or s.year_from is None else min(low, s.year_from),
            None if high is None or s.year_to is None else max(high, s.year_to),
        )
    terms_zh, terms_en = report_terms(case, chosen)
    client = Party(
        name=case.client_name,
        address=case.client_address,
        postcode=case.client_postcode,
        principal=case.client_principal,
        contact=case.client_contact,
        phone=case.client_phone,
        fax=case.client_fax,
        email=case.client_email,
    )
    try:
        return ReportData(
            centre=centre,
            project_name_zh=case.project_name_zh,
            project_name_en=case.project_name_en or ("略" if case.scope == Scope.domestic.value else ""),
            client=client,
            commission_date=case.commission_date,
            purpose=Purpose(case.purpose),
            scope=Scope(case.scope),
            analyst=analyst,
            reviewer=reviewer,
            purpose_text=case.purpose_text,
            technical_points=case.technical_points,
            novelty_points=tuple(NoveltyPoint(p.label, p.text) for p in case_points),
            requirements=case.requirements,
            databases=tuple(
                DatabaseSpan(name, low, high, origins[name]) for name, (low, high) in spans.items()
            ),
            terms_zh=tuple(terms_zh),
            terms_en=tuple(terms_en),
            strategies=tuple(
                StrategyEntry(
                    s.database,
                    s.normalized or s.expression,
                    s.cnki,
                    s.hits,
                    _run_at(s),
                    external=s.kind == "external",
                    database_origin=Origin(s.origin or Origin.domestic.value),
                )
                for s in chosen
            ),
            documents=tuple(
                Document(
                    seq=n,
                    reference=d.reference,
                    relevance=Relevance(d.relevance),
                    origin=Origin(d.origin),
                    description=d.description,
                    excerpt=d.excerpt,
                    points=tuple(loads_list(d.point_labels)),
                    database=d.database or "",
                )
                for n, d in enumerate(docs, 1)
            ),
            point_conclusions=tuple(
                PointConclusion(p.label, p.comparison, p.conclusion)
                for p in case_points
                if p.comparison or p.conclusion
            ),
            overall_conclusion=case.overall_conclusion,
            draft=True,
            report_no=case.report_no,
            completion_date=case.completion_date,
            signing_date=case.signing_date,
            issue_date=case.issue_date,
            results_summary=case.results_summary,
            attachments=tuple(loads_list(case.attachments)),
            remarks=case.remarks,
        )
    except ReportDataError as exc:
        raise CaseError(f"报告内容不完整：{exc}") from None


def _complete_problems(report: ReportData) -> None:
    # The issued form is checked with stand-in dates and code: what is missing then is the analyst's.
    probe = dataclasses.replace(
        report,
        issue_date=report.issue_date or report.signing_date,
        verification_code=report.verification_code or "0" * 64,
    )
    dataclasses.replace(probe, draft=False)


def check_complete(session: Session, case: NoveltyCase) -> None:
    """Refuse to sign a case whose report could not be issued as it stands."""
    try:
        _complete_problems(_content(session, case))
    except ReportDataError as exc:
        raise CaseError(f"报告内容不完整，不能签字：{exc}") from None


def issue_code(session: Session, case: NoveltyCase) -> str:
    """The verification code of the report as issued (computed over everything it says)."""
    try:
        return compute_code(_content(session, case))
    except ReportDataError as exc:
        raise CaseError(f"报告内容不完整，不能签发：{exc}") from None

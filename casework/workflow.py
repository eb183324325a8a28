"""The review steps as the case page and the API take them: the state machine plus its checks.

`states.transition` moves a case along one edge; this module is what callers use. It runs the
completeness check (`checks`) before 提交审核 and 审核签字, so problems surface at submit with a link
to each rather than only when the reviewer signs; it records the warnings the analyst confirmed;
and at 签发 it counts the pages of the issued PDF, which `/verify` tells a holder to expect.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass

from pypdf import PdfReader
from sqlalchemy.orm import Session

from appdb.models import NoveltyCase
from casework import checks, states
from casework.citation import assemble as citation
from casework.core import CaseError
from casework.report import build_report
from reports import render_pdf
from reports.citation_pdf import render_citation_pdf
from search.principal import Principal
from search.service import SearchService

CHECKED = frozenset({"submit", "sign"})


class ChecksFailed(CaseError):
    """The step is refused because of these problems (errors, or warnings not yet confirmed)."""

    status = 409

    def __init__(self, message: str, problems: list[checks.Problem]) -> None:
        super().__init__(message)
        self.problems = problems


@dataclass(frozen=True)
class Step:
    action: str
    comment: str = ""
    reviewer_id: int | None = None
    confirm_warnings: bool = False


def advance(
    session: Session,
    principal: Principal,
    case_id: int,
    step: Step,
    *,
    site_url: str = "",
    search: SearchService | None = None,
) -> NoveltyCase:
    """Take `step` on the case; `site_url` (this site's public address) goes into the PDF whose pages
    are counted at 签发. A 收录引证 case needs `search` to count its citations at submit and signing."""
    # The move comes first, so a refusal by role or state reads as before; a failed check then
    # raises inside the caller's transaction, which rolls the move (and a report serial) back.
    case = states.transition(
        session, principal, case_id, step.action, comment=step.comment, reviewer_id=step.reviewer_id,
        search=search,
    )
    if case.kind == citation.KIND:
        return _advance_citation(session, case, step, search, site_url)
    if step.action in CHECKED:
        found = checks.problems(session, case)
        blocking = checks.errors(found)
        if blocking:
            raise ChecksFailed(
                f"报告尚不完整，共 {len(blocking)} 处问题，请逐项处理后再{_label(step.action)}", found
            )
        warned = checks.warnings(found)
        if step.action == "submit":
            if warned and not step.confirm_warnings:
                raise ChecksFailed(
                    f"有 {len(warned)} 条著录项目提醒，请核对后勾选“已核对著录项目提醒”再提交审核", warned
                )
            case.confirmed_warnings = json.dumps(
                [{"key": w.key, "message": w.message, "anchor": w.anchor} for w in warned], ensure_ascii=False
            )
    if step.action == "issue":
        pdf = render_pdf(build_report(session, case, site_url=site_url))
        case.page_count = len(PdfReader(io.BytesIO(pdf)).pages)
    return case


def _label(action: str) -> str:
    return states.TRANSITIONS[action].label


def _advance_citation(
    session: Session, case: NoveltyCase, step: Step, search: SearchService | None, site_url: str
) -> NoveltyCase:
    # Signing has counted and checked already (states.transition freezes the report or refuses).
    if step.action == "submit":
        if search is None:
            raise CaseError("提交审核时须统计引证文献，但检索服务不可用")
        current = citation.view(session, case, search)
        found = list(current.problems)
        if found:
            raise ChecksFailed(f"报告尚不完整，共 {len(found)} 处问题，请逐项处理后再提交审核", found)
        citation.require_reviewer_sees(session, search, case, current)
    if step.action == "issue":
        pdf = render_citation_pdf(citation.report_for(session, case, search, site_url=site_url))
        case.page_count = len(PdfReader(io.BytesIO(pdf)).pages)
    return case

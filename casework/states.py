"""The state machine of a case: its edges, who may take each, and what signing and issuing do.

Every transition is checked against roles and written to the audit log:

- start searching, start drafting, submit for review: the case's analyst.
- return or sign: the case's reviewer, who must hold the reviewer role and 高级职称 and must not be
  the case's analyst (回避, separation of duties).
- issue: the reviewer or a centre admin. Archive: the analyst or a centre admin.

Signing takes the report number (gap-free per centre and year) and freezes the signatories; issuing
sets the verification code.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from appdb.models import Centre, NoveltyCase, User
from casework import numbering
from casework.citation import assemble as citation
from casework.core import (
    STATE_LABELS,
    CaseError,
    Forbidden,
    StateConflict,
    audit,
    centre_code,
    check_reviewer,
    clean_text,
    load_case,
    now_utc,
    require_reviewer_sees,
    today_local,
)
from casework.report import check_complete, freeze_signatories, issue_code
from casework.service import assign_reviewer
from search.principal import Principal, Role
from search.service import SearchService


@dataclass(frozen=True)
class Transition:
    sources: frozenset[str]
    target: str
    label: str


TRANSITIONS: dict[str, Transition] = {
    "start_search": Transition(frozenset({"received"}), "searching", "开始检索"),
    "start_drafting": Transition(frozenset({"searching", "returned"}), "drafting", "撰写报告"),
    # After a return the analyst may resubmit at once, without passing through 撰写报告 again.
    "submit": Transition(frozenset({"drafting", "returned"}), "in_review", "提交审核"),
    "return": Transition(frozenset({"in_review"}), "returned", "退回修改"),
    "sign": Transition(frozenset({"in_review"}), "signed", "审核签字"),
    "issue": Transition(frozenset({"signed"}), "issued", "签发"),
    "archive": Transition(frozenset({"issued"}), "archived", "归档"),
}


def _role_check(session: Session, principal: Principal, case: NoveltyCase, action: str) -> None:
    is_analyst = principal.user_id == case.analyst_id and principal.has(Role.analyst)
    is_centre_admin = principal.has(Role.centre_admin) and principal.centre == centre_code(session, case)
    if action in ("start_search", "start_drafting", "submit"):
        if not is_analyst:
            raise Forbidden("只有本案件的查新员可以执行该操作")
        return
    if action in ("return", "sign"):
        if (
            principal.user_id is None
            or principal.user_id != case.reviewer_id
            or not principal.has(Role.reviewer)
        ):
            raise Forbidden("只有本案件指定的审核员可以审核、退回或签字")
        reviewer = session.get(User, principal.user_id)
        assert reviewer is not None
        check_reviewer(reviewer, case)
        if action == "sign":
            require_reviewer_sees(session, reviewer.id, case)
        return
    if action == "issue":
        if not (principal.user_id == case.reviewer_id or is_centre_admin):
            raise Forbidden("只有本案件的审核员或分中心管理员可以签发报告")
        return
    if action == "archive":
        if not (is_analyst or is_centre_admin):
            raise Forbidden("只有本案件的查新员或分中心管理员可以归档")
        return


def transition(
    session: Session,
    principal: Principal,
    case_id: int,
    action: str,
    *,
    comment: str = "",
    reviewer_id: int | None = None,
    today: date | None = None,
    search: SearchService | None = None,
) -> NoveltyCase:
    """Move a case along one edge of the state machine. Signing issues the report number.

    Signing a 收录引证 case counts its citations once more and freezes them, which needs `search`."""
    rule = TRANSITIONS.get(action)
    if rule is None:
        raise CaseError(f"未知的操作：{action}（可选：{'、'.join(TRANSITIONS)}）")
    case = load_case(session, principal, case_id)
    if case.state not in rule.sources:
        raise StateConflict(f"案件当前状态为“{STATE_LABELS[case.state]}”，不能{rule.label}")
    if action == "submit" and reviewer_id is not None:
        assign_reviewer(session, principal, case, reviewer_id)
    _role_check(session, principal, case, action)
    note = clean_text(comment, "审核意见", 5_000)
    if action == "submit" and case.reviewer_id is None:
        raise CaseError("提交审核前请指定审核员")
    if action == "submit" and case.reviewer_id is not None:
        require_reviewer_sees(session, case.reviewer_id, case)
    if action == "return" and not note:
        raise CaseError("退回修改时请填写审核意见")
    source = case.state
    # The conditional UPDATE is the first write of the transaction: it takes the lock, and a
    # concurrent transition of the same case finds the state changed and is refused.
    moved = session.execute(
        update(NoveltyCase)
        .where(NoveltyCase.id == case.id, NoveltyCase.state == source)
        .values(state=rule.target, updated_at=now_utc())
        .execution_options(synchronize_session=False)
    )
    if getattr(moved, "rowcount", 0) != 1:
        raise StateConflict("案件状态已被他人修改，请刷新后重试")
    session.refresh(case)
    day = today or today_local()
    detail: dict[str, Any] = {"from": source, "to": rule.target}
    if action == "return":
        case.review_comment = note
        detail["comment"] = note
    if action == "sign":
        _sign(session, case, day, search)
        detail["report_no"] = case.report_no
    if action == "issue":
        _issue(session, case, day)
    audit(session, principal, f"case.{action}", case, **detail)
    session.flush()
    return case


def _sign(session: Session, case: NoveltyCase, day: date, search: SearchService | None) -> None:
    centre = session.get(Centre, case.centre_id)
    assert centre is not None
    freeze_signatories(session, case)
    try:
        number, serial = numbering.issue_number(session, centre, day.year)
    except numbering.NumberingError as exc:
        raise StateConflict(str(exc)) from None
    case.report_no = number
    case.report_year = day.year
    case.report_serial = serial
    case.signing_date = day
    case.completion_date = day
    case.review_comment = ""
    session.flush()
    # Refusing here rolls the whole signing back, serial included, so numbers stay gap-free.
    if case.kind == citation.KIND:
        if search is None:
            raise StateConflict("收录引证案件签字时须重新统计引证文献，但检索服务不可用")
        citation.freeze(session, case, search, day)
    else:
        check_complete(session, case)


def _issue(session: Session, case: NoveltyCase, day: date) -> None:
    case.issue_date = day
    session.flush()
    if case.kind == citation.KIND:
        case.verification_code = citation.issue_code(case)
    else:
        case.verification_code = issue_code(session, case)


def allowed_actions(case: NoveltyCase) -> Sequence[str]:
    return [name for name, rule in TRANSITIONS.items() if case.state in rule.sources]


def actions_for(session: Session, principal: Principal, case: NoveltyCase) -> list[str]:
    """The transitions `principal` may take on `case` now (what the case page offers as buttons)."""
    mine = []
    for action in allowed_actions(case):
        try:
            _role_check(session, principal, case, action)
        except Forbidden:
            continue
        mine.append(action)
    return mine

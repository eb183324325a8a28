"""Cases: creation, editing, reviewer assignment and the state machine, each checked against roles.

Who may do what (every transition is also written to the audit log):

- read: staff of the case's centre; platform admins read every centre's cases.
- create: an analyst or centre admin, for their own centre (a platform admin names the centre).
- edit content, run searches, add documents: the case's analyst, while the case is not yet signed.
- submit for review: the case's analyst. Return or sign: the case's reviewer, who must hold the
  reviewer role and 高级职称 and must not be the case's analyst (回避, separation of duties).
- issue: the reviewer or a centre admin. Archive: the analyst or a centre admin.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from appdb import accounts
from appdb.models import CaseDocument, CasePoint, Centre, NoveltyCase, User
from casework import record_policy
from conf.xml_chars import xml_clean
from reports.model import Purpose, Scope
from search.principal import Principal, Role

LOCAL_TZ = ZoneInfo("Asia/Shanghai")

STATES = ("received", "searching", "drafting", "in_review", "returned", "signed", "issued", "archived")
STATE_LABELS = {
    "received": "已受理",
    "searching": "检索中",
    "drafting": "撰写中",
    "in_review": "审核中",
    "returned": "退回修改",
    "signed": "已签字",
    "issued": "已签发",
    "archived": "已归档",
}
# Content may change only before signing; after that only issue and archive remain.
EDITABLE = frozenset({"received", "searching", "drafting", "returned"})


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

HEADER_FIELDS: dict[str, int] = {
    "project_name_zh": 300,
    "project_name_en": 500,
    "client_name": 200,
    "client_address": 300,
    "client_postcode": 16,
    "client_principal": 100,
    "client_contact": 100,
    "client_phone": 32,
    "client_fax": 32,
    "client_email": 254,
}
TEXT_FIELDS = (
    "purpose_text",
    "technical_points",
    "requirements",
    "results_summary",
    "overall_conclusion",
    "remarks",
)
LIST_FIELDS = ("terms_zh", "terms_en", "attachments")
TEXT_LIMIT = 20_000


class CaseError(ValueError):
    """A request the case rules refuse; the message is Chinese. `status` is the HTTP status to answer."""

    status = 400


class CaseNotFound(CaseError):
    status = 404


class Forbidden(CaseError):
    status = 403


class StateConflict(CaseError):
    status = 409


def today_local() -> date:
    return datetime.now(LOCAL_TZ).date()


def now_utc() -> datetime:
    return datetime.now(UTC)


def aware_utc(moment: datetime) -> datetime:
    """A stored time with its zone: SQLite hands back naive UTC, PostgreSQL aware values."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def actor_key(principal: Principal) -> str:
    return principal.owner or (f"user:{principal.user_id}" if principal.user_id else "anon")


def _text(value: object, label: str, limit: int) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise CaseError(f"{label}应为文本")
    # Control characters would make the report unprintable for good (DOCX refuses them): dropped here.
    text = xml_clean(value).replace("\r\n", "\n").strip()
    if len(text) > limit:
        raise CaseError(f"{label}过长（最多 {limit} 个字符）")
    return text


def _string_list(value: object, label: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        raise CaseError(f"{label}应为文本列表")
    cleaned = (xml_clean(v).strip() for v in value)
    out = [v for v in cleaned if v]
    if len(out) > 200 or any(len(v) > 500 for v in out):
        raise CaseError(f"{label}过多或过长")
    return out


FIELD_LABELS = {
    "project_name_zh": "项目中文名称",
    "project_name_en": "项目英文名称",
    "client_name": "委托人",
    "client_address": "委托人通信地址",
    "client_postcode": "委托人邮政编码",
    "client_principal": "委托人负责人",
    "client_contact": "委托人联系人",
    "client_phone": "委托人电话",
    "client_fax": "委托人传真",
    "client_email": "委托人电子信箱",
    "purpose_text": "查新目的",
    "technical_points": "科学技术要点",
    "requirements": "查新要求",
    "results_summary": "检索结果概述",
    "overall_conclusion": "总体查新结论",
    "remarks": "备注",
    "terms_zh": "中文检索词",
    "terms_en": "英文检索词",
    "attachments": "附件清单",
}


# ---------------------------------------------------------------- access


def _is_centre_staff(principal: Principal, centre_code: str) -> bool:
    return principal.staff and principal.centre == centre_code


def _centre_code(session: Session, case: NoveltyCase) -> str:
    code = session.scalar(select(Centre.code).where(Centre.id == case.centre_id))
    return code or ""


def load_case(session: Session, principal: Principal, case_id: int) -> NoveltyCase:
    """The case if `principal` may read it. Another centre's case looks exactly like a missing one."""
    case = session.get(NoveltyCase, case_id)
    if case is None or not (
        principal.platform_admin or _is_centre_staff(principal, _centre_code(session, case))
    ):
        raise CaseNotFound(f"没有编号为 {case_id} 的查新案件")
    return case


def list_cases(
    session: Session, principal: Principal, *, state: str | None = None, limit: int = 200
) -> list[NoveltyCase]:
    if not principal.staff:
        raise Forbidden("只有查新机构工作人员可以查看查新案件")
    stmt = select(NoveltyCase).order_by(NoveltyCase.id.desc()).limit(limit)
    if not principal.platform_admin:
        stmt = stmt.join(Centre, Centre.id == NoveltyCase.centre_id).where(Centre.code == principal.centre)
    if state:
        if state not in STATES:
            raise CaseError(f"未知的案件状态：{state}")
        stmt = stmt.where(NoveltyCase.state == state)
    return list(session.scalars(stmt))


def case_for_editing(session: Session, principal: Principal, case_id: int) -> NoveltyCase:
    """The case, if `principal` may read it (else 404) and is its analyst while it is open (else 403/409)."""
    case = load_case(session, principal, case_id)
    require_analyst(principal, case)
    return case


def require_analyst(principal: Principal, case: NoveltyCase) -> None:
    """Only the case's own analyst edits it, and only before signing."""
    if principal.user_id != case.analyst_id or not principal.has(Role.analyst):
        raise Forbidden("只有本案件的查新员可以修改案件内容")
    require_editable(case)


def require_editable(case: NoveltyCase) -> None:
    if case.state not in EDITABLE:
        raise StateConflict(f"案件当前状态为“{STATE_LABELS[case.state]}”，内容已冻结，不能修改")


def audit(session: Session, principal: Principal, action: str, case: NoveltyCase, **detail: Any) -> None:
    accounts.audit(session, actor_key(principal), action, {"case_id": case.id, **detail})


def touch(case: NoveltyCase) -> None:
    case.updated_at = now_utc()


# ---------------------------------------------------------------- creation and editing


def _staff_user(session: Session, user_id: int, centre_id: int, role: str, label: str) -> User:
    user = session.get(User, user_id)
    if user is None or not user.active:
        raise CaseError(f"没有编号为 {user_id} 的有效用户")
    if user.centre_id != centre_id:
        raise CaseError(f"{label}必须是本分中心的工作人员")
    if role not in accounts.user_roles(session, user.id):
        raise CaseError(f"用户“{user.username}”不是{accounts.ROLE_LABELS[role]}")
    return user


def create_case(session: Session, principal: Principal, data: Mapping[str, Any]) -> NoveltyCase:
    if not (principal.has(Role.analyst) or principal.has(Role.centre_admin) or principal.platform_admin):
        raise Forbidden("只有查新员或分中心管理员可以受理查新委托")
    code = principal.centre
    if principal.platform_admin and data.get("centre"):
        code = str(data["centre"])
    if not code:
        raise CaseError("请指定受理该委托的分中心")
    try:
        centre = accounts.get_centre(session, code)
    except accounts.NotFound as exc:
        raise CaseError(str(exc)) from None
    if not principal.platform_admin and code != principal.centre:
        raise Forbidden("只能为本分中心受理查新委托")
    analyst_id = data.get("analyst_id") or principal.user_id
    if not isinstance(analyst_id, int):
        raise CaseError("请指定查新员")
    _staff_user(session, analyst_id, centre.id, "analyst", "查新员")
    try:
        purpose = Purpose(str(data.get("purpose", "")))
    except ValueError:
        raise CaseError("查新目的应为：" + "、".join(p.value for p in Purpose)) from None
    try:
        scope = Scope(str(data.get("scope", "")))
    except ValueError:
        raise CaseError("查新范围应为：" + "、".join(s.value for s in Scope)) from None
    commission = data.get("commission_date")
    if isinstance(commission, str):
        try:
            commission = date.fromisoformat(commission)
        except ValueError:
            raise CaseError("委托日期格式应为 YYYY-MM-DD") from None
    if not isinstance(commission, date):
        raise CaseError("请填写委托日期")
    if commission > today_local():
        raise CaseError("委托日期不能晚于今天")
    case = NoveltyCase(
        centre_id=centre.id,
        state="received",
        commission_date=commission,
        purpose=purpose.value,
        scope=scope.value,
        analyst_id=analyst_id,
        **{f: "" for f in HEADER_FIELDS},
        **{f: "" for f in TEXT_FIELDS},
        **{f: "[]" for f in LIST_FIELDS},
        review_comment="",
    )
    apply_fields(case, data)
    if not case.project_name_zh:
        raise CaseError("请填写项目中文名称")
    if not case.client_name:
        raise CaseError("请填写委托人")
    session.add(case)
    session.flush()
    if data.get("reviewer_id") is not None:
        assign_reviewer(session, principal, case, data["reviewer_id"], audited=False)
    audit(session, principal, "case.create", case, centre=centre.code)
    return case


def apply_fields(case: NoveltyCase, data: Mapping[str, Any]) -> list[str]:
    """Copy the editable header and text fields present in `data`; returns the names changed."""
    changed = []
    for name, limit in HEADER_FIELDS.items():
        if name in data:
            setattr(case, name, " ".join(_text(data[name], FIELD_LABELS[name], limit).split()))
            changed.append(name)
    for name in TEXT_FIELDS:
        if name in data:
            setattr(case, name, _text(data[name], FIELD_LABELS[name], TEXT_LIMIT))
            changed.append(name)
    for name in LIST_FIELDS:
        if name in data:
            values = _string_list(data[name], FIELD_LABELS[name])
            setattr(case, name, json.dumps(values, ensure_ascii=False))
            changed.append(name)
    return changed


def update_case(session: Session, principal: Principal, case_id: int, data: Mapping[str, Any]) -> NoveltyCase:
    case = case_for_editing(session, principal, case_id)
    changed = apply_fields(case, data)
    if not case.project_name_zh or not case.client_name:
        raise CaseError("项目中文名称和委托人不能为空")
    touch(case)
    audit(session, principal, "case.update", case, fields=changed)
    return case


def assign_reviewer(
    session: Session, principal: Principal, case: NoveltyCase, reviewer_id: object, *, audited: bool = True
) -> None:
    if principal.user_id != case.analyst_id and not principal.has(Role.centre_admin):
        raise Forbidden("只有本案件的查新员或分中心管理员可以指定审核员")
    require_editable(case)
    if not isinstance(reviewer_id, int):
        raise CaseError("审核员编号应为整数")
    reviewer = _staff_user(session, reviewer_id, case.centre_id, "reviewer", "审核员")
    check_reviewer(reviewer, case)
    require_reviewer_sees(session, reviewer.id, case)
    case.reviewer_id = reviewer.id
    if audited:
        audit(session, principal, "case.assign_reviewer", case, reviewer_id=reviewer.id)


def check_reviewer(reviewer: User, case: NoveltyCase) -> None:
    if reviewer.id == case.analyst_id:
        raise Forbidden("审核员不能是本案件的查新员（回避）")
    if not reviewer.senior_title:
        raise Forbidden("审核员须具有高级职称")


def require_reviewer_sees(session: Session, reviewer_id: int, case: NoveltyCase) -> None:
    """The reviewer of a case citing a 限制 report must hold its grant too (casework/record_policy.py)."""
    docs = session.scalars(select(CaseDocument).where(CaseDocument.case_id == case.id))
    missing = record_policy.unseen_count(record_policy.principal_of(session, reviewer_id), list(docs))
    if missing:
        raise Forbidden(
            f"本案件引用了 {missing} 篇限制级文献，审核员须同样获得这些文献的授权后才能审核或签字"
        )


def require_reader_sees(session: Session, principal: Principal, case: NoveltyCase) -> None:
    """A report file prints every document: only for a reader who may see each of them."""
    docs = session.scalars(select(CaseDocument).where(CaseDocument.case_id == case.id))
    missing = record_policy.unseen_count(principal, list(docs))
    if missing:
        raise Forbidden(f"本报告引用了 {missing} 篇您无权查看的限制级文献，不能下载或预览报告")


def points(session: Session, case: NoveltyCase) -> list[CasePoint]:
    return list(session.scalars(select(CasePoint).where(CasePoint.case_id == case.id).order_by(CasePoint.id)))


def add_point(session: Session, principal: Principal, case_id: int, text: object) -> CasePoint:
    case = case_for_editing(session, principal, case_id)
    body = _text(text, "查新点", 5_000)
    if not body:
        raise CaseError("查新点内容不能为空")
    existing = points(session, case)
    if len(existing) >= 50:
        raise CaseError("一个案件最多 50 个查新点")
    # Labels are never reused, so a document linked to a deleted point cannot silently move.
    numbers = [int(p.label.removeprefix("NP-")) for p in existing if p.label.removeprefix("NP-").isdigit()]
    point = CasePoint(case_id=case.id, label=f"NP-{max(numbers, default=0) + 1}", text=body, comparison="",
                      conclusion="")  # fmt: skip
    session.add(point)
    session.flush()
    touch(case)
    audit(session, principal, "case.add_point", case, point=point.label)
    return point


def find_point(session: Session, case: NoveltyCase, label: str) -> CasePoint:
    point = session.scalar(select(CasePoint).where(CasePoint.case_id == case.id, CasePoint.label == label))
    if point is None:
        raise CaseNotFound(f"本案件没有查新点 {label}")
    return point


def update_point(
    session: Session, principal: Principal, case_id: int, label: str, data: Mapping[str, Any]
) -> CasePoint:
    """Edit a novelty point's text, or its comparison and conclusion (section 六)."""
    case = case_for_editing(session, principal, case_id)
    point = find_point(session, case, label)
    if "text" in data:
        body = _text(data["text"], "查新点", 5_000)
        if not body:
            raise CaseError("查新点内容不能为空")
        point.text = body
    if "comparison" in data:
        point.comparison = _text(data["comparison"], "对比分析", TEXT_LIMIT)
    if "conclusion" in data:
        point.conclusion = _text(data["conclusion"], "查新结论", TEXT_LIMIT)
    touch(case)
    audit(session, principal, "case.update_point", case, point=label, fields=sorted(data))
    return point


# ---------------------------------------------------------------- state machine


def _role_check(session: Session, principal: Principal, case: NoveltyCase, action: str) -> None:
    is_analyst = principal.user_id == case.analyst_id and principal.has(Role.analyst)
    is_centre_admin = principal.has(Role.centre_admin) and principal.centre == _centre_code(session, case)
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
) -> NoveltyCase:
    """Move a case along one edge of the state machine. Signing issues the report number."""
    rule = TRANSITIONS.get(action)
    if rule is None:
        raise CaseError(f"未知的操作：{action}（可选：{'、'.join(TRANSITIONS)}）")
    case = load_case(session, principal, case_id)
    if case.state not in rule.sources:
        raise StateConflict(f"案件当前状态为“{STATE_LABELS[case.state]}”，不能{rule.label}")
    if action == "submit" and reviewer_id is not None:
        assign_reviewer(session, principal, case, reviewer_id)
    _role_check(session, principal, case, action)
    note = _text(comment, "审核意见", 5_000)
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
        _sign(session, case, day)
        detail["report_no"] = case.report_no
    if action == "issue":
        _issue(session, case, day)
    audit(session, principal, f"case.{action}", case, **detail)
    session.flush()
    return case


def _sign(session: Session, case: NoveltyCase, day: date) -> None:
    from casework import numbering
    from casework.report import check_complete, freeze_signatories

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
    check_complete(session, case)


def _issue(session: Session, case: NoveltyCase, day: date) -> None:
    from casework.report import issue_code

    case.issue_date = day
    session.flush()
    case.verification_code = issue_code(session, case)


def case_summary(case: NoveltyCase) -> dict[str, Any]:
    return {
        "id": case.id,
        "state": case.state,
        "state_label": STATE_LABELS[case.state],
        "project_name_zh": case.project_name_zh,
        "client_name": case.client_name,
        "commission_date": case.commission_date.isoformat(),
        "purpose": case.purpose,
        "scope": case.scope,
        "analyst_id": case.analyst_id,
        "reviewer_id": case.reviewer_id,
        "report_no": case.report_no,
    }


def loads_list(raw: str | None) -> list[str]:
    value = json.loads(raw or "[]")
    return [str(v) for v in value] if isinstance(value, list) else []


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


def open_cases(session: Session, principal: Principal, limit: int = 50) -> list[NoveltyCase]:
    """The cases this analyst can still add documents to, most recently touched first."""
    if principal.user_id is None or not principal.has(Role.analyst):
        return []
    stmt = (
        select(NoveltyCase)
        .where(NoveltyCase.analyst_id == principal.user_id, NoveltyCase.state.in_(EDITABLE))
        .order_by(NoveltyCase.updated_at.desc(), NoveltyCase.id.desc())
        .limit(limit)
    )
    return list(session.scalars(stmt))


def may_edit(principal: Principal, case: NoveltyCase) -> bool:
    return principal.user_id == case.analyst_id and principal.has(Role.analyst) and case.state in EDITABLE


def eligible_reviewers(session: Session, case: NoveltyCase) -> list[User]:
    """Users of the case's centre who could review it: reviewer role, 高级职称, not its analyst."""
    out = []
    for user in accounts.list_users(session, centre_id=case.centre_id):
        eligible = user.active and user.senior_title and user.id != case.analyst_id
        if eligible and "reviewer" in accounts.user_roles(session, user.id):
            out.append(user)
    return out


def display_name(session: Session, user_id: int | None) -> str:
    user = session.get(User, user_id) if user_id else None
    if user is None:
        return ""
    return f"{user.real_name or user.username}（{user.username}）"

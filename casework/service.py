"""Cases: creation, editing of the header, texts and novelty points, and reviewer assignment.

- create: an analyst or centre admin, for their own centre (a platform admin names the centre).
- edit content, run searches, add documents: the case's analyst, while the case is not yet signed.
- assign a reviewer: the case's analyst or a centre admin.

The shared core (errors, access, audit) is `casework.core`; the state machine is `casework.states`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from appdb import accounts
from appdb.models import CasePoint, Centre, NoveltyCase, User
from casework.core import (
    EDITABLE,
    STATE_LABELS,
    STATES,
    TEXT_LIMIT,
    CaseError,
    CaseNotFound,
    Forbidden,
    audit,
    case_for_editing,
    check_reviewer,
    clean_text,
    points,
    require_editable,
    require_reviewer_sees,
    string_list,
    today_local,
    touch,
)
from reports.model import Purpose, Scope
from search.principal import Principal, Role

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


def _staff_user(session: Session, user_id: int, centre_id: int, role: str, label: str) -> User:
    user = session.get(User, user_id)
    if user is None or not user.active:
        raise CaseError(f"没有编号为 {user_id} 的有效用户")
    if user.centre_id != centre_id:
        raise CaseError(f"{label}必须是本分中心的工作人员")
    if role not in accounts.user_roles(session, user.id):
        raise CaseError(f"用户“{user.username}”不是{accounts.ROLE_LABELS[role]}")
    return user


def receive(session: Session, principal: Principal, data: Mapping[str, Any]) -> tuple[Centre, int]:
    """Who receives a commission of either kind: the centre and its analyst.

    An analyst or centre admin receives for their own centre; a platform admin names the centre."""
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
    return centre, analyst_id


def commission_date(value: object) -> date:
    """The commission date as given (YYYY-MM-DD), never after today."""
    commission = value
    if isinstance(commission, str):
        try:
            commission = date.fromisoformat(commission)
        except ValueError:
            raise CaseError("委托日期格式应为 YYYY-MM-DD") from None
    if not isinstance(commission, date):
        raise CaseError("请填写委托日期")
    if commission > today_local():
        raise CaseError("委托日期不能晚于今天")
    return commission


def create_case(session: Session, principal: Principal, data: Mapping[str, Any]) -> NoveltyCase:
    centre, analyst_id = receive(session, principal, data)
    try:
        purpose = Purpose(str(data.get("purpose", "")))
    except ValueError:
        raise CaseError("查新目的应为：" + "、".join(p.value for p in Purpose)) from None
    try:
        scope = Scope(str(data.get("scope", "")))
    except ValueError:
        raise CaseError("查新范围应为：" + "、".join(s.value for s in Scope)) from None
    commission = commission_date(data.get("commission_date"))
    case = NoveltyCase(
        kind="novelty",
        centre_id=centre.id,
        state="received",
        commission_date=commission,
        purpose=purpose.value,
        scope=scope.value,
        analyst_id=analyst_id,
        **dict.fromkeys(HEADER_FIELDS, ""),
        **dict.fromkeys(TEXT_FIELDS, ""),
        **dict.fromkeys(LIST_FIELDS, "[]"),
        review_comment="",
    )
    apply_fields(case, data)
    if not case.project_name_zh:
        raise CaseError("请填写项目中文名称")
    if not case.client_name:
        raise CaseError("请填写委托人")
    session.add(case)
    session.flush()
    finish_creation(session, principal, case, data, centre)
    return case


def finish_creation(
    session: Session, principal: Principal, case: NoveltyCase, data: Mapping[str, Any], centre: Centre
) -> None:
    """The shared last steps of receiving a case of any kind: the reviewer if named, the audit entry."""
    if data.get("reviewer_id") is not None:
        assign_reviewer(session, principal, case, data["reviewer_id"], audited=False)
    audit(session, principal, "case.create", case, centre=centre.code, kind=case.kind)


def apply_fields(case: NoveltyCase, data: Mapping[str, Any]) -> list[str]:
    """Copy the editable header and text fields present in `data`; returns the names changed."""
    changed = []
    for name, limit in HEADER_FIELDS.items():
        if name in data:
            setattr(case, name, " ".join(clean_text(data[name], FIELD_LABELS[name], limit).split()))
            changed.append(name)
    for name in TEXT_FIELDS:
        if name in data:
            setattr(case, name, clean_text(data[name], FIELD_LABELS[name], TEXT_LIMIT))
            changed.append(name)
    for name in LIST_FIELDS:
        if name in data:
            values = string_list(data[name], FIELD_LABELS[name])
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


def add_point(session: Session, principal: Principal, case_id: int, text: object) -> CasePoint:
    case = case_for_editing(session, principal, case_id)
    body = clean_text(text, "查新点", 5_000)
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
        body = clean_text(data["text"], "查新点", 5_000)
        if not body:
            raise CaseError("查新点内容不能为空")
        point.text = body
    if "comparison" in data:
        point.comparison = clean_text(data["comparison"], "对比分析", TEXT_LIMIT)
    if "conclusion" in data:
        point.conclusion = clean_text(data["conclusion"], "查新结论", TEXT_LIMIT)
    touch(case)
    audit(session, principal, "case.update_point", case, point=label, fields=sorted(data))
    return point


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
        "kind": case.kind,
    }


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


def eligible_reviewers(session: Session, case: NoveltyCase) -> list[User]:
    """Users of the case's centre who could review it: reviewer role, 高级职称, not its analyst."""
    out = []
    for user in accounts.list_users(session, centre_id=case.centre_id):
        eligible = user.active and user.senior_title and user.id != case.analyst_id
        if eligible and "reviewer" in accounts.user_roles(session, user.id):
            out.append(user)
    return out

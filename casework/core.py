"""The shared core of every kind of case: states, errors, time, validated text, access and audit.

Both kinds of case (查新 now, 收录引证 next) build on this module; it imports nothing else of
`casework`, so imports run one way: core ← evidence ← report ← states ← workflow, and `service`
(creation and editing) sits on core beside them.

Who may read a case: staff of the case's centre; platform admins read every centre's cases. Another
centre's case looks exactly like a missing one.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from appdb import accounts
from appdb.models import CaseDocument, CasePoint, Centre, NoveltyCase, User
from casework import record_policy
from conf.xml_chars import xml_clean
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


def clean_text(value: object, label: str, limit: int) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise CaseError(f"{label}应为文本")
    # Control characters would make the report unprintable for good (DOCX refuses them): dropped here.
    text = xml_clean(value).replace("\r\n", "\n").strip()
    if len(text) > limit:
        raise CaseError(f"{label}过长（最多 {limit} 个字符）")
    return text


def string_list(value: object, label: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        raise CaseError(f"{label}应为文本列表")
    cleaned = (xml_clean(v).strip() for v in value)
    out = [v for v in cleaned if v]
    if len(out) > 200 or any(len(v) > 500 for v in out):
        raise CaseError(f"{label}过多或过长")
    return out


def loads_list(raw: str | None) -> list[str]:
    value = json.loads(raw or "[]")
    return [str(v) for v in value] if isinstance(value, list) else []


def is_centre_staff(principal: Principal, centre_code: str) -> bool:
    return principal.staff and principal.centre == centre_code


def centre_code(session: Session, case: NoveltyCase) -> str:
    code = session.scalar(select(Centre.code).where(Centre.id == case.centre_id))
    return code or ""


def load_case(session: Session, principal: Principal, case_id: int) -> NoveltyCase:
    """The case if `principal` may read it. Another centre's case looks exactly like a missing one."""
    case = session.get(NoveltyCase, case_id)
    if case is None or not (
        principal.platform_admin or is_centre_staff(principal, centre_code(session, case))
    ):
        raise CaseNotFound(f"没有编号为 {case_id} 的查新案件")
    return case


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


def may_edit(principal: Principal, case: NoveltyCase) -> bool:
    return principal.user_id == case.analyst_id and principal.has(Role.analyst) and case.state in EDITABLE


def audit(session: Session, principal: Principal, action: str, case: NoveltyCase, **detail: Any) -> None:
    accounts.audit(session, actor_key(principal), action, {"case_id": case.id, **detail})


def touch(case: NoveltyCase) -> None:
    case.updated_at = now_utc()


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


def display_name(session: Session, user_id: int | None) -> str:
    user = session.get(User, user_id) if user_id else None
    if user is None:
        return ""
    return f"{user.real_name or user.username}（{user.username}）"

"""Users, branch centres, role and record grants, sessions, API tokens and the audit log.

Shared by the web layer, the CLI and anything else that needs to know who someone is. Callers pass
a SQLAlchemy session and own the transaction. Errors are `AccountError` with a message in Chinese
that can be shown to the user as is.

Role names are plain strings here (appdb sits below `search/`); they are the values of
`search.principal.Role`, and a test keeps the two in step.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from appdb.models import ApiToken, AuditEvent, Centre, RecordGrant, RoleGrant, User, WebSession
from conf.xml_chars import xml_clean

ROLE_NAMES = ("registered", "analyst", "reviewer", "centre_admin", "platform_admin")
ROLE_LABELS = {
    "registered": "注册用户",
    "analyst": "查新员",
    "reviewer": "审核员",
    "centre_admin": "分中心管理员",
    "platform_admin": "平台管理员",
}
# Roles that work for one branch centre: a user holding one must belong to a centre.
CENTRE_ROLES = frozenset({"analyst", "reviewer", "centre_admin"})
# Every signed-in user is a registered user; the role needs no row.
IMPLICIT_ROLE = "registered"

# domain.md Part A §6: which report-numbering pattern a centre uses, and its institution number's shape.
NUMBERING_PATTERNS = {
    "most": "科技部模板：14 位数字（年份 4 + 省级代码 2 + 机构编号 3 + 流水号 5）",
    "moe": "教育部模板：16 位（年份 4 + 360 + 查新工作站编号 5 + 年度流水号 4）",
}
_INSTITUTION_NO = {"most": re.compile(r"\d{3}"), "moe": re.compile(r"\d{5}")}
_INSTITUTION_HINT = {"most": "3 位数字", "moe": "5 位数字（查新工作站编号）"}

PASSWORD_MIN = 8
PASSWORD_MAX = 256  # argon2 hashes any length; the cap keeps one request from costing much
_USERNAME = re.compile(r"[a-z0-9][a-z0-9_.@-]{2,63}")
_CENTRE_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,31}")
_PROVINCE = re.compile(r"\d{2}")
_PHONE = re.compile(r"\+?[0-9][0-9 -]{5,30}")
_EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s]+\.[^@\s]+")
TOKEN_PREFIX = "chx_"

_hasher = PasswordHasher()


@cache
def _dummy_hash() -> str:
    # Verifying against this when the username is unknown makes both failures take the same time.
    return _hasher.hash(secrets.token_hex(16))


class AccountError(ValueError):
    """A request the account rules refuse; the message is Chinese and safe to show."""


class Conflict(AccountError):
    """The name is taken."""


class NotFound(AccountError):
    """No such user, centre or grant."""


def _now() -> datetime:
    return datetime.now(UTC)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _clean(value: str | None, limit: int) -> str | None:
    value = " ".join(xml_clean(value or "").split())
    if len(value) > limit:
        raise AccountError(f"“{value[:20]}…”过长（最多 {limit} 个字符）")
    return value or None


# ---------------------------------------------------------------- passwords


def check_password_strength(password: str) -> None:
    if len(password) < PASSWORD_MIN:
        raise AccountError(f"密码至少需要 {PASSWORD_MIN} 个字符")
    if len(password) > PASSWORD_MAX:
        raise AccountError(f"密码不能超过 {PASSWORD_MAX} 个字符")
    kinds = sum(
        (
            any(c.isalpha() for c in password),
            any(c.isdigit() for c in password),
            any(not c.isalnum() for c in password),
        )
    )
    if kinds < 2:
        raise AccountError("密码需包含字母、数字、符号中的至少两类")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


# ---------------------------------------------------------------- centres


def create_centre(
    session: Session, *, code: str, name: str, province_code: str, institution_no: str, pattern: str
) -> Centre:
    code = code.strip()
    if not _CENTRE_CODE.fullmatch(code):
        raise AccountError("分中心代码只能由字母、数字、- 和 _ 组成，最长 32 个字符")
    if session.scalar(select(Centre.id).where(Centre.code == code)) is not None:
        raise Conflict(f"分中心代码“{code}”已存在")
    centre = Centre(
        code=code, name="", province_code="", institution_no="", numbering_pattern="", active=True
    )
    _apply_centre(
        centre, name=name, province_code=province_code, institution_no=institution_no, pattern=pattern
    )
    session.add(centre)
    session.flush()
    return centre


def update_centre(
    session: Session,
    code: str,
    *,
    name: str,
    province_code: str,
    institution_no: str,
    pattern: str,
    active: bool = True,
    contact: Mapping[str, str] | None = None,
) -> Centre:
    centre = get_centre(session, code)
    _apply_centre(
        centre, name=name, province_code=province_code, institution_no=institution_no, pattern=pattern
    )
    centre.active = active
    if contact is not None:
        set_centre_contact(centre, contact)
    session.flush()
    return centre


def _apply_centre(
    centre: Centre, *, name: str, province_code: str, institution_no: str, pattern: str
) -> None:
    clean_name = _clean(name, 200)
    if not clean_name:
        raise AccountError("请填写分中心名称")
    pattern = pattern.strip().lower()
    if pattern not in NUMBERING_PATTERNS:
        raise AccountError("报告编号规则应为 most（科技部，14 位）或 moe（教育部，16 位）")
    province_code = province_code.strip()
    if not _PROVINCE.fullmatch(province_code):
        raise AccountError("省级代码应为 2 位数字（GB/T 2260 行政区划代码的前两位，如 11 表示北京）")
    institution_no = institution_no.strip()
    if not _INSTITUTION_NO[pattern].fullmatch(institution_no):
        raise AccountError(f"该编号规则下的机构编号应为{_INSTITUTION_HINT[pattern]}")
    centre.name = clean_name
    centre.province_code = province_code
    centre.institution_no = institution_no
    centre.numbering_pattern = pattern


# The 查新机构 block of the report header: column -> (label, length limit).
CENTRE_CONTACT: dict[str, tuple[str, int]] = {
    "address": ("通信地址", 300),
    "postcode": ("邮政编码", 16),
    "principal": ("负责人", 100),
    "contact": ("联系人", 100),
    "phone": ("电话", 32),
    "fax": ("传真", 32),
    "email": ("电子信箱", 254),
}


def set_centre_contact(centre: Centre, values: Mapping[str, str]) -> None:
    """Set the fields of the centre's contact block present in `values`; refuses unknown or over-long ones."""
    unknown = sorted(set(values) - set(CENTRE_CONTACT))
    if unknown:
        raise AccountError(f"分中心没有这些联系信息字段：{'、'.join(unknown)}")
    for name, value in values.items():
        label, limit = CENTRE_CONTACT[name]
        text = " ".join(xml_clean(value or "").split())
        if len(text) > limit:
            raise AccountError(f"{label}过长（最多 {limit} 个字符）")
        setattr(centre, name, text)


def get_centre(session: Session, code: str) -> Centre:
    centre = session.scalar(select(Centre).where(Centre.code == code.strip()))
    if centre is None:
        raise NotFound(f"没有代码为“{code}”的分中心")
    return centre


def list_centres(session: Session) -> list[Centre]:
    return list(session.scalars(select(Centre).order_by(Centre.code)))


# ---------------------------------------------------------------- users


def normalise_username(raw: str) -> str:
    name = raw.strip().lower()
    if not _USERNAME.fullmatch(name):
        raise AccountError("用户名应为 3 至 64 个字符，由字母、数字和 _ . @ - 组成，以字母或数字开头")
    return name


def create_user(
    session: Session,
    *,
    username: str,
    password: str,
    real_name: str | None = None,
    organisation: str | None = None,
    phone: str | None = None,
    email: str | None = None,
    professional_title: str | None = None,
    senior_title: bool = False,
    centre: str | None = None,
    roles: Iterable[str] = (),
    granted_by: int | None = None,
) -> User:
    """A new active user with these roles. Staff roles need a centre (`centre` is its code)."""
    name = normalise_username(username)
    check_password_strength(password)
    if session.scalar(select(User.id).where(User.username == name)) is not None:
        raise Conflict(f"用户名“{name}”已被使用")
    user = User(
        username=name,
        password_hash=hash_password(password),
        senior_title=False,
        active=True,
        password_changed_at=_now(),
    )
    _apply_profile(user, real_name=real_name, organisation=organisation, phone=phone, email=email)
    set_title(user, professional_title, senior_title)
    if centre:
        user.centre_id = get_centre(session, centre).id
    session.add(user)
    session.flush()
    for role in roles:
        grant_role(session, user, role, granted_by=granted_by)
    return user


def register_user(
    session: Session,
    *,
    username: str,
    password: str,
    real_name: str,
    organisation: str,
    phone: str | None = None,
    email: str | None = None,
) -> User:
    """Self-registration (实名注册): real name, organisation and a phone number or e-mail are required."""
    if not (real_name or "").strip():
        raise AccountError("实名注册需要填写真实姓名")
    if not (organisation or "").strip():
        raise AccountError("实名注册需要填写工作单位")
    if not (phone or "").strip() and not (email or "").strip():
        raise AccountError("请至少填写手机号码或电子邮箱中的一项")
    return create_user(
        session,
        username=username,
        password=password,
        real_name=real_name,
        organisation=organisation,
        phone=phone,
        email=email,
    )


def _apply_profile(
    user: User, *, real_name: str | None, organisation: str | None, phone: str | None, email: str | None
) -> None:
    phone = _clean(phone, 32)
    if phone and not _PHONE.fullmatch(phone):
        raise AccountError("手机号码格式不正确")
    email = _clean(email, 254)
    if email and not _EMAIL.fullmatch(email):
        raise AccountError("电子邮箱格式不正确")
    user.real_name = _clean(real_name, 100)
    user.organisation = _clean(organisation, 200)
    user.phone = phone
    user.email = email.lower() if email else None


def set_title(user: User, professional_title: str | None, senior_title: bool) -> None:
    """A reviewer's 职称; `senior_title` marks a 高级职称, which signing a report requires."""
    title = _clean(professional_title, 100)
    if senior_title and not title:
        raise AccountError("标记为高级职称时请填写职称名称")
    user.professional_title = title
    user.senior_title = senior_title


def get_user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"没有编号为 {user_id} 的用户")
    return user


def find_user(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username.strip().lower()))
    if user is None:
        raise NotFound(f"没有用户名为“{username.strip()[:64]}”的用户")
    return user


def list_users(
    session: Session, *, centre_id: int | None = None, search: str = "", limit: int = 500
) -> list[User]:
    stmt = select(User).order_by(User.username).limit(limit)
    if centre_id is not None:
        stmt = stmt.where(User.centre_id == centre_id)
    if search.strip():
        like = f"%{search.strip().lower()}%"
        stmt = stmt.where(or_(User.username.like(like), User.real_name.like(f"%{search.strip()}%")))
    return list(session.scalars(stmt))


def user_roles(session: Session, user_id: int) -> set[str]:
    return set(session.scalars(select(RoleGrant.role).where(RoleGrant.user_id == user_id)))


def set_centre(session: Session, user: User, centre: str | None) -> None:
    """Move a user to a centre, or out of any (refused while the user holds a centre role)."""
    if centre:
        user.centre_id = get_centre(session, centre).id
    else:
        held = user_roles(session, user.id) & CENTRE_ROLES
        if held:
            labels = "、".join(ROLE_LABELS[r] for r in sorted(held))
            raise AccountError(f"该用户担任{labels}，必须隶属于一个分中心")
        user.centre_id = None
    session.flush()


def set_active(session: Session, user: User, active: bool) -> None:
    user.active = active
    if not active:
        end_all_sessions(session, user.id)
    session.flush()


def authenticate(session: Session, username: str, password: str) -> User | None:
    """The active user with this username and password, or None. Upgrades an outdated hash."""
    try:
        name = normalise_username(username)
    except AccountError:
        name = ""
    user = session.scalar(select(User).where(User.username == name)) if name else None
    if user is None or len(password) > PASSWORD_MAX:
        verify_password(_dummy_hash(), password[:PASSWORD_MAX])
        return None
    if not verify_password(user.password_hash, password) or not user.active:
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = _now()
    session.flush()
    return user


def change_password(session: Session, user: User, old: str, new: str) -> None:
    if not verify_password(user.password_hash, old):
        raise AccountError("原密码不正确")
    if old == new:
        raise AccountError("新密码不能与原密码相同")
    set_password(session, user, new)


def set_password(session: Session, user: User, new: str) -> None:
    """Set a password and sign the user out everywhere (the caller starts a fresh session if it should).

    API tokens are revoked too: a password changed because it leaked must not leave a token made with
    it working."""
    check_password_strength(new)
    user.password_hash = hash_password(new)
    user.password_changed_at = _now()
    end_all_sessions(session, user.id)
    session.execute(
        update(ApiToken)
        .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=_now())
    )
    session.flush()


# ---------------------------------------------------------------- role and record grants


def grant_role(session: Session, user: User, role: str, *, granted_by: int | None = None) -> bool:
    """Give a user a role. Returns False if the user already held it."""
    if role not in ROLE_NAMES:
        raise AccountError(f"未知角色“{role}”（可选：{'、'.join(ROLE_NAMES)}）")
    if role == IMPLICIT_ROLE:
        return False
    if role in CENTRE_ROLES and user.centre_id is None:
        raise AccountError(f"{ROLE_LABELS[role]}必须隶属于一个分中心，请先为该用户指定分中心")
    if role in user_roles(session, user.id):
        return False
    session.add(RoleGrant(user_id=user.id, role=role, granted_by=granted_by))
    session.flush()
    return True


def revoke_role(session: Session, user: User, role: str) -> bool:
    result = session.execute(delete(RoleGrant).where(RoleGrant.user_id == user.id, RoleGrant.role == role))
    session.flush()
    return bool(getattr(result, "rowcount", 0))


def grant_record(
    session: Session,
    user: User,
    record_id: str,
    *,
    granted_by: int | None = None,
    expires_at: datetime | None = None,
) -> RecordGrant:
    """Let one user see one 限制 report (until `expires_at`, if given). Granting again updates the expiry."""
    record_id = record_id.strip()
    if not record_id or len(record_id) > 255:
        raise AccountError("请填写有效的记录编号（最长 255 个字符）")
    grant = session.scalar(
        select(RecordGrant).where(RecordGrant.user_id == user.id, RecordGrant.record_id == record_id)
    )
    if grant is None:
        grant = RecordGrant(user_id=user.id, record_id=record_id, granted_by=granted_by)
        session.add(grant)
    grant.expires_at = expires_at
    session.flush()
    return grant


def revoke_record(session: Session, user: User, record_id: str) -> bool:
    result = session.execute(
        delete(RecordGrant).where(RecordGrant.user_id == user.id, RecordGrant.record_id == record_id.strip())
    )
    session.flush()
    return bool(getattr(result, "rowcount", 0))


def list_record_grants(
    session: Session, *, user_id: int | None = None, limit: int = 500
) -> list[RecordGrant]:
    stmt = select(RecordGrant).order_by(RecordGrant.created_at.desc(), RecordGrant.id.desc()).limit(limit)
    if user_id is not None:
        stmt = stmt.where(RecordGrant.user_id == user_id)
    return list(session.scalars(stmt))


@dataclass(frozen=True)
class Identity:
    """What a signed-in user may do, as read from the database at the start of a request."""

    user_id: int
    username: str
    roles: frozenset[str]  # always includes "registered"
    centre: str | None  # centre code
    granted: frozenset[str]  # record IDs of 限制 reports granted and not expired
    real_name: str | None
    senior_title: bool


def identity_for(session: Session, user_id: int) -> Identity | None:
    """The identity of an active user, or None if the user is gone or disabled."""
    row = session.execute(
        select(User, Centre.code).outerjoin(Centre, Centre.id == User.centre_id).where(User.id == user_id)
    ).first()
    if row is None or not row[0].active:
        return None
    user, centre_code = row
    now = _now()
    granted = session.scalars(
        select(RecordGrant.record_id).where(
            RecordGrant.user_id == user_id,
            or_(RecordGrant.expires_at.is_(None), RecordGrant.expires_at > now),
        )
    )
    return Identity(
        user_id=user.id,
        username=user.username,
        roles=frozenset(user_roles(session, user.id) | {IMPLICIT_ROLE}),
        centre=centre_code,
        granted=frozenset(granted),
        real_name=user.real_name,
        senior_title=user.senior_title,
    )


# ---------------------------------------------------------------- web sessions


def create_session(session: Session, user_id: int, *, hours: int, ip: str | None = None) -> str:
    """A new signed-in session; returns the cookie value (only its hash is stored)."""
    token = secrets.token_hex(16)
    session.add(
        WebSession(
            token_hash=_digest(token), user_id=user_id, expires_at=_now() + timedelta(hours=hours), ip=ip
        )
    )
    session.flush()
    return token


def session_user(session: Session, token: str) -> int | None:
    return session.scalar(
        select(WebSession.user_id).where(
            WebSession.token_hash == _digest(token), WebSession.expires_at > _now()
        )
    )


def session_started(session: Session, token: str) -> datetime | None:
    """When the signed-in session of this cookie began (the workspace's 本次登录 view), or None."""
    return session.scalar(select(WebSession.created_at).where(WebSession.token_hash == _digest(token)))


def end_session(session: Session, token: str) -> None:
    session.execute(delete(WebSession).where(WebSession.token_hash == _digest(token)))


def end_all_sessions(session: Session, user_id: int) -> None:
    session.execute(delete(WebSession).where(WebSession.user_id == user_id))


def purge_expired_sessions(session: Session) -> int:
    result = session.execute(delete(WebSession).where(WebSession.expires_at <= _now()))
    return int(getattr(result, "rowcount", 0) or 0)


# ---------------------------------------------------------------- API tokens


def create_api_token(
    session: Session, user: User, name: str, *, expires_at: datetime | None = None
) -> tuple[ApiToken, str]:
    """A new bearer token; returns the row and the token itself, which is never shown again."""
    label = _clean(name, 100)
    if not label:
        raise AccountError("请为令牌起一个名称，便于日后识别")
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        user_id=user.id, name=label, token_hash=_digest(raw), hint=raw[:10], expires_at=expires_at
    )
    session.add(token)
    session.flush()
    return token, raw


def api_token_user(session: Session, raw: str) -> int | None:
    """The user a live token belongs to, or None; records when the token was last used."""
    if not raw.startswith(TOKEN_PREFIX) or len(raw) > 100:
        return None
    now = _now()
    token = session.scalar(
        select(ApiToken).where(
            ApiToken.token_hash == _digest(raw),
            ApiToken.revoked_at.is_(None),
            or_(ApiToken.expires_at.is_(None), ApiToken.expires_at > now),
        )
    )
    if token is None:
        return None
    # Once a minute is precise enough, and spares a write on every API call.
    last = token.last_used_at
    if last is None or (last if last.tzinfo else last.replace(tzinfo=UTC)) < now - timedelta(minutes=1):
        token.last_used_at = now
        session.flush()
    return token.user_id


def list_api_tokens(session: Session, user_id: int) -> list[ApiToken]:
    return list(
        session.scalars(
            select(ApiToken)
            .where(ApiToken.user_id == user_id, ApiToken.revoked_at.is_(None))
            .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
        )
    )


def revoke_api_token(session: Session, user_id: int, token_id: int) -> bool:
    result = session.execute(
        update(ApiToken)
        .where(ApiToken.id == token_id, ApiToken.user_id == user_id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=_now())
    )
    return bool(getattr(result, "rowcount", 0))


# ---------------------------------------------------------------- audit log


def audit(
    session: Session,
    actor: str,
    action: str,
    detail: Mapping[str, Any] | None = None,
    *,
    ip: str | None = None,
) -> AuditEvent:
    """Append one event. `actor` is an owner key ("user:<id>", "anon:<session>") or "cli"/"system".

    Written in the caller's transaction: an action that rolls back leaves no record of itself, so
    callers that must record a failure (a refused login) commit it on its own.
    """
    event = AuditEvent(
        actor=actor[:80],
        action=action[:64],
        detail=json.dumps(dict(detail or {}), ensure_ascii=False, default=str, sort_keys=True),
        ip=ip[:64] if ip else None,
        at=_now(),
    )
    session.add(event)
    session.flush()
    return event


def audit_events(
    session: Session, *, action: str | None = None, actor: str | None = None, limit: int = 200
) -> list[AuditEvent]:
    stmt = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit)
    if action:
        stmt = stmt.where(or_(AuditEvent.action == action, AuditEvent.action.like(f"{action}.%")))
    if actor:
        stmt = stmt.where(AuditEvent.actor == actor)
    return list(session.scalars(stmt))

"""Admin pages: users, branch centres, role grants, per-report access grants and the audit log.

Platform admins manage everything. A centre admin manages the analysts and reviewers of their own
centre: they may take a registered user without a centre into it and grant or revoke 查新员 and
审核员, nothing more. Access to 限制 reports and the centres themselves are for platform admins only.
"""

from __future__ import annotations

from datetime import UTC, datetime, time
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from appdb import accounts
from appdb.models import Centre, User
from search.principal import Principal
from web.api import DbId
from web.centre_form import ContactBlock
from web.deps import AdminPage, Csrf, Db, PlatformAdminPage, admin_page
from web.ratelimit import client_ip
from web.render import render

router = APIRouter(prefix="/admin", include_in_schema=False)
CENTRE_ADMIN_GRANTS = ("analyst", "reviewer")
PRIVILEGED = frozenset({"centre_admin", "platform_admin"})

FormStr = Annotated[str, Form(max_length=400)]


def _my_centre(session: Session, me: Principal) -> Centre | None:
    return accounts.get_centre(session, me.centre) if me.centre else None


def _may_manage(session: Session, me: Principal, user: User) -> bool:
    if me.platform_admin:
        return True
    mine = _my_centre(session, me)
    if mine is None or accounts.user_roles(session, user.id) & PRIVILEGED:
        return False
    # A centre admin adopts registered users without a centre, and manages those of their own centre.
    return user.centre_id in (None, mine.id)


def _grantable(me: Principal) -> tuple[str, ...]:
    return (
        tuple(r for r in accounts.ROLE_NAMES if r != accounts.IMPLICIT_ROLE)
        if me.platform_admin
        else CENTRE_ADMIN_GRANTS
    )


def _audit(session: Session, request: Request, me: Principal, action: str, detail: dict[str, Any]) -> None:
    accounts.audit(session, me.owner or "", action, detail, ip=client_ip(request))


def _nav(me: Principal, current: str) -> list[dict[str, Any]]:
    items = [("users", "用户", "/admin/users")]
    if me.platform_admin:
        items += [("centres", "分中心", "/admin/centres"), ("grants", "报告授权", "/admin/grants"),
                  ("audit", "审计日志", "/admin/audit")]  # fmt: skip
    return [{"label": label, "url": url, "current": key == current} for key, label, url in items]


def _user_row(session: Session, user: User, centres: dict[int, str]) -> dict[str, Any]:
    return {
        "user": user,
        "roles": sorted(accounts.user_roles(session, user.id)),
        "centre": centres.get(user.centre_id) if user.centre_id else None,
    }


# ---------------------------------------------------------------- users


@router.get("", response_class=HTMLResponse, dependencies=[Depends(admin_page)])
def admin_home() -> Response:
    return RedirectResponse("/admin/users", status_code=303)


@router.get("/users", response_class=HTMLResponse)
def users_page(request: Request, me: AdminPage, db: Db, q: str = "") -> Response:
    return _users_page(request, db, me, q)


def _users_page(
    request: Request, db: Session, me: Principal, q: str = "", *, error: str = "", status: int = 200
) -> Response:
    centres = {c.id: c.code for c in accounts.list_centres(db)}
    mine = _my_centre(db, me)
    users = accounts.list_users(db, centre_id=None if me.platform_admin else (mine.id if mine else -1),
                                search=q[:100])  # fmt: skip
    rows = [_user_row(db, u, centres) for u in users]
    context = {
        "nav": _nav(me, "users"), "me": me, "rows": rows, "q": "", "filter_q": q[:100],
        "centres": sorted(centres.values()) if me.platform_admin else [me.centre],
        "grantable": _grantable(me), "error": error,
    }  # fmt: skip
    return render(request, "admin_users.html", context, status=status)


@router.post("/users", response_class=HTMLResponse, dependencies=[Csrf])
def users_create(
    request: Request,
    me: AdminPage,
    db: Db,
    username: FormStr = "",
    password: FormStr = "",
    real_name: FormStr = "",
    organisation: FormStr = "",
    phone: FormStr = "",
    email: FormStr = "",
    role: FormStr = "",
    centre: FormStr = "",
) -> Response:
    roles = [role] if role and role != accounts.IMPLICIT_ROLE else []
    if not me.platform_admin:
        centre = me.centre or ""
        if any(r not in CENTRE_ADMIN_GRANTS for r in roles):
            raise HTTPException(status_code=403, detail="分中心管理员只能授予查新员或审核员角色")
    try:
        user = accounts.create_user(
            db, username=username, password=password, real_name=real_name, organisation=organisation,
            phone=phone, email=email, centre=centre or None, roles=roles, granted_by=me.user_id,
        )  # fmt: skip
        _audit(db, request, me, "user.create",
               {"user_id": user.id, "username": user.username, "roles": roles, "centre": centre or None})  # fmt: skip
    except accounts.AccountError as exc:
        db.rollback()
        return _users_page(request, db, me, error=str(exc), status=400)
    return RedirectResponse(f"/admin/users/{user.id}", status_code=303)


def _user_page(
    request: Request, db: Session, me: Principal, user_id: int, *, error: str = "", status: int = 200
) -> Response:
    user = _managed(db, me, user_id)
    centres = accounts.list_centres(db)
    row = _user_row(db, user, {c.id: c.code for c in centres})
    grants = accounts.list_record_grants(db, user_id=user.id) if me.platform_admin else []
    context = {
        "nav": _nav(me, "users"), "me": me, "row": row, "user": user, "grants": grants,
        "centres": [c.code for c in centres] if me.platform_admin else [me.centre],
        "grantable": _grantable(me), "role_names": accounts.ROLE_NAMES, "error": error,
    }  # fmt: skip
    return render(request, "admin_user.html", context, status=status)


@router.get("/users/{user_id}", response_class=HTMLResponse)
def user_page(request: Request, me: AdminPage, db: Db, user_id: DbId) -> Response:
    return _user_page(request, db, me, user_id)


def _managed(session: Session, me: Principal, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise HTTPException(status_code=404, detail="没有找到该用户")
    if not _may_manage(session, me, user):
        raise HTTPException(status_code=403, detail="无权管理该用户")
    return user


@router.post("/users/{user_id}/roles", response_class=HTMLResponse, dependencies=[Csrf])
def user_roles(
    request: Request, me: AdminPage, db: Db, user_id: DbId, role: FormStr = "", action: FormStr = "grant"
) -> Response:
    if role not in _grantable(me):
        raise HTTPException(
            status_code=403, detail=f"您不能授予或撤销角色“{accounts.ROLE_LABELS.get(role, role)}”"
        )
    try:
        user = _managed(db, me, user_id)
        if action == "revoke":
            if user.id == me.user_id and role == "platform_admin":
                raise accounts.AccountError("不能撤销自己的平台管理员角色")
            if accounts.revoke_role(db, user, role):
                _audit(db, request, me, "role.revoke", {"user_id": user.id, "role": role})
        else:
            if not me.platform_admin and user.centre_id is None:
                accounts.set_centre(db, user, me.centre)
            if accounts.grant_role(db, user, role, granted_by=me.user_id):
                _audit(db, request, me, "role.grant", {"user_id": user.id, "role": role})
    except accounts.AccountError as exc:
        db.rollback()
        return _user_page(request, db, me, user_id, error=str(exc), status=400)
    return RedirectResponse(f"/admin/users/{user_id}", status_code=303)


@router.post("/users/{user_id}/profile", response_class=HTMLResponse, dependencies=[Csrf])
def user_profile(
    request: Request,
    me: AdminPage,
    db: Db,
    user_id: DbId,
    centre: FormStr = "",
    professional_title: FormStr = "",
    senior_title: FormStr = "",
    active: FormStr = "",
) -> Response:
    try:
        user = _managed(db, me, user_id)
        if not me.platform_admin and centre not in ("", me.centre):
            raise HTTPException(status_code=403, detail="分中心管理员只能把用户划入本分中心")
        if user.id == me.user_id and not active:
            raise accounts.AccountError("不能停用自己的账户")
        accounts.set_centre(db, user, centre or None)
        accounts.set_title(user, professional_title, bool(senior_title))
        accounts.set_active(db, user, bool(active))
        _audit(db, request, me, "user.update",
               {"user_id": user.id, "centre": centre or None, "professional_title": user.professional_title,
                "senior_title": user.senior_title, "active": user.active})  # fmt: skip
    except accounts.AccountError as exc:
        db.rollback()
        return _user_page(request, db, me, user_id, error=str(exc), status=400)
    return RedirectResponse(f"/admin/users/{user_id}", status_code=303)


@router.post("/users/{user_id}/password", response_class=HTMLResponse, dependencies=[Csrf])
def user_password(request: Request, me: AdminPage, db: Db, user_id: DbId, password: FormStr = "") -> Response:
    try:
        user = _managed(db, me, user_id)
        accounts.set_password(db, user, password)
        _audit(db, request, me, "user.password_reset", {"user_id": user.id})
    except accounts.AccountError as exc:
        db.rollback()
        return _user_page(request, db, me, user_id, error=str(exc), status=400)
    return RedirectResponse(f"/admin/users/{user_id}", status_code=303)


# ---------------------------------------------------------------- centres


@router.get("/centres", response_class=HTMLResponse)
def centres_page(request: Request, me: PlatformAdminPage, db: Db) -> Response:
    return _centres_page(request, db, me)


def _centres_page(
    request: Request, db: Session, me: Principal, *, error: str = "", status: int = 200
) -> Response:
    context = {"nav": _nav(me, "centres"), "centres": accounts.list_centres(db), "patterns": accounts.NUMBERING_PATTERNS,
               "contact_fields": accounts.CENTRE_CONTACT, "error": error}  # fmt: skip
    return render(request, "admin_centres.html", context, status=status)


@router.post("/centres", response_class=HTMLResponse, dependencies=[Csrf])
def centres_create(
    request: Request,
    me: PlatformAdminPage,
    db: Db,
    code: FormStr = "",
    name: FormStr = "",
    province_code: FormStr = "",
    institution_no: FormStr = "",
    pattern: FormStr = "most",
) -> Response:
    try:
        centre = accounts.create_centre(db, code=code, name=name, province_code=province_code,
                                        institution_no=institution_no, pattern=pattern)  # fmt: skip
        _audit(db, request, me, "centre.create", {"code": centre.code, "name": centre.name,
                                                  "pattern": centre.numbering_pattern})  # fmt: skip
    except accounts.AccountError as exc:
        db.rollback()
        return _centres_page(request, db, me, error=str(exc), status=400)
    return RedirectResponse("/admin/centres", status_code=303)


@router.post("/centres/{code}", response_class=HTMLResponse, dependencies=[Csrf])
def centres_update(
    request: Request,
    me: PlatformAdminPage,
    db: Db,
    code: str,
    block: ContactBlock,
    name: FormStr = "",
    province_code: FormStr = "",
    institution_no: FormStr = "",
    pattern: FormStr = "most",
    active: FormStr = "",
) -> Response:
    try:
        centre = accounts.update_centre(db, code, name=name, province_code=province_code,
                                        institution_no=institution_no, pattern=pattern, active=bool(active),
                                        contact=block)  # fmt: skip
        _audit(db, request, me, "centre.update", {"code": centre.code, "active": centre.active})
    except accounts.NotFound as exc:
        raise HTTPException(status_code=404, detail=str(exc)) from None
    except accounts.AccountError as exc:
        db.rollback()
        return _centres_page(request, db, me, error=str(exc), status=400)
    return RedirectResponse("/admin/centres", status_code=303)


# ---------------------------------------------------------------- per-report access grants


@router.get("/grants", response_class=HTMLResponse)
def grants_page(request: Request, me: PlatformAdminPage, db: Db) -> Response:
    return _grants_page(request, db, me)


def _grants_page(
    request: Request, db: Session, me: Principal, *, error: str = "", status: int = 200
) -> Response:
    grants = accounts.list_record_grants(db)
    names = {u.id: u.username for u in accounts.list_users(db, limit=100_000)} if grants else {}
    rows = [{"grant": g, "username": names.get(g.user_id, str(g.user_id))} for g in grants]
    return render(request, "admin_grants.html", {"nav": _nav(me, "grants"), "rows": rows, "error": error},
                  status=status)  # fmt: skip


def _parse_date(raw: str) -> datetime | None:
    raw = raw.strip()
    if not raw:
        return None
    try:
        day = datetime.strptime(raw, "%Y-%m-%d").date()
    except ValueError:
        raise accounts.AccountError("截止日期格式应为 YYYY-MM-DD") from None
    return datetime.combine(day, time.max, tzinfo=UTC)


@router.post("/grants", response_class=HTMLResponse, dependencies=[Csrf])
def grants_create(
    request: Request,
    me: PlatformAdminPage,
    db: Db,
    username: FormStr = "",
    record_id: FormStr = "",
    expires: FormStr = "",
    back: FormStr = "",
) -> Response:
    try:
        user = accounts.find_user(db, username)
        grant = accounts.grant_record(db, user, record_id, granted_by=me.user_id,
                                      expires_at=_parse_date(expires))  # fmt: skip
        _audit(db, request, me, "record.grant",
               {"user_id": user.id, "record_id": grant.record_id, "expires_at": grant.expires_at})  # fmt: skip
    except accounts.AccountError as exc:
        db.rollback()
        return _grants_page(request, db, me, error=str(exc), status=400)
    return RedirectResponse(back if back.startswith("/admin/") else "/admin/grants", status_code=303)


@router.post("/grants/revoke", response_class=HTMLResponse, dependencies=[Csrf])
def grants_revoke(
    request: Request, me: PlatformAdminPage, db: Db, username: FormStr = "", record_id: FormStr = "",
    back: FormStr = "",
) -> Response:  # fmt: skip
    try:
        user = accounts.find_user(db, username)
        if accounts.revoke_record(db, user, record_id):
            _audit(db, request, me, "record.revoke", {"user_id": user.id, "record_id": record_id.strip()})
    except accounts.AccountError as exc:
        db.rollback()
        return _grants_page(request, db, me, error=str(exc), status=400)
    return RedirectResponse(back if back.startswith("/admin/") else "/admin/grants", status_code=303)


# ---------------------------------------------------------------- audit log


@router.get("/audit", response_class=HTMLResponse)
def audit_page(
    request: Request, me: PlatformAdminPage, db: Db, action: str = "", actor: str = ""
) -> Response:
    events = accounts.audit_events(db, action=action.strip()[:64] or None, actor=actor.strip()[:80] or None)
    context = {"nav": _nav(me, "audit"), "events": events, "action": action[:64], "actor": actor[:80]}
    return render(request, "admin_audit.html", context)

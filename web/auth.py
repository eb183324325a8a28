"""Sign-up, sign-in, sign-out, password change and API tokens: pages and the JSON API.

Pages are plain HTML forms (no JavaScript); every form POST carries the session's CSRF token in a
hidden field. The JSON API under /api/v1/auth takes JSON bodies only, which a cross-site form cannot
send, and API clients authenticate with `Authorization: Bearer` tokens, which carry no ambient cookie.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from appdb import accounts
from appdb.models import User
from search.principal import Principal, Role
from web.api import DbId
from web.deps import Csrf, Db, SignedIn, Who, signed_in
from web.identity import current_principal, rotate_session, set_session_token, viewer
from web.ratelimit import client_ip, limits_for
from web.render import render
from web.state import app_state

ADMIN_ROLES = frozenset({Role.platform_admin, Role.centre_admin})
TOKEN_DAYS_MAX = 3650

pages_router = APIRouter(include_in_schema=False)
api_router = APIRouter(prefix="/api/v1/auth", tags=["accounts"])


# ---------------------------------------------------------------- shared helpers


def safe_next(target: str | None, default: str = "/") -> str:
    """Where to go after signing in: a local path only, never another site (open redirect)."""
    target = (target or "").strip()
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    if any(ord(c) < 0x20 or c == "\x7f" for c in target):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return default
    return target


def user_json(user: User, identity: accounts.Identity | None) -> dict[str, Any]:
    return {
        "id": user.id,
        "username": user.username,
        "real_name": user.real_name,
        "organisation": user.organisation,
        "roles": sorted(identity.roles) if identity else [accounts.IMPLICIT_ROLE],
        "centre": identity.centre if identity else None,
        "professional_title": user.professional_title,
        "senior_title": user.senior_title,
    }


def _error(message: str, status: int) -> JSONResponse:
    return JSONResponse({"error": {"message": message}}, status_code=status)


class _LoginResult:
    def __init__(self, user: User | None, message: str = "", status: int = 200, retry_after: int = 0) -> None:
        self.user = user
        self.message = message
        self.status = status
        self.retry_after = retry_after


def attempt_login(request: Request, db: Session, username: str, password: str) -> _LoginResult:
    """Check the limits, the password; audit the outcome; on success start a new session (new cookie).

    Committed here: the new session is read back (in a session of its own) by whoever asks who is
    signed in, from the landing page to the header of the next page."""
    ip = client_ip(request)
    limits = limits_for(request)
    actor = f"anon:{request.state.session_token}"
    shown = username.strip()[:64]
    verdict = limits.login_allowed(shown, ip)
    if not verdict.allowed:
        accounts.audit(db, actor, "login.blocked", {"username": shown}, ip=ip)
        minutes = max(1, -(-verdict.retry_after // 60))
        return _LoginResult(None, f"登录尝试过于频繁，请 {minutes} 分钟后再试。", 429, verdict.retry_after)
    user = accounts.authenticate(db, username, password)
    if user is None:
        accounts.audit(db, actor, "login.failure", {"username": shown}, ip=ip)
        limits.login_failed(shown, ip)
        return _LoginResult(None, "用户名或密码错误。", 401)
    accounts.purge_expired_sessions(db)
    token = accounts.create_session(db, user.id, hours=app_state(request).settings.session_hours, ip=ip)
    accounts.audit(db, f"user:{user.id}", "login.success", {"username": user.username}, ip=ip)
    db.commit()
    limits.login_succeeded(shown, ip)
    # The anonymous token the browser came with is dropped here: whoever planted it gains nothing.
    set_session_token(request, token)
    return _LoginResult(user)


def end_current_session(request: Request, db: Session) -> None:
    principal = current_principal(request)
    accounts.end_session(db, request.state.session_token)
    if principal.authenticated:
        accounts.audit(db, principal.owner or "", "logout", {}, ip=client_ip(request))
    rotate_session(request)


def _restart_session(request: Request, session: Session, user_id: int) -> None:
    """After a password change every old session is gone; this browser continues on a new one.

    Committed here, as at sign-in: the page's own header reads the new session back."""
    token = accounts.create_session(
        session, user_id, hours=app_state(request).settings.session_hours, ip=client_ip(request)
    )
    session.commit()
    set_session_token(request, token)


# ---------------------------------------------------------------- pages


@pages_router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, next: str = "/") -> Response:
    if viewer(request).authenticated:
        return RedirectResponse(safe_next(next), status_code=303)
    return render(request, "auth_login.html", {"next": safe_next(next), "username": ""})


@pages_router.post("/login", response_class=HTMLResponse, dependencies=[Csrf])
def login_submit(
    request: Request,
    db: Db,
    username: Annotated[str, Form(max_length=200)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    target = safe_next(next)
    if not username.strip() or not password:
        return render(
            request,
            "auth_login.html",
            {"next": target, "username": username, "error": "请输入用户名和密码。"},
            status=400,
        )
    result = attempt_login(request, db, username, password)
    if result.user is None:
        response = render(
            request,
            "auth_login.html",
            {"next": target, "username": username, "error": result.message},
            status=result.status,
        )
        if result.retry_after:
            response.headers["Retry-After"] = str(result.retry_after)
        return response
    if target == "/":  # no page asked for (the home page counts as none): staff go where they work
        target = landing(current_principal(request))
    return RedirectResponse(target, status_code=303)


def landing(me: Principal) -> str:
    """Where a sign-in without `next` lands: admins on the admin page or their centre, reviewers on
    the cases waiting for review, analysts on their cases; everyone else on the search page."""
    if me.platform_admin:
        return "/admin"
    if me.has(Role.centre_admin):
        return "/workspace/centres"
    if me.has(Role.reviewer):
        return "/workspace/cases?state=in_review"
    if me.has(Role.analyst):
        return "/workspace/cases"
    return "/"


@pages_router.get("/register", response_class=HTMLResponse)
def register_page(request: Request, next: str = "/account") -> Response:
    return render(request, "auth_register.html", {"next": safe_next(next, "/account"), "form": {}})


@pages_router.post("/register", response_class=HTMLResponse, dependencies=[Csrf])
def register_submit(
    request: Request,
    db: Db,
    username: Annotated[str, Form(max_length=200)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    password2: Annotated[str, Form(max_length=1024)] = "",
    real_name: Annotated[str, Form(max_length=200)] = "",
    organisation: Annotated[str, Form(max_length=400)] = "",
    phone: Annotated[str, Form(max_length=100)] = "",
    email: Annotated[str, Form(max_length=400)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/account",
) -> Response:
    target = safe_next(next, "/account")
    form = {
        "username": username,
        "real_name": real_name,
        "organisation": organisation,
        "phone": phone,
        "email": email,
    }

    def again(message: str, status: int = 400) -> HTMLResponse:
        return render(
            request, "auth_register.html", {"next": target, "form": form, "error": message}, status=status
        )

    if password != password2:
        return again("两次输入的密码不一致。")
    ip = client_ip(request)
    # Registration shares the per-address attempt budget with logins, which slows scripted sign-ups.
    verdict = limits_for(request).login_allowed("", ip)
    if not verdict.allowed:
        return again("操作过于频繁，请稍后再试。", 429)
    try:
        user = accounts.register_user(
            db, username=username, password=password, real_name=real_name,
            organisation=organisation, phone=phone, email=email,
        )  # fmt: skip
        accounts.audit(db, f"user:{user.id}", "register", {"username": user.username}, ip=ip)
        token = accounts.create_session(db, user.id, hours=app_state(request).settings.session_hours, ip=ip)
        accounts.audit(db, f"user:{user.id}", "login.success", {"username": user.username, "via": "register"},
                       ip=ip)  # fmt: skip
    except accounts.Conflict as exc:
        db.rollback()
        return again(str(exc), 409)
    except accounts.AccountError as exc:
        db.rollback()
        return again(str(exc))
    set_session_token(request, token)
    return RedirectResponse(target, status_code=303)


@pages_router.get("/logout", response_class=HTMLResponse)
def logout_page(request: Request) -> Response:
    # Signing out changes state, so it takes a POST; this page offers the button.
    return render(request, "auth_logout.html", {})


@pages_router.post("/logout", dependencies=[Csrf])
def logout_submit(request: Request, db: Db) -> Response:
    end_current_session(request, db)
    return RedirectResponse("/", status_code=303)


@pages_router.get("/account", response_class=HTMLResponse)
def account_page(request: Request, me: SignedIn, db: Db) -> Response:
    return _account(request, db, _signed_in(me))


def _account(request: Request, db: Session, user_id: int, **extra: Any) -> HTMLResponse:
    user = accounts.get_user(db, user_id)
    identity = accounts.identity_for(db, user_id)
    tokens = accounts.list_api_tokens(db, user_id)
    context = {"user": user, "identity": identity, "tokens": tokens, **extra}
    return render(request, "auth_account.html", context, status=400 if extra.get("error") else 200)


@pages_router.post("/account/tokens", response_class=HTMLResponse, dependencies=[Csrf])
def account_token_create(
    request: Request,
    me: SignedIn,
    db: Db,
    name: Annotated[str, Form(max_length=200)] = "",
    days: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    user_id = _signed_in(me)
    try:
        expires = _expiry(days)
        user = accounts.get_user(db, user_id)
        token, raw = accounts.create_api_token(db, user, name, expires_at=expires)
        accounts.audit(db, me.owner or "", "token.create", {"token_id": token.id, "name": token.name},
                       ip=client_ip(request))  # fmt: skip
    except accounts.AccountError as exc:
        db.rollback()
        return _account(request, db, user_id, error=str(exc))
    return _account(request, db, user_id, new_token=raw, new_token_name=token.name)


def _expiry(days: str) -> datetime | None:
    days = days.strip()
    if not days:
        return None
    if not days.isdigit() or not 1 <= int(days) <= TOKEN_DAYS_MAX:
        raise accounts.AccountError(f"有效期应为 1 至 {TOKEN_DAYS_MAX} 天，留空表示长期有效")
    return datetime.now(UTC) + timedelta(days=int(days))


@pages_router.post("/account/tokens/{token_id}/revoke", dependencies=[Csrf])
def account_token_revoke(request: Request, me: SignedIn, db: Db, token_id: DbId) -> Response:
    if accounts.revoke_api_token(db, _signed_in(me), token_id):
        accounts.audit(db, me.owner or "", "token.revoke", {"token_id": token_id}, ip=client_ip(request))
    return RedirectResponse("/account", status_code=303)


@pages_router.get("/account/password", response_class=HTMLResponse, dependencies=[Depends(signed_in)])
def password_page(request: Request) -> Response:
    return render(request, "auth_password.html", {})


@pages_router.post("/account/password", response_class=HTMLResponse, dependencies=[Csrf])
def password_submit(
    request: Request,
    me: SignedIn,
    db: Db,
    old_password: Annotated[str, Form(max_length=1024)] = "",
    new_password: Annotated[str, Form(max_length=1024)] = "",
    new_password2: Annotated[str, Form(max_length=1024)] = "",
) -> Response:
    if new_password != new_password2:
        return render(request, "auth_password.html", {"error": "两次输入的新密码不一致。"}, status=400)
    try:
        user = accounts.get_user(db, _signed_in(me))
        accounts.change_password(db, user, old_password, new_password)
        accounts.audit(db, me.owner or "", "password.change", {}, ip=client_ip(request))
        _restart_session(request, db, user.id)
    except accounts.AccountError as exc:
        db.rollback()
        return render(request, "auth_password.html", {"error": str(exc)}, status=400)
    return render(request, "auth_password.html", {"done": True})


# ---------------------------------------------------------------- JSON API


class Credentials(BaseModel):
    username: str = Field(min_length=1, max_length=200, description="用户名")
    password: str = Field(min_length=1, max_length=1024, description="密码")


class Registration(BaseModel):
    username: str = Field(max_length=200)
    password: str = Field(max_length=1024)
    real_name: str = Field(max_length=200, description="真实姓名")
    organisation: str = Field(max_length=400, description="工作单位")
    phone: str | None = Field(default=None, max_length=100)
    email: str | None = Field(default=None, max_length=400)


class PasswordChange(BaseModel):
    old_password: str = Field(max_length=1024)
    new_password: str = Field(max_length=1024)


class NewToken(BaseModel):
    name: str = Field(max_length=200, description="令牌名称")
    expires_days: int | None = Field(
        default=None, ge=1, le=TOKEN_DAYS_MAX, description="有效天数，留空为长期"
    )


def _me_json(principal: Principal) -> dict[str, Any]:
    return {
        "authenticated": principal.authenticated,
        "user_id": principal.user_id,
        "username": principal.username,
        "roles": sorted(str(r) for r in principal.roles),
        "centre": principal.centre,
        "owner": principal.owner,
    }


def _signed_in(principal: Principal) -> int:
    if principal.user_id is None:
        raise HTTPException(status_code=401, detail="请先登录", headers={"WWW-Authenticate": "Bearer"})
    return principal.user_id


@api_router.post("/register", status_code=201, response_model=None)
def api_register(request: Request, db: Db, body: Registration) -> JSONResponse:
    ip = client_ip(request)
    if not limits_for(request).login_allowed("", ip).allowed:
        return _error("操作过于频繁，请稍后再试。", 429)
    try:
        user = accounts.register_user(db, **body.model_dump())
        accounts.audit(db, f"user:{user.id}", "register", {"username": user.username}, ip=ip)
        payload = user_json(user, accounts.identity_for(db, user.id))
    except accounts.Conflict as exc:
        db.rollback()
        return _error(str(exc), 409)
    except accounts.AccountError as exc:
        db.rollback()
        return _error(str(exc), 400)
    return JSONResponse({"user": payload}, status_code=201)


@api_router.post("/login", response_model=None)
def api_login(request: Request, db: Db, body: Credentials) -> JSONResponse:
    """Sign in with a session cookie (for a browser front end); API clients use a bearer token."""
    result = attempt_login(request, db, body.username, body.password)
    if result.user is None:
        headers = {"Retry-After": str(result.retry_after)} if result.retry_after else None
        return JSONResponse(
            {"error": {"message": result.message}}, status_code=result.status, headers=headers
        )
    return JSONResponse({"me": _me_json(current_principal(request))})


@api_router.post("/logout", status_code=204, response_model=None)
def api_logout(request: Request, db: Db) -> Response:
    end_current_session(request, db)
    return Response(status_code=204)


@api_router.get("/me", response_model=None)
def api_me(me: Who) -> JSONResponse:
    return JSONResponse(_me_json(me))


@api_router.post("/password", status_code=204, response_model=None)
def api_password(request: Request, me: Who, db: Db, body: PasswordChange) -> Response:
    user_id = _signed_in(me)
    try:
        user = accounts.get_user(db, user_id)
        accounts.change_password(db, user, body.old_password, body.new_password)
        accounts.audit(db, me.owner or "", "password.change", {}, ip=client_ip(request))
        if request.state.session_token and not request.headers.get("authorization"):
            _restart_session(request, db, user.id)
    except accounts.AccountError as exc:
        db.rollback()
        return _error(str(exc), 400)
    return Response(status_code=204)


def _token_json(token: Any) -> dict[str, Any]:
    return {
        "id": token.id,
        "name": token.name,
        "hint": token.hint,
        "created_at": token.created_at.isoformat() if token.created_at else None,
        "expires_at": token.expires_at.isoformat() if token.expires_at else None,
        "last_used_at": token.last_used_at.isoformat() if token.last_used_at else None,
    }


@api_router.post("/tokens", status_code=201, response_model=None)
def api_token_create(request: Request, me: Who, db: Db, body: NewToken) -> JSONResponse:
    """A new bearer token; the `token` value is shown only in this response."""
    user_id = _signed_in(me)
    expires = datetime.now(UTC) + timedelta(days=body.expires_days) if body.expires_days else None
    try:
        user = accounts.get_user(db, user_id)
        token, raw = accounts.create_api_token(db, user, body.name, expires_at=expires)
        accounts.audit(db, me.owner or "", "token.create", {"token_id": token.id, "name": token.name},
                       ip=client_ip(request))  # fmt: skip
        payload = {**_token_json(token), "token": raw}
    except accounts.AccountError as exc:
        db.rollback()
        return _error(str(exc), 400)
    return JSONResponse(payload, status_code=201)


@api_router.get("/tokens", response_model=None)
def api_tokens(me: Who, db: Db) -> JSONResponse:
    tokens = [_token_json(t) for t in accounts.list_api_tokens(db, _signed_in(me))]
    return JSONResponse({"tokens": tokens})


@api_router.delete("/tokens/{token_id}", status_code=204, response_model=None)
def api_token_revoke(request: Request, me: Who, db: Db, token_id: DbId) -> Response:
    if not accounts.revoke_api_token(db, _signed_in(me), token_id):
        return _error("没有找到该令牌", 404)
    accounts.audit(db, me.owner or "", "token.revoke", {"token_id": token_id}, ip=client_ip(request))
    return Response(status_code=204)

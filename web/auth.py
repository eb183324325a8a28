"""Sign-up, sign-in, sign-out, password change and API tokens: pages and the JSON API.

Pages are plain HTML forms (no JavaScript); every form POST carries the session's CSRF token in a
hidden field. The JSON API under /api/v1/auth takes JSON bodies only, which a cross-site form cannot
send, and API clients authenticate with `Authorization: Bearer` tokens, which carry no ambient cookie.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode, urlsplit

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from appdb import accounts
from appdb.models import User
from search.principal import ANONYMOUS, Principal, Role
from search.simple_query import MAX_QUERY_CHARS
from web import pages
from web.api import DbId
from web.identity import (
    CSRF_FIELD,
    csrf_token,
    csrf_valid,
    current_principal,
    db_sessions,
    rotate_session,
    set_session_token,
)
from web.ratelimit import client_ip, limits_for
from web.state import app_state

ROLE_LABELS = accounts.ROLE_LABELS
ADMIN_ROLES = frozenset({Role.platform_admin, Role.centre_admin})
TOKEN_DAYS_MAX = 3650

pages_router = APIRouter(include_in_schema=False)
api_router = APIRouter(prefix="/api/v1/auth", tags=["accounts"])
Me = Annotated[Principal, Depends(current_principal)]


# ---------------------------------------------------------------- shared helpers


def viewer(request: Request) -> Principal:
    """The principal for page chrome (header links); never fails a page that is already rendering."""
    try:
        return current_principal(request)
    except (HTTPException, SQLAlchemyError):  # a bad bearer token or a database hiccup must not break a page
        return ANONYMOUS


def _csrf_for_template(request: Request) -> str:
    try:
        return csrf_token(request)
    except AttributeError:  # rendered outside the session middleware
        return ""


pages.templates.env.globals["viewer"] = viewer
pages.templates.env.globals["csrf_token"] = _csrf_for_template
pages.templates.env.globals["role_labels"] = ROLE_LABELS


def render(request: Request, name: str, context: dict[str, Any], status: int = 200) -> HTMLResponse:
    base: dict[str, Any] = {"q": "", "max_query_chars": MAX_QUERY_CHARS, "csrf_field": CSRF_FIELD}
    base.update(context)
    response: HTMLResponse = pages.templates.TemplateResponse(request, name, base, status_code=status)
    response.headers["Cache-Control"] = "no-store"
    return response


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


def login_url(request: Request) -> str:
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return "/login?" + urlencode({"next": here})


def to_login(request: Request) -> RedirectResponse:
    return RedirectResponse(login_url(request), status_code=303)


def require_csrf(request: Request, csrf_token: Annotated[str, Form(max_length=128)] = "") -> None:
    """Every form POST: the hidden token must match this session's."""
    if not csrf_valid(request, csrf_token):
        raise HTTPException(
            status_code=403, detail="表单已失效（停留过久、已重新登录或来自其他网站），请返回刷新后重试。"
        )


Csrf = Depends(require_csrf)


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


def attempt_login(request: Request, username: str, password: str) -> _LoginResult:
    """Check the limits, the password; audit the outcome; on success start a new session (new cookie)."""
    ip = client_ip(request)
    limits = limits_for(request)
    actor = f"anon:{request.state.session_token}"
    shown = username.strip()[:64]
    verdict = limits.login_allowed(shown, ip)
    with db_sessions(request).begin() as session:
        if not verdict.allowed:
            accounts.audit(session, actor, "login.blocked", {"username": shown}, ip=ip)
            minutes = max(1, -(-verdict.retry_after // 60))
            return _LoginResult(
                None, f"登录尝试过于频繁，请 {minutes} 分钟后再试。", 429, verdict.retry_after
            )
        user = accounts.authenticate(session, username, password)
        if user is None:
            accounts.audit(session, actor, "login.failure", {"username": shown}, ip=ip)
            limits.login_failed(shown, ip)
            return _LoginResult(None, "用户名或密码错误。", 401)
        accounts.purge_expired_sessions(session)
        token = accounts.create_session(
            session, user.id, hours=app_state(request).settings.session_hours, ip=ip
        )
        accounts.audit(session, f"user:{user.id}", "login.success", {"username": user.username}, ip=ip)
    limits.login_succeeded(shown, ip)
    # The anonymous token the browser came with is dropped here: whoever planted it gains nothing.
    set_session_token(request, token)
    return _LoginResult(user)


def end_current_session(request: Request) -> None:
    principal = current_principal(request)
    with db_sessions(request).begin() as session:
        accounts.end_session(session, request.state.session_token)
        if principal.authenticated:
            accounts.audit(session, principal.owner or "", "logout", {}, ip=client_ip(request))
    rotate_session(request)


def _restart_session(request: Request, session: Session, user_id: int) -> None:
    """After a password change every old session is gone; this browser continues on a new one."""
    token = accounts.create_session(
        session, user_id, hours=app_state(request).settings.session_hours, ip=client_ip(request)
    )
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
    result = attempt_login(request, username, password)
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
        with db_sessions(request).begin() as session:
            user = accounts.register_user(
                session, username=username, password=password, real_name=real_name,
                organisation=organisation, phone=phone, email=email,
            )  # fmt: skip
            accounts.audit(session, f"user:{user.id}", "register", {"username": user.username}, ip=ip)
            token = accounts.create_session(
                session, user.id, hours=app_state(request).settings.session_hours, ip=ip
            )
            accounts.audit(
                session,
                f"user:{user.id}",
                "login.success",
                {"username": user.username, "via": "register"},
                ip=ip,
            )
    except accounts.Conflict as exc:
        return again(str(exc), 409)
    except accounts.AccountError as exc:
        return again(str(exc))
    set_session_token(request, token)
    return RedirectResponse(target, status_code=303)


@pages_router.get("/logout", response_class=HTMLResponse)
def logout_page(request: Request) -> Response:
    # Signing out changes state, so it takes a POST; this page offers the button.
    return render(request, "auth_logout.html", {})


@pages_router.post("/logout", dependencies=[Csrf])
def logout_submit(request: Request) -> Response:
    end_current_session(request)
    return RedirectResponse("/", status_code=303)


@pages_router.get("/account", response_class=HTMLResponse)
def account_page(request: Request) -> Response:
    me = viewer(request)
    if not me.authenticated or me.user_id is None:
        return to_login(request)
    return _account(request, me.user_id)


def _account(request: Request, user_id: int, **extra: Any) -> HTMLResponse:
    with db_sessions(request)() as session:
        user = accounts.get_user(session, user_id)
        identity = accounts.identity_for(session, user_id)
        tokens = accounts.list_api_tokens(session, user_id)
    context = {"user": user, "identity": identity, "tokens": tokens, **extra}
    return render(request, "auth_account.html", context, status=400 if extra.get("error") else 200)


@pages_router.post("/account/tokens", response_class=HTMLResponse, dependencies=[Csrf])
def account_token_create(
    request: Request,
    name: Annotated[str, Form(max_length=200)] = "",
    days: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    me = viewer(request)
    if me.user_id is None:
        return to_login(request)
    try:
        expires = _expiry(days)
        with db_sessions(request).begin() as session:
            user = accounts.get_user(session, me.user_id)
            token, raw = accounts.create_api_token(session, user, name, expires_at=expires)
            accounts.audit(session, me.owner or "", "token.create", {"token_id": token.id, "name": token.name},
                           ip=client_ip(request))  # fmt: skip
    except accounts.AccountError as exc:
        return _account(request, me.user_id, error=str(exc))
    return _account(request, me.user_id, new_token=raw, new_token_name=token.name)


def _expiry(days: str) -> datetime | None:
    days = days.strip()
    if not days:
        return None
    if not days.isdigit() or not 1 <= int(days) <= TOKEN_DAYS_MAX:
        raise accounts.AccountError(f"有效期应为 1 至 {TOKEN_DAYS_MAX} 天，留空表示长期有效")
    return datetime.now(UTC) + timedelta(days=int(days))


@pages_router.post("/account/tokens/{token_id}/revoke", dependencies=[Csrf])
def account_token_revoke(request: Request, token_id: DbId) -> Response:
    me = viewer(request)
    if me.user_id is None:
        return to_login(request)
    with db_sessions(request).begin() as session:
        if accounts.revoke_api_token(session, me.user_id, token_id):
            accounts.audit(
                session, me.owner or "", "token.revoke", {"token_id": token_id}, ip=client_ip(request)
            )
    return RedirectResponse("/account", status_code=303)


@pages_router.get("/account/password", response_class=HTMLResponse)
def password_page(request: Request) -> Response:
    if not viewer(request).authenticated:
        return to_login(request)
    return render(request, "auth_password.html", {})


@pages_router.post("/account/password", response_class=HTMLResponse, dependencies=[Csrf])
def password_submit(
    request: Request,
    old_password: Annotated[str, Form(max_length=1024)] = "",
    new_password: Annotated[str, Form(max_length=1024)] = "",
    new_password2: Annotated[str, Form(max_length=1024)] = "",
) -> Response:
    me = viewer(request)
    if me.user_id is None:
        return to_login(request)
    if new_password != new_password2:
        return render(request, "auth_password.html", {"error": "两次输入的新密码不一致。"}, status=400)
    try:
        with db_sessions(request).begin() as session:
            user = accounts.get_user(session, me.user_id)
            accounts.change_password(session, user, old_password, new_password)
            accounts.audit(session, me.owner or "", "password.change", {}, ip=client_ip(request))
            _restart_session(request, session, user.id)
    except accounts.AccountError as exc:
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
def api_register(request: Request, body: Registration) -> JSONResponse:
    ip = client_ip(request)
    if not limits_for(request).login_allowed("", ip).allowed:
        return _error("操作过于频繁，请稍后再试。", 429)
    try:
        with db_sessions(request).begin() as session:
            user = accounts.register_user(session, **body.model_dump())
            accounts.audit(session, f"user:{user.id}", "register", {"username": user.username}, ip=ip)
            identity = accounts.identity_for(session, user.id)
            payload = user_json(user, identity)
    except accounts.Conflict as exc:
        return _error(str(exc), 409)
    except accounts.AccountError as exc:
        return _error(str(exc), 400)
    return JSONResponse({"user": payload}, status_code=201)


@api_router.post("/login", response_model=None)
def api_login(request: Request, body: Credentials) -> JSONResponse:
    """Sign in with a session cookie (for a browser front end); API clients use a bearer token."""
    result = attempt_login(request, body.username, body.password)
    if result.user is None:
        headers = {"Retry-After": str(result.retry_after)} if result.retry_after else None
        return JSONResponse(
            {"error": {"message": result.message}}, status_code=result.status, headers=headers
        )
    return JSONResponse({"me": _me_json(current_principal(request))})


@api_router.post("/logout", status_code=204, response_model=None)
def api_logout(request: Request) -> Response:
    end_current_session(request)
    return Response(status_code=204)


@api_router.get("/me", response_model=None)
def api_me(me: Me) -> JSONResponse:
    return JSONResponse(_me_json(me))


@api_router.post("/password", status_code=204, response_model=None)
def api_password(request: Request, me: Me, body: PasswordChange) -> Response:
    user_id = _signed_in(me)
    try:
        with db_sessions(request).begin() as session:
            user = accounts.get_user(session, user_id)
            accounts.change_password(session, user, body.old_password, body.new_password)
            accounts.audit(session, me.owner or "", "password.change", {}, ip=client_ip(request))
            if request.state.session_token and not request.headers.get("authorization"):
                _restart_session(request, session, user.id)
    except accounts.AccountError as exc:
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
def api_token_create(request: Request, me: Me, body: NewToken) -> JSONResponse:
    """A new bearer token; the `token` value is shown only in this response."""
    user_id = _signed_in(me)
    expires = datetime.now(UTC) + timedelta(days=body.expires_days) if body.expires_days else None
    try:
        with db_sessions(request).begin() as session:
            user = accounts.get_user(session, user_id)
            token, raw = accounts.create_api_token(session, user, body.name, expires_at=expires)
            accounts.audit(session, me.owner or "", "token.create", {"token_id": token.id, "name": token.name},
                           ip=client_ip(request))  # fmt: skip
            payload = {**_token_json(token), "token": raw}
    except accounts.AccountError as exc:
        return _error(str(exc), 400)
    return JSONResponse(payload, status_code=201)


@api_router.get("/tokens", response_model=None)
def api_tokens(request: Request, me: Me) -> JSONResponse:
    user_id = _signed_in(me)
    with db_sessions(request)() as session:
        tokens = [_token_json(t) for t in accounts.list_api_tokens(session, user_id)]
    return JSONResponse({"tokens": tokens})


@api_router.delete("/tokens/{token_id}", status_code=204, response_model=None)
def api_token_revoke(request: Request, me: Me, token_id: DbId) -> Response:
    user_id = _signed_in(me)
    with db_sessions(request).begin() as session:
        if not accounts.revoke_api_token(session, user_id, token_id):
            return _error("没有找到该令牌", 404)
        accounts.audit(session, me.owner or "", "token.revoke", {"token_id": token_id}, ip=client_ip(request))
    return Response(status_code=204)

"""Who is asking: the session cookie, a bearer token, or nobody; plus the CSRF token of a session.

Every browser gets a random session token in an HttpOnly, SameSite=Lax cookie on first contact. While
nobody is signed in it only scopes anonymous search history ("anon:<token>"). Signing in replaces it
with a fresh token whose SHA-256 is stored with the user (so a token planted before login is worth
nothing afterwards); signing out replaces it again. API clients send `Authorization: Bearer chx_...`.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from appdb import accounts
from appdb.session import session_factory
from search.principal import ANONYMOUS, Principal, principal_for
from web.anonymous_tokens import AnonymousTokens
from web.session_cookie import COOKIE as COOKIE  # where the tests and pages have always found it
from web.session_cookie import SessionCookie
from web.state import app_state

CSRF_FIELD = "csrf_token"


def install_session_cookie(app: FastAPI) -> None:
    """Give every browser a session token on first contact, and send it again whenever a route rotates it."""
    app.add_middleware(SessionCookie)


def db_sessions(request: Request) -> sessionmaker[Session]:
    return session_factory(app_state(request).settings.effective_database_url)


def rotate_session(request: Request) -> str:
    """A new session token for this browser (sent as the cookie with the response); returns it."""
    token = secrets.token_hex(16)
    set_session_token(request, token)
    return token


def set_session_token(request: Request, token: str) -> None:
    """Adopt a token made by `accounts.create_session` as this browser's session."""
    request.state.session_token = token
    request.state.session_fresh = False
    request.state.principal = None


def client_ip(request: Request) -> str:
    """The client address as the server sees it (uvicorn's --proxy-headers rewrites it behind a proxy)."""
    return request.client.host if request.client else "unknown"


def record_audit(request: Request, action: str, detail: Mapping[str, Any] | None = None) -> None:
    """Append an audit event for whoever is asking (e.g. `record_audit(request, "export", {...})`)."""
    actor = current_principal(request).owner or "anon"
    with db_sessions(request).begin() as session:
        accounts.audit(session, actor, action, detail, ip=client_ip(request))


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer":
        return None
    return value.strip()


def _known_without_database(request: Request) -> Principal | None:
    """The principal when no database look-up is needed: already found for this request, or an
    anonymous visitor (no bearer token) whose session token was minted just now or is known to be no
    signed-in session. None when the database must be asked."""
    cached: Principal | None = getattr(request.state, "principal", None)
    if cached is not None:
        return cached
    if _bearer(request) is not None:
        return None
    token = request.state.session_token
    if getattr(request.state, "session_fresh", False) or AnonymousTokens.of(request.app).known(token):
        principal = Principal(owner=f"anon:{token}")
        request.state.principal = principal
        return principal
    return None


def current_principal(request: Request) -> Principal:
    """Who is asking, for every route that searches, shows or exports records.

    A bearer token wins over the cookie; an invalid or expired token is a 401 rather than a silent
    fall-back to anonymous, so an API client learns its token no longer works.
    """
    known = _known_without_database(request)
    if known is not None:
        return known
    token = request.state.session_token
    identity: accounts.Identity | None = None
    bearer = _bearer(request)
    with db_sessions(request).begin() as session:
        if bearer is not None:
            user_id = accounts.api_token_user(session, bearer)
            identity = accounts.identity_for(session, user_id) if user_id is not None else None
            if identity is None:
                raise HTTPException(
                    status_code=401,
                    detail="API 令牌无效、已撤销或已过期",
                    headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
                )
        else:
            user_id = accounts.session_user(session, token)
            identity = accounts.identity_for(session, user_id) if user_id is not None else None
            if user_id is None:
                AnonymousTokens.of(request.app).add(token)
    principal = principal_for(identity) if identity else Principal(owner=f"anon:{token}")
    request.state.principal = principal
    return principal


async def asking(request: Request) -> Principal:
    """`current_principal` as the routes' dependency (`web.deps.Who`). FastAPI runs a plain-function
    dependency in the thread pool, a hop there and back on every request (py-spy under bench/query.py:
    about a tenth of an anonymous search's CPU); an async one runs on the event loop. So the answers
    that need no database (most anonymous requests) are given here, and only a look-up goes to the pool."""
    known = _known_without_database(request)
    return known if known is not None else await run_in_threadpool(current_principal, request)


def viewer(request: Request) -> Principal:
    """The principal for page chrome (header links); never fails a page that is already rendering."""
    try:
        return current_principal(request)
    except (HTTPException, SQLAlchemyError):  # a bad bearer token or a database hiccup must not break a page
        return ANONYMOUS


def session_owner(request: Request) -> str:
    """The owner key for history and strategies: "user:<id>" when signed in, else "anon:<session>"."""
    owner = current_principal(request).owner
    assert owner is not None
    return owner


# ---------------------------------------------------------------- CSRF


def _secret(request: Request) -> bytes:
    found: bytes | None = getattr(request.app.state, "chaxin_secret", None)
    if found is None:
        found = app_state(request).settings.effective_secret_key.encode()
        request.app.state.chaxin_secret = found
    return found


def csrf_token(request: Request) -> str:
    """The form token of this browser's session; it changes whenever the session token does."""
    message = b"csrf:" + request.state.session_token.encode()
    return hmac.new(_secret(request), message, hashlib.sha256).hexdigest()


def csrf_valid(request: Request, submitted: str | None) -> bool:
    return bool(submitted) and hmac.compare_digest(csrf_token(request), str(submitted))

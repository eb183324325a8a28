"""Who is asking. Until accounts exist, an anonymous session cookie scopes search history."""

from __future__ import annotations

import re
import secrets
from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request, Response

from search.principal import Principal

COOKIE = "chaxin_sid"
_TOKEN = re.compile(r"[0-9a-f]{32}")


def install_session_cookie(app: FastAPI) -> None:
    """Give every browser a session token on first contact, whatever the route returns."""

    @app.middleware("http")
    async def _session(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        token = request.cookies.get(COOKIE, "")
        fresh = not _TOKEN.fullmatch(token)
        if fresh:
            token = secrets.token_hex(16)
        request.state.session_token = token
        response = await call_next(request)
        if fresh:
            response.set_cookie(COOKIE, token, httponly=True, samesite="lax", max_age=180 * 24 * 3600)
        return response


def session_owner(request: Request) -> str:
    """The owner key for history and strategies (a user ID once accounts exist)."""
    return f"anon:{request.state.session_token}"


def current_principal(request: Request) -> Principal:
    """Who is asking, for every route that searches, shows or exports records (a FastAPI dependency).

    Until accounts land, everyone is an anonymous visitor owning the session's history; the account
    layer replaces this body with the signed-in user, and no route needs to change.
    """
    return Principal(owner=session_owner(request))

"""The session cookie as a plain ASGI middleware: every browser gets a random session token on first
contact, and gets the cookie again whenever a route rotates the token (sign-in, sign-out).

Plain ASGI rather than Starlette's `@app.middleware("http")`: that one runs every request's app in a
task of its own and pipes the response through a memory stream, a measurable share of an API
request's CPU (bench/query.py). This one only reads the Cookie header and, when the token changed,
adds a Set-Cookie header to the response start.
"""

from __future__ import annotations

import re
import secrets

from starlette.requests import HTTPConnection
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

COOKIE = "chaxin_sid"
COOKIE_MAX_AGE = 180 * 24 * 3600
TOKEN = re.compile(r"[0-9a-f]{32}")


def set_cookie_header(token: str, *, secure: bool) -> tuple[bytes, bytes]:
    """The Set-Cookie header of `token`: HttpOnly, SameSite=Lax, for the whole site."""
    response = Response()
    response.set_cookie(COOKIE, token, httponly=True, samesite="lax", secure=secure, max_age=COOKIE_MAX_AGE, path="/")
    return next((k, v) for k, v in response.raw_headers if k == b"set-cookie")


class SessionCookie:
    """Puts `session_token` and `session_fresh` in the request state; routes may replace the token."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = HTTPConnection(scope).cookies.get(COOKIE, "")
        token = incoming if TOKEN.fullmatch(incoming) else secrets.token_hex(16)
        state = scope.setdefault("state", {})
        state["session_token"] = token
        # A token minted just now cannot belong to a signed-in session: no database look-up needed.
        state["session_fresh"] = token != incoming

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                current = state.get("session_token", token)
                if current != incoming:
                    secure = bool(scope["app"].state.chaxin.settings.cookie_secure)
                    message["headers"] = [*message.get("headers", ()), set_cookie_header(current, secure=secure)]
            await send(message)

        await self.app(scope, receive, send_with_cookie)

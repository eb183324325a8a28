"""The FastAPI dependencies routes share: the app state, who is asking, a database session, the CSRF
check of form posts, and the gates of staff and admin pages.

A page gate refuses in one of two ways, both answered once for the whole app: a visitor who is not
signed in raises `SignInRequired`, which the app's handler turns into a redirect to the login page
(and back afterwards); a signed-in user without the role gets a 403 with the reason.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated
from urllib.parse import urlencode

from fastapi import Depends, Form, HTTPException, Request
from sqlalchemy.orm import Session

from casework.centre_access import may_view_centres
from search.fields import FACETS
from search.principal import Principal
from web.identity import asking, csrf_valid, db_sessions, viewer
from web.state import AppState, app_state

State = Annotated[AppState, Depends(app_state)]
Who = Annotated[Principal, Depends(asking)]


# ---------------------------------------------------------------- the database


def db_session(request: Request) -> Iterator[Session]:
    """One session per request, committed when the route returns and rolled back when it raises.

    A route that catches a refusal and answers with a page instead (the form again, with the reason)
    calls `rollback()` first, so that nothing the refused step wrote is committed with the page."""
    with db_sessions(request)() as session:
        try:
            yield session
        except BaseException:
            session.rollback()
            raise
        session.commit()


# scope="function": the commit runs as the route returns, before the response is sent, so a redirect
# is never followed to a page that misses the write, and a failed commit is this request's error.
Db = Annotated[Session, Depends(db_session, scope="function")]


# ---------------------------------------------------------------- request reading


def owner_of(principal: Who) -> str:
    """Whose history and strategies a request reads: the signed-in user, else the session."""
    if principal.owner is None:
        raise HTTPException(status_code=401, detail="请先登录")
    return principal.owner


Owner = Annotated[str, Depends(owner_of)]


def facet_filters(request: Request) -> dict[str, list[str]]:
    return {f.name: request.query_params.getlist(f.name) for f in FACETS if f.name in request.query_params}


FacetFilters = Annotated[dict[str, list[str]], Depends(facet_filters)]


def require_csrf(request: Request, csrf_token: Annotated[str, Form(max_length=128)] = "") -> None:
    """Every form POST: the hidden token must match this session's, so it came from our own page."""
    if not csrf_valid(request, csrf_token):
        raise HTTPException(
            status_code=403, detail="表单已失效（停留过久、已重新登录或来自其他网站），请返回刷新后重试。"
        )


Csrf = Depends(require_csrf)


# ---------------------------------------------------------------- page gates


class SignInRequired(Exception):
    """A page for signed-in users, asked for by a visitor: the app answers with the login page."""


def login_url(request: Request) -> str:
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return "/login?" + urlencode({"next": here})


def signed_in(request: Request) -> Principal:
    me = viewer(request)
    if not me.authenticated:
        raise SignInRequired
    return me


SignedIn = Annotated[Principal, Depends(signed_in)]


def _page_gate(allowed: Callable[[Principal], bool], refusal: str) -> Callable[[Principal], Principal]:
    def gate(me: SignedIn) -> Principal:
        if not allowed(me):
            raise HTTPException(status_code=403, detail=refusal)
        return me

    return gate


def _platform_admin(me: Principal) -> bool:
    return me.platform_admin


def _staff(me: Principal) -> bool:
    return me.staff


# The admin pages: a platform admin, or a centre admin (of a centre) for the users of that centre.
admin_page = _page_gate(may_view_centres, "该页面仅限管理员")
platform_admin_page = _page_gate(_platform_admin, "该页面仅限平台管理员")
staff_page = _page_gate(_staff, "只有查新机构工作人员可以使用查新案件")
centres_page = _page_gate(may_view_centres, "该页面仅限平台管理员和分中心管理员")

AdminPage = Annotated[Principal, Depends(admin_page)]
PlatformAdminPage = Annotated[Principal, Depends(platform_admin_page)]
StaffPage = Annotated[Principal, Depends(staff_page)]
CentresPage = Annotated[Principal, Depends(centres_page)]

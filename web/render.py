"""Rendering pages: the Jinja2 templates with what every page may use, and the HTML error page.

Every template can call `viewer(request)` (the header's sign-in links), `csrf_token(request)` (the
hidden field of a form post) and read `role_labels`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from appdb.accounts import ROLE_LABELS
from search.simple_query import MAX_QUERY_CHARS
from web.identity import CSRF_FIELD, csrf_token, viewer

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
STATUS_TITLES = {
    400: "请求有误",
    404: "页面不存在",
    405: "不支持的请求方式",
    429: "请求过于频繁",
    500: "服务器内部错误",
    503: "服务暂时不可用",
}

templates = Jinja2Templates(directory=str(TEMPLATES_DIR))


def _csrf_for_template(request: Request) -> str:
    try:
        return csrf_token(request)
    except AttributeError:  # rendered outside the session middleware
        return ""


templates.env.globals["viewer"] = viewer
templates.env.globals["csrf_token"] = _csrf_for_template
templates.env.globals["role_labels"] = ROLE_LABELS


def render(
    request: Request, name: str, context: dict[str, Any], status: int = 200, *, no_store: bool = True
) -> HTMLResponse:
    """A page. `no_store` keeps it out of every cache (account, case, centre and admin pages); the
    search and workspace pages have never sent that header and pass False."""
    base: dict[str, Any] = {"q": "", "max_query_chars": MAX_QUERY_CHARS, "csrf_field": CSRF_FIELD}
    base.update(context)
    response: HTMLResponse = templates.TemplateResponse(request, name, base, status_code=status)
    if no_store:
        response.headers["Cache-Control"] = "no-store"
    return response


def error_page(request: Request, status: int, message: str) -> HTMLResponse:
    """An HTML error page (Chinese) with this status code."""
    q = request.query_params.get("q", "") if request.url.path == "/" else ""
    context = {"status": status, "title": STATUS_TITLES.get(status, "出错了"), "message": message,
               "q": q[:MAX_QUERY_CHARS]}  # fmt: skip
    return render(request, "error.html", context, status=status, no_store=False)

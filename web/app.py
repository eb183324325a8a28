"""The FastAPI application."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from casework.core import CaseError
from conf.settings import Settings, get_settings
from mappings.validation_zh import describe
from search.errors import BadQuery, SearchUnavailable
from search.paging import CursorExpired
from search.query import QueryError
from web import (
    admin,
    api,
    auth,
    case_pages,
    cases_api,
    centre_api,
    centre_pages,
    export_api,
    health,
    ingest_api,
    pages,
    reference_pages,
    references_api,
    workspace,
)
from web.deps import SignInRequired, login_url
from web.identity import install_session_cookie
from web.render import error_page
from web.state import AppState
from web.url_limit import UrlLengthLimit


def _wants_html(request: Request) -> bool:
    return not request.url.path.startswith("/api/") and "text/html" in request.headers.get("accept", "")


def create_app(settings: Settings | None = None) -> FastAPI:
    app = FastAPI(title="Chaxin 查新平台", version="0.1.0")
    app.state.chaxin = AppState.build(settings or get_settings())
    install_session_cookie(app)
    app.add_middleware(UrlLengthLimit, max_bytes=app.state.chaxin.settings.max_url_bytes)
    app.include_router(api.router)
    app.include_router(ingest_api.router)
    app.include_router(export_api.router)
    app.include_router(health.router)
    app.include_router(cases_api.router)
    app.include_router(cases_api.verify_router)
    app.include_router(centre_api.router)
    app.include_router(references_api.router)
    app.include_router(auth.api_router)
    app.include_router(auth.pages_router)
    app.include_router(admin.router)

    app.include_router(pages.router)
    app.include_router(workspace.router)
    app.include_router(reference_pages.router)
    app.include_router(case_pages.router)
    app.include_router(centre_pages.router)
    pages.mount_static(app)

    @app.exception_handler(SignInRequired)
    async def _sign_in(request: Request, _: SignInRequired) -> Response:
        # Every staff and admin page refuses a visitor the same way: sign in, then come back here.
        return RedirectResponse(login_url(request), status_code=303)

    @app.exception_handler(SearchUnavailable)
    async def _unavailable(request: Request, exc: SearchUnavailable) -> Response:
        if _wants_html(request):
            return error_page(request, 503, "检索服务暂时不可用，请稍后再试。")
        return JSONResponse({"error": {"message": str(exc)}}, status_code=503)

    @app.exception_handler(BadQuery)
    async def _bad_query(request: Request, exc: BadQuery) -> Response:
        # Expression errors carry the character position and what was expected there.
        error = exc.to_dict() if isinstance(exc, QueryError) else {"message": str(exc)}
        # A cursor whose point in time has lapsed was valid once: 410 Gone, search again.
        status = 410 if isinstance(exc, CursorExpired) else 400
        if _wants_html(request):
            return error_page(request, status, str(error["message"]))
        return JSONResponse({"error": error}, status_code=status)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        first = exc.errors()[0] if exc.errors() else {}
        # FastAPI's location starts with where the value came from ("body", "query"); users name fields.
        message = describe(first, default_where="请求内容", drop=1)
        if _wants_html(request):
            return error_page(request, 400, message)
        return JSONResponse(
            {"error": {"message": message, "detail": jsonable_encoder(exc.errors())}}, status_code=400
        )

    @app.exception_handler(CaseError)
    async def _case_refused(request: Request, exc: CaseError) -> Response:
        # The case rules carry their HTTP status (404 for another centre's case, 403, 409) and a
        # Chinese reason; every case and centre route answers them the same way.
        if _wants_html(request):
            return error_page(request, exc.status, str(exc))
        error: dict[str, Any] = {"message": str(exc)}
        # A refused submit or signing lists every problem found, each with where it is fixed.
        if problems := getattr(exc, "problems", None):
            error["problems"] = [vars(p) for p in problems]
        return JSONResponse({"error": error}, status_code=exc.status)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        # Starlette's own details are English ("Not Found"); ours are already Chinese.
        defaults = {404: "没有找到该页面或记录", 405: "不支持该请求方法"}
        message = str(exc.detail)
        if not any("\u4e00" <= ch <= "\u9fff" for ch in message):
            message = defaults.get(exc.status_code, f"请求无法处理（HTTP {exc.status_code}）")
        if _wants_html(request):
            return error_page(request, exc.status_code, message)
        return JSONResponse({"error": {"message": message}}, status_code=exc.status_code, headers=exc.headers)

    return app

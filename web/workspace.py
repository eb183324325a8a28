"""The advanced search page (高级检索) and the analyst workspace (分析工作台), server-rendered.

Both work without JavaScript. Actions that change the search history or the saved strategies are
POST forms answered with a redirect (post/redirect/get), so reloading a result page or following a
paging or facet link never adds a history entry; facet filters travel as query parameters beside the
expression, which is never rewritten. Exports go through the JSON API's `/api/v1/export`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta, timezone
from typing import Annotated, Any
from urllib.parse import urlencode, urlsplit

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from appdb import accounts
from search.errors import BadQuery, SearchUnavailable
from search.export import DEFAULT_FORMAT, FORMATS
from search.fields import DOC_TYPE_LABELS, FACETS, SORT_LABELS, SORTS
from search.history import NotFound
from search.history_text import spell_out, spelt_expression, texts_of
from search.principal import Principal
from search.query import MAX_QUERY_CHARS, QueryError
from web import pages
from web.advanced_form import (
    MATCHES,
    MAX_ROWS,
    OPERATORS,
    AdvancedForm,
    FormError,
    Row,
    build_expression,
    field_choices,
    form_params,
    read_form,
    salvage_form,
)
from web.api import MAX_DB_ID, DbId
from web.deps import Csrf, Db, SignedIn, State, Who
from web.export_api import ExportJobRequest, job_view, queue_export
from web.identity import session_owner
from web.render import error_page, render
from web.result_views import chips, facet_views, hit_view
from web.state import AppState

router = APIRouter(include_in_schema=False)

DEFAULT_SIZE = 20
SIZE_CHOICES = (10, 20, 50, 100)
MAX_PAGE_SIZE = 100
MAX_WINDOW = 10_000
PAGE_WINDOW = 4
MAX_EXPRESSION_CHARS = MAX_QUERY_CHARS
MAX_SELECTED = 1_000
# The platform serves one Chinese province; history times are shown in Beijing time (no DST).
BEIJING = timezone(timedelta(hours=8))


class _BadParam(Exception):
    pass


# ---------------------------------------------------------------- request reading


def _owner(request: Request, principal: Principal) -> str:
    return principal.owner or session_owner(request)


def _int(request: Request, name: str, default: int, label: str, low: int, high: int) -> int:
    raw = request.query_params.get(name, "").strip()
    if not raw:
        return default
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 9) or not low <= int(raw) <= high:
        raise _BadParam(f"参数“{label}”应为 {low} 到 {high} 之间的整数，收到的是“{raw[:20]}”")
    return int(raw)


class _Paging:
    def __init__(self, request: Request) -> None:
        self.size = _int(request, "size", DEFAULT_SIZE, "每页条数", 1, MAX_PAGE_SIZE)
        self.page = _int(request, "page", 1, "页码", 1, MAX_WINDOW)
        if self.page * self.size > MAX_WINDOW:
            raise _BadParam(f"只能浏览前 {MAX_WINDOW} 条结果，请缩小检索范围")
        self.sort = request.query_params.get("sort", "relevance")
        if self.sort not in SORTS:
            raise _BadParam(f"未知的排序方式：{self.sort[:20]}")


def _safe_return(target: str) -> str:
    """Only a path of this workspace: a form field must never turn the redirect into an open one."""
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not parts.path.startswith("/workspace") or "\\" in target:
        return "/workspace"
    return target


# ---------------------------------------------------------------- searching


def _run(
    state: AppState,
    request: Request,
    principal: Principal,
    q: str,
    *,
    page: int = 1,
    size: int = DEFAULT_SIZE,
    filters: Mapping[str, Sequence[str]] | None = None,
    sort: str = "relevance",
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The one place both pages search: `#n` resolves against the caller's own history."""
    if len(q) > MAX_EXPRESSION_CHARS:
        raise BadQuery(f"检索式过长（最多 {MAX_EXPRESSION_CHARS} 个字符）")
    return state.search.pro(
        q,
        page=page,
        size=size,
        filters=filters,
        history=state.history.resolver(_owner(request, principal)),
        sort=sort,
        principal=principal,
    )


def _record(state: AppState, request: Request, principal: Principal, q: str) -> int:
    """Run an expression once more and number it in the caller's history."""
    result, query = _run(state, request, principal, q)
    owner = _owner(request, principal)
    return state.history.add(
        owner,
        expression=q,
        # Spelt out now, while every #n it names exists: the column keeps its meaning afterwards.
        normalized=spell_out(result["normalized"], texts_of(state.history, owner)),
        cnki=result["cnki"],
        query=query,
        total=result["total"],
    )


def _error_view(q: str, exc: BadQuery) -> dict[str, Any]:
    """The message, plus the expression split around the character the parser stopped at."""
    view: dict[str, Any] = {"message": str(exc)}
    if isinstance(exc, QueryError):
        view["message"] = exc.message
        view["expected"] = exc.expected
        if exc.position is not None and q:
            pos = min(max(exc.position, 0), len(q))
            view.update(
                position=pos,
                before=q[:pos],
                at=q[pos] if pos < len(q) else "",
                after=q[pos + 1 :],
            )
    return view


# ---------------------------------------------------------------- result views


UrlFor = Callable[..., str]


def _pager(page: int, size: int, total: int, url: UrlFor) -> dict[str, Any] | None:
    last = min(math.ceil(total / size), MAX_WINDOW // size)
    if last <= 1 and page <= 1:
        return None
    lo, hi = max(1, page - PAGE_WINDOW), min(last, page + PAGE_WINDOW)
    items: list[dict[str, Any]] = []
    if lo > 1:
        items.append({"page": 1, "url": url(page=1)})
        if lo > 2:
            items.append({"gap": True})
    items += [{"page": p, "url": url(page=p), "current": p == page} for p in range(lo, hi + 1)]
    if hi < last:
        if hi < last - 1:
            items.append({"gap": True})
        items.append({"page": last, "url": url(page=last)})
    return {
        "prev": url(page=page - 1) if page > 1 else None,
        "next": url(page=page + 1) if page < last else None,
        "items": items,
        "last": last,
    }


def _results_view(
    result: dict[str, Any], paging: _Paging, filters: dict[str, list[str]], url: UrlFor
) -> dict[str, Any]:
    hits = []
    for hit in result["hits"]:
        view = hit_view(hit)
        view["id"] = hit["id"]
        hits.append(view)
    total = int(result["total"])
    first = (paging.page - 1) * paging.size + 1
    return {
        "total": total,
        "hits": hits,
        "first": first,
        "last_shown": first + len(hits) - 1,
        "page": paging.page,
        "facets": facet_views(result.get("facets") or {}, filters, lambda target: url(filters=target)),
        "chips": chips(filters, lambda target: url(filters=target)),
        "clear_url": url(filters={}),
        "pager": _pager(paging.page, paging.size, total, url),
        "sorts": [
            {"label": label, "url": url(sort=s), "current": s == paging.sort}
            for s, label in SORT_LABELS.items()
        ],
        "sizes": [
            {"size": s, "url": url(size=s), "current": s == paging.size}
            for s in sorted({*SIZE_CHOICES, paging.size})
        ],
    }


def _url_maker(
    path: str, base: list[tuple[str, str]], filters: dict[str, list[str]], paging: _Paging
) -> UrlFor:
    """URLs of this result list with one thing changed; a change of filter, sort or size goes to page 1."""

    def url(
        *,
        page: int = 1,
        filters: dict[str, list[str]] | None = None,
        sort: str | None = None,
        size: int | None = None,
    ) -> str:
        params = list(base)
        chosen = current if filters is None else filters
        for facet in FACETS:
            params += [(facet.name, v) for v in chosen.get(facet.name, [])]
        sort_ = paging.sort if sort is None else sort
        size_ = paging.size if size is None else size
        if sort_ != "relevance":
            params.append(("sort", sort_))
        if size_ != DEFAULT_SIZE:
            params.append(("size", str(size_)))
        if page > 1:
            params.append(("page", str(page)))
        return f"{path}?{urlencode(params)}"

    current = filters
    return url


def _export_formats() -> list[dict[str, Any]]:
    return [{"name": f.name, "label": f.label, "default": f.name == DEFAULT_FORMAT} for f in FORMATS.values()]


# ---------------------------------------------------------------- advanced search


def _advanced_context(form: AdvancedForm) -> dict[str, Any]:
    return {
        "form": form,
        "fields": field_choices(),
        "matches": MATCHES,
        "operators": OPERATORS,
        "doc_type_labels": DOC_TYPE_LABELS,
        "max_rows": MAX_ROWS,
    }


@router.get("/advanced", response_class=HTMLResponse)
def advanced(request: Request, state: State, principal: Who) -> Response:
    params = {k: request.query_params.getlist(k) for k in request.query_params}
    try:
        form = read_form(params)
        paging = _Paging(request)
    except FormError as exc:
        # The form comes back filled as it was sent, the refused field marked.
        context = _advanced_context(salvage_form(params))
        context.update(error={"message": str(exc)}, bad_field=exc.field)
        return render(request, "advanced.html", context, status=400, no_store=False)
    except (BadQuery, _BadParam) as exc:
        return error_page(request, 400, str(exc))
    context = _advanced_context(form)
    # "增加一行" without JavaScript: the form comes back with one more empty row and nothing is run.
    if request.query_params.get("add") and len(form.rows) < MAX_ROWS:
        nxt = len(form.rows) + 1
        form.rows.append(Row(field=form.rows[-1].field))
        context["focus_row"] = nxt
        return render(request, "advanced.html", context, no_store=False)
    if form.empty:
        return render(request, "advanced.html", context, no_store=False)
    try:
        expression = build_expression(form)
    except BadQuery as exc:
        context["error"] = {"message": str(exc)}
        return render(request, "advanced.html", context, status=400, no_store=False)
    context["expression"] = expression
    filters = pages.query_facet_filters(request)
    url = _url_maker("/advanced", form_params(form), filters, paging)
    try:
        result, _ = _run(
            state,
            request,
            principal,
            expression,
            page=paging.page,
            size=paging.size,
            filters=filters,
            sort=paging.sort,
        )
    except BadQuery as exc:
        context["error"] = _error_view(expression, exc)
        return render(request, "advanced.html", context, status=400, no_store=False)
    except SearchUnavailable:
        return error_page(request, 503, "检索服务暂时不可用，请稍后再试。")
    context["normalized"] = result["normalized"]
    context["results"] = _results_view(result, paging, filters, url)
    return render(request, "advanced.html", context, no_store=False)


# ---------------------------------------------------------------- analyst workspace


def _local_time(iso: str | None) -> str:
    if not iso:
        return ""
    try:
        when = datetime.fromisoformat(iso)
    except ValueError:
        return iso
    if when.tzinfo is None:  # SQLite hands back naive datetimes that were stored as UTC
        when = when.replace(tzinfo=UTC)
    return when.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S")


def _workspace(
    request: Request,
    state: AppState,
    principal: Principal,
    db: Session,
    *,
    q: str = "",
    status: int = 200,
    error: dict[str, Any] | None = None,
    notice: str = "",
) -> Response:
    owner = _owner(request, principal)
    try:
        paging = _Paging(request)
    except _BadParam as exc:
        return error_page(request, 400, str(exc))
    highlight = request.query_params.get("h", "")
    context: dict[str, Any] = {
        "q": q,
        "error": error,
        "notice": notice,
        "formats": _export_formats(),
        "fields": field_choices(),
        "history_number": int(highlight)
        if highlight.isascii() and highlight.isdigit() and len(highlight) <= 9
        else None,
        "return_to": request.url.path + (f"?{request.url.query}" if request.url.query else ""),
        "max_selected": MAX_SELECTED,
    }
    if q and error is None:
        filters = pages.query_facet_filters(request)
        base = [("q", q)] + ([("h", highlight)] if context["history_number"] else [])
        url = _url_maker("/workspace", base, filters, paging)
        try:
            result, _ = _run(
                state,
                request,
                principal,
                q,
                page=paging.page,
                size=paging.size,
                filters=filters,
                sort=paging.sort,
            )
        except BadQuery as exc:
            context["error"] = _error_view(q, exc)
            status = 400
        except SearchUnavailable:
            return error_page(request, 503, "检索服务暂时不可用，请稍后再试。")
        else:
            context["normalized"] = result["normalized"]
            context["cnki"] = result["cnki"]
            context["results"] = _results_view(result, paging, filters, url)
            context["export_params"] = (
                [("q", q), ("mode", "pro")]
                + [(name, v) for name, values in filters.items() for v in values]
                + ([("sort", paging.sort)] if paging.sort != "relevance" else [])
            )
            # Past the threshold the whole result set is written by an export job, up to the cap.
            settings = state.settings
            context["export_as_job"] = principal.authenticated and result["total"] > settings.export_job_threshold
            context["export_cap"] = settings.export_max_records if result["total"] > settings.export_max_records else None
    only_session = request.query_params.get("history") == "session"
    context["history_view"] = "session" if only_session else "all"
    try:
        entries = state.history.entries(owner)
        texts = {e.number: e.normalized for e in entries}
        if only_session and principal.authenticated:
            started = accounts.session_started(db, request.state.session_token)
            entries = [e for e in entries if started is None or _after(e.created_at, started)]
        context["history"] = [
            {
                "number": e.number,
                "expression": e.expression,
                "normalized": _reading(e.normalized, texts),
                "total": e.total,
                "name": e.name,
                "time": _local_time(e.created_at),
                "url": "/workspace?" + urlencode({"q": e.expression, "h": e.number}),
            }
            for e in reversed(entries)
        ]
        context["strategies"] = state.history.strategies(owner)
    except SQLAlchemyError:  # a database hiccup must not hide the results already fetched
        context.setdefault("history", [])
        context.setdefault("strategies", [])
        context["notice"] = "检索历史暂时无法读取。"
    return render(request, "workspace.html", context, status=status, no_store=False)


def _reading(normalized: str, texts: Mapping[int, str]) -> str:
    """An entry's 系统解读 with any `#n` spelt out (entries stored before spelling kept `#n`)."""
    try:
        return spell_out(normalized, texts.get)
    except BadQuery:
        return normalized


def _after(iso: str | None, started: datetime) -> bool:
    if not iso:
        return False
    when = datetime.fromisoformat(iso)
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    if started.tzinfo is None:
        started = started.replace(tzinfo=UTC)
    return when >= started


@router.get("/workspace", response_class=HTMLResponse)
def workspace(request: Request, state: State, principal: Who, db: Db) -> Response:
    return _workspace(request, state, principal, db, q=request.query_params.get("q", "").strip())


def _after_search(q: str, number: int) -> RedirectResponse:
    return RedirectResponse("/workspace?" + urlencode({"q": q, "h": number}), status_code=303)


@router.post("/workspace/search", response_class=HTMLResponse, dependencies=[Csrf])
def workspace_search(
    request: Request, state: State, principal: Who, db: Db, q: Annotated[str, Form()] = ""
) -> Response:
    q = q.strip()
    if not q:
        return _workspace(request, state, principal, db, status=400, error={"message": "请输入检索式"})
    try:
        number = _record(state, request, principal, q)
    except BadQuery as exc:
        return _workspace(request, state, principal, db, q=q, status=400, error=_error_view(q, exc))
    return _after_search(q, number)


@router.post("/workspace/history/{number}/rerun", response_class=HTMLResponse, dependencies=[Csrf])
def workspace_rerun(request: Request, state: State, principal: Who, db: Db, number: DbId) -> Response:
    try:
        entry = state.history.get(_owner(request, principal), number)
    except NotFound as exc:
        return _workspace(request, state, principal, db, status=404, error={"message": str(exc)})
    expression = spelt_expression(entry, texts_of(state.history, _owner(request, principal)))
    try:
        new = _record(state, request, principal, expression)
    except BadQuery as exc:
        return _workspace(
            request,
            state,
            principal,
            db,
            q=expression,
            status=400,
            error=_error_view(expression, exc),
        )
    return _after_search(expression, new)


@router.post("/workspace/history/{number}/name", response_class=HTMLResponse, dependencies=[Csrf])
def workspace_rename(
    request: Request,
    state: State,
    principal: Who,
    db: Db,
    number: DbId,
    name: Annotated[str, Form(max_length=500)] = "",
    return_to: Annotated[str, Form(max_length=4000)] = "/workspace",
) -> Response:
    try:
        state.history.rename(_owner(request, principal), number, name)
    except NotFound as exc:
        return _workspace(request, state, principal, db, status=404, error={"message": str(exc)})
    except BadQuery as exc:
        return _workspace(
            request, state, principal, db, status=400, error={"message": f"命名 #{number}：{exc}"}
        )
    return RedirectResponse(_safe_return(return_to), status_code=303)


@router.post("/workspace/history/{number}/delete", response_class=HTMLResponse, dependencies=[Csrf])
def workspace_delete_entry(
    request: Request,
    state: State,
    principal: Who,
    db: Db,
    number: DbId,
    return_to: Annotated[str, Form(max_length=4000)] = "/workspace",
) -> Response:
    try:
        state.history.delete(_owner(request, principal), number)
    except NotFound as exc:
        return _workspace(request, state, principal, db, status=404, error={"message": str(exc)})
    return RedirectResponse(_safe_return(return_to), status_code=303)


@router.post("/workspace/history/clear", response_class=HTMLResponse, dependencies=[Csrf])
def workspace_clear_history(request: Request, state: State, principal: Who) -> Response:
    state.history.clear(_owner(request, principal))
    return RedirectResponse("/workspace", status_code=303)


@router.post("/workspace/strategies", response_class=HTMLResponse, dependencies=[Csrf])
def workspace_save_strategy(
    request: Request,
    state: State,
    principal: Who,
    db: Db,
    from_history: Annotated[int, Form(ge=1, le=MAX_DB_ID)],
    name: Annotated[str, Form(max_length=500)] = "",
    return_to: Annotated[str, Form(max_length=4000)] = "/workspace",
) -> Response:
    owner = _owner(request, principal)
    try:
        entry = state.history.get(owner, from_history)
        # The spelt-out expression: `#n` would change meaning as the history changes; it stays a label.
        expression = spelt_expression(entry, texts_of(state.history, owner))
        state.history.save_strategy(owner, name or entry.name or f"策略 #{from_history}", expression)
    except NotFound as exc:
        return _workspace(request, state, principal, db, status=404, error={"message": str(exc)})
    except BadQuery as exc:
        return _workspace(request, state, principal, db, status=400, error={"message": f"保存策略：{exc}"})
    return RedirectResponse(_safe_return(return_to), status_code=303)


@router.post("/workspace/strategies/{strategy_id}/run", response_class=HTMLResponse, dependencies=[Csrf])
def workspace_run_strategy(
    request: Request, state: State, principal: Who, db: Db, strategy_id: DbId
) -> Response:
    try:
        strategy = state.history.strategy(_owner(request, principal), strategy_id)
    except NotFound as exc:
        return _workspace(request, state, principal, db, status=404, error={"message": str(exc)})
    expression = str(strategy["expression"])
    try:
        number = _record(state, request, principal, expression)
    except BadQuery as exc:
        return _workspace(
            request, state, principal, db, q=expression, status=400, error=_error_view(expression, exc)
        )
    return _after_search(expression, number)


@router.post("/workspace/export-jobs", response_class=HTMLResponse, dependencies=[Csrf])
async def workspace_export_job(request: Request, state: State, principal: SignedIn) -> Response:
    """Export the whole result set as a job (the export bar offers it past the job threshold); signed-in users only."""
    form = await request.form()

    def text(name: str, default: str) -> str:
        value = form.get(name)
        return value if isinstance(value, str) else default

    limit = text("limit", "")
    try:
        body = ExportJobRequest(
            q=text("q", ""), mode=text("mode", "pro"), format=text("format", DEFAULT_FORMAT),  # type: ignore[arg-type]
            sort=text("sort", "relevance"), limit=int(limit) if limit.isdigit() else None,  # type: ignore[arg-type]
            filters={f.name: [v for v in form.getlist(f.name) if isinstance(v, str)]
                     for f in FACETS if form.getlist(f.name)},
        )  # fmt: skip
    except ValidationError:
        return error_page(request, 400, "导出参数无效，请返回工作台重新检索后再导出。")
    try:
        job_id = await run_in_threadpool(queue_export, request, state, principal, body)
    except BadQuery as exc:
        return error_page(request, 400, str(exc))
    return RedirectResponse(f"/workspace/export-jobs/{job_id}", status_code=303)


@router.get("/workspace/export-jobs/{job_id}", response_class=HTMLResponse)
def workspace_export_job_page(request: Request, state: State, principal: SignedIn, job_id: DbId) -> Response:
    """An export job's progress; the page reloads itself until the file is ready."""
    job = job_view(state, principal, job_id)
    return render(request, "workspace_export_job.html", {"job": job, "format": FORMATS[job["format"]]})


@router.get("/workspace/export", response_class=HTMLResponse)
def workspace_export(request: Request) -> Response:
    """Export the ticked records: refuse an empty selection, which the API would read as "everything"."""
    ids = [i.strip() for raw in request.query_params.getlist("ids") for i in raw.split(",") if i.strip()]
    fmt = request.query_params.get("format", DEFAULT_FORMAT)
    if fmt not in FORMATS:
        return error_page(request, 400, f"不支持的导出格式：{fmt[:40]}")
    if not ids:
        return error_page(request, 400, "请先勾选要导出的记录。")
    if len(ids) > MAX_SELECTED:
        return error_page(request, 400, f"一次最多导出 {MAX_SELECTED} 条选中的记录。")
    # The query travels along only to name the file (查新平台-<query>-<date>.ris); the ids decide the content.
    q = request.query_params.get("q", "")[:MAX_QUERY_CHARS]
    query = urlencode([("format", fmt), *([("q", q)] if q else []), *(("ids", i) for i in dict.fromkeys(ids))])
    return RedirectResponse(f"/api/v1/export?{query}", status_code=303)

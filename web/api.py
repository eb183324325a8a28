"""JSON API, version 1."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, HTTPException, Path, Query, Request, Response
from pydantic import BaseModel, Field

from search.citations import MAX_CITING_SIZE, MAX_CITING_WINDOW
from search.errors import BadQuery
from search.history import HistoryEntry, NotFound
from search.history_text import spell_out, spelt_expression, texts_of
from search.paging import CURSOR_START, MAX_CURSOR_CHARS
from search.principal import Principal
from search.query import MAX_QUERY_CHARS
from web.deps import Owner, State, Who, facet_filters, owner_of
from web.ratelimit import rate_limit_anonymous_search
from web.state import AppState, app_state

router = APIRouter(prefix="/api/v1")
# Row ids and history numbers: bounded so a huge number is a 400, not an integer overflow in the database.
MAX_DB_ID = 2**31 - 1
DbId = Annotated[int, Path(ge=1, le=MAX_DB_ID)]


def json_response(body: dict[str, Any], status_code: int = 200) -> Response:
    # The search service already returns plain JSON types; skipping FastAPI's encoder pass
    # takes a measurable share off every request (bench/query.py).
    return Response(orjson.dumps(body), media_type="application/json", status_code=status_code)


@router.get(
    "/search",
    response_model=None,
    responses={200: {"description": "命中、分面与高亮"}},
)
def search(
    request: Request,
    principal: Who,
    q: Annotated[str, Query(max_length=5 * MAX_QUERY_CHARS, description="检索词或检索式")] = "",
    mode: Annotated[
        Literal["simple", "pro"], Query(description="simple: 自由词检索；pro: 专业检索式")
    ] = "simple",
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
    size: Annotated[int, Query(ge=1, le=100)] = 20,
    sort: Annotated[
        Literal["relevance", "year_desc", "year_asc", "cited_desc"],
        Query(description="排序：relevance 相关度，year_desc / year_asc 年份，cited_desc 被引频次（公开可见的引证文献数）"),
    ] = "relevance",
    cursor: Annotated[
        str | None,
        Query(
            max_length=MAX_CURSOR_CHARS,
            description="深度翻页：cursor=* 开始，之后每次传上一页结果中的 cursor（检索条件不变）；"
            "可翻过前 10,000 条，翻页期间新写入的记录不会造成重复或遗漏",
        ),
    ] = None,
) -> Response:
    # The state, the rate limit and the facet filters are read here rather than as dependencies:
    # FastAPI runs each plain-function dependency in the thread pool, a hop there and back each;
    # with the caller's (kept a dependency, which tests override) the hops cost 0.5-1 ms of CPU per
    # search, more under load (bench/query.py).
    state = app_state(request)
    rate_limit_anonymous_search(request, principal)
    filters = facet_filters(request)
    if mode == "pro":
        return json_response(
            run_pro(state, principal, q, page=page, size=size, filters=filters, sort=sort, cursor=cursor)
        )
    return json_response(
        state.search.simple(q, page=page, size=size, filters=filters, sort=sort, principal=principal,
                            cursor=cursor)  # fmt: skip
    )


def run_pro(
    state: AppState,
    principal: Principal,
    q: str,
    *,
    page: int = 1,
    size: int = 20,
    filters: dict[str, list[str]] | None = None,
    sort: str = "relevance",
    cursor: str | None = None,
) -> dict[str, Any]:
    """Run an expression, resolving `#n` against the owner's history, and number it in that history.

    The pages after the first of a cursor walk are the same search: they enter no new history entry."""
    owner = owner_of(principal)
    result, query = state.search.pro(
        q,
        page=page,
        size=size,
        filters=filters,
        history=state.history.resolver(owner),
        sort=sort,
        principal=principal,
        cursor=cursor,
    )
    if cursor not in (None, CURSOR_START):
        result["history_number"] = None
        return result
    result["history_number"] = state.history.add(
        owner,
        expression=q,
        # #n spelt out while the entries it names exist, so the entry keeps its meaning after they go.
        normalized=spell_out(result["normalized"], texts_of(state.history, owner)),
        cnki=result["cnki"],
        query=query,
        total=result["total"],
    )
    return result


def _entry(e: HistoryEntry) -> dict[str, Any]:
    return {"number": e.number, "expression": e.expression, "normalized": e.normalized, "cnki": e.cnki,
            "total": e.total, "name": e.name, "created_at": e.created_at}  # fmt: skip


@router.get("/history", response_model=None)
def history(state: State, owner: Owner) -> Response:
    """The caller's search history, oldest first (#1, #2, ...)."""
    return json_response({"entries": [_entry(e) for e in state.history.entries(owner)]})


@router.post("/history/{number}/rerun", response_model=None)
def rerun(state: State, principal: Who, number: DbId, page: int = 1, size: int = 20) -> Response:
    """Run a history entry's expression again; the new run gets the next number."""
    owner = owner_of(principal)
    try:
        entry = state.history.get(owner, number)
    except NotFound as exc:
        raise HTTPException(status_code=404, detail=str(exc)) from None
    expression = spelt_expression(entry, texts_of(state.history, owner))
    return json_response(run_pro(state, principal, expression, page=page, size=size))


@router.delete("/history/{number}", response_model=None, status_code=204)
def delete_entry(state: State, owner: Owner, number: DbId) -> Response:
    try:
        state.history.delete(owner, number)
    except NotFound as exc:
        raise HTTPException(status_code=404, detail=str(exc)) from None
    return Response(status_code=204)


@router.delete("/history", response_model=None)
def clear_history(state: State, owner: Owner) -> Response:
    return json_response({"deleted": state.history.clear(owner)})


class Rename(BaseModel):
    name: str = Field(min_length=1, max_length=200)


@router.patch("/history/{number}", response_model=None)
def rename(state: State, owner: Owner, number: DbId, body: Rename) -> Response:
    try:
        return json_response(_entry(state.history.rename(owner, number, body.name)))
    except NotFound as exc:
        raise HTTPException(status_code=404, detail=str(exc)) from None


class NewStrategy(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    expression: str | None = Field(default=None, max_length=2000)
    from_history: int | None = Field(default=None, ge=1, le=MAX_DB_ID)


@router.post("/strategies", response_model=None, status_code=201)
def save_strategy(state: State, owner: Owner, body: NewStrategy) -> Response:
    """Save an expression, or a history entry's expression, as a named strategy (检索策略)."""
    expression = body.expression
    if body.from_history is not None:
        try:
            # Spelt out: a stored `#38 OR #39` would change meaning as the history changes.
            entry = state.history.get(owner, body.from_history)
            expression = spelt_expression(entry, texts_of(state.history, owner))
        except NotFound as exc:
            raise HTTPException(status_code=404, detail=str(exc)) from None
    if not expression:
        raise BadQuery("请提供检索式，或要保存的检索历史编号")
    return Response(orjson.dumps(state.history.save_strategy(owner, body.name, expression)),
                    media_type="application/json", status_code=201)  # fmt: skip


@router.get("/strategies", response_model=None)
def strategies(state: State, owner: Owner) -> Response:
    return json_response({"strategies": state.history.strategies(owner)})


@router.post("/strategies/{strategy_id}/run", response_model=None)
def run_strategy(state: State, principal: Who, strategy_id: DbId, page: int = 1, size: int = 20) -> Response:
    """Load a saved strategy and run it; it enters the history like any search."""
    try:
        strategy = state.history.strategy(owner_of(principal), strategy_id)
    except NotFound as exc:
        raise HTTPException(status_code=404, detail=str(exc)) from None
    return json_response(run_pro(state, principal, strategy["expression"], page=page, size=size))


# Elasticsearch keeps ids to 512 bytes and refuses an empty one or a request line over 4 kB with an
# error (a 500 here); no such id can exist, so it is simply not found.
MAX_ID_BYTES = 512


def plausible_id(record_id: str) -> bool:
    return 0 < len(record_id.encode("utf-8", "surrogatepass")) <= MAX_ID_BYTES


@router.get("/records/{record_id}", response_model=None)
def record(state: State, principal: Who, record_id: str) -> Response:
    """The record as the caller may see it; `access` says how much is shown and why. A record the
    caller may not know about is answered exactly like a missing one.

    `cited_by_count` / `cited_by_others` (他引) count only the citing records the caller may see, and a
    reference's `linked_id` is null unless the caller may see the record it links to."""
    found = state.search.get_record(record_id, principal=principal) if plausible_id(record_id) else None
    if found is None:
        raise HTTPException(status_code=404, detail="没有找到该记录")
    return json_response(found)


@router.get("/records/{record_id}/citations", response_model=None)
def record_citations(
    state: State,
    principal: Who,
    record_id: str,
    page: Annotated[int, Query(ge=1, le=MAX_CITING_WINDOW)] = 1,
    size: Annotated[int, Query(ge=1, le=MAX_CITING_SIZE)] = 20,
) -> Response:
    """The records citing this one that the caller may see, newest first, each with `self_citation`
    (自引: it shares an author with this record). A record the caller may not see is a 404."""
    if page * size > MAX_CITING_WINDOW:
        raise BadQuery(f"引证文献最多可翻到第 {MAX_CITING_WINDOW:,} 条，请减小页码或每页条数")
    found = (
        state.search.citing(record_id, page=page, size=size, principal=principal)
        if plausible_id(record_id)
        else None
    )
    if found is None:
        raise HTTPException(status_code=404, detail="没有找到该记录")
    return json_response(found)

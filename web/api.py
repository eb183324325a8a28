"""JSON API, version 1."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response

from search.fields import FACETS
from search.query import MAX_QUERY_CHARS
from web.state import AppState, app_state

router = APIRouter(prefix="/api/v1")
State = Annotated[AppState, Depends(app_state)]


def json_response(body: dict[str, Any]) -> Response:
    # The search service already returns plain JSON types; skipping FastAPI's encoder pass
    # takes a measurable share off every request (bench/query.py).
    return Response(orjson.dumps(body), media_type="application/json")


def facet_filters(request: Request) -> dict[str, list[str]]:
    return {f.name: request.query_params.getlist(f.name) for f in FACETS if f.name in request.query_params}


@router.get("/search", response_model=None, responses={200: {"description": "命中、分面与高亮"}})
def search(
    state: State,
    filters: Annotated[dict[str, list[str]], Depends(facet_filters)],
    q: Annotated[str, Query(max_length=5 * MAX_QUERY_CHARS, description="检索词或检索式")] = "",
    mode: Annotated[Literal["simple", "pro"], Query(description="simple: 自由词检索；pro: 专业检索式")] = "simple",
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
    size: Annotated[int, Query(ge=1, le=100)] = 20,
) -> Response:
    if mode == "pro":
        return json_response(state.search.pro(q, page=page, size=size, filters=filters))
    return json_response(state.search.simple(q, page=page, size=size, filters=filters))


@router.get("/records/{record_id}", response_model=None)
def record(state: State, record_id: str) -> Response:
    found = state.search.get_record(record_id)
    if found is None:
        raise HTTPException(status_code=404, detail="没有找到该记录")
    return json_response(found)

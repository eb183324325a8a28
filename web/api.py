"""JSON API, version 1."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request

from search.fields import FACETS
from web.state import AppState, app_state

router = APIRouter(prefix="/api/v1")
State = Annotated[AppState, Depends(app_state)]


def facet_filters(request: Request) -> dict[str, list[str]]:
    return {f.name: request.query_params.getlist(f.name) for f in FACETS if f.name in request.query_params}


@router.get("/search")
def search(
    state: State,
    filters: Annotated[dict[str, list[str]], Depends(facet_filters)],
    q: Annotated[str, Query(max_length=500, description="检索词")] = "",
    mode: Annotated[Literal["simple"], Query(description="simple: 自由词检索")] = "simple",
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
    size: Annotated[int, Query(ge=1, le=100)] = 20,
) -> dict[str, Any]:
    return state.search.simple(q, page=page, size=size, filters=filters)


@router.get("/records/{record_id}")
def record(state: State, record_id: str) -> dict[str, Any]:
    found = state.search.get_record(record_id)
    if found is None:
        raise HTTPException(status_code=404, detail="没有找到该记录")
    return found

"""Streamed exports of a whole result set, or of selected records, in every supported format."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import StreamingResponse

from search.errors import BadQuery
from search.export import DEFAULT_FORMAT, FORMATS
from search.principal import Principal
from search.query import MAX_QUERY_CHARS
from web.api import facet_filters, owner_of
from web.identity import current_principal, record_audit
from web.ratelimit import rate_limit_anonymous_export
from web.state import AppState, app_state

router = APIRouter(prefix="/api/v1")
MAX_EXPORT = 50_000
MAX_IDS = 1_000


def _primed(records: Iterator[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """Fetch the first page before the response starts, so an outage is a 503 rather than a cut-off file."""
    first = list(itertools.islice(records, 1))
    return itertools.chain(first, records)


@router.get("/export", response_model=None, dependencies=[Depends(rate_limit_anonymous_export)])
def export(
    request: Request,
    state: Annotated[AppState, Depends(app_state)],
    principal: Annotated[Principal, Depends(current_principal)],
    filters: Annotated[dict[str, list[str]], Depends(facet_filters)],
    q: Annotated[str, Query(max_length=5 * MAX_QUERY_CHARS)] = "",
    mode: Annotated[Literal["simple", "pro"], Query()] = "simple",
    format: Annotated[str, Query(description="导出格式")] = DEFAULT_FORMAT,
    sort: Annotated[Literal["relevance", "year_desc", "year_asc"], Query()] = "relevance",
    ids: Annotated[list[str] | None, Query(description="只导出这些记录（可重复，或以逗号分隔）")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_EXPORT)] = MAX_EXPORT,
) -> StreamingResponse:
    if not principal.authenticated:
        # A visitor's export is a sample, not the corpus: signed-in users get the full MAX_EXPORT.
        limit = min(limit, state.settings.anon_export_max_records)
    fmt = FORMATS.get(format)
    if fmt is None:
        raise BadQuery(f"不支持的导出格式：{format}（可用：{'、'.join(FORMATS)}）")
    wanted: list[str] = []
    if ids:
        wanted = [i for part in ids for i in part.split(",") if i.strip()]
        if len(wanted) > MAX_IDS:
            raise BadQuery(f"一次最多导出 {MAX_IDS} 条选中的记录")
        query: dict[str, Any] = {"ids": {"values": wanted}}
    else:
        history = state.history.resolver(owner_of(principal))
        query = state.search.query_for(q, mode=mode, filters=filters, history=history)
    # The policy is applied inside iter_records: 限制 records never come out, hidden fields never get written.
    records = _primed(state.search.iter_records(query, sort=sort, limit=limit, principal=principal))
    # Logged once the export is sure to start: a 503 before the first record is no export.
    record_audit(request, "export", {"format": format, "mode": mode, "q": q[:500], "filters": filters,
                                     "ids": wanted[:100] if ids else None, "limit": limit})  # fmt: skip
    return StreamingResponse(
        fmt.write(records),
        media_type=fmt.media_type,
        headers={"Content-Disposition": f'attachment; filename="chaxin-export.{fmt.extension}"'},
    )

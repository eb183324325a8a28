"""Streamed exports of a whole result set, or of selected records, in every supported format."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import StreamingResponse

from search.errors import BadQuery
from search.export import DEFAULT_FORMAT, FORMATS
from search.query import MAX_QUERY_CHARS
from web.deps import FacetFilters, State, Who, owner_of
from web.identity import record_audit
from web.ratelimit import rate_limit_anonymous_export

router = APIRouter(prefix="/api/v1")
MAX_EXPORT = 50_000
MAX_IDS = 1_000
SITE_NAME = "查新平台"
BEIJING = timezone(timedelta(hours=8))
# Characters no file name may hold on Windows, macOS or Linux, and runs of spaces.
_UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f\x7f]+')
_SPACES = re.compile(r"\s+")
MAX_NAME_QUERY = 40


def export_filename(q: str, extension: str, day: str) -> str:
    """`查新平台-石墨烯-20261203.ris`: the site, the query (made safe, shortened) and the date."""
    words = _SPACES.sub("_", _UNSAFE.sub(" ", q).strip()).strip("._")[:MAX_NAME_QUERY]
    return "-".join(p for p in (SITE_NAME, words, day) if p) + f".{extension}"


def _disposition(q: str, extension: str) -> str:
    """RFC 6266: an ASCII name for old clients, the UTF-8 one (RFC 5987) for everyone else."""
    day = datetime.now(BEIJING).strftime("%Y%m%d")
    name = quote(export_filename(q, extension, day), safe="")
    return f"attachment; filename=\"chaxin-export-{day}.{extension}\"; filename*=UTF-8''{name}"


def _in_order(records: Iterator[dict[str, Any]], wanted: list[str]) -> Iterator[dict[str, Any]]:
    """Selected records in the order they were chosen (the list's order), not the engine's."""
    rank = {rid: n for n, rid in enumerate(dict.fromkeys(wanted))}
    yield from sorted(records, key=lambda r: rank.get(str(r.get("id")), len(rank)))


def _primed(records: Iterator[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """Fetch the first page before the response starts, so an outage is a 503 rather than a cut-off file."""
    first = list(itertools.islice(records, 1))
    return itertools.chain(first, records)


@router.get("/export", response_model=None, dependencies=[Depends(rate_limit_anonymous_export)])
def export(
    request: Request,
    state: State,
    principal: Who,
    filters: FacetFilters,
    q: Annotated[str, Query(max_length=5 * MAX_QUERY_CHARS)] = "",
    mode: Annotated[Literal["simple", "pro"], Query()] = "simple",
    format: Annotated[str, Query(description="导出格式")] = DEFAULT_FORMAT,
    sort: Annotated[Literal["relevance", "year_desc", "year_asc", "cited_desc"], Query()] = "relevance",
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
    records = state.search.iter_records(query, sort=sort, limit=limit, principal=principal)
    if ids:
        records = _in_order(records, wanted)  # at most MAX_IDS, so sorting in memory is fine
    records = _primed(records)
    # Logged once the export is sure to start: a 503 before the first record is no export.
    record_audit(request, "export", {"format": format, "mode": mode, "q": q[:500], "filters": filters,
                                     "ids": wanted[:100] if ids else None, "limit": limit})  # fmt: skip
    return StreamingResponse(
        fmt.write(records),
        media_type=fmt.media_type,
        headers={"Content-Disposition": _disposition(q, fmt.extension)},
    )

"""参考文献匹配 (/workspace/references): paste a reference list, see the record each one cites.

The page form of `POST /api/v1/references/match`: one string per line, each answered with the
matched record's title and link, or 未找到. It changes nothing, so the POST answers with the page
itself (no redirect), and it is open to everyone the API is open to.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response

from mappings.citations.parse import MAX_RAW
from search.errors import BadQuery
from search.reference_match import MAX_REFERENCES, match_references
from web.deps import Csrf, State, Who
from web.ratelimit import rate_limit_anonymous_search
from web.render import render

router = APIRouter(include_in_schema=False)
# Whole pasted text: every string at its longest plus a line break each.
MAX_TEXT = MAX_REFERENCES * (MAX_RAW + 2)


def _page(request: Request, text: str = "", status: int = 200, **more: Any) -> Response:
    context = {"text": text, "max_references": MAX_REFERENCES, "max_raw": MAX_RAW, **more}
    return render(request, "workspace_references.html", context, status, no_store=False)


@router.get("/workspace/references", response_class=HTMLResponse)
def references_form(request: Request) -> Response:
    return _page(request)


@router.post(
    "/workspace/references",
    response_class=HTMLResponse,
    dependencies=[Csrf, Depends(rate_limit_anonymous_search)],
)
def references_match(
    request: Request, state: State, principal: Who, text: Annotated[str, Form(max_length=MAX_TEXT)] = ""
) -> Response:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines:
        return _page(request, text, 400, error="请粘贴参考文献，每行一条")
    try:
        results = match_references(state.es, state.search.names, lines, principal=principal)
    except BadQuery as exc:
        return _page(request, text, 400, error=str(exc))
    rows = [
        {"raw": raw, "id": r.record_id, "title": r.title, "score": r.score}
        for raw, r in zip(lines, results, strict=True)
    ]
    found = sum(1 for r in rows if r["id"])
    return _page(request, text, rows=rows, found=found)

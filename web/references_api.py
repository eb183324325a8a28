"""`POST /api/v1/references/match`: raw reference strings to the records they cite."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Response
from pydantic import BaseModel, ConfigDict, Field

from mappings.citations.parse import MAX_RAW
from search.reference_match import MAX_REFERENCES, match_references
from web.api import json_response
from web.deps import State, Who
from web.ratelimit import rate_limit_anonymous_search

router = APIRouter(prefix="/api/v1")


class MatchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    # The limits are checked by the search layer, which says in Chinese which one was passed.
    references: list[str] = Field(
        description=f"参考文献原文，每条一个字符串；至多 {MAX_REFERENCES} 条，每条至多 {MAX_RAW} 个字符"
    )


@router.post(
    "/references/match",
    response_model=None,
    responses={200: {"description": "与提交顺序相同的匹配结果：id（无匹配为 null）、score、parsed"}},
    dependencies=[Depends(rate_limit_anonymous_search)],
)
def match(state: State, principal: Who, body: MatchRequest) -> Response:
    """Each string's record id (null when none fits or two fit equally), score and parsed fields.
    Only records the caller may see are candidates."""
    results = match_references(state.es, state.search.names, body.references, principal=principal)
    return json_response({"results": [r.to_json() for r in results]})

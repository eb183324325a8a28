"""Request bodies of the 收录引证 case API (shapes only; `casework.citation` checks the values)."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from pydantic import StrictBool, StrictInt, ValidationError

from web.case_bodies import CaseCreate, UserId, _Body


class DatabaseChoice(_Body):
    name: str
    year_from: StrictInt | None = None
    year_to: StrictInt | None = None


class CitationHeaderFields(_Body):
    """The header of a 收录引证 case: 委托人 and contacts, purpose, cut-off, databases, options."""

    client_name: str | None = None
    client_type: str | None = None  # 个人 / 单位
    client_unit: str | None = None
    client_address: str | None = None
    client_postcode: str | None = None
    client_principal: str | None = None
    client_contact: str | None = None
    client_phone: str | None = None
    client_fax: str | None = None
    client_email: str | None = None
    purpose: str | None = None  # 职称评审 / 基金申报 / 报奖 / 院士推荐 / 其他
    cutoff_date: str | None = None  # YYYY-MM-DD, not after today
    databases: list[str | DatabaseChoice] | None = None
    others_only: StrictBool | None = None
    citing_list: StrictBool | None = None
    show_h_index: StrictBool | None = None
    remarks: str | None = None


class CitationCaseCreate(CitationHeaderFields):
    """`POST /api/v1/cases` with `"kind": "citation"`: a 收录引证 commission."""

    kind: Literal["citation"]
    commission_date: str | None = None  # defaults to today
    centre: str | None = None
    analyst_id: UserId | None = None
    reviewer_id: UserId | None = None


class PaperInput(_Body):
    """Papers for the list: pasted citations (one a line) or record IDs picked from search."""

    text: str | None = None
    record_ids: list[str] | None = None


class PaperDecision(_Body):
    """The analyst's confirmation: a record ID (the match or a candidate), or null for 未收录."""

    record_id: str | None


class CitingAdjustment(_Body):
    cited_id: str
    citing_id: str
    action: Literal["exclude", "flip", "include"]
    reason: str


def _inline(schema: dict[str, Any]) -> dict[str, Any]:
    """A model's JSON schema with its `$defs` written in place, to stand inside the OpenAPI document."""
    defs = schema.pop("$defs", {})

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                return walk(dict(defs[ref.removeprefix("#/$defs/")]))
            return {k: walk(v) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v) for v in node]
        return node

    return dict(walk(schema))


# `POST /api/v1/cases` takes either body; the kind field decides which (no kind: 查新).
CREATE_OPENAPI: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": {"oneOf": [
            _inline(CaseCreate.model_json_schema()), _inline(CitationCaseCreate.model_json_schema()),
        ]}}},
    }
}  # fmt: skip


async def case_create_body(request: Request) -> CaseCreate | CitationCaseCreate:
    """The commission body, validated by the model its `kind` names, so a refusal names the field as
    a single-model body would (`字段 commission_date 缺失`) rather than each member of a union."""
    try:
        raw = await request.json()
    except ValueError:
        raise RequestValidationError(
            [{"type": "json_invalid", "loc": ("body",), "msg": "JSON decode error", "input": None}]
        ) from None
    model: type[CaseCreate] | type[CitationCaseCreate] = (
        CitationCaseCreate if isinstance(raw, dict) and raw.get("kind") == "citation" else CaseCreate
    )
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        raise RequestValidationError([{**e, "loc": ("body", *e["loc"])} for e in exc.errors()]) from None

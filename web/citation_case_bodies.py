"""Request bodies of the 收录引证 case API (shapes only; `casework.citation` checks the values)."""

from __future__ import annotations

from typing import Literal

from pydantic import StrictBool, StrictInt

from web.case_bodies import UserId, _Body


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

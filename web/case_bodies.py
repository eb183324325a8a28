"""Request bodies of the case API, so the OpenAPI schema documents them and a misspelt field is refused.

The models check shapes only (text, integers, lists, booleans). Lengths, dates, purposes and the like
are checked by `casework`, which words its refusals for the analyst and applies the same rules to the
case pages. PATCH bodies are applied field by field: only the fields sent change.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt

from web.api import MAX_DB_ID

# A user ID: an integer the database can hold (a 2**63 one reached PostgreSQL and came back as a 500).
UserId = Annotated[StrictInt, Field(ge=1, le=MAX_DB_ID)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")

    def sent(self) -> dict[str, Any]:
        """The fields the client sent, as the mapping `casework` reads. A null is "not sent": clearing a
        text takes an empty string."""
        return self.model_dump(exclude_unset=True, exclude_none=True)


class CaseFields(_Body):
    """The editable fields `casework.service` knows (tests/test_case_bodies.py keeps the two in step)."""

    project_name_zh: str | None = None
    project_name_en: str | None = None
    client_name: str | None = None
    client_address: str | None = None
    client_postcode: str | None = None
    client_principal: str | None = None
    client_contact: str | None = None
    client_phone: str | None = None
    client_fax: str | None = None
    client_email: str | None = None
    purpose_text: str | None = None
    technical_points: str | None = None
    requirements: str | None = None
    results_summary: str | None = None
    overall_conclusion: str | None = None
    remarks: str | None = None
    terms_zh: list[str] | None = None
    terms_en: list[str] | None = None
    attachments: list[str] | None = None


class CaseCreate(CaseFields):
    """A commission (委托) as received. A platform admin names the centre; others receive for their own."""

    kind: Literal["novelty"] = "novelty"  # 科技查新; a 收录引证 commission is CitationCaseCreate
    commission_date: str
    purpose: str
    scope: str
    centre: str | None = None
    analyst_id: UserId | None = None
    reviewer_id: UserId | None = None


class CaseUpdate(CaseFields):
    pass


class ReviewerChoice(_Body):
    reviewer_id: UserId


class PointCreate(_Body):
    text: str


class PointUpdate(_Body):
    text: str | None = None
    comparison: str | None = None
    conclusion: str | None = None


class TransitionRequest(_Body):
    action: str
    comment: str = ""
    reviewer_id: UserId | None = None
    confirm_warnings: StrictBool = False  # submit: the analyst has checked the reference warnings


class CaseSearchRequest(_Body):
    q: str
    override: StrictBool = False
    page: StrictInt = 1
    size: StrictInt = 20
    terms_zh: list[str] = []
    terms_en: list[str] = []


class StrategyChoice(_Body):
    in_report: StrictBool


class DocumentAdd(_Body):
    record_id: str
    relevance: str | None = None
    origin: str | None = None
    points: list[str] | None = None
    description: str | None = None
    excerpt: str | None = None


class DocumentUpdate(_Body):
    relevance: str | None = None
    origin: str | None = None
    points: list[str] | None = None
    description: str | None = None
    excerpt: str | None = None


class ExternalSearch(_Body):
    """A search run in another database, logged as typed there."""

    database: str
    year_from: StrictInt
    year_to: StrictInt
    expression: str
    hits: StrictInt
    searched_on: str
    terms_zh: list[str] = []
    terms_en: list[str] = []


class ManualDocument(_Body):
    """A document typed in with its bibliographic fields (casework.case_documents.MANUAL_FIELDS)."""

    database: str
    doc_type: str = "journal_article"
    title: str
    authors: list[str] = []
    venue: str | None = None
    year: StrictInt | None = None
    volume: str | None = None
    issue: str | None = None
    pages: str | None = None
    publisher: str | None = None
    number: str | None = None
    doi: str | None = None
    url: str | None = None
    abstract: str | None = None
    language: str | None = None
    relevance: str | None = None
    origin: str | None = None
    points: list[str] | None = None
    description: str | None = None
    excerpt: str | None = None

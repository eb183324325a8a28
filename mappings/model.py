"""The canonical record: one shape for every document type the platform holds."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class DocType(StrEnum):
    journal_article = "journal_article"
    thesis = "thesis"
    conference_paper = "conference_paper"
    patent = "patent"
    standard = "standard"
    tech_report = "tech_report"


class AccessLevel(StrEnum):
    public = "public"  # 公开
    embargoed = "embargoed"  # 延期公开, until embargo_until
    restricted = "restricted"  # 限制


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Author(_Strict):
    name: str
    affiliation: str | None = None
    order: int = Field(ge=1)
    corresponding: bool = False


class Reference(_Strict):
    """A cited work as structured fields plus the raw string it came from."""

    raw: str | None = None
    authors: list[str] = Field(default_factory=list)
    title: str | None = None
    venue: str | None = None
    year: int | None = None
    volume: str | None = None
    issue: str | None = None
    pages: str | None = None
    doi: str | None = None
    patent_number: str | None = None


class TechReportInfo(_Strict):
    report_no: str
    access_level: AccessLevel
    embargo_until: date | None = None
    plan: str | None = None
    project_no: str | None = None
    organisation: str | None = None


class PatentInfo(_Strict):
    publication_number: str | None = None
    application_number: str | None = None
    ipc: list[str] = Field(default_factory=list)
    cpc: list[str] = Field(default_factory=list)
    applicants: list[str] = Field(default_factory=list)


class StandardInfo(_Strict):
    standard_number: str
    status: str | None = None
    issue_date: date | None = None
    implementation_date: date | None = None


class Record(_Strict):
    """What the index stores in `_source`; derived search fields are added beside it."""

    id: str = Field(min_length=1, max_length=200)
    source: str
    source_id: str
    doc_type: DocType
    title: str = Field(min_length=1)
    title_en: str | None = None
    authors: list[Author] = Field(default_factory=list)
    abstract: str | None = None
    keywords: list[str] = Field(default_factory=list)
    venue: str | None = None
    year: int | None = Field(default=None, ge=1000, le=2100)
    volume: str | None = None
    issue: str | None = None
    pages: str | None = None
    doi: str | None = None
    clc: list[str] = Field(default_factory=list)
    discipline: str | None = None
    category: str | None = None
    language: str | None = None
    funds: list[str] = Field(default_factory=list)
    references: list[Reference] = Field(default_factory=list)
    ingested_at: datetime
    version: int = Field(ge=1, description="monotonically increasing; the external version of index writes")
    tech_report: TechReportInfo | None = None
    patent: PatentInfo | None = None
    standard: StandardInfo | None = None

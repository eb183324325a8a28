"""The canonical record: one shape for every document type the platform holds."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints


class DocType(StrEnum):
    journal_article = "journal_article"
    thesis = "thesis"
    conference_paper = "conference_paper"
    patent = "patent"
    standard = "standard"
    tech_report = "tech_report"
    book = "book"  # monographs from library catalogues (MARC)
    book_chapter = "book_chapter"  # a chapter or contribution in a book: venue is the book, editors its editors
    newspaper_article = "newspaper_article"  # venue is the paper, date the issue, pages the 版次
    report = "report"  # a report that is not an NSTRS 科技报告: no 公开范围 to police, see ReportInfo
    webpage = "webpage"  # a web page or other online item with no other type: GB/T 7714 [EB/OL]
    other = "other"  # anything a source cannot place; kept rather than forced into a wrong type


class AccessLevel(StrEnum):
    public = "public"  # 公开
    embargoed = "embargoed"  # 延期公开, until embargo_until
    restricted = "restricted"  # 限制


# Limits far above any real value: beyond them a field is garbage (a parser fed the wrong file, a
# broken export), and Elasticsearch would refuse the whole document for an immense keyword term.
MAX_NAME = 500
MAX_TITLE = 5000
MAX_SHORT = 2000  # venue, keyword, identifiers
MAX_TEXT = 200_000  # an abstract
MAX_FULL_TEXT = 50_000_000
ShortText = Annotated[str, StringConstraints(max_length=MAX_SHORT)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Author(_Strict):
    name: str = Field(min_length=1, max_length=MAX_NAME)  # as written; matching uses the folded form the indexer derives
    affiliation: str | None = None  # the first affiliation, for display and citation
    affiliations: list[str] = Field(default_factory=list)  # every affiliation, in the source's order
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
    # Who cited it, where the source says: patent citations carry "cited by examiner" / "cited by applicant".
    category: str | None = None
    type_code: str | None = None  # GB/T 7714 document type code: J, M, D, C, EB...
    language: str | None = None
    # The record this reference cites, set by citation linking (never by a parser); None while unresolved.
    linked_id: str | None = None


class TechReportInfo(_Strict):
    report_no: str
    access_level: AccessLevel
    embargo_until: date | None = None
    plan: str | None = None
    project_no: str | None = None
    organisation: str | None = None


class PatentInfo(_Strict):
    publication_number: str | None = None  # canonical: country + number + kind code, "US6970935B2"
    application_number: str | None = None
    kind: str | None = None  # the kind code alone, "B2", "A1"
    country: str | None = None
    application_date: date | None = None
    publication_date: date | None = None
    ipc: list[str] = Field(default_factory=list)
    cpc: list[str] = Field(default_factory=list)
    applicants: list[str] = Field(default_factory=list)


class StandardInfo(_Strict):
    standard_number: str
    status: str | None = None
    issue_date: date | None = None
    implementation_date: date | None = None
    ics: list[str] = Field(default_factory=list)
    ccs: list[str] = Field(default_factory=list)  # 中国标准文献分类号
    replaces: list[str] = Field(default_factory=list)  # canonical standard numbers
    replaced_by: list[str] = Field(default_factory=list)


class ReportInfo(_Strict):
    """A report outside the national report system (white papers, working papers, agency reports):
    GB/T 7714 prints it as [R] with its issuing institution, but it has no access level of its own."""

    report_no: str | None = None
    report_type: str | None = None
    institution: str | None = None


class ThesisInfo(_Strict):
    degree: str | None = None  # 博士 / 硕士 / ...
    institution: str | None = None
    supervisor: str | None = None  # kept for display and search; never an author (GB/T 7714 §3.2)


class SourceRef(_Strict):
    """One source that supplied a record: traces the record back to the raw file it came from."""

    source: str
    source_id: str
    version: int = Field(ge=1)
    raw_sha256: str | None = None  # key of the raw file in the raw store
    file: str | None = None  # the file's name as submitted
    position: str | None = None  # where in the file: "第 3 行", "第 2 篇文章"


class Record(_Strict):
    """What the index stores in `_source`; derived search fields are added beside it."""

    id: str = Field(min_length=1, max_length=200)
    source: str
    source_id: str
    doc_type: DocType
    title: str = Field(min_length=1, max_length=MAX_TITLE)
    title_en: str | None = Field(default=None, max_length=MAX_TITLE)
    authors: list[Author] = Field(default_factory=list)
    abstract: str | None = Field(default=None, max_length=MAX_TEXT)
    keywords: list[ShortText] = Field(default_factory=list)
    venue: str | None = Field(default=None, max_length=MAX_SHORT)
    year: int | None = Field(default=None, ge=1000, le=2100)
    volume: str | None = None
    issue: str | None = None
    pages: str | None = None
    doi: str | None = None
    issn: list[str] = Field(default_factory=list)
    isbn: list[str] = Field(default_factory=list)
    publisher: str | None = None
    place: str | None = Field(default=None, max_length=MAX_SHORT)  # 出版地, for GB/T 7714
    edition: str | None = Field(default=None, max_length=MAX_SHORT)  # 版本: "第2版", "2nd ed."
    url: str | None = None
    # The publication date as precise as the source gives it, "2000-11-20" or "2013-09": GB/T 7714
    # prints a newspaper's, a report's, a web page's date in full. `year` stays the one for search.
    date: str | None = Field(default=None, pattern=r"^\d{4}(-\d{2}(-\d{2})?)?$")
    accessed: str | None = Field(default=None, pattern=r"^\d{4}-\d{2}-\d{2}$")  # 引用日期 of an online item
    editors: list[ShortText] = Field(default_factory=list)  # of the host book or proceedings, never authors
    event: str | None = Field(default=None, max_length=MAX_SHORT)  # 会议名称, apart from the proceedings in venue
    clc: list[str] = Field(default_factory=list)
    discipline: str | None = None
    category: str | None = None
    language: str | None = None
    funds: list[ShortText] = Field(default_factory=list)
    references: list[Reference] = Field(default_factory=list)
    full_text: str | None = Field(default=None, max_length=MAX_FULL_TEXT)  # body text (GROBID TEI, a tech report's PDF); searched by FT
    # Every source that supplied this record; `source`/`source_id` above name the first.
    sources: list[SourceRef] = Field(default_factory=list)
    ingested_at: datetime
    version: int = Field(ge=1, description="monotonically increasing; the external version of index writes")
    tech_report: TechReportInfo | None = None
    patent: PatentInfo | None = None
    standard: StandardInfo | None = None
    thesis: ThesisInfo | None = None
    report: ReportInfo | None = None

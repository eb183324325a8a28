"""SQLAlchemy tables. Schema changes go through Alembic (appdb/migrations)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class IngestJob(Base):
    __tablename__ = "ingest_jobs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    format: Mapped[str] = mapped_column(String(32))
    path: Mapped[str] = mapped_column(Text)
    # queued -> running -> done | failed
    state: Mapped[str] = mapped_column(String(16), default="queued")
    chunks_total: Mapped[int] = mapped_column(Integer, default=0)
    message: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # Who submitted it: None for the command line (an operator on the server). The worker checks each
    # write against these, and only the submitter, their centre admin and platform admins see the job.
    submitted_by: Mapped[int | None] = mapped_column(Integer, nullable=True)
    submitter_centre: Mapped[str | None] = mapped_column(String(32), nullable=True)
    submitter_admin: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    # A platform admin's audited permission for this job to lower access levels (限制 → 公开 ...).
    lower_access: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    # The broker its tasks went to (a digest of the URL): a worker resumes only jobs of its own broker.
    broker: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # `chaxin ingest resume` (by hand, or a worker finding the job stalled): when, and chunks sent again.
    resumed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    resumed_chunks: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class IngestChunkTask(Base):
    """What was queued for one chunk (the task's arguments), so that a lost task can be sent again."""

    __tablename__ = "ingest_chunk_tasks"
    __table_args__ = (UniqueConstraint("job_id", "chunk_no"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("ingest_jobs.id", ondelete="CASCADE"), index=True)
    chunk_no: Mapped[int] = mapped_column(Integer)
    priority: Mapped[int] = mapped_column(Integer, default=0)
    args: Mapped[str] = mapped_column(Text)  # JSON
    kwargs: Mapped[str] = mapped_column(Text)  # JSON


class TechReportOwner(Base):
    """The branch centre whose upload first created a tech report: it (and platform admins) may update it."""

    __tablename__ = "tech_report_owners"

    record_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    centre: Mapped[str] = mapped_column(String(32))
    job_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class IngestChunk(Base):
    """One task's unit of work. Written once when the chunk completes, so a retried chunk never counts twice."""

    __tablename__ = "ingest_chunks"
    __table_args__ = (UniqueConstraint("job_id", "chunk_no"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("ingest_jobs.id", ondelete="CASCADE"), index=True)
    chunk_no: Mapped[int] = mapped_column(Integer)
    start_line: Mapped[int] = mapped_column(Integer)
    end_line: Mapped[int] = mapped_column(Integer)
    seen: Mapped[int] = mapped_column(Integer, default=0)
    indexed: Mapped[int] = mapped_column(Integer, default=0)
    skipped: Mapped[int] = mapped_column(Integer, default=0)
    merged: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    failed: Mapped[int] = mapped_column(Integer, default=0)
    finished_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class IngestError(Base):
    """A record that could not be parsed, validated or indexed, with where it was and why."""

    __tablename__ = "ingest_errors"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("ingest_jobs.id", ondelete="CASCADE"), index=True)
    chunk_no: Mapped[int] = mapped_column(Integer)
    file: Mapped[str] = mapped_column(Text)
    position: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text)
    snippet: Mapped[str | None] = mapped_column(Text, nullable=True)
    # Set when the record is (or would overwrite) a 限制 report: only those who may see it read the error.
    record_id: Mapped[str | None] = mapped_column(String(255), nullable=True)
    restricted: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")


class SearchHistoryEntry(Base):
    """One search an analyst ran, numbered per owner (#1, #2, ...), with the query it compiled to."""

    __tablename__ = "search_history"
    __table_args__ = (UniqueConstraint("owner", "number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # A user ID once accounts exist; until then an anonymous session token.
    owner: Mapped[str] = mapped_column(String(64), index=True)
    number: Mapped[int] = mapped_column(Integer)
    expression: Mapped[str] = mapped_column(Text)
    normalized: Mapped[str] = mapped_column(Text)
    cnki: Mapped[str] = mapped_column(Text)
    # The compiled query is kept so that `#n` means what ran then, not a re-reading of it.
    query_json: Mapped[str] = mapped_column(Text)
    total: Mapped[int] = mapped_column(Integer)
    name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class ExportJob(Base):
    """An export too large to stream while the user waits: a worker writes the file, kept for download."""

    __tablename__ = "export_jobs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Only signed-in users run export jobs; the worker applies the access policy as this user.
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # queued -> running -> done | failed
    state: Mapped[str] = mapped_column(String(16), default="queued")
    format: Mapped[str] = mapped_column(String(32))
    q: Mapped[str] = mapped_column(Text)  # as typed: names the file
    mode: Mapped[str] = mapped_column(String(16))
    sort: Mapped[str] = mapped_column(String(32))
    # The compiled query before the access policy (JSON), `#n` resolved when the job was submitted.
    query_json: Mapped[str] = mapped_column(Text)
    max_records: Mapped[int] = mapped_column(Integer)
    total: Mapped[int] = mapped_column(Integer)  # records expected: the hits at submission, up to max_records
    written: Mapped[int] = mapped_column(Integer, default=0)
    file_name: Mapped[str] = mapped_column(Text)  # offered to the browser
    path: Mapped[str | None] = mapped_column(Text, nullable=True)  # the finished file
    bytes: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    message: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class SavedStrategy(Base):
    """A named search strategy (检索策略) an analyst saved to load again."""

    __tablename__ = "saved_strategies"
    __table_args__ = (UniqueConstraint("owner", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner: Mapped[str] = mapped_column(String(64), index=True)
    name: Mapped[str] = mapped_column(String(200))
    expression: Mapped[str] = mapped_column(Text)
    normalized: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


# ---------------------------------------------------------------- accounts (issue 5)


class Centre(Base):
    """A branch centre (分中心): the tenant that analysts, reviewers and centre admins work for."""

    __tablename__ = "centres"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    # GB/T 2260 province code (two digits, as in the MOST report number), and the institution number
    # the numbering authority assigned; both go into the centre's report numbers.
    province_code: Mapped[str] = mapped_column(String(6))
    institution_no: Mapped[str] = mapped_column(String(16))
    # "most": 14 digits (year + province + institution + serial); "moe": 16 characters.
    numbering_pattern: Mapped[str] = mapped_column(String(8))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # The 查新机构 block of the report header.
    address: Mapped[str] = mapped_column(String(300), default="", server_default="")
    postcode: Mapped[str] = mapped_column(String(16), default="", server_default="")
    principal: Mapped[str] = mapped_column(String(100), default="", server_default="")
    contact: Mapped[str] = mapped_column(String(100), default="", server_default="")
    phone: Mapped[str] = mapped_column(String(32), default="", server_default="")
    fax: Mapped[str] = mapped_column(String(32), default="", server_default="")
    email: Mapped[str] = mapped_column(String(254), default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class User(Base):
    """A person who can sign in. Self-registered users give their real name (实名注册)."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Stored case-folded, so "Zhang" and "zhang" cannot be two accounts.
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    real_name: Mapped[str | None] = mapped_column(String(100), nullable=True)
    organisation: Mapped[str | None] = mapped_column(String(200), nullable=True)
    phone: Mapped[str | None] = mapped_column(String(32), nullable=True)
    email: Mapped[str | None] = mapped_column(String(254), nullable=True)
    # A reviewer's professional title (职称); only a senior one (高级职称) may sign reports.
    professional_title: Mapped[str | None] = mapped_column(String(100), nullable=True)
    senior_title: Mapped[bool] = mapped_column(Boolean, default=False)
    centre_id: Mapped[int | None] = mapped_column(
        ForeignKey("centres.id", ondelete="RESTRICT"), nullable=True, index=True
    )
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    password_changed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class RoleGrant(Base):
    """One role held by one user; every signed-in user is also a registered user without a row."""

    __tablename__ = "role_grants"
    __table_args__ = (UniqueConstraint("user_id", "role"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(32))
    granted_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class RecordGrant(Base):
    """Explicit access to one 限制 report for one user, optionally until a date."""

    __tablename__ = "record_grants"
    __table_args__ = (UniqueConstraint("user_id", "record_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    record_id: Mapped[str] = mapped_column(String(255), index=True)
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    granted_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class WebSession(Base):
    """A signed-in browser session. Only the SHA-256 of the cookie value is stored."""

    __tablename__ = "web_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ip: Mapped[str | None] = mapped_column(String(64), nullable=True)


class ApiToken(Base):
    """A bearer token for the API. Only its SHA-256 is stored; the token is shown once when created."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The first characters of the token, so a user can tell their tokens apart in a list.
    hint: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class AuditEvent(Base):
    """Who did what, when: logins (both outcomes), grants, exports. Rows are only ever appended."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now(), index=True)
    # "user:<id>", "anon:<session>", "cli" or "system": the same owner keys history uses.
    actor: Mapped[str] = mapped_column(String(80), index=True)
    action: Mapped[str] = mapped_column(String(64), index=True)
    detail: Mapped[str] = mapped_column(Text)  # JSON object
    ip: Mapped[str | None] = mapped_column(String(64), nullable=True)


# ---------------------------------------------------------------- novelty-search cases (issue 6)


class NoveltyCase(Base):
    """A 科技查新 case, from commission to issued report. Content is frozen once `state` is signed."""

    __tablename__ = "cases"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    centre_id: Mapped[int] = mapped_column(ForeignKey("centres.id", ondelete="RESTRICT"), index=True)
    # received -> searching -> drafting -> in_review -> (returned -> drafting)* -> signed -> issued -> archived
    state: Mapped[str] = mapped_column(String(16), default="received", index=True)
    project_name_zh: Mapped[str] = mapped_column(String(300))
    project_name_en: Mapped[str] = mapped_column(String(500), default="")
    client_name: Mapped[str] = mapped_column(String(200))
    client_address: Mapped[str] = mapped_column(String(300), default="")
    client_postcode: Mapped[str] = mapped_column(String(16), default="")
    client_principal: Mapped[str] = mapped_column(String(100), default="")
    client_contact: Mapped[str] = mapped_column(String(100), default="")
    client_phone: Mapped[str] = mapped_column(String(32), default="")
    client_fax: Mapped[str] = mapped_column(String(32), default="")
    client_email: Mapped[str] = mapped_column(String(254), default="")
    commission_date: Mapped[date] = mapped_column(Date)
    purpose: Mapped[str] = mapped_column(String(8))  # reports.model.Purpose value
    scope: Mapped[str] = mapped_column(String(8))  # reports.model.Scope value
    analyst_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), index=True)
    reviewer_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="RESTRICT"), nullable=True, index=True
    )
    purpose_text: Mapped[str] = mapped_column(Text, default="")
    technical_points: Mapped[str] = mapped_column(Text, default="")
    requirements: Mapped[str] = mapped_column(Text, default="")
    terms_zh: Mapped[str] = mapped_column(Text, default="[]")  # JSON list
    terms_en: Mapped[str] = mapped_column(Text, default="[]")  # JSON list
    results_summary: Mapped[str] = mapped_column(Text, default="")
    overall_conclusion: Mapped[str] = mapped_column(Text, default="")
    attachments: Mapped[str] = mapped_column(Text, default="[]")  # JSON list
    remarks: Mapped[str] = mapped_column(Text, default="")
    review_comment: Mapped[str] = mapped_column(Text, default="")
    report_no: Mapped[str | None] = mapped_column(String(32), unique=True, nullable=True)
    report_year: Mapped[int | None] = mapped_column(Integer, nullable=True)
    report_serial: Mapped[int | None] = mapped_column(Integer, nullable=True)
    completion_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    signing_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    issue_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    verification_code: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # Names and titles of centre, analyst and reviewer as printed when signed (JSON), so a later
    # rename or promotion does not change an issued report or its verification code.
    signatories: Mapped[str | None] = mapped_column(Text, nullable=True)
    # Pages of the issued PDF, counted when issued, so /verify can tell a holder how many to expect.
    page_count: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # Warnings of the check at submit the analyst confirmed (JSON list); the reviewer sees them.
    confirmed_warnings: Mapped[str] = mapped_column(Text, default="[]", server_default="[]")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class CasePoint(Base):
    """One novelty point (查新点) with the analyst's comparison and conclusion for it (section 六)."""

    __tablename__ = "case_points"
    __table_args__ = (UniqueConstraint("case_id", "label"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    label: Mapped[str] = mapped_column(String(16))  # "NP-1", stable once given
    text: Mapped[str] = mapped_column(Text)
    comparison: Mapped[str] = mapped_column(Text, default="")
    conclusion: Mapped[str] = mapped_column(Text, default="")


class CaseStrategy(Base):
    """One search run for a case (检索策略 log). Immutable except whether it appears in section 四."""

    __tablename__ = "case_strategies"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    database: Mapped[str] = mapped_column(String(200))
    year_from: Mapped[int | None] = mapped_column(Integer, nullable=True)
    year_to: Mapped[int | None] = mapped_column(Integer, nullable=True)
    terms_zh: Mapped[str] = mapped_column(Text, default="[]")
    terms_en: Mapped[str] = mapped_column(Text, default="[]")
    expression: Mapped[str] = mapped_column(Text)
    normalized: Mapped[str] = mapped_column(Text)
    cnki: Mapped[str] = mapped_column(Text)
    hits: Mapped[int] = mapped_column(Integer)
    # True when the analyst searched past the commission year on purpose; recorded for the reviewer.
    window_override: Mapped[bool] = mapped_column(Boolean, default=False)
    in_report: Mapped[bool] = mapped_column(Boolean, default=True)
    # "platform": run here, re-runnable; "external": typed in from another database's own search.
    kind: Mapped[str] = mapped_column(String(16), default="platform", server_default="platform")
    # 国内 / 国外: the database's side, which decides the report's 国内/国外 statements.
    origin: Mapped[str] = mapped_column(String(4), default="国内", server_default="国内")
    searched_on: Mapped[date | None] = mapped_column(Date, nullable=True)  # external: the day it ran there
    run_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    run_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class CaseDocument(Base):
    """A relevant document on a case, with the record's metadata as it was when added."""

    __tablename__ = "case_documents"
    __table_args__ = (UniqueConstraint("case_id", "record_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    record_id: Mapped[str] = mapped_column(String(255))
    relevance: Mapped[str] = mapped_column(String(8))  # 密切相关 / 一般相关
    origin: Mapped[str] = mapped_column(String(4))  # 国内 / 国外
    point_labels: Mapped[str] = mapped_column(Text, default="[]")  # JSON list of CasePoint.label
    description: Mapped[str] = mapped_column(Text, default="")
    excerpt: Mapped[str] = mapped_column(Text, default="")
    reference: Mapped[str] = mapped_column(Text)  # GB/T 7714, formatted from the snapshot
    snapshot: Mapped[str] = mapped_column(Text)  # JSON of the record when added
    # "platform" (a record of the index), "manual" (typed in) or "import" (an export file); the last
    # two live in the case only.
    source: Mapped[str] = mapped_column(String(16), default="platform", server_default="platform")
    database: Mapped[str] = mapped_column(String(200), default="", server_default="")  # where it was found
    added_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class CentreDatabase(Base):
    """A database a centre searches beyond the default list (casework.external.DEFAULT_DATABASES)."""

    __tablename__ = "centre_databases"
    __table_args__ = (UniqueConstraint("centre_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    centre_id: Mapped[int] = mapped_column(ForeignKey("centres.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    origin: Mapped[str] = mapped_column(String(4))  # 国内 / 国外
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class ReportCounter(Base):
    """The last report serial issued per centre and year; bumped under a row lock when a case is signed."""

    __tablename__ = "report_counters"

    centre_id: Mapped[int] = mapped_column(ForeignKey("centres.id", ondelete="CASCADE"), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last: Mapped[int] = mapped_column(Integer, default=0)

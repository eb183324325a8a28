"""cases: novelty-search cases, novelty points, strategy log, relevant documents, report counters

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def _ts(name: str) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False)


def _text(name: str, default: str = "") -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sa.Text, nullable=False, server_default=default)


def upgrade() -> None:
    op.create_table(
        "cases",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("centre_id", sa.Integer, sa.ForeignKey("centres.id", ondelete="RESTRICT"), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("project_name_zh", sa.String(300), nullable=False),
        sa.Column("project_name_en", sa.String(500), nullable=False),
        sa.Column("client_name", sa.String(200), nullable=False),
        sa.Column("client_address", sa.String(300), nullable=False),
        sa.Column("client_postcode", sa.String(16), nullable=False),
        sa.Column("client_principal", sa.String(100), nullable=False),
        sa.Column("client_contact", sa.String(100), nullable=False),
        sa.Column("client_phone", sa.String(32), nullable=False),
        sa.Column("client_fax", sa.String(32), nullable=False),
        sa.Column("client_email", sa.String(254), nullable=False),
        sa.Column("commission_date", sa.Date, nullable=False),
        sa.Column("purpose", sa.String(8), nullable=False),
        sa.Column("scope", sa.String(8), nullable=False),
        sa.Column("analyst_id", sa.Integer, sa.ForeignKey("users.id", ondelete="RESTRICT"), nullable=False),
        sa.Column("reviewer_id", sa.Integer, sa.ForeignKey("users.id", ondelete="RESTRICT"), nullable=True),
        _text("purpose_text"),
        _text("technical_points"),
        _text("requirements"),
        _text("terms_zh", "[]"),
        _text("terms_en", "[]"),
        _text("results_summary"),
        _text("overall_conclusion"),
        _text("attachments", "[]"),
        _text("remarks"),
        _text("review_comment"),
        sa.Column("report_no", sa.String(32), nullable=True, unique=True),
        sa.Column("report_year", sa.Integer, nullable=True),
        sa.Column("report_serial", sa.Integer, nullable=True),
        sa.Column("completion_date", sa.Date, nullable=True),
        sa.Column("signing_date", sa.Date, nullable=True),
        sa.Column("issue_date", sa.Date, nullable=True),
        sa.Column("verification_code", sa.String(64), nullable=True),
        sa.Column("signatories", sa.Text, nullable=True),
        _ts("created_at"),
        _ts("updated_at"),
    )
    op.create_index("ix_cases_centre_id", "cases", ["centre_id"])
    op.create_index("ix_cases_state", "cases", ["state"])
    op.create_index("ix_cases_analyst_id", "cases", ["analyst_id"])
    op.create_index("ix_cases_reviewer_id", "cases", ["reviewer_id"])
    op.create_table(
        "case_points",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("case_id", sa.Integer, sa.ForeignKey("cases.id", ondelete="CASCADE"), nullable=False),
        sa.Column("label", sa.String(16), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        _text("comparison"),
        _text("conclusion"),
        sa.UniqueConstraint("case_id", "label"),
    )
    op.create_index("ix_case_points_case_id", "case_points", ["case_id"])
    op.create_table(
        "case_strategies",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("case_id", sa.Integer, sa.ForeignKey("cases.id", ondelete="CASCADE"), nullable=False),
        sa.Column("database", sa.String(200), nullable=False),
        sa.Column("year_from", sa.Integer, nullable=True),
        sa.Column("year_to", sa.Integer, nullable=True),
        _text("terms_zh", "[]"),
        _text("terms_en", "[]"),
        sa.Column("expression", sa.Text, nullable=False),
        sa.Column("normalized", sa.Text, nullable=False),
        sa.Column("cnki", sa.Text, nullable=False),
        sa.Column("hits", sa.Integer, nullable=False),
        sa.Column("window_override", sa.Boolean, nullable=False),
        sa.Column("in_report", sa.Boolean, nullable=False),
        sa.Column("run_by", sa.Integer, sa.ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
        sa.Column("run_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_case_strategies_case_id", "case_strategies", ["case_id"])
    op.create_table(
        "case_documents",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("case_id", sa.Integer, sa.ForeignKey("cases.id", ondelete="CASCADE"), nullable=False),
        sa.Column("record_id", sa.String(255), nullable=False),
        sa.Column("relevance", sa.String(8), nullable=False),
        sa.Column("origin", sa.String(4), nullable=False),
        _text("point_labels", "[]"),
        _text("description"),
        _text("excerpt"),
        sa.Column("reference", sa.Text, nullable=False),
        sa.Column("snapshot", sa.Text, nullable=False),
        _ts("added_at"),
        sa.UniqueConstraint("case_id", "record_id"),
    )
    op.create_index("ix_case_documents_case_id", "case_documents", ["case_id"])
    op.create_table(
        "report_counters",
        sa.Column("centre_id", sa.Integer, sa.ForeignKey("centres.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("year", sa.Integer, primary_key=True),
        sa.Column("last", sa.Integer, nullable=False),
    )


def downgrade() -> None:
    for table in ("report_counters", "case_documents", "case_strategies", "case_points", "cases"):
        op.drop_table(table)

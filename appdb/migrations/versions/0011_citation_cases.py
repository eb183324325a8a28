"""收录引证 cases: a case's kind, its citation header, paper list, analyst adjustments and the
report snapshot frozen at signing

Revision ID: citation_cases
Revises: export_jobs
"""

import sqlalchemy as sa
from alembic import op

revision = "citation_cases"
down_revision = "export_jobs"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("kind", sa.String(16), nullable=False, server_default="novelty"))
        batch.add_column(sa.Column("snapshot", sa.Text(), nullable=True))
    op.create_index("ix_cases_kind", "cases", ["kind"])
    op.create_table(
        "citation_headers",
        sa.Column("case_id", sa.Integer(), sa.ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("client_type", sa.String(8), nullable=False),
        sa.Column("client_unit", sa.String(200), nullable=False, server_default=""),
        sa.Column("cutoff_date", sa.Date(), nullable=False),
        sa.Column("databases", sa.Text(), nullable=False, server_default="[]"),
        sa.Column("others_only", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("citing_list", sa.Boolean(), nullable=False, server_default=sa.true()),
        sa.Column("show_h_index", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("frozen_ids", sa.Text(), nullable=False, server_default="[]"),
    )
    op.create_table(
        "citation_papers",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("case_id", sa.Integer(), sa.ForeignKey("cases.id", ondelete="CASCADE"), nullable=False),
        sa.Column("origin", sa.String(8), nullable=False),
        sa.Column("input", sa.Text(), nullable=False),
        sa.Column("record_id", sa.String(255), nullable=True),
        sa.Column("candidates", sa.Text(), nullable=False, server_default="[]"),
        sa.Column("confirmed", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("note", sa.Text(), nullable=False, server_default=""),
        sa.Column("added_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    )
    op.create_index("ix_citation_papers_case_id", "citation_papers", ["case_id"])
    op.create_table(
        "citation_adjustments",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("case_id", sa.Integer(), sa.ForeignKey("cases.id", ondelete="CASCADE"), nullable=False),
        sa.Column("cited_id", sa.String(255), nullable=False),
        sa.Column("citing_id", sa.String(255), nullable=False),
        sa.Column("action", sa.String(8), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.UniqueConstraint("case_id", "cited_id", "citing_id"),
    )
    op.create_index("ix_citation_adjustments_case_id", "citation_adjustments", ["case_id"])


def downgrade() -> None:
    op.drop_index("ix_citation_adjustments_case_id", table_name="citation_adjustments")
    op.drop_table("citation_adjustments")
    op.drop_index("ix_citation_papers_case_id", table_name="citation_papers")
    op.drop_table("citation_papers")
    op.drop_table("citation_headers")
    op.drop_index("ix_cases_kind", table_name="cases")
    with op.batch_alter_table("cases") as batch:
        batch.drop_column("snapshot")
        batch.drop_column("kind")

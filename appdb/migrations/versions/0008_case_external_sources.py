"""查新 evidence from outside the platform: external-database searches, hand-entered and imported
documents, the centre's own database list, confirmed warnings and the issued report's page count.

Revision ID: case_external_sources
Revises: 0007_sec_ingest_submitter
"""

import sqlalchemy as sa
from alembic import op

revision = "case_external_sources"
down_revision = "0007_sec_ingest_submitter"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("case_strategies") as batch:
        batch.add_column(sa.Column("kind", sa.String(16), nullable=False, server_default="platform"))
        batch.add_column(sa.Column("origin", sa.String(4), nullable=False, server_default="国内"))
        batch.add_column(sa.Column("searched_on", sa.Date(), nullable=True))
    with op.batch_alter_table("case_documents") as batch:
        batch.add_column(sa.Column("source", sa.String(16), nullable=False, server_default="platform"))
        batch.add_column(sa.Column("database", sa.String(200), nullable=False, server_default=""))
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("page_count", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("confirmed_warnings", sa.Text(), nullable=False, server_default="[]"))
    op.create_table(
        "centre_databases",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("centre_id", sa.Integer(), sa.ForeignKey("centres.id", ondelete="CASCADE"), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("origin", sa.String(4), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.UniqueConstraint("centre_id", "name"),
    )
    op.create_index("ix_centre_databases_centre_id", "centre_databases", ["centre_id"])


def downgrade() -> None:
    op.drop_index("ix_centre_databases_centre_id", table_name="centre_databases")
    op.drop_table("centre_databases")
    with op.batch_alter_table("cases") as batch:
        batch.drop_column("confirmed_warnings")
        batch.drop_column("page_count")
    with op.batch_alter_table("case_documents") as batch:
        batch.drop_column("database")
        batch.drop_column("source")
    with op.batch_alter_table("case_strategies") as batch:
        batch.drop_column("searched_on")
        batch.drop_column("origin")
        batch.drop_column("kind")

"""who submitted an ingest job (user, centre, whether a platform admin), which centre owns a tech report,
and which quarantined records are restricted (issue 14)

An upload that touches an existing tech report is checked against the report's owning centre; the job's
errors of a restricted record are shown only to those who may see the record.

Revision ID: 0007_sec_ingest_submitter
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007_sec_ingest_submitter"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("ingest_jobs") as batch:
        batch.add_column(sa.Column("submitted_by", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("submitter_centre", sa.String(32), nullable=True))
        batch.add_column(
            sa.Column("submitter_admin", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(sa.Column("lower_access", sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table("ingest_errors") as batch:
        batch.add_column(sa.Column("record_id", sa.String(255), nullable=True))
        batch.add_column(sa.Column("restricted", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.create_table(
        "tech_report_owners",
        sa.Column("record_id", sa.String(255), primary_key=True),
        sa.Column("centre", sa.String(32), nullable=False),
        sa.Column("job_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("tech_report_owners")
    with op.batch_alter_table("ingest_errors") as batch:
        batch.drop_column("restricted")
        batch.drop_column("record_id")
    with op.batch_alter_table("ingest_jobs") as batch:
        for name in ("lower_access", "submitter_admin", "submitter_centre", "submitted_by"):
            batch.drop_column(name)

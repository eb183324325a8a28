"""ingest resume: each chunk's queued task kept (ingest_chunk_tasks), and the job's broker and resumes

Revision ID: ingest_resume
Revises: case_external_sources
"""

import sqlalchemy as sa
from alembic import op

revision = "ingest_resume"
down_revision = "case_external_sources"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("ingest_jobs") as batch:
        batch.add_column(sa.Column("broker", sa.String(64), nullable=True))
        batch.add_column(sa.Column("resumed_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("resumed_chunks", sa.Integer(), nullable=False, server_default="0"))
    op.create_table(
        "ingest_chunk_tasks",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("job_id", sa.Integer(), sa.ForeignKey("ingest_jobs.id", ondelete="CASCADE"), nullable=False),
        sa.Column("chunk_no", sa.Integer(), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("args", sa.Text(), nullable=False),
        sa.Column("kwargs", sa.Text(), nullable=False),
        sa.UniqueConstraint("job_id", "chunk_no"),
    )
    op.create_index("ix_ingest_chunk_tasks_job_id", "ingest_chunk_tasks", ["job_id"])


def downgrade() -> None:
    op.drop_index("ix_ingest_chunk_tasks_job_id", table_name="ingest_chunk_tasks")
    op.drop_table("ingest_chunk_tasks")
    with op.batch_alter_table("ingest_jobs") as batch:
        batch.drop_column("resumed_chunks")
        batch.drop_column("resumed_at")
        batch.drop_column("broker")

"""contact block of a centre (查新机构: address, postcode, principal, contact, phone, fax, e-mail)

The report header prints it beside the client's block.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

COLUMNS = {
    "address": 300,
    "postcode": 16,
    "principal": 100,
    "contact": 100,
    "phone": 32,
    "fax": 32,
    "email": 254,
}


def upgrade() -> None:
    with op.batch_alter_table("centres") as batch:
        for name, length in COLUMNS.items():
            batch.add_column(sa.Column(name, sa.String(length), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("centres") as batch:
        for name in COLUMNS:
            batch.drop_column(name)

"""Families get change_stamp, new in every transaction that changes something of the family:
the plan page's cached fragments are kept under it

Revision ID: 20261208_0023
Revises: 20261208_0022
Create Date: 2026-12-08 09:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "20261208_0023"
down_revision = "20261208_0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("family") as batch:
        batch.add_column(sa.Column("change_stamp", sa.String(length=16), nullable=True))
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "UPDATE family SET change_stamp = substr(md5(random()::text || id::text), 1, 16)"
        )
    else:
        op.execute("UPDATE family SET change_stamp = lower(hex(randomblob(8)))")
    with op.batch_alter_table("family") as batch:
        batch.alter_column("change_stamp", existing_type=sa.String(length=16), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("family") as batch:
        batch.drop_column("change_stamp")

"""Drop data_version: pages are no longer kept across requests, so nothing counts changes.

Revision ID: 20261207_0018
Revises: 20261203_0017
Create Date: 2026-12-07 21:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "20261207_0018"
down_revision = "20261203_0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_table("data_version")


def downgrade() -> None:
    table = op.create_table(
        "data_version",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_data_version")),
    )
    op.bulk_insert(table, [{"id": 1, "n": 0}])

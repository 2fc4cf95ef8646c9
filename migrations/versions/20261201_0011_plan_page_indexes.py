"""Partial indexes for the plan page: open goals, open and done agreements by due date

Revision ID: 20261201_0011
Revises: 20261201_0010
Create Date: 2026-12-01 13:10:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "20261201_0011"
down_revision = "20261201_0010"
branch_labels = None
depends_on = None

_AGREEMENTS = {
    "ix_plan_agreement_open": "removed_at IS NULL AND done_at IS NULL",
    "ix_plan_agreement_done": "removed_at IS NULL AND done_at IS NOT NULL",
}


def upgrade() -> None:
    where = sa.text("removed_at IS NULL")
    op.create_index(
        "ix_plan_goal_open",
        "plan_goal",
        ["family_id", "id"],
        sqlite_where=where,
        postgresql_where=where,
    )
    for name, condition in _AGREEMENTS.items():
        op.create_index(
            name,
            "plan_agreement",
            ["family_id", "due_on", "id"],
            sqlite_where=sa.text(condition),
            postgresql_where=sa.text(condition),
        )


def downgrade() -> None:
    for name in _AGREEMENTS:
        op.drop_index(name, table_name="plan_agreement")
    op.drop_index("ix_plan_goal_open", table_name="plan_goal")

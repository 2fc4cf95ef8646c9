"""audit_event.count: how many accesses a row stands for (1; more for the row that counts a
socket's repeats of one refusal)

Revision ID: 20261208_0022
Revises: 20261208_0021
Create Date: 2026-12-08 10:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "20261208_0022"
down_revision = "20261208_0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ADD COLUMN, not a batch (which copies the table on SQLite and would drop the
    # append-only triggers). Existing rows get 1, which their hashes already mean.
    op.add_column(
        "audit_event",
        sa.Column("count", sa.Integer(), server_default=sa.text("1"), nullable=False),
    )


def downgrade() -> None:
    # Rows that counted repeats no longer verify without their count.
    op.drop_column("audit_event", "count")

"""Conversations get active_at, when their last message came in (or when they started), so
the list shows the most recent first (it was ordered by the number of messages, last_seq)

Revision ID: 20261202_0015
Revises: 20261202_0014
Create Date: 2026-12-02 18:50:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import portal.db

revision = "20261202_0015"
down_revision = "20261202_0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("conversation") as batch:
        batch.add_column(
            sa.Column("active_at", portal.db.UTCDateTime(timezone=True), nullable=True)
        )
    op.execute(
        "UPDATE conversation SET active_at = COALESCE("
        "(SELECT MAX(message.created_at) FROM message "
        "WHERE message.conversation_id = conversation.id), conversation.created_at)"
    )
    with op.batch_alter_table("conversation") as batch:
        batch.alter_column(
            "active_at", existing_type=portal.db.UTCDateTime(timezone=True), nullable=False
        )


def downgrade() -> None:
    with op.batch_alter_table("conversation") as batch:
        batch.drop_column("active_at")

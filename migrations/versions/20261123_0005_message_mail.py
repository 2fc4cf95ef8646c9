"""message mail preferences

Revision ID: 20261123_0005
Revises: 20261123_0004
Create Date: 2026-11-23 00:01:03.304687
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "20261123_0005"
down_revision = "20261123_0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("conversation_participant", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("notified_seq", sa.Integer(), server_default="0", nullable=False)
        )

    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("message_mail", sa.String(length=10), server_default="15min", nullable=False)
        )
        batch_op.add_column(sa.Column("last_digest_on", sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.drop_column("last_digest_on")
        batch_op.drop_column("message_mail")

    with op.batch_alter_table("conversation_participant", schema=None) as batch_op:
        batch_op.drop_column("notified_seq")

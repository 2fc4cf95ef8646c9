"""message revisions

Revision ID: 20261123_0004
Revises: 20261122_0003
Create Date: 2026-11-22 23:59:12.511001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import portal.db

revision = "20261123_0004"
down_revision = "20261122_0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "message_revision",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("replaced_at", portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("change", sa.String(length=10), nullable=False),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["message.id"],
            name=op.f("fk_message_revision_message_id_message"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_message_revision")),
    )
    with op.batch_alter_table("message_revision", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_message_revision_message_id"), ["message_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("message_revision", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_message_revision_message_id"))

    op.drop_table("message_revision")

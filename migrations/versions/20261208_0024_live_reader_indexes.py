"""Indexes for finding the readers of a live event: user_session by user_id (without it, a scan
of every session ever made) and member by (user_id, family_id) in place of user_id alone

Revision ID: 20261208_0024
Revises: 20261208_0023
Create Date: 2026-12-08 00:30:00.000000
"""

from __future__ import annotations

from alembic import op

revision = "20261208_0024"
down_revision = "20261208_0023"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(op.f("ix_user_session_user_id"), "user_session", ["user_id"], unique=False)
    op.create_index("ix_member_user_id_family_id", "member", ["user_id", "family_id"], unique=False)
    op.drop_index(op.f("ix_member_user_id"), table_name="member")


def downgrade() -> None:
    op.create_index(op.f("ix_member_user_id"), "member", ["user_id"], unique=False)
    op.drop_index("ix_member_user_id_family_id", table_name="member")
    op.drop_index(op.f("ix_user_session_user_id"), table_name="user_session")

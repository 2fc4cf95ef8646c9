"""Who must sign a proposed version of the plan (plan_signer), fixed when it is proposed, with
"niet akkoord" and "doet niet mee" and their reasons

Revision ID: 20261207_0020
Revises: 20261207_0019
Create Date: 2026-12-07 21:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import portal.db

revision = "20261207_0020"
down_revision = "20261207_0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "plan_signer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=True),
        sa.Column("guest_user_id", sa.Integer(), nullable=True),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("why", sa.String(length=20), nullable=False),
        sa.Column("added_at", portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("joined_later", sa.Boolean(), nullable=False),
        sa.Column("disagreed_at", portal.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("disagree_reason", sa.Text(), nullable=True),
        sa.Column("not_taking_part_at", portal.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("not_taking_part_reason", sa.Text(), nullable=True),
        sa.Column("not_taking_part_by_name", sa.String(length=100), nullable=True),
        sa.ForeignKeyConstraint(
            ["guest_user_id"],
            ["user_account.id"],
            name=op.f("fk_plan_signer_guest_user_id_user_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["member.id"],
            name=op.f("fk_plan_signer_member_id_member"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["plan_version.id"],
            name=op.f("fk_plan_signer_version_id_plan_version"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_signer")),
    )
    with op.batch_alter_table("plan_signer") as batch:
        batch.create_index(batch.f("ix_plan_signer_version_id"), ["version_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("plan_signer") as batch:
        batch.drop_index(batch.f("ix_plan_signer_version_id"))
    op.drop_table("plan_signer")

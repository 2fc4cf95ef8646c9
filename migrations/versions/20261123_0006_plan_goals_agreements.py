"""plan goals scores agreements

Revision ID: 20261123_0006
Revises: 20261123_0005
Create Date: 2026-11-23 00:07:53.661781
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import portal.db

revision = "20261123_0006"
down_revision = "20261123_0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "plan_goal",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("family_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("owner", sa.String(length=20), nullable=False),
        sa.Column("phase", sa.String(length=20), nullable=False),
        sa.Column("created_by_name", sa.String(length=100), nullable=False),
        sa.Column("created_at", portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_by_name", sa.String(length=100), nullable=True),
        sa.Column("updated_at", portal.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("removed_at", portal.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["family_id"],
            ["family.id"],
            name=op.f("fk_plan_goal_family_id_family"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_goal")),
    )
    with op.batch_alter_table("plan_goal", schema=None) as batch_op:
        batch_op.create_index("ix_plan_goal_family_id_id", ["family_id", "id"], unique=False)

    op.create_table(
        "plan_agreement",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("family_id", sa.Integer(), nullable=False),
        sa.Column("what", sa.String(length=300), nullable=False),
        sa.Column("owner_name", sa.String(length=100), nullable=False),
        sa.Column("owner_user_id", sa.Integer(), nullable=True),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column("done_at", portal.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("goal_id", sa.Integer(), nullable=True),
        sa.Column("created_by_name", sa.String(length=100), nullable=False),
        sa.Column("created_at", portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("removed_at", portal.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["family_id"],
            ["family.id"],
            name=op.f("fk_plan_agreement_family_id_family"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["goal_id"],
            ["plan_goal.id"],
            name=op.f("fk_plan_agreement_goal_id_plan_goal"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["owner_user_id"],
            ["user_account.id"],
            name=op.f("fk_plan_agreement_owner_user_id_user_account"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_agreement")),
    )
    with op.batch_alter_table("plan_agreement", schema=None) as batch_op:
        batch_op.create_index("ix_plan_agreement_family_id_id", ["family_id", "id"], unique=False)

    op.create_table(
        "plan_goal_score",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("goal_id", sa.Integer(), nullable=False),
        sa.Column("family_id", sa.Integer(), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("scored_on", sa.Date(), nullable=False),
        sa.Column("by_name", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["family_id"],
            ["family.id"],
            name=op.f("fk_plan_goal_score_family_id_family"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["goal_id"],
            ["plan_goal.id"],
            name=op.f("fk_plan_goal_score_goal_id_plan_goal"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_goal_score")),
    )
    with op.batch_alter_table("plan_goal_score", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_plan_goal_score_goal_id"), ["goal_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("plan_goal_score", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_plan_goal_score_goal_id"))

    op.drop_table("plan_goal_score")
    with op.batch_alter_table("plan_agreement", schema=None) as batch_op:
        batch_op.drop_index("ix_plan_agreement_family_id_id")

    op.drop_table("plan_agreement")
    with op.batch_alter_table("plan_goal", schema=None) as batch_op:
        batch_op.drop_index("ix_plan_goal_family_id_id")

    op.drop_table("plan_goal")

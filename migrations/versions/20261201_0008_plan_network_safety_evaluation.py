"""plan: de bloem (network petals), the safety plan, evaluations

Revision ID: 20261201_0008
Revises: 20261201_0007
Create Date: 2026-12-01 08:56:22.600392
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import portal.db

revision = "20261201_0008"
down_revision = "20261201_0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "plan_evaluation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("family_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("held_on", sa.Date(), nullable=False),
        sa.Column("start_time", sa.String(length=5), nullable=False),
        sa.Column("participants", sa.String(length=1000), nullable=False),
        sa.Column("went_well", sa.Text(), nullable=False),
        sa.Column("changes", sa.Text(), nullable=False),
        sa.Column("next_steps", sa.Text(), nullable=False),
        sa.Column("created_by_name", sa.String(length=100), nullable=False),
        sa.Column("created_at", portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_by_name", sa.String(length=100), nullable=True),
        sa.Column("updated_at", portal.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("removed_at", portal.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["family_id"],
            ["family.id"],
            name=op.f("fk_plan_evaluation_family_id_family"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_evaluation")),
    )
    with op.batch_alter_table("plan_evaluation", schema=None) as batch_op:
        batch_op.create_index(
            "ix_plan_evaluation_family_id_held_on", ["family_id", "held_on"], unique=False
        )

    op.create_table(
        "plan_safety",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("family_id", sa.Integer(), nullable=False),
        sa.Column("signals", sa.Text(), nullable=False),
        sa.Column("actions", sa.Text(), nullable=False),
        sa.Column("contacts", sa.Text(), nullable=False),
        sa.Column("updated_at", portal.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("updated_by_name", sa.String(length=100), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["family_id"],
            ["family.id"],
            name=op.f("fk_plan_safety_family_id_family"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_safety")),
        sa.UniqueConstraint("family_id", name=op.f("uq_plan_safety_family_id")),
    )
    op.create_table(
        "plan_network_petal",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("family_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("relation", sa.String(length=100), nullable=False),
        sa.Column("contact", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=True),
        sa.Column("created_by_name", sa.String(length=100), nullable=False),
        sa.Column("created_at", portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_by_name", sa.String(length=100), nullable=True),
        sa.Column("updated_at", portal.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("removed_at", portal.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["family_id"],
            ["family.id"],
            name=op.f("fk_plan_network_petal_family_id_family"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["member.id"],
            name=op.f("fk_plan_network_petal_member_id_member"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_network_petal")),
    )
    with op.batch_alter_table("plan_network_petal", schema=None) as batch_op:
        batch_op.create_index(
            "ix_plan_network_petal_family_id_id", ["family_id", "id"], unique=False
        )

    with op.batch_alter_table("plan_agreement", schema=None) as batch_op:
        batch_op.add_column(sa.Column("owner_petal_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_plan_agreement_owner_petal_id_plan_network_petal"),
            "plan_network_petal",
            ["owner_petal_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade() -> None:
    with op.batch_alter_table("plan_agreement", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_plan_agreement_owner_petal_id_plan_network_petal"), type_="foreignkey"
        )
        batch_op.drop_column("owner_petal_id")

    with op.batch_alter_table("plan_network_petal", schema=None) as batch_op:
        batch_op.drop_index("ix_plan_network_petal_family_id_id")

    op.drop_table("plan_network_petal")
    op.drop_table("plan_safety")
    with op.batch_alter_table("plan_evaluation", schema=None) as batch_op:
        batch_op.drop_index("ix_plan_evaluation_family_id_held_on")

    op.drop_table("plan_evaluation")

"""parental_authority: authority (gezag) per child; members' own address, phone and privacy

Revision ID: 20261207_0019
Revises: 20261207_0018
Create Date: 2026-12-07 21:30:00.000000
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import portal.db

revision = "20261207_0019"
down_revision = "20261207_0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("member") as batch_op:
        batch_op.add_column(sa.Column("address", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("phone", sa.String(length=40), nullable=True))
        batch_op.add_column(
            sa.Column("contact_private", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    table = op.create_table(
        "parental_authority",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("family_id", sa.Integer(), nullable=False),
        sa.Column("child_id", sa.Integer(), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=False),
        sa.Column("set_by_id", sa.Integer(), nullable=True),
        sa.Column("set_at", portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("confirmed_at", portal.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("court_reference", sa.String(length=100), nullable=True),
        sa.ForeignKeyConstraint(
            ["family_id"],
            ["family.id"],
            name=op.f("fk_parental_authority_family_id_family"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["child_id"],
            ["member.id"],
            name=op.f("fk_parental_authority_child_id_member"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["parent_id"],
            ["member.id"],
            name=op.f("fk_parental_authority_parent_id_member"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["set_by_id"],
            ["user_account.id"],
            name=op.f("fk_parental_authority_set_by_id_user_account"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_parental_authority")),
        sa.UniqueConstraint(
            "child_id", "parent_id", name=op.f("uq_parental_authority_child_id_parent_id")
        ),
    )
    op.create_index(
        op.f("ix_parental_authority_family_id"), "parental_authority", ["family_id"], unique=False
    )
    op.create_index(
        op.f("ix_parental_authority_parent_id"), "parental_authority", ["parent_id"], unique=False
    )
    # Until now authority was one flag for all children: each child gets the (at most two)
    # first parents with the flag, as confirmed (they were the family's own statement).
    conn = op.get_bind()
    members = conn.execute(
        sa.text(
            "SELECT id, family_id, role, has_authority, joined_at FROM member "
            "WHERE removed_at IS NULL ORDER BY id"
        )
    ).all()
    now = datetime.now(UTC)
    rows = []
    for child in (m for m in members if m.role == "young_person"):
        holders = [m for m in members if m.family_id == child.family_id and m.role == "parent"]
        for parent in [m for m in holders if m.has_authority][:2]:
            rows.append(
                {
                    "family_id": child.family_id,
                    "child_id": child.id,
                    "parent_id": parent.id,
                    "set_at": now,
                    "confirmed_at": now if parent.joined_at is not None else None,
                }
            )
    if rows:
        op.bulk_insert(table, rows)


def downgrade() -> None:
    op.drop_index(op.f("ix_parental_authority_parent_id"), table_name="parental_authority")
    op.drop_index(op.f("ix_parental_authority_family_id"), table_name="parental_authority")
    op.drop_table("parental_authority")
    with op.batch_alter_table("member") as batch_op:
        batch_op.drop_column("contact_private")
        batch_op.drop_column("phone")
        batch_op.drop_column("address")

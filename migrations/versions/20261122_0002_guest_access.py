"""guest access grants, family invite code, plan questions, dossier

Revision ID: 20261122_0002
Revises: 20261122_0001
Create Date: 2026-11-22 23:23:29.544266
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import portal.db
from portal.family.models import new_code

revision = "20261122_0002"
down_revision = "20261122_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dossier_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("family_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("author_name", sa.String(length=100), nullable=False),
        sa.Column("author_organisation", sa.String(length=120), nullable=True),
        sa.Column("author_kind", sa.String(length=10), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["user_account.id"],
            name=op.f("fk_dossier_entry_author_id_user_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["family_id"],
            ["family.id"],
            name=op.f("fk_dossier_entry_family_id_family"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dossier_entry")),
    )
    with op.batch_alter_table("dossier_entry", schema=None) as batch_op:
        batch_op.create_index("ix_dossier_entry_family_id_id", ["family_id", "id"], unique=False)

    op.create_table(
        "plan",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("family_id", sa.Integer(), nullable=False),
        sa.Column("tomorrow", sa.Text(), nullable=False),
        sa.Column("must_change", sa.Text(), nullable=False),
        sa.Column("approach", sa.Text(), nullable=False),
        sa.Column("help", sa.Text(), nullable=False),
        sa.Column("who_else", sa.Text(), nullable=False),
        sa.Column("updated_at", portal.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.Column("updated_by_name", sa.String(length=100), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["family_id"], ["family.id"], name=op.f("fk_plan_family_id_family"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["updated_by_id"],
            ["user_account.id"],
            name=op.f("fk_plan_updated_by_id_user_account"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan")),
        sa.UniqueConstraint("family_id", name=op.f("uq_plan_family_id")),
    )
    op.create_table(
        "access_grant",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("family_id", sa.Integer(), nullable=False),
        sa.Column("grantee_id", sa.Integer(), nullable=True),
        sa.Column("invited_email", sa.String(length=254), nullable=True),
        sa.Column("origin", sa.String(length=20), nullable=False),
        sa.Column("purpose", sa.String(length=500), nullable=False),
        sa.Column("subject_member_id", sa.Integer(), nullable=True),
        sa.Column("valid_from", portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("accepted_at", portal.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("approved_at", portal.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", portal.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked_by_id", sa.Integer(), nullable=True),
        sa.Column("denied_at", portal.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("withdrawn_at", portal.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("granted_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("renewal_requested_at", portal.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("reminded_14_at", portal.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("reminded_3_at", portal.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["family_id"],
            ["family.id"],
            name=op.f("fk_access_grant_family_id_family"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["granted_by_id"],
            ["user_account.id"],
            name=op.f("fk_access_grant_granted_by_id_user_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["grantee_id"],
            ["user_account.id"],
            name=op.f("fk_access_grant_grantee_id_user_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["revoked_by_id"],
            ["user_account.id"],
            name=op.f("fk_access_grant_revoked_by_id_user_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["subject_member_id"],
            ["member.id"],
            name=op.f("fk_access_grant_subject_member_id_member"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_grant")),
    )
    with op.batch_alter_table("access_grant", schema=None) as batch_op:
        batch_op.create_index(
            "ix_access_grant_family_grantee", ["family_id", "grantee_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_access_grant_grantee_id"), ["grantee_id"], unique=False
        )

    op.create_table(
        "access_grant_approval",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("grant_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("approved_at", portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["grant_id"],
            ["access_grant.id"],
            name=op.f("fk_access_grant_approval_grant_id_access_grant"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["member.id"],
            name=op.f("fk_access_grant_approval_member_id_member"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_grant_approval")),
        sa.UniqueConstraint(
            "grant_id", "member_id", name=op.f("uq_access_grant_approval_grant_id_member_id")
        ),
    )
    op.create_table(
        "access_grant_part",
        sa.Column("grant_id", sa.Integer(), nullable=False),
        sa.Column("part", sa.String(length=20), nullable=False),
        sa.Column("level", sa.String(length=10), nullable=False),
        sa.ForeignKeyConstraint(
            ["grant_id"],
            ["access_grant.id"],
            name=op.f("fk_access_grant_part_grant_id_access_grant"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("grant_id", "part", name=op.f("pk_access_grant_part")),
    )
    # Existing families get a code first; then the column becomes required and unique.
    with op.batch_alter_table("family", schema=None) as batch_op:
        batch_op.add_column(sa.Column("invite_code", sa.String(length=20), nullable=True))
    conn = op.get_bind()
    family = sa.table("family", sa.column("id", sa.Integer), sa.column("invite_code", sa.String))
    for (family_id,) in conn.execute(sa.select(family.c.id)).all():
        conn.execute(family.update().where(family.c.id == family_id).values(invite_code=new_code()))
    with op.batch_alter_table("family", schema=None) as batch_op:
        batch_op.alter_column("invite_code", existing_type=sa.String(length=20), nullable=False)
        batch_op.create_unique_constraint(batch_op.f("uq_family_invite_code"), ["invite_code"])


def downgrade() -> None:
    with op.batch_alter_table("family", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_family_invite_code"), type_="unique")
        batch_op.drop_column("invite_code")

    op.drop_table("access_grant_part")
    op.drop_table("access_grant_approval")
    with op.batch_alter_table("access_grant", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_access_grant_grantee_id"))
        batch_op.drop_index("ix_access_grant_family_grantee")

    op.drop_table("access_grant")
    op.drop_table("plan")
    with op.batch_alter_table("dossier_entry", schema=None) as batch_op:
        batch_op.drop_index("ix_dossier_entry_family_id_id")

    op.drop_table("dossier_entry")

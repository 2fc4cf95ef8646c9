"""Dossier entries: visibility, edit history (revisions), taken out by the author, attachments

Revision ID: 20261201_0009
Revises: 20261201_0008
Create Date: 2026-12-01 09:15:29.557297
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import portal.db

revision = "20261201_0009"
down_revision = "20261201_0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dossier_revision",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("visibility", sa.String(length=12), nullable=False),
        sa.Column("written_at", portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("replaced_at", portal.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("change", sa.String(length=10), nullable=False),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["dossier_entry.id"],
            name=op.f("fk_dossier_revision_entry_id_dossier_entry"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dossier_revision")),
    )
    with op.batch_alter_table("dossier_revision", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_dossier_revision_entry_id"), ["entry_id"], unique=False
        )

    with op.batch_alter_table("dossier_entry", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("visibility", sa.String(length=12), server_default="all", nullable=False)
        )
        batch_op.add_column(
            sa.Column("updated_at", portal.db.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("deleted_at", portal.db.UTCDateTime(timezone=True), nullable=True)
        )

    with op.batch_alter_table("stored_file", schema=None) as batch_op:
        batch_op.add_column(sa.Column("dossier_entry_id", sa.Integer(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_stored_file_dossier_entry_id"), ["dossier_entry_id"], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_stored_file_dossier_entry_id_dossier_entry"),
            "dossier_entry",
            ["dossier_entry_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade() -> None:
    with op.batch_alter_table("stored_file", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_stored_file_dossier_entry_id_dossier_entry"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_stored_file_dossier_entry_id"))
        batch_op.drop_column("dossier_entry_id")

    with op.batch_alter_table("dossier_entry", schema=None) as batch_op:
        batch_op.drop_column("deleted_at")
        batch_op.drop_column("updated_at")
        batch_op.drop_column("visibility")

    with op.batch_alter_table("dossier_revision", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dossier_revision_entry_id"))

    op.drop_table("dossier_revision")

"""Previews of photos: their size on the file, the redrawn small image in its own table

Revision ID: 20261201_0012
Revises: 20261201_0011
Create Date: 2026-12-01 18:40:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "20261201_0012"
down_revision = "20261201_0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("stored_file") as batch:
        batch.add_column(sa.Column("preview_width", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("preview_height", sa.Integer(), nullable=True))
    op.create_table(
        "stored_file_preview",
        sa.Column("file_id", sa.Integer(), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["file_id"],
            ["stored_file.id"],
            name=op.f("fk_stored_file_preview_file_id_stored_file"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("file_id", name=op.f("pk_stored_file_preview")),
    )


def downgrade() -> None:
    op.drop_table("stored_file_preview")
    with op.batch_alter_table("stored_file") as batch:
        batch.drop_column("preview_height")
        batch.drop_column("preview_width")

"""A petal of de bloem can stand for a guest (guest_user_id), so someone the family put in de
bloem by hand and later invited as a guest shows once, with the last day of their access

Revision ID: 20261202_0014
Revises: 20261201_0013
Create Date: 2026-12-02 18:40:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "20261202_0014"
down_revision = "20261201_0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("plan_network_petal") as batch:
        batch.add_column(sa.Column("guest_user_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            op.f("fk_plan_network_petal_guest_user_id_user_account"),
            "user_account",
            ["guest_user_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade() -> None:
    with op.batch_alter_table("plan_network_petal") as batch:
        batch.drop_constraint(
            op.f("fk_plan_network_petal_guest_user_id_user_account"), type_="foreignkey"
        )
        batch.drop_column("guest_user_id")

"""Every family has its plan and safety plan rows from the start (made with the family now);
the families made before get theirs here, so viewing a plan never has to write one

Revision ID: 20261201_0013
Revises: 20261201_0012
Create Date: 2026-12-01 21:40:00.000000
"""

from __future__ import annotations

from alembic import op

revision = "20261201_0013"
down_revision = "20261201_0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        'INSERT INTO "plan" (family_id, tomorrow, must_change, approach, help, who_else, version) '
        "SELECT family.id, '', '', '', '', '', 1 FROM family "
        'WHERE NOT EXISTS (SELECT 1 FROM "plan" p WHERE p.family_id = family.id)'
    )
    op.execute(
        "INSERT INTO plan_safety (family_id, signals, actions, contacts, version) "
        "SELECT family.id, '', '', '', 1 FROM family "
        "WHERE NOT EXISTS (SELECT 1 FROM plan_safety WHERE plan_safety.family_id = family.id)"
    )


def downgrade() -> None:
    pass  # the rows are valid under the earlier schema too

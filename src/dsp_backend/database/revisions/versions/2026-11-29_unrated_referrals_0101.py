"""unrated referrals: the DSR meeting rates (003)

Revision ID: 0101
Revises: 0100
Create Date: 2026-11-29 21:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0101"
down_revision: str | None = "0100"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

RATED = "rag IN ('amber', 'red', 'blue', 'green')"


def upgrade() -> None:
    with op.batch_alter_table("register_entry", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_register_entry_rag"), type_="check")
        batch_op.alter_column("rag", existing_type=sa.String(length=8), nullable=True)
        batch_op.create_check_constraint(
            batch_op.f("ck_register_entry_rag"), f"rag IS NULL OR {RATED}"
        )
    with op.batch_alter_table("referral", schema=None) as batch_op:
        batch_op.alter_column("decided_rag", existing_type=sa.String(length=8), nullable=True)


def downgrade() -> None:
    with op.batch_alter_table("referral", schema=None) as batch_op:
        batch_op.alter_column("decided_rag", existing_type=sa.String(length=8), nullable=False)
    with op.batch_alter_table("register_entry", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_register_entry_rag"), type_="check")
        batch_op.alter_column("rag", existing_type=sa.String(length=8), nullable=False)
        batch_op.create_check_constraint(batch_op.f("ck_register_entry_rag"), RATED)

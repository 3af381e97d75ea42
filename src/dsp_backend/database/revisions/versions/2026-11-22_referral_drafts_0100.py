"""referral drafts

Revision ID: 0100
Revises: 0002
Create Date: 2026-11-22 12:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0100"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "referral_draft",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_referral_draft")),
    )
    with op.batch_alter_table("referral_draft", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_referral_draft_code_hash"), ["code_hash"], unique=True)
        batch_op.create_index(
            batch_op.f("ix_referral_draft_expires_at"), ["expires_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("referral_draft", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_referral_draft_expires_at"))
        batch_op.drop_index(batch_op.f("ix_referral_draft_code_hash"))

    op.drop_table("referral_draft")

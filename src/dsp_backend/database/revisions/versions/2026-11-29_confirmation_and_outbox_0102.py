"""held chat referrals, the email outbox, one active entry per NHS number

Revision ID: 0102
Revises: 0101
Create Date: 2026-11-29 22:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0102"
down_revision: str | None = "0101"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "pending_referral",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=16), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("referral_source", sa.String(length=16), nullable=False),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("email_domain", sa.String(length=255), nullable=True),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("submitted_by", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("entry_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["register_entry.id"],
            name=op.f("fk_pending_referral_entry_id_register_entry"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pending_referral")),
        sa.UniqueConstraint("reference", name=op.f("uq_pending_referral_reference")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_pending_referral_token_hash")),
    )
    with op.batch_alter_table("pending_referral", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_pending_referral_status"), ["status"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_pending_referral_expires_at"), ["expires_at"], unique=False
        )
    op.create_table(
        "outbox_message",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("to_address", sa.String(length=320), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(length=100), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_message")),
    )
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_outbox_message_next_attempt_at"), ["next_attempt_at"], unique=False
        )
    with op.batch_alter_table("referral_personal", schema=None) as batch_op:
        batch_op.add_column(sa.Column("active_nhs_number", sa.String(length=10), nullable=True))
        batch_op.create_unique_constraint(
            batch_op.f("uq_referral_personal_active_nhs_number"), ["active_nhs_number"]
        )
    # People already on the pathway: the newest referral of each active NHS number holds it.
    op.execute(
        """
        UPDATE referral_personal SET active_nhs_number = nhs_number
        WHERE id IN (
            SELECT MAX(rp.id) FROM referral_personal rp
            JOIN register_entry e ON e.id = rp.entry_id
            WHERE e.removed_at IS NULL AND rp.nhs_number IS NOT NULL
            GROUP BY rp.nhs_number
        )
        """
    )


def downgrade() -> None:
    with op.batch_alter_table("referral_personal", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("uq_referral_personal_active_nhs_number"), type_="unique"
        )
        batch_op.drop_column("active_nhs_number")
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outbox_message_next_attempt_at"))
    op.drop_table("outbox_message")
    with op.batch_alter_table("pending_referral", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pending_referral_expires_at"))
        batch_op.drop_index(batch_op.f("ix_pending_referral_status"))
    op.drop_table("pending_referral")

"""referrals and register

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 12:02:53.914280
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "register_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dsp_id", sa.String(length=16), nullable=False),
        sa.Column("variant_id", sa.String(length=32), nullable=False),
        sa.Column("register", sa.String(length=4), nullable=False),
        sa.Column("rag", sa.String(length=8), nullable=False),
        sa.Column("rag_since", sa.DateTime(timezone=True), nullable=False),
        sa.Column("age_group", sa.String(length=8), nullable=False),
        sa.Column("referral_source", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("mam_organised_by_admin", sa.Boolean(), nullable=False),
        sa.Column("step_down_ends_on", sa.Date(), nullable=True),
        sa.Column("consent_given_by", sa.String(length=32), nullable=False),
        sa.Column("consent_given_on", sa.Date(), nullable=False),
        sa.Column("consent_renewal_due_on", sa.Date(), nullable=True),
        sa.Column("first_mam_on", sa.Date(), nullable=True),
        sa.Column("removed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("removal_reason", sa.String(length=32), nullable=True),
        sa.CheckConstraint(
            "age_group IN ('cyp', 'adult')", name=op.f("ck_register_entry_age_group")
        ),
        sa.CheckConstraint(
            "rag IN ('amber', 'red', 'blue', 'green')", name=op.f("ck_register_entry_rag")
        ),
        sa.CheckConstraint(
            "referral_source IN ('professional', 'self')",
            name=op.f("ck_register_entry_referral_source"),
        ),
        sa.CheckConstraint("register IN ('DSR', 'ROAR')", name=op.f("ck_register_entry_register")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_register_entry")),
    )
    with op.batch_alter_table("register_entry", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_register_entry_age_group"), ["age_group"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_register_entry_created_at"), ["created_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_register_entry_dsp_id"), ["dsp_id"], unique=True)
        batch_op.create_index(batch_op.f("ix_register_entry_rag"), ["rag"], unique=False)
        batch_op.create_index(batch_op.f("ix_register_entry_register"), ["register"], unique=False)

    op.create_table(
        "idempotency_record",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=False),
        sa.Column("response", sa.JSON(), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["register_entry.id"],
            name=op.f("fk_idempotency_record_entry_id_register_entry"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_idempotency_record")),
        sa.UniqueConstraint("key", name=op.f("uq_idempotency_record_key")),
    )
    op.create_table(
        "rating_transition",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("from_state", sa.String(length=8), nullable=True),
        sa.Column("to_state", sa.String(length=8), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("removal_reason", sa.String(length=32), nullable=True),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["register_entry.id"],
            name=op.f("fk_rating_transition_entry_id_register_entry"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rating_transition")),
    )
    with op.batch_alter_table("rating_transition", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_rating_transition_entry_id"), ["entry_id"], unique=False
        )

    op.create_table(
        "referral",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("referral_source", sa.String(length=16), nullable=False),
        sa.Column("referrer_kind", sa.String(length=16), nullable=False),
        sa.Column("form", sa.String(length=16), nullable=False),
        sa.Column("mam_organised_by_admin", sa.Boolean(), nullable=False),
        sa.Column("suggested_rag", sa.String(length=8), nullable=True),
        sa.Column("suggested_register", sa.String(length=4), nullable=False),
        sa.Column("matched_criteria", sa.JSON(), nullable=False),
        sa.Column("decided_rag", sa.String(length=8), nullable=False),
        sa.Column("decided_register", sa.String(length=4), nullable=False),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["register_entry.id"],
            name=op.f("fk_referral_entry_id_register_entry"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_referral")),
        sa.UniqueConstraint("entry_id", name=op.f("uq_referral_entry_id")),
    )
    op.create_table(
        "referral_personal",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("nhs_number", sa.String(length=10), nullable=True),
        sa.Column("given_name", sa.String(length=100), nullable=False),
        sa.Column("family_name", sa.String(length=100), nullable=False),
        sa.Column("date_of_birth", sa.Date(), nullable=False),
        sa.Column("postcode", sa.String(length=8), nullable=False),
        sa.Column("form", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["register_entry.id"],
            name=op.f("fk_referral_personal_entry_id_register_entry"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_referral_personal")),
        sa.UniqueConstraint("entry_id", name=op.f("uq_referral_personal_entry_id")),
    )
    with op.batch_alter_table("referral_personal", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_referral_personal_nhs_number"), ["nhs_number"], unique=False
        )

    op.create_table(
        "register_task",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("transition_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=48), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_because", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["register_entry.id"],
            name=op.f("fk_register_task_entry_id_register_entry"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["transition_id"],
            ["rating_transition.id"],
            name=op.f("fk_register_task_transition_id_rating_transition"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_register_task")),
    )
    with op.batch_alter_table("register_task", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_register_task_entry_id"), ["entry_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("register_task", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_register_task_entry_id"))

    op.drop_table("register_task")
    with op.batch_alter_table("referral_personal", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_referral_personal_nhs_number"))

    op.drop_table("referral_personal")
    op.drop_table("referral")
    with op.batch_alter_table("rating_transition", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rating_transition_entry_id"))

    op.drop_table("rating_transition")
    op.drop_table("idempotency_record")
    with op.batch_alter_table("register_entry", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_register_entry_register"))
        batch_op.drop_index(batch_op.f("ix_register_entry_rag"))
        batch_op.drop_index(batch_op.f("ix_register_entry_dsp_id"))
        batch_op.drop_index(batch_op.f("ix_register_entry_created_at"))
        batch_op.drop_index(batch_op.f("ix_register_entry_age_group"))

    op.drop_table("register_entry")

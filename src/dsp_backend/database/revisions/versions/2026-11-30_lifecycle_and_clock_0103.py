"""the lifecycle corrected, the deadline clock, gaps in service, retention

Revision ID: 0103
Revises: 0102
Create Date: 2026-11-30 00:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0103"
down_revision: str | None = "0102"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("register_entry", schema=None) as batch_op:
        # When retention erased the person's personal data (the entry itself stays).
        batch_op.add_column(sa.Column("erased_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("register_task", schema=None) as batch_op:
        batch_op.add_column(sa.Column("ref", sa.String(length=80), nullable=True))
    op.create_table(
        "register_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("on", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(length=48), nullable=False),
        sa.Column("ref", sa.String(length=80), nullable=True),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["register_entry.id"],
            name=op.f("fk_register_event_entry_id_register_entry"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_register_event")),
    )
    with op.batch_alter_table("register_event", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_register_event_entry_id"), ["entry_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_register_event_ref"), ["ref"], unique=False)
    op.create_table(
        "gap_in_service",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by", sa.String(length=64), nullable=False),
        sa.Column("theme", sa.String(length=48), nullable=False),
        sa.Column("age_group", sa.String(length=8), nullable=True),
        sa.Column("what_is_missing", sa.Text(), nullable=False),
        sa.Column("impact", sa.Text(), nullable=False),
        sa.Column("what_was_tried", sa.Text(), nullable=False),
        sa.Column("erased_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["register_entry.id"],
            name=op.f("fk_gap_in_service_entry_id_register_entry"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gap_in_service")),
    )
    with op.batch_alter_table("gap_in_service", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_gap_in_service_entry_id"), ["entry_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_gap_in_service_recorded_at"), ["recorded_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_gap_in_service_theme"), ["theme"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("gap_in_service", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_gap_in_service_theme"))
        batch_op.drop_index(batch_op.f("ix_gap_in_service_recorded_at"))
        batch_op.drop_index(batch_op.f("ix_gap_in_service_entry_id"))
    op.drop_table("gap_in_service")
    with op.batch_alter_table("register_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_register_event_ref"))
        batch_op.drop_index(batch_op.f("ix_register_event_entry_id"))
    op.drop_table("register_event")
    with op.batch_alter_table("register_task", schema=None) as batch_op:
        batch_op.drop_column("ref")
    with op.batch_alter_table("register_entry", schema=None) as batch_op:
        batch_op.drop_column("erased_at")

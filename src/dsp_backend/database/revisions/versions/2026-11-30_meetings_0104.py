"""MAMs with their notes, invitees and action plans; outbox attachments and its report

Revision ID: 0104
Revises: 0103
Create Date: 2026-11-30 00:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0104"
down_revision: str | None = "0103"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _id() -> sa.Column[int]:
    return sa.Column("id", sa.Integer(), nullable=False)


def _mam_id() -> sa.Column[int]:
    return sa.Column(
        "mam_id", sa.Integer(), sa.ForeignKey("mam.id", ondelete="CASCADE"), nullable=False
    )


def _entry_id() -> sa.Column[int]:
    return sa.Column(
        "entry_id",
        sa.Integer(),
        sa.ForeignKey("register_entry.id", ondelete="CASCADE"),
        nullable=False,
    )


def upgrade() -> None:
    op.create_table(
        "mam",
        _id(),
        _entry_id(),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("scheduled_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("joining_link", sa.String(length=500), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("held_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("chair", sa.String(length=200), nullable=False),
        sa.Column("note_taker", sa.String(length=200), nullable=False),
        sa.Column("decision", sa.String(length=12), nullable=True),
        sa.Column("next_mam_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("stand_down_to", sa.String(length=8), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mam")),
        sa.UniqueConstraint("entry_id", "number", name=op.f("uq_mam_entry_id")),
        sa.CheckConstraint("kind IN ('first', 'subsequent')", name=op.f("ck_mam_kind")),
        sa.CheckConstraint(
            "decision IS NULL OR decision IN ('follow_up', 'stand_down', 'escalate')",
            name=op.f("ck_mam_decision"),
        ),
    )
    op.create_index(op.f("ix_mam_entry_id"), "mam", ["entry_id"])
    op.create_index(op.f("ix_mam_scheduled_at"), "mam", ["scheduled_at"])
    op.create_table(
        "mam_attendee",
        _id(),
        _mam_id(),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mam_attendee")),
    )
    op.create_index(op.f("ix_mam_attendee_mam_id"), "mam_attendee", ["mam_id"])
    op.create_table(
        "mam_section",
        _id(),
        _mam_id(),
        sa.Column("key", sa.String(length=48), nullable=False),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("answer", sa.Boolean(), nullable=True),
        sa.Column("not_applicable", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mam_section")),
        sa.UniqueConstraint("mam_id", "key", name=op.f("uq_mam_section_mam_id")),
    )
    op.create_index(op.f("ix_mam_section_mam_id"), "mam_section", ["mam_id"])
    op.create_table(
        "mam_invitee",
        _id(),
        _mam_id(),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("phone", sa.String(length=40), nullable=True),
        sa.Column("family", sa.Boolean(), nullable=False),
        sa.Column("invited_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mam_invitee")),
    )
    op.create_index(op.f("ix_mam_invitee_mam_id"), "mam_invitee", ["mam_id"])
    op.create_table(
        "action_item",
        _id(),
        _entry_id(),
        _mam_id(),
        sa.Column("task", sa.Text(), nullable=False),
        sa.Column("responsible", sa.String(length=200), nullable=False),
        sa.Column("manager_email", sa.String(length=320), nullable=True),
        sa.Column("timeline", sa.Date(), nullable=False),
        sa.Column("outcome", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("escalated_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_action_item")),
        sa.CheckConstraint(
            "status IN ('open', 'completed', 'no_longer_needed')",
            name=op.f("ck_action_item_status"),
        ),
    )
    op.create_index(op.f("ix_action_item_entry_id"), "action_item", ["entry_id"])
    op.create_index(op.f("ix_action_item_mam_id"), "action_item", ["mam_id"])
    op.create_index(op.f("ix_action_item_timeline"), "action_item", ["timeline"])
    op.create_index(op.f("ix_action_item_status"), "action_item", ["status"])
    op.create_table(
        "mam_existing_action",
        _mam_id(),
        sa.Column(
            "action_id",
            sa.Integer(),
            sa.ForeignKey("action_item.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("mam_id", "action_id", name=op.f("pk_mam_existing_action")),
    )
    op.create_table(
        "outbox_attachment",
        _id(),
        sa.Column(
            "message_id",
            sa.Integer(),
            sa.ForeignKey("outbox_message.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("filename", sa.String(length=100), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_attachment")),
    )
    op.create_index(op.f("ix_outbox_attachment_message_id"), "outbox_attachment", ["message_id"])
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.add_column(sa.Column("about", sa.String(length=32), nullable=True))
        batch_op.add_column(
            sa.Column("erase_once_sent", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.create_index(batch_op.f("ix_outbox_message_about"), ["about"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outbox_message_about"))
        batch_op.drop_column("erase_once_sent")
        batch_op.drop_column("about")
    op.drop_index(op.f("ix_outbox_attachment_message_id"), table_name="outbox_attachment")
    op.drop_table("outbox_attachment")
    op.drop_table("mam_existing_action")
    for index in ("status", "timeline", "mam_id", "entry_id"):
        op.drop_index(op.f(f"ix_action_item_{index}"), table_name="action_item")
    op.drop_table("action_item")
    for table in ("mam_invitee", "mam_section", "mam_attendee"):
        op.drop_index(op.f(f"ix_{table}_mam_id"), table_name=table)
        op.drop_table(table)
    op.drop_index(op.f("ix_mam_scheduled_at"), table_name="mam")
    op.drop_index(op.f("ix_mam_entry_id"), table_name="mam")
    op.drop_table("mam")

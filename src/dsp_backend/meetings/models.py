"""Multi-agency meetings (MAMs), their notes and the action plan (001 sections 12 and 13, and
the notes templates in its appendices).

The notes are health data about the person: only dsr_admin and tco read them, every read and
change is audited, and they go with the register entry (deleted with it).
"""

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dsp_backend.database.core import Base
from dsp_backend.meetings.schemas import ActionStatus, Decision, MamKind, StandDownTo


class Mam(Base):
    """One multi-agency meeting: arranged, then held, then closed by its next steps."""

    __tablename__ = "mam"
    __table_args__ = (
        UniqueConstraint("entry_id", "number"),
        CheckConstraint("kind IN ('first', 'subsequent')", name="kind"),
        CheckConstraint(
            "decision IS NULL OR decision IN ('follow_up', 'stand_down', 'escalate')",
            name="decision",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(
        ForeignKey("register_entry.id", ondelete="CASCADE"), index=True
    )
    # 1 for the first MAM of this entry, then 2, 3... (001 s13: a new notes template each time).
    number: Mapped[int] = mapped_column(Integer)
    kind: Mapped[MamKind] = mapped_column(String(12))
    scheduled_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    joining_link: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # The notes' header: date and time of the meeting, chair, notes taken by.
    held_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    chair: Mapped[str] = mapped_column(String(200), default="")
    note_taker: Mapped[str] = mapped_column(String(200), default="")
    # The next steps; once recorded the notes are closed.
    decision: Mapped[Decision | None] = mapped_column(String(12), default=None)
    next_mam_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    stand_down_to: Mapped[StandDownTo | None] = mapped_column(String(8), default=None)
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)

    attendees: Mapped[list["MamAttendee"]] = relationship(
        order_by="MamAttendee.id", cascade="all, delete-orphan"
    )
    sections: Mapped[list["MamSection"]] = relationship(
        order_by="MamSection.id", cascade="all, delete-orphan"
    )
    invitees: Mapped[list["MamInvitee"]] = relationship(
        order_by="MamInvitee.id", cascade="all, delete-orphan"
    )
    # 001 s13: a subsequent MAM opens with the existing action plan, fixed when it is arranged.
    existing_actions: Mapped[list["ActionItem"]] = relationship(
        secondary="mam_existing_action", order_by="ActionItem.id"
    )


class MamAttendee(Base):
    __tablename__ = "mam_attendee"

    id: Mapped[int] = mapped_column(primary_key=True)
    mam_id: Mapped[int] = mapped_column(ForeignKey("mam.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(200))


class MamSection(Base):
    """One section of the notes template: a written answer, a yes or no, or not applicable."""

    __tablename__ = "mam_section"
    __table_args__ = (UniqueConstraint("mam_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    mam_id: Mapped[int] = mapped_column(ForeignKey("mam.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(48))
    text: Mapped[str | None] = mapped_column(Text, default=None)
    answer: Mapped[bool | None] = mapped_column(Boolean, default=None)
    not_applicable: Mapped[bool] = mapped_column(Boolean, default=False)


class MamInvitee(Base):
    """Someone invited: a professional (gets the referral, password protected) or the family
    (gets its own email, never the professionals' addresses; 001 s10)."""

    __tablename__ = "mam_invitee"

    id: Mapped[int] = mapped_column(primary_key=True)
    mam_id: Mapped[int] = mapped_column(ForeignKey("mam.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320), default=None)
    phone: Mapped[str | None] = mapped_column(String(40), default=None)
    family: Mapped[bool] = mapped_column(Boolean, default=False)
    # When the invitation for the meeting as it now stands was queued; a change of time, link
    # or invitees clears it, so the next round invites everyone again.
    invited_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)


class ActionItem(Base):
    """One action of a MAM's plan: task, responsibility, timeline, outcome (001 appendices)."""

    __tablename__ = "action_item"
    __table_args__ = (
        CheckConstraint("status IN ('open', 'completed', 'no_longer_needed')", name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(
        ForeignKey("register_entry.id", ondelete="CASCADE"), index=True
    )
    # The MAM whose plan raised it.
    mam_id: Mapped[int] = mapped_column(ForeignKey("mam.id", ondelete="CASCADE"), index=True)
    task: Mapped[str] = mapped_column(Text)
    responsible: Mapped[str] = mapped_column(String(200))
    # Where an overdue action is escalated (001 s13: "escalated to the relevant managers");
    # without one, to the DSP admin lead.
    manager_email: Mapped[str | None] = mapped_column(String(320), default=None)
    timeline: Mapped[date] = mapped_column(Date, index=True)
    outcome: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[ActionStatus] = mapped_column(String(20), default="open", index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    escalated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)


class MamExistingAction(Base):
    """The actions a subsequent MAM opened with."""

    __tablename__ = "mam_existing_action"

    mam_id: Mapped[int] = mapped_column(ForeignKey("mam.id", ondelete="CASCADE"), primary_key=True)
    action_id: Mapped[int] = mapped_column(
        ForeignKey("action_item.id", ondelete="CASCADE"), primary_key=True
    )

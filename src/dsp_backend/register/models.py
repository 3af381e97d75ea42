"""The register: one entry per person on the pathway, its rating history and what follows each change.

Names, NHS number, date of birth and the referral form live in referrals.models.ReferralPersonal,
so that commissioners' reports and retention can leave them out or delete them. The one free text
here is a transition's reason, which only dsr_admin and tco read.
"""

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dsp_backend.database.core import Base
from dsp_backend.register.lifecycle import EventKind, RemovalReason, SideEffectKind, State
from dsp_backend.variants.schemas import AgeGroup, Rag, Register


class RegisterEntry(Base):
    __tablename__ = "register_entry"
    __table_args__ = (
        CheckConstraint("rag IS NULL OR rag IN ('amber', 'red', 'blue', 'green')", name="rag"),
        CheckConstraint("register IN ('DSR', 'ROAR')", name="register"),
        CheckConstraint("age_group IN ('cyp', 'adult')", name="age_group"),
        CheckConstraint("referral_source IN ('professional', 'self')", name="referral_source"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Random, never derived from personal data (001 section 6: a unique, anonymous identifier).
    dsp_id: Mapped[str] = mapped_column(String(16), unique=True, index=True)
    variant_id: Mapped[str] = mapped_column(String(32))
    register: Mapped[Register] = mapped_column(String(4), index=True)
    # The last rating; a removed person keeps it and gets removed_at. None: the DSR meeting has
    # not rated them yet (003).
    rag: Mapped[Rag | None] = mapped_column(String(8), index=True)
    rag_since: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    age_group: Mapped[AgeGroup] = mapped_column(String(8), index=True)
    referral_source: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    mam_organised_by_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    step_down_ends_on: Mapped[date | None] = mapped_column(Date, default=None)
    consent_given_by: Mapped[str] = mapped_column(String(32))
    consent_given_on: Mapped[date] = mapped_column(Date)
    consent_renewal_due_on: Mapped[date | None] = mapped_column(Date, default=None)
    # The first multi-agency meeting, for time from referral to first MAM (meetings come later).
    first_mam_on: Mapped[date | None] = mapped_column(Date, default=None)
    removed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    removal_reason: Mapped[RemovalReason | None] = mapped_column(String(32), default=None)
    # When the person's personal data were erased (after the retention period, or on request);
    # the entry, its ratings history and its de-identified facts stay.
    erased_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)

    transitions: Mapped[list["RatingTransition"]] = relationship(
        back_populates="entry", order_by="RatingTransition.id", cascade="all, delete-orphan"
    )
    tasks: Mapped[list["RegisterTask"]] = relationship(
        back_populates="entry", order_by="RegisterTask.id", cascade="all, delete-orphan"
    )
    events: Mapped[list["RegisterEvent"]] = relationship(
        back_populates="entry", order_by="RegisterEvent.id", cascade="all, delete-orphan"
    )

    @property
    def state(self) -> State:
        if self.removed_at is not None:
            return "removed"
        return self.rag if self.rag is not None else "unrated"


class RatingTransition(Base):
    """One change of rating: who (a token reference), when, why, and the state before it."""

    __tablename__ = "rating_transition"

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(
        ForeignKey("register_entry.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # None for the referral that put the person on the register.
    from_state: Mapped[State | None] = mapped_column(String(8))
    to_state: Mapped[State] = mapped_column(String(8))
    reason: Mapped[str] = mapped_column(Text)
    removal_reason: Mapped[RemovalReason | None] = mapped_column(String(32), default=None)
    actor: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(32))

    entry: Mapped[RegisterEntry] = relationship(back_populates="transitions")


class RegisterTask(Base):
    """Something that follows a change: a notification to send, a meeting or visit that falls due."""

    __tablename__ = "register_task"

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(
        ForeignKey("register_entry.id", ondelete="CASCADE"), index=True
    )
    transition_id: Mapped[int | None] = mapped_column(
        ForeignKey("rating_transition.id", ondelete="SET NULL"), default=None
    )
    kind: Mapped[SideEffectKind] = mapped_column(String(48))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    due_on: Mapped[date | None] = mapped_column(Date, default=None)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    # "done", or "no_longer_needed" when a change made it moot (leaving blue, removal).
    closed_because: Mapped[str | None] = mapped_column(String(32), default=None)
    # The record another feature keeps about it (e.g. a meeting's action), never personal data.
    ref: Mapped[str | None] = mapped_column(String(80), default=None)

    entry: Mapped[RegisterEntry] = relationship(back_populates="tasks")


class RegisterEvent(Base):
    """Something that happened to an entry other than a change of rating: a MAM held, consent
    renewed, moved to the adults' register, a reminder sent, personal data erased. Features other
    than the register add theirs through register.service.note, so the timeline shows them."""

    __tablename__ = "register_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(
        ForeignKey("register_entry.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # The day it happened (a MAM held last week is recorded today).
    on: Mapped[date] = mapped_column(Date)
    kind: Mapped[EventKind] = mapped_column(String(48))
    # The other feature's record, or what a reminder was about; never personal data.
    ref: Mapped[str | None] = mapped_column(String(80), default=None, index=True)
    actor: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(32))

    entry: Mapped[RegisterEntry] = relationship(back_populates="events")

"""A referral's facts (not identifying) apart from the person's details (identifying).

ReferralPersonal is the only table holding who the person is; commissioners' reports never read
it, and retention deletes it (or the whole register entry, which cascades).
"""

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Date, DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from dsp_backend.database.core import Base


class Referral(Base):
    """What was referred and decided: the suggestion and the referrer's decision are both kept."""

    __tablename__ = "referral"

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(
        ForeignKey("register_entry.id", ondelete="CASCADE"), unique=True
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    referral_source: Mapped[str] = mapped_column(String(16))
    # health, social_care, education, self or family: the sources of demand (001 section 6).
    referrer_kind: Mapped[str] = mapped_column(String(16))
    form: Mapped[str] = mapped_column(String(16))
    mam_organised_by_admin: Mapped[bool] = mapped_column(Boolean)
    suggested_rag: Mapped[str | None] = mapped_column(String(8))
    suggested_register: Mapped[str] = mapped_column(String(4))
    # The reasons for referral (001 section 6): ids of the variant's criteria, never free text.
    matched_criteria: Mapped[list[str]] = mapped_column(JSON)
    # None where the DSR meeting rates the referral (003).
    decided_rag: Mapped[str | None] = mapped_column(String(8))
    decided_register: Mapped[str] = mapped_column(String(4))


class ReferralPersonal(Base):
    """Who the person is, and the referral form as submitted (free text, invitees, contacts)."""

    __tablename__ = "referral_personal"

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(
        ForeignKey("register_entry.id", ondelete="CASCADE"), unique=True
    )
    nhs_number: Mapped[str | None] = mapped_column(String(10), index=True)
    # The NHS number while the person is on the pathway, None once removed: unique, so two
    # concurrent referrals of one person can never both be stored (NULLs never clash).
    active_nhs_number: Mapped[str | None] = mapped_column(String(10), unique=True, default=None)
    given_name: Mapped[str] = mapped_column(String(100))
    family_name: Mapped[str] = mapped_column(String(100))
    date_of_birth: Mapped[date] = mapped_column(Date)
    postcode: Mapped[str] = mapped_column(String(8))
    form: Mapped[dict[str, Any]] = mapped_column(JSON)


class IdempotencyRecord(Base):
    """A submission's Idempotency-Key and the first answer to it, so a retry gets that answer."""

    __tablename__ = "idempotency_record"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    # The response body: register facts and the dsp_id only, never personal data.
    response: Mapped[dict[str, Any]] = mapped_column(JSON)
    entry_id: Mapped[int | None] = mapped_column(
        ForeignKey("register_entry.id", ondelete="CASCADE")
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class PendingReferral(Base):
    """A referral made in the chat, held until the referrer confirms it from their work email
    (or the DSR admin lead accepts it). Its answers are personal data: they are emptied once the
    register holds the person, and deleted with the row when nobody confirms in time."""

    __tablename__ = "pending_referral"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Random, shown in the chat and the email: never derived from personal data.
    reference: Mapped[str] = mapped_column(String(16), unique=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    referral_source: Mapped[str] = mapped_column(String(16))
    answers: Mapped[dict[str, Any]] = mapped_column(JSON)
    email_domain: Mapped[str | None] = mapped_column(String(255))
    # awaiting_confirmation, awaiting_admin, registered, or linked (to an entry already there).
    status: Mapped[str] = mapped_column(String(24), index=True)
    # The action server's token that passed it on; recorded as who made the change.
    submitted_by: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    confirmed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    entry_id: Mapped[int | None] = mapped_column(
        ForeignKey("register_entry.id", ondelete="SET NULL"), default=None
    )

"""Email waiting to be sent, and what happened when it was tried: nothing is lost when the mail
server is down, and every message is sent at most once."""

from datetime import datetime

from sqlalchemy import DateTime, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from dsp_backend.database.core import Base


class OutboxMessage(Base):
    __tablename__ = "outbox_message"

    id: Mapped[int] = mapped_column(primary_key=True)
    # What it is for, e.g. referral_confirmation: the report names kinds, never addresses.
    kind: Mapped[str] = mapped_column(String(40))
    to_address: Mapped[str] = mapped_column(String(320))
    # Never a name, NHS number or date of birth (DESIGN.md, Data protection).
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    # The exception's name only: an SMTP error can repeat the address or the message.
    last_error: Mapped[str | None] = mapped_column(String(100), default=None)

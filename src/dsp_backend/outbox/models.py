"""Email waiting to be sent, and what happened when it was tried: nothing is lost when the mail
server is down, and every message is sent at most once."""

from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, LargeBinary, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dsp_backend.database.core import Base


class OutboxMessage(Base):
    __tablename__ = "outbox_message"

    id: Mapped[int] = mapped_column(primary_key=True)
    # What it is for, e.g. referral_confirmation: the report names kinds, never addresses.
    kind: Mapped[str] = mapped_column(String(40))
    # What it is about, as the report shows it: a dsp_id or a referral reference, never a name.
    about: Mapped[str | None] = mapped_column(String(32), default=None, index=True)
    to_address: Mapped[str] = mapped_column(String(320))
    # Never a name, NHS number or date of birth (DESIGN.md, Data protection).
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    # A body that must not outlive its sending (a document's password) is emptied once sent.
    erase_once_sent: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    # The exception's name only: an SMTP error can repeat the address or the message.
    last_error: Mapped[str | None] = mapped_column(String(100), default=None)

    attachments: Mapped[list["OutboxAttachment"]] = relationship(
        order_by="OutboxAttachment.id", cascade="all, delete-orphan"
    )


class OutboxAttachment(Base):
    """A file sent with a message; deleted once the message is sent (it is usually the referral,
    which the register keeps anyway)."""

    __tablename__ = "outbox_attachment"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(
        ForeignKey("outbox_message.id", ondelete="CASCADE"), index=True
    )
    filename: Mapped[str] = mapped_column(String(100))
    content_type: Mapped[str] = mapped_column(String(100))
    content: Mapped[bytes] = mapped_column(LargeBinary)

"""The outbox: email is queued in the same transaction as what it is about, then sent by SMTP
(host, port, STARTTLS and sender are settings), retried with back-off when sending fails.

Sending needs no request to wait for it: the route that queues a message asks for the queue to
be sent after it answers, and `dsp-backend outbox send` sends whatever is still due.
"""

import logging
import smtplib
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Final

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from dsp_backend.config import Settings
from dsp_backend.database.core import as_utc
from dsp_backend.outbox.models import OutboxMessage

log = logging.getLogger(__name__)

# Minutes to wait after each failed attempt; after the last, the message waits an hour a time.
BACK_OFF_MINUTES: Final = (1, 5, 15, 60)


def enqueue(
    *, db_session: Session, kind: str, to_address: str, subject: str, body: str, now: datetime
) -> OutboxMessage:
    message = OutboxMessage(
        kind=kind,
        to_address=to_address,
        subject=subject,
        body=body,
        created_at=now,
        attempts=0,
        next_attempt_at=now,
    )
    db_session.add(message)
    return message


def _as_email(message: OutboxMessage, settings: Settings) -> EmailMessage:
    email = EmailMessage()
    email["From"] = settings.smtp_sender
    email["To"] = message.to_address
    email["Subject"] = message.subject
    email.set_content(message.body)
    return email


def _send(email: EmailMessage, settings: Settings) -> None:
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=10) as smtp:
        if settings.smtp_starttls:
            smtp.starttls()
        if settings.smtp_username:
            smtp.login(settings.smtp_username, settings.smtp_password)
        smtp.send_message(email)


def _claim(
    db_session: Session, message_id: int, settings: Settings, now: datetime
) -> EmailMessage | None:
    """Takes a due message for this sender before sending it, and commits: one UPDATE ... WHERE
    still due, so of two senders at once (the request's background send and `dsp-backend outbox
    send`, or two requests') only one gets it. The claim counts the attempt and sets the next
    one as if it fails, so a sender that dies while sending leaves it to be tried again later.
    No transaction is open while the mail server is talked to."""
    message = db_session.get(OutboxMessage, message_id, populate_existing=True)
    if message is None:
        return None
    attempts = message.attempts + 1
    wait = BACK_OFF_MINUTES[min(attempts, len(BACK_OFF_MINUTES)) - 1]
    result = db_session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.id == message_id,
            OutboxMessage.attempts == message.attempts,
            OutboxMessage.sent_at.is_(None),
            OutboxMessage.next_attempt_at <= now,
        )
        .values(attempts=attempts, next_attempt_at=as_utc(now) + timedelta(minutes=wait))
        .execution_options(synchronize_session=False)
    )
    if int(getattr(result, "rowcount", 0) or 0) != 1:
        db_session.rollback()
        return None
    db_session.refresh(message)
    email = _as_email(message, settings)
    db_session.commit()
    return email


def send_due(*, db_session: Session, settings: Settings, now: datetime) -> tuple[int, int]:
    """Sends every message that is due; returns (sent, failed). Without an SMTP host nothing is
    tried and everything waits."""
    if not settings.smtp_host:
        return 0, 0
    due = db_session.scalars(
        select(OutboxMessage.id)
        .where(OutboxMessage.sent_at.is_(None), OutboxMessage.next_attempt_at <= now)
        .order_by(OutboxMessage.id)
    ).all()
    db_session.commit()
    sent = failed = 0
    for message_id in due:
        failure: str | None = None
        try:
            email = _claim(db_session, message_id, settings, now)
            if email is None:
                continue  # another sender has it, or has sent it
            _send(email, settings)
        except (OSError, ValueError, smtplib.SMTPException) as error:
            # ValueError: an address or subject that no email header can carry.
            failure = type(error).__name__
        message = db_session.get(OutboxMessage, message_id)
        assert message is not None
        if failure is None:
            message.sent_at = now
            sent += 1
        else:
            message.last_error = failure
            log.warning("outbox: %s message %s not sent (%s)", message.kind, message_id, failure)
            failed += 1
        # One commit a message: a message sent is marked sent at once.
        db_session.commit()
    return sent, failed

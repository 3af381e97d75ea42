"""The outbox: email is queued in the same transaction as what it is about, then sent by SMTP
(host, port, STARTTLS or TLS, and sender are settings), retried with back-off when sending
fails, and reported (`dsp-backend outbox status`, GET /api/v1/outbox) until it goes.

Sending needs no request to wait for it: the route that queues a message asks for the queue to
be sent after it answers, and `dsp-backend outbox send` sends whatever is still due.
"""

import logging
import smtplib
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Final

from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.orm import Session, selectinload

from dsp_backend.config import Settings, get_settings
from dsp_backend.database.core import as_utc, get_sessionmaker
from dsp_backend.outbox.models import OutboxAttachment, OutboxMessage
from dsp_backend.outbox.schemas import OutboxStatus, UnsentMessage

log = logging.getLogger(__name__)

# Minutes to wait after each failed attempt; after the last, the message waits an hour a time.
BACK_OFF_MINUTES: Final = (1, 5, 15, 60)


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    content: bytes


def enqueue(
    *,
    db_session: Session,
    kind: str,
    to_address: str,
    subject: str,
    body: str,
    now: datetime,
    about: str | None = None,
    attachments: Sequence[Attachment] = (),
    erase_once_sent: bool = False,
) -> OutboxMessage:
    """Queues a message in the caller's transaction: it is sent only if what it is about commits."""
    message = OutboxMessage(
        kind=kind,
        about=about,
        to_address=to_address,
        subject=subject,
        body=body,
        erase_once_sent=erase_once_sent,
        created_at=now,
        attempts=0,
        next_attempt_at=now,
        attachments=[
            OutboxAttachment(filename=a.filename, content_type=a.content_type, content=a.content)
            for a in attachments
        ],
    )
    db_session.add(message)
    return message


def _as_email(message: OutboxMessage, settings: Settings) -> EmailMessage:
    email = EmailMessage()
    email["From"] = settings.smtp_sender
    email["To"] = message.to_address
    email["Subject"] = message.subject
    email.set_content(message.body)
    for attachment in message.attachments:
        maintype, _, subtype = attachment.content_type.partition("/")
        email.add_attachment(
            attachment.content, maintype=maintype, subtype=subtype, filename=attachment.filename
        )
    return email


def _send(email: EmailMessage, settings: Settings) -> None:
    # The server's certificate is checked against the system's authorities (smtplib's own
    # default checks nothing).
    context = ssl.create_default_context()
    connection = (
        smtplib.SMTP_SSL(settings.smtp_host, settings.smtp_port, timeout=10, context=context)
        if settings.smtp_tls
        else smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=10)
    )
    with connection as smtp:
        if settings.smtp_starttls and not settings.smtp_tls:
            smtp.starttls(context=context)
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
    message = db_session.get(
        OutboxMessage,
        message_id,
        populate_existing=True,
        options=[selectinload(OutboxMessage.attachments)],
    )
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
            # Sent: the copies of the documents and the passwords it carried are not kept.
            message.attachments.clear()
            if message.erase_once_sent:
                message.body = ""
            sent += 1
        else:
            message.last_error = failure
            log.warning("outbox: %s message %s not sent (%s)", message.kind, message_id, failure)
            failed += 1
        # One commit a message: a message sent is marked sent at once.
        db_session.commit()
    return sent, failed


def send_now() -> None:
    """Sends what is due in a session of its own: a route's background task, run after it has
    answered, so a slow or absent mail server never holds up a request."""
    with get_sessionmaker()() as db_session:
        send_due(db_session=db_session, settings=get_settings(), now=datetime.now(UTC))


# How many unsent messages the report lists, oldest first.
REPORT_LIMIT: Final = 100


def status(*, db_session: Session) -> OutboxStatus:
    """What waits and what keeps failing, by kind and what it is about: never an address, a
    subject or a body, so the report may be shown to whoever runs the service."""
    unsent = OutboxMessage.sent_at.is_(None)

    def count(*where: ColumnElement[bool]) -> int:
        return int(
            db_session.scalar(select(func.count()).select_from(OutboxMessage).where(*where)) or 0
        )

    rows = db_session.scalars(
        select(OutboxMessage).where(unsent).order_by(OutboxMessage.id).limit(REPORT_LIMIT)
    ).all()
    return OutboxStatus(
        sent=count(OutboxMessage.sent_at.is_not(None)),
        waiting=count(unsent),
        failing=count(unsent, OutboxMessage.attempts > 0),
        unsent=[UnsentMessage.model_validate(row) for row in rows],
    )

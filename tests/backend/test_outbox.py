"""The outbox sends email by SMTP (a real aiosmtpd server here, read back from its handler),
plain or over TLS, with attachments; keeps what could not be sent, reports it and retries it
with back-off, and sends each message once."""

import shutil
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import delete
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from dsp_backend.config import Settings, get_settings
from dsp_backend.outbox import service as outbox
from dsp_backend.outbox.models import OutboxMessage

TO = "sam.referrer@nhs.net"
SUBJECT = "Please confirm referral REF-2345-6789"
BODY = "Open this link and press Confirm:\nhttp://localhost:8000/referrals/confirm/abc"


class Mailbox:
    """An aiosmtpd handler that keeps what it receives; `delay` makes each delivery slow."""

    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay
        self.received: list[tuple[list[str], EmailMessage]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        if self.delay:
            time.sleep(self.delay)  # blocks the server's loop: deliveries overlap at the client
        parsed = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        self.received.append((list(envelope.rcpt_tos), parsed))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class SmtpServer:
    def __init__(self, port: int, delay: float = 0.0) -> None:
        self.port = port
        self.mailbox = Mailbox(delay)
        self.controller = Controller(self.mailbox, hostname="127.0.0.1", port=port)

    def __enter__(self) -> Mailbox:
        self.controller.start()
        return self.mailbox

    def __exit__(self, *_: object) -> None:
        self.controller.stop()


@pytest.fixture
def port() -> int:
    return free_port()


def settings_for(port: int, host: str = "127.0.0.1") -> Settings:
    return get_settings().model_copy(
        update={"smtp_host": host, "smtp_port": port, "smtp_starttls": False}
    )


@pytest.fixture
def now() -> datetime:
    return datetime.now(UTC)


def queue(db_session: Session, now: datetime, to: str = TO) -> OutboxMessage:
    message = outbox.enqueue(
        db_session=db_session,
        kind="referral_confirmation",
        to_address=to,
        subject=SUBJECT,
        body=BODY,
        now=now,
    )
    db_session.commit()
    return message


def aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def test_send_due_delivers_the_message_by_smtp(
    db_session: Session, port: int, now: datetime
) -> None:
    message = queue(db_session, now)
    settings = settings_for(port)
    with SmtpServer(port) as mailbox:
        assert outbox.send_due(db_session=db_session, settings=settings, now=now) == (1, 0)
    ((recipients, email),) = mailbox.received
    assert recipients == [TO]
    assert email["To"] == TO
    assert email["From"] == settings.smtp_sender
    assert email["Subject"] == SUBJECT
    assert email.get_content().replace("\r\n", "\n").strip() == BODY
    db_session.refresh(message)
    assert message.sent_at is not None and message.attempts == 1
    assert message.last_error is None


def test_with_the_server_down_the_message_is_kept_and_retried_with_back_off(
    db_session: Session, port: int, now: datetime
) -> None:
    """Nothing is lost when the mail server is down: the message waits, each failure counted,
    the next try later each time; the error kept is an exception's name, never its text (an
    SMTP error can repeat the address or the message)."""
    message = queue(db_session, now)
    settings = settings_for(port)  # nothing listens there yet

    assert outbox.send_due(db_session=db_session, settings=settings, now=now) == (0, 1)
    db_session.refresh(message)
    assert message.sent_at is None and message.attempts == 1
    first_wait = aware(message.next_attempt_at) - now
    assert first_wait == timedelta(minutes=outbox.BACK_OFF_MINUTES[0])
    assert message.last_error is not None and message.last_error.isidentifier()
    assert message.last_error == "ConnectionRefusedError"
    assert TO not in message.last_error and "127.0.0.1" not in message.last_error

    # Not due yet: not tried again.
    assert outbox.send_due(db_session=db_session, settings=settings, now=now) == (0, 0)
    db_session.refresh(message)
    assert message.attempts == 1

    later = aware(message.next_attempt_at)
    assert outbox.send_due(db_session=db_session, settings=settings, now=later) == (0, 1)
    db_session.refresh(message)
    assert message.attempts == 2
    second_wait = aware(message.next_attempt_at) - later
    assert second_wait == timedelta(minutes=outbox.BACK_OFF_MINUTES[1]) > first_wait

    back = aware(message.next_attempt_at)
    with SmtpServer(port) as mailbox:
        assert outbox.send_due(db_session=db_session, settings=settings, now=back) == (1, 0)
        # Sent once: the next round finds nothing to send, even long after.
        much_later = back + timedelta(days=1)
        assert outbox.send_due(db_session=db_session, settings=settings, now=much_later) == (0, 0)
    assert len(mailbox.received) == 1
    assert mailbox.received[0][1]["Subject"] == SUBJECT
    db_session.refresh(message)
    assert message.sent_at is not None and message.attempts == 3


def test_the_back_off_stops_growing_at_an_hour(
    db_session: Session, port: int, now: datetime
) -> None:
    message = queue(db_session, now)
    settings = settings_for(port)
    at = now
    waits = []
    for _ in range(len(outbox.BACK_OFF_MINUTES) + 2):
        assert outbox.send_due(db_session=db_session, settings=settings, now=at) == (0, 1)
        db_session.refresh(message)
        waits.append(aware(message.next_attempt_at) - at)
        at = aware(message.next_attempt_at)
    assert waits[-1] == waits[-2] == timedelta(minutes=60)
    assert message.attempts == len(waits)


def test_a_message_no_email_header_can_carry_does_not_stop_the_others(
    db_session: Session, port: int, now: datetime
) -> None:
    """Found by this suite: an address with a line break made building the email raise a
    ValueError the loop did not catch, so every round stopped at it and nothing after it was
    sent. Now it is kept with the error's name, and the rest go."""
    bad = queue(db_session, now, to="sam@nhs.net\nBcc: someone@example.com")
    good = queue(db_session, now)
    with SmtpServer(port) as mailbox:
        assert outbox.send_due(db_session=db_session, settings=settings_for(port), now=now) == (
            1,
            1,
        )
    assert [recipients for recipients, _ in mailbox.received] == [[TO]]
    db_session.refresh(bad)
    db_session.refresh(good)
    assert bad.sent_at is None and bad.last_error == "ValueError" and bad.attempts == 1
    assert good.sent_at is not None


def test_without_an_smtp_host_nothing_is_tried(
    db_session: Session, port: int, now: datetime
) -> None:
    message = queue(db_session, now)
    with SmtpServer(port) as mailbox:
        sent = outbox.send_due(db_session=db_session, settings=settings_for(port, host=""), now=now)
    assert sent == (0, 0)
    assert mailbox.received == []
    db_session.refresh(message)
    assert message.attempts == 0 and message.sent_at is None and message.last_error is None
    assert aware(message.next_attempt_at) == now


@pytest.fixture
def committed(engine: Engine) -> Iterator[list[int]]:
    """Ids of messages a test commits outside the rolled-back fixture session; deleted after."""
    ids: list[int] = []
    yield ids
    with Session(engine) as cleanup:
        cleanup.execute(delete(OutboxMessage).where(OutboxMessage.id.in_(ids)))
        cleanup.commit()


def test_two_senders_at_once_send_each_message_once(
    engine: Engine, committed: list[int], port: int, now: datetime
) -> None:
    """ "Every message is sent at most once": the request's background send and `dsp-backend
    outbox send` (or two requests' background sends) may run at the same moment. Found by this
    suite: both read the same due message and both sent it."""
    with Session(engine) as setup:
        message = outbox.enqueue(
            db_session=setup, kind="test", to_address=TO, subject=SUBJECT, body=BODY, now=now
        )
        setup.commit()
        committed.append(message.id)
    settings = settings_for(port)
    results: list[tuple[int, int]] = []
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def send() -> None:
        try:
            with Session(engine) as db_session:
                start.wait()
                results.append(outbox.send_due(db_session=db_session, settings=settings, now=now))
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    with SmtpServer(port, delay=0.5) as mailbox:
        threads = [threading.Thread(target=send) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    assert errors == []
    assert len(mailbox.received) == 1
    assert sorted(results) == [(0, 0), (1, 0)]


# --- attachments, TLS and the report (issue 11: "email, for real") ---


def test_an_attachment_goes_with_its_message_and_is_not_kept_once_sent(
    db_session: Session, port: int, now: datetime
) -> None:
    document = outbox.Attachment("referral-DSP-2345-6789.pdf", "application/pdf", b"%PDF-1.7 x")
    message = outbox.enqueue(
        db_session=db_session,
        kind="mam_invitation",
        about="DSP-2345-6789",
        to_address=TO,
        subject="Multi-agency meeting for DSP-2345-6789",
        body="The referral is attached.",
        attachments=[document],
        now=now,
    )
    password = outbox.enqueue(
        db_session=db_session,
        kind="mam_password",
        about="DSP-2345-6789",
        to_address=TO,
        subject="Password for the meeting papers for DSP-2345-6789",
        body="The password is abcdEFGH23456789",
        erase_once_sent=True,
        now=now,
    )
    db_session.commit()
    with SmtpServer(port) as mailbox:
        assert outbox.send_due(db_session=db_session, settings=settings_for(port), now=now) == (
            2,
            0,
        )
    (invitation,) = [e for _, e in mailbox.received if "Password" not in e["Subject"]]
    (attached,) = list(invitation.iter_attachments())
    assert attached.get_filename() == document.filename
    assert attached.get_content_type() == "application/pdf"
    assert attached.get_content() == document.content
    db_session.refresh(message)
    db_session.refresh(password)
    assert message.attachments == [] and message.body == "The referral is attached."
    assert password.body == ""  # the password is not kept once it has gone


def _certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1, made by the openssl command line."""
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


@pytest.fixture
def certificate(tmp_path: Path) -> tuple[Path, Path]:
    if shutil.which("openssl") is None:
        pytest.skip("the openssl command line makes the test certificate")
    return _certificate(tmp_path)


class TlsSmtpServer(SmtpServer):
    """The same mailbox behind TLS: STARTTLS required, or TLS from the first byte."""

    def __init__(self, port: int, certificate: tuple[Path, Path], *, implicit: bool) -> None:
        super().__init__(port)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(*certificate)
        tls: dict[str, Any] = (
            {"ssl_context": context}
            if implicit
            else {"tls_context": context, "require_starttls": True}
        )
        self.controller = Controller(self.mailbox, hostname="127.0.0.1", port=port, **tls)


@pytest.mark.parametrize("implicit", [False, True], ids=["starttls", "tls"])
def test_email_goes_over_tls_to_a_server_whose_certificate_is_trusted(
    db_session: Session,
    port: int,
    now: datetime,
    certificate: tuple[Path, Path],
    monkeypatch: pytest.MonkeyPatch,
    implicit: bool,
) -> None:
    """DSP_SMTP_STARTTLS or DSP_SMTP_TLS: the server's certificate is checked, so a server the
    system does not trust gets nothing and the message waits to be retried."""
    message = queue(db_session, now)
    settings = get_settings().model_copy(
        update={
            "smtp_host": "127.0.0.1",
            "smtp_port": port,
            "smtp_starttls": not implicit,
            "smtp_tls": implicit,
        }
    )
    with TlsSmtpServer(port, certificate, implicit=implicit) as mailbox:
        assert outbox.send_due(db_session=db_session, settings=settings, now=now) == (0, 1)
        assert mailbox.received == []
        db_session.refresh(message)
        assert message.last_error == "SSLCertVerificationError"
        # Trusted (as an operator would install their server's authority): sent.
        monkeypatch.setenv("SSL_CERT_FILE", str(certificate[0]))
        later = aware(message.next_attempt_at)
        assert outbox.send_due(db_session=db_session, settings=settings, now=later) == (1, 0)
    assert [email["Subject"] for _, email in mailbox.received] == [SUBJECT]


def test_the_report_counts_sent_waiting_and_failing_without_addresses(
    db_session: Session, port: int, now: datetime
) -> None:
    before = outbox.status(db_session=db_session)
    failing = queue(db_session, now)
    outbox.send_due(db_session=db_session, settings=settings_for(port), now=now)  # refused
    waiting = queue(db_session, now + timedelta(minutes=30))
    report = outbox.status(db_session=db_session)
    assert (report.waiting, report.failing) == (before.waiting + 2, before.failing + 1)
    rows = {row.id: row for row in report.unsent}
    assert rows[failing.id].attempts == 1
    assert rows[failing.id].last_error == "ConnectionRefusedError"
    assert rows[waiting.id].attempts == 0
    assert TO not in report.model_dump_json() and SUBJECT not in report.model_dump_json()
    with SmtpServer(port) as _mailbox:
        outbox.send_due(
            db_session=db_session, settings=settings_for(port), now=now + timedelta(hours=2)
        )
    report = outbox.status(db_session=db_session)
    assert report.sent == before.sent + 2 and report.failing == before.failing

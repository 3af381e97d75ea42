"""MAM invitations and notifications, read from the mailbox of a real SMTP server (aiosmtpd):
professionals get the referral as an AES-256 encrypted PDF that opens with a password sent in
an email of its own; the family gets its own email with the joining details, the pre-meeting
and the roles of who will come, never a professional's address; no subject holds a name, NHS
number or date of birth; a send that fails is retried and lands once (001 s10, s12)."""

import io
import re
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from typing import Any

import pikepdf
import pytest
from fastapi.testclient import TestClient
from mam_factory import FAMILY, LINK, MEETINGS, PROFESSIONALS, Headers, TokenFor, arrange, refer
from pikepdf.models.encryption import EncryptionMethod
from sqlalchemy import delete, func, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from test_outbox import SmtpServer, free_port, settings_for
from test_referrals_factory import referral_body, self_referral_body

from dsp_backend import cli
from dsp_backend.audit.models import AuditEvent
from dsp_backend.auth.schemas import Actor, Role
from dsp_backend.config import get_settings
from dsp_backend.database.core import get_engine, get_sessionmaker
from dsp_backend.meetings import invitations, notifications
from dsp_backend.meetings import service as mam_service
from dsp_backend.meetings.invitations import PASSWORD_LENGTH, when
from dsp_backend.meetings.schemas import MamCreate, NextSteps
from dsp_backend.outbox import service as outbox
from dsp_backend.outbox.models import OutboxAttachment, OutboxMessage
from dsp_backend.referrals import service as referral_service
from dsp_backend.referrals.models import ReferralPersonal
from dsp_backend.referrals.schemas import ReferralCreate
from dsp_backend.register import service as register_service
from dsp_backend.register.lifecycle import TransitionRefused
from dsp_backend.register.models import RegisterEntry
from dsp_backend.variants import service as variant_service

PASSWORD = re.compile(rf"^([0-9A-Za-z]{{{PASSWORD_LENGTH}}})$", re.MULTILINE)
Received = list[tuple[list[str], EmailMessage]]


@pytest.fixture
def admin(token_for: TokenFor) -> Headers:
    return token_for(Role.dsr_admin)


def body_of(email: EmailMessage) -> str:
    part = email.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content()).replace("\r\n", "\n")


def pdfs_of(email: EmailMessage) -> list[bytes]:
    return [
        part.get_content()
        for part in email.iter_attachments()
        if part.get_content_type() == "application/pdf"
    ]


def personal_words(db_session: Session, dsp_id: str) -> list[str]:
    """What identifies the person, as a subject could show it."""
    personal = db_session.scalar(
        select(ReferralPersonal)
        .join(RegisterEntry, RegisterEntry.id == ReferralPersonal.entry_id)
        .where(RegisterEntry.dsp_id == dsp_id)
    )
    assert personal is not None and personal.nhs_number is not None
    nhs = personal.nhs_number
    born = personal.date_of_birth
    return [
        personal.given_name,
        personal.family_name,
        nhs,
        f"{nhs[:3]} {nhs[3:6]} {nhs[6:]}",
        born.isoformat(),
        born.strftime("%d/%m/%Y"),
        born.strftime("%d %B %Y").lstrip("0"),
    ]


def to(received: Received, address: str) -> list[EmailMessage]:
    return [email for recipients, email in received if address in recipients]


def invite(client: TestClient, admin: Headers, mam_id: int) -> dict[str, Any]:
    response = client.post(f"{MEETINGS}/{mam_id}/invitations", headers=admin)
    assert response.status_code == 200, response.text
    return dict(response.json())


def deliver(db_session: Session, port: int, at: datetime | None = None) -> Received:
    with SmtpServer(port) as mailbox:
        outbox.send_due(
            db_session=db_session, settings=settings_for(port), now=at or datetime.now(UTC)
        )
    return mailbox.received


def test_professionals_get_the_referral_encrypted_and_its_password_apart_001_s10(
    client: TestClient, admin: Headers, token_for: TokenFor, db_session: Session
) -> None:
    dsp_id = refer(client, token_for)
    mam = arrange(client, admin, dsp_id, invitees=PROFESSIONALS, family=[FAMILY])
    assert invite(client, admin, mam["id"]) == {"invited": 3, "without_email": 0}
    received = deliver(db_session, free_port())
    for professional in PROFESSIONALS:
        mine = to(received, professional["email"])
        assert len(mine) == 2, "an invitation and, apart, its password"
        (invitation,) = [email for email in mine if pdfs_of(email)]
        (password_email,) = [email for email in mine if not pdfs_of(email)]
        found = PASSWORD.search(body_of(password_email))
        assert found is not None
        password = found.group(1)
        # The password never travels with the document.
        assert password not in body_of(invitation)
        assert not list(password_email.iter_attachments())
        assert LINK in body_of(invitation) and when(
            datetime.fromisoformat(mam["scheduled_at"])
        ) in body_of(invitation)
        (pdf,) = pdfs_of(invitation)
        with pytest.raises(pikepdf.PasswordError):
            pikepdf.open(io.BytesIO(pdf))
        with pikepdf.open(io.BytesIO(pdf), password=password) as document:
            assert document.is_encrypted
            assert document.encryption.bits == 256  # AES-256 (R6)
            assert document.encryption.stream_method == EncryptionMethod.aesv3
            text = b"".join(page.Contents.read_bytes() for page in document.pages)
        assert dsp_id.encode() in text
        # The referral itself, section by section, for the professionals only.
        assert b"Alex Example" in text
        nhs = personal_words(db_session, dsp_id)[3]
        assert nhs.encode() in text
        for heading in (b"The person", b"The referrer", b"Current situation and concerns"):
            assert heading in text


def test_the_family_gets_its_own_email_with_no_professional_address_001_s10_s12(
    client: TestClient, admin: Headers, token_for: TokenFor, db_session: Session
) -> None:
    dsp_id = refer(client, token_for)
    mam = arrange(client, admin, dsp_id, invitees=PROFESSIONALS, family=[FAMILY])
    invite(client, admin, mam["id"])
    received = deliver(db_session, free_port())
    (family,) = to(received, FAMILY["email"])
    text = body_of(family)
    assert not list(family.iter_attachments())
    # The joining details, the pre-meeting 15 minutes before, the roles of who will come.
    scheduled = datetime.fromisoformat(mam["scheduled_at"])
    assert LINK in text
    assert when(scheduled) in text and when(scheduled - timedelta(minutes=15)) in text
    assert "Psychiatrist" in text and "Social worker" in text
    # Never a professional's address (nor their names: roles only).
    for professional in PROFESSIONALS:
        assert professional["email"] not in text
        assert professional["name"] not in text
    assert "@" not in text
    # The family's own recipients list holds only the family.
    assert all(recipients == [FAMILY["email"]] for recipients, e in received if e is family)


def test_no_subject_holds_a_name_nhs_number_or_date_of_birth_only_the_dsp_id(
    client: TestClient,
    admin: Headers,
    token_for: TokenFor,
    db_session: Session,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Every email this feature sends: invitations, passwords, the family's, the TCOs' on red,
    the referrer's on removal, an overdue action's escalation."""
    monkeypatch.setenv("DSP_TCO_EMAIL", "tco.team@nhs.net")
    get_settings.cache_clear()
    try:
        dsp_id = refer(client, token_for)
        mam = arrange(client, admin, dsp_id, invitees=PROFESSIONALS, family=[FAMILY], in_days=-0.01)
        invite(client, admin, mam["id"])
        action = {
            "task": "Call Alex's GP",
            "responsible": "Sam",
            "timeline": (date.today() - timedelta(days=1)).isoformat(),
        }
        assert (
            client.post(f"{MEETINGS}/{mam['id']}/actions", json=action, headers=admin).status_code
            == 201
        )
        client.post("/api/v1/actions/escalations", headers=admin)
        response = client.post(
            f"{MEETINGS}/{mam['id']}/next-steps",
            json={"decision": "escalate", "reason": "Alex is worse"},
            headers=admin,
        )
        assert response.status_code == 200, response.text
        removed = client.post(
            f"/api/v1/register/{dsp_id}/transitions",
            json={"to": "removed", "reason": "criteria", "removal_reason": "criteria_not_met"},
            headers=admin,
        )
        assert removed.status_code == 200, removed.text
        notifications.send_register_notifications(
            db_session=db_session,
            actor=notifications.HOUSEKEEPING,
            settings=get_settings(),
            now=datetime.now(UTC),
        )
        db_session.commit()
    finally:
        get_settings.cache_clear()
    received = deliver(db_session, free_port())
    kinds = {
        message.kind
        for message in db_session.scalars(
            select(OutboxMessage).where(OutboxMessage.about == dsp_id)
        )
    }
    assert kinds == {
        "mam_invitation",
        "mam_password",
        "mam_family_invitation",
        "action_overdue",
        "tco_notified",
        "referrer_notified",
    }
    subjects = [email["Subject"] for _, email in received if dsp_id in email["Subject"]]
    assert len(subjects) == len(received) >= 8
    for word in personal_words(db_session, dsp_id):
        assert all(word.lower() not in subject.lower() for subject in subjects), word


def test_invitations_go_once_and_again_to_everyone_when_the_meeting_changes(
    client: TestClient, admin: Headers, token_for: TokenFor, db_session: Session
) -> None:
    dsp_id = refer(client, token_for)
    # The referral's own invitee (Dr Example), and one with no email, invited by hand.
    no_email = {"name": "Kim Teacher", "role": "SENCo"}
    mam = arrange(client, admin, dsp_id, family=[FAMILY])
    assert [i["email"] for i in mam["invitees"]] == ["dr.example@nhs.net", FAMILY["email"]]
    change = {"invitees": [*mam["invitees"][:1], no_email]}
    change["invitees"][0] = {
        k: change["invitees"][0][k] for k in ("name", "role", "email", "phone")
    }
    response = client.patch(f"{MEETINGS}/{mam['id']}", json=change, headers=admin)
    assert response.status_code == 200, response.text
    assert invite(client, admin, mam["id"]) == {"invited": 2, "without_email": 1}
    assert invite(client, admin, mam["id"]) == {"invited": 0, "without_email": 1}
    first = deliver(db_session, free_port())
    later = (datetime.now(UTC) + timedelta(days=10)).isoformat()
    response = client.patch(f"{MEETINGS}/{mam['id']}", json={"scheduled_at": later}, headers=admin)
    assert response.status_code == 200, response.text
    assert invite(client, admin, mam["id"]) == {"invited": 2, "without_email": 1}
    second = deliver(db_session, free_port())
    assert len(first) == len(second) == 3

    def password(received: Received) -> str:
        (email,) = [e for _, e in received if "Password" in e["Subject"]]
        found = PASSWORD.search(body_of(email))
        assert found is not None
        return found.group(1)

    assert password(first) != password(second)  # a fresh password for each round


def test_a_send_that_fails_is_kept_reported_retried_and_lands_once(
    client: TestClient, admin: Headers, token_for: TokenFor, db_session: Session
) -> None:
    dsp_id = refer(client, token_for)
    mam = arrange(client, admin, dsp_id, invitees=PROFESSIONALS[:1], family=[FAMILY])
    invite(client, admin, mam["id"])
    port = free_port()
    now = datetime.now(UTC)
    # The mail server is down: nothing lost, each failure counted and reported.
    sent, failed = outbox.send_due(db_session=db_session, settings=settings_for(port), now=now)
    assert (sent, failed) == (0, 3)
    report = client.get("/api/v1/outbox", headers=admin)
    assert report.status_code == 200, report.text
    mine = [m for m in report.json()["unsent"] if m["about"] == dsp_id]
    assert sorted(m["kind"] for m in mine) == [
        "mam_family_invitation",
        "mam_invitation",
        "mam_password",
    ]
    assert all(m["attempts"] == 1 and m["last_error"] == "ConnectionRefusedError" for m in mine)
    assert report.json()["failing"] >= 3
    assert "@" not in report.text  # the report names kinds and dsp_ids, never addresses
    # Back up, and retried when due: each lands once.
    retry_at = now + timedelta(minutes=outbox.BACK_OFF_MINUTES[0])
    received = deliver(db_session, port, at=retry_at)
    received += deliver(db_session, port, at=retry_at + timedelta(days=1))
    assert sorted(r[0] for r, _ in received) == sorted(
        [PROFESSIONALS[0]["email"], PROFESSIONALS[0]["email"], FAMILY["email"]]
    )
    messages = db_session.scalars(select(OutboxMessage).where(OutboxMessage.about == dsp_id)).all()
    assert all(m.sent_at is not None and m.attempts == 2 for m in messages)
    # Sent: the document's copy and the password are not kept.
    ids = [m.id for m in messages]
    assert (
        db_session.scalar(
            select(func.count())
            .select_from(OutboxAttachment)
            .where(OutboxAttachment.message_id.in_(ids))
        )
        == 0
    )
    assert [m.body for m in messages if m.kind == "mam_password"] == [""]
    report = client.get("/api/v1/outbox", headers=admin).json()
    assert [m for m in report["unsent"] if m["about"] == dsp_id] == []


def test_the_outbox_report_is_for_the_admin_lead_only(
    client: TestClient, token_for: TokenFor
) -> None:
    assert client.get("/api/v1/outbox").status_code == 401
    assert client.get("/api/v1/outbox", headers=token_for(Role.tco)).status_code == 403


# --- the command line, on the test database (SQLite, and PostgreSQL when given) ---


@pytest.fixture
def command_line(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """Points `dsp-backend` at the test database and a mail server's port; what a test commits
    there is deleted afterwards by the dsp_ids it lists."""
    port = free_port()
    env = {
        "DATABASE_URL": engine.url.render_as_string(hide_password=False),
        "DSP_SMTP_HOST": "127.0.0.1",
        "DSP_SMTP_PORT": str(port),
        "DSP_TCO_EMAIL": "tco.team@nhs.net",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    caches = (get_settings, get_engine, get_sessionmaker)
    for cached in caches:
        cached.cache_clear()
    mine: dict[str, str] = {"port": str(port)}
    yield mine
    get_engine().dispose()
    for cached in caches:
        cached.cache_clear()
    with Session(engine) as cleanup:
        dsp_ids = [v for k, v in mine.items() if k.startswith("dsp_id")]
        cleanup.execute(delete(OutboxMessage).where(OutboxMessage.about.in_(dsp_ids)))
        cleanup.execute(delete(AuditEvent).where(AuditEvent.entity_id.in_(dsp_ids)))
        cleanup.execute(delete(RegisterEntry).where(RegisterEntry.dsp_id.in_(dsp_ids)))
        cleanup.commit()


def test_the_command_line_tells_the_tcos_of_a_red_referral_and_reports_what_failed(
    engine: Engine, command_line: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    """A referral straight to the ROAR (001 s10) notifies the TCOs too: `dsp-backend meetings
    notify` sends what the register says must be told, whichever route made the change."""
    red = referral_body(
        full=True, rag="red", criteria=("red.deterioration_despite_mam",), imminent=True
    )
    with Session(engine) as db_session:
        answer = referral_service.submit(
            db_session=db_session,
            actor=Actor(token_id=0, role=Role.referrer),
            referral=ReferralCreate.model_validate(red),
            variant=variant_service.load("llr"),
            now=datetime.now(UTC),
        )
        db_session.commit()
    dsp_id = str(answer.body["dsp_id"])
    command_line["dsp_id"] = dsp_id
    port = int(command_line["port"])

    # The mail server is down: queued, reported as failing, exit 1 for monitoring.
    assert cli.main(["meetings", "notify"]) == 0
    assert "1 notification(s) queued" in capsys.readouterr().out
    assert cli.main(["outbox", "status"]) == 1
    report = capsys.readouterr().out
    assert f"tco_notified about {dsp_id}: 1 attempt(s), last error ConnectionRefusedError" in report
    assert "@" not in report

    # Time passes; the server is back: sent once.
    with Session(engine) as db_session:
        db_session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.about == dsp_id)
            .values(next_attempt_at=datetime.now(UTC) - timedelta(seconds=1))
        )
        db_session.commit()
    with SmtpServer(port) as mailbox:
        assert cli.main(["outbox", "send"]) == 0
        assert cli.main(["meetings", "notify"]) == 0  # nothing left to tell
        assert cli.main(["outbox", "send"]) == 0
    ((recipients, email),) = [r for r in mailbox.received if dsp_id in r[1]["Subject"]]
    assert recipients == ["tco.team@nhs.net"]
    assert email["Subject"] == f"{dsp_id} is rated red: on the Risk of Admission Register"
    assert "Alex" not in email["Subject"]
    assert "referred straight to the ROAR" in body_of(email)
    capsys.readouterr()
    cli.main(["outbox", "status"])
    assert dsp_id not in capsys.readouterr().out


def test_someone_who_referred_themselves_is_told_of_removal_in_easy_read_003(
    client: TestClient,
    admin: Headers,
    db_session: Session,
    variant: Any,
) -> None:
    variant("tees_valley")
    body = self_referral_body(self_contact="robin.family@example.org")
    answer = referral_service.submit(
        db_session=db_session,
        actor=Actor(token_id=0, role=Role.dsr_admin),
        referral=ReferralCreate.model_validate(body),
        variant=variant_service.load("tees_valley"),
        now=datetime.now(UTC),
    )
    dsp_id = str(answer.body["dsp_id"])
    removed = client.post(
        f"/api/v1/register/{dsp_id}/transitions",
        json={"to": "removed", "reason": "not eligible", "removal_reason": "criteria_not_met"},
        headers=admin,
    )
    assert removed.status_code == 200, removed.text
    queued, waiting = notifications.send_register_notifications(
        db_session=db_session,
        actor=notifications.HOUSEKEEPING,
        settings=get_settings(),
        now=datetime.now(UTC),
    )
    assert "referrer_notified" in queued
    (email,) = db_session.scalars(select(OutboxMessage).where(OutboxMessage.about == dsp_id))
    assert email.to_address == "robin.family@example.org"
    assert "Robin" not in email.subject and dsp_id in email.subject
    # Easy read: short sentences, no pathway jargon like "criteria".
    sentences = [s for s in re.split(r"[.\n]+", email.body) if s.strip()]
    assert all(len(s.split()) <= 12 for s in sentences)
    assert "criteria" not in email.body


# --- two at once (PostgreSQL's read committed; SQLite runs them one after the other) ---


@pytest.fixture
def committed_entry(engine: Engine) -> Iterator[dict[str, Any]]:
    """Someone on the register with a MAM arranged, committed outside the rolled-back session
    (the races need transactions of their own); deleted afterwards."""
    now = datetime.now(UTC)
    actor = Actor(token_id=0, role=Role.dsr_admin)
    with Session(engine) as db_session:
        answer = referral_service.submit(
            db_session=db_session,
            actor=actor,
            referral=ReferralCreate.model_validate(referral_body(full=True)),
            variant=variant_service.load("llr"),
            now=now,
        )
        dsp_id = str(answer.body["dsp_id"])
        entry = register_service.get(db_session=db_session, dsp_id=dsp_id)
        assert entry is not None
        mam = mam_service.create(
            db_session=db_session,
            actor=actor,
            entry=entry,
            request=MamCreate.model_validate(
                {
                    "dsp_id": dsp_id,
                    "scheduled_at": (now - timedelta(minutes=30)).isoformat(),
                    "joining_link": LINK,
                    "invitees": PROFESSIONALS,
                    "family": [FAMILY],
                }
            ),
            now=now,
        )
        mam_id = mam.id
        db_session.commit()
    # No session left open: on SQLite it would hold the write lock the races need.
    yield {"dsp_id": dsp_id, "mam_id": mam_id, "actor": actor}
    with Session(engine) as cleanup:
        cleanup.execute(delete(OutboxMessage).where(OutboxMessage.about == dsp_id))
        cleanup.execute(delete(AuditEvent).where(AuditEvent.entity_id == dsp_id))
        cleanup.execute(delete(RegisterEntry).where(RegisterEntry.dsp_id == dsp_id))
        cleanup.commit()


def at_once(engine: Engine, work: Callable[[Session], object]) -> list[object]:
    """Runs `work` in two sessions started together; returns what each returned or raised."""
    results: list[object] = []
    start = threading.Barrier(2)

    def run() -> None:
        with Session(engine) as db_session:
            start.wait()
            try:
                results.append(work(db_session))
                db_session.commit()
            except Exception as error:  # noqa: BLE001 - returned for the test to judge
                db_session.rollback()
                results.append(error)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_two_rounds_of_invitations_at_once_invite_each_person_once(
    engine: Engine, committed_entry: dict[str, Any]
) -> None:
    def send(db_session: Session) -> object:
        mam = mam_service.get(db_session=db_session, mam_id=committed_entry["mam_id"])
        assert mam is not None
        return invitations.send(
            db_session=db_session,
            actor=committed_entry["actor"],
            mam=mam,
            variant=variant_service.load("llr"),
            now=datetime.now(UTC),
        ).invited

    assert sorted(at_once(engine, send)) == [0, 3]  # type: ignore[type-var]
    with Session(engine) as db_session:
        kinds = db_session.scalars(
            select(OutboxMessage.kind).where(OutboxMessage.about == committed_entry["dsp_id"])
        ).all()
    assert sorted(kinds) == sorted(
        ["mam_invitation", "mam_password"] * 2 + ["mam_family_invitation"]
    )


def test_next_steps_recorded_twice_at_once_move_the_register_once(
    engine: Engine, committed_entry: dict[str, Any]
) -> None:
    """A double click on "escalate": one escalation to red, one follow-up, one TCO task."""

    def escalate(db_session: Session) -> object:
        mam = mam_service.get(db_session=db_session, mam_id=committed_entry["mam_id"])
        assert mam is not None
        return mam_service.record_next_steps(
            db_session=db_session,
            actor=committed_entry["actor"],
            mam=mam,
            steps=NextSteps(decision="escalate", reason="worse"),
            variant=variant_service.load("llr"),
            now=datetime.now(UTC),
        )

    results = at_once(engine, escalate)
    refused = [r for r in results if isinstance(r, Exception)]
    assert len(refused) == 1, results
    assert isinstance(refused[0], mam_service.NotAllowed | TransitionRefused), refused
    with Session(engine) as db_session:
        entry = register_service.get(db_session=db_session, dsp_id=committed_entry["dsp_id"])
        assert entry is not None
        assert [t.to_state for t in entry.transitions] == ["amber", "red"]
        assert [t.kind for t in entry.tasks].count("tco_notified") == 1


def test_housekeeping_and_a_request_telling_at_once_tell_the_tcos_once(
    engine: Engine, committed_entry: dict[str, Any]
) -> None:
    now = datetime.now(UTC)
    with Session(engine) as db_session:
        mam = mam_service.get(db_session=db_session, mam_id=committed_entry["mam_id"])
        assert mam is not None
        mam_service.record_next_steps(
            db_session=db_session,
            actor=committed_entry["actor"],
            mam=mam,
            steps=NextSteps(decision="escalate", reason="worse"),
            variant=variant_service.load("llr"),
            now=now,
        )
        db_session.commit()
    settings = get_settings().model_copy(update={"tco_email": "tco.team@nhs.net"})

    def tell(db_session: Session) -> object:
        return notifications.send_register_notifications(
            db_session=db_session, actor=notifications.HOUSEKEEPING, settings=settings, now=now
        )

    results = at_once(engine, tell)
    assert not [r for r in results if isinstance(r, Exception)], results
    with Session(engine) as db_session:
        told = db_session.scalars(
            select(OutboxMessage.kind).where(OutboxMessage.about == committed_entry["dsp_id"])
        ).all()
    assert told == ["tco_notified"]

"""Concurrent writes (finding 2 of the security issue: two referrals of one person at once must
not both be stored), on SQLite and on PostgreSQL: each thread has its own session and commits,
as requests do. What a test commits it deletes again."""

import re
import threading
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete, func, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from test_referrals_factory import new_nhs_number, referral_body

from dsp_backend.audit.models import AuditEvent
from dsp_backend.auth import service as auth_service
from dsp_backend.auth.models import ApiToken
from dsp_backend.auth.schemas import Actor, Role
from dsp_backend.database.core import get_db, make_engine
from dsp_backend.main import create_app
from dsp_backend.outbox.models import OutboxMessage
from dsp_backend.referrals import service as referral_service
from dsp_backend.referrals.models import IdempotencyRecord, PendingReferral, ReferralPersonal
from dsp_backend.referrals.schemas import ReferralCreate
from dsp_backend.register import service as register_service
from dsp_backend.register.models import RegisterEntry
from dsp_backend.variants import service as variant_service

URL = "/api/v1/referrals"
THREADS = 20


@dataclass
class Made:
    """What a test commits, so it can be deleted after."""

    tokens: list[int] = field(default_factory=list)
    nhs_numbers: list[str] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)


@pytest.fixture
def made(engine: Engine) -> Iterator[Made]:
    made = Made()
    yield made
    with Session(engine) as cleanup:
        entries = select(ReferralPersonal.entry_id).where(
            ReferralPersonal.nhs_number.in_(made.nhs_numbers)
        )
        held = select(PendingReferral).where(PendingReferral.submitted_by.in_(made.tokens))
        references = [pending.reference for pending in cleanup.scalars(held)]
        subjects = [f"Please confirm referral {reference}" for reference in references]
        cleanup.execute(delete(OutboxMessage).where(OutboxMessage.subject.in_(subjects)))
        cleanup.execute(delete(PendingReferral).where(PendingReferral.reference.in_(references)))
        cleanup.execute(delete(RegisterEntry).where(RegisterEntry.id.in_(entries)))
        cleanup.execute(delete(IdempotencyRecord).where(IdempotencyRecord.key.in_(made.keys)))
        refs = [f"token:{token}" for token in made.tokens]
        cleanup.execute(delete(AuditEvent).where(AuditEvent.actor.in_(refs)))
        cleanup.execute(delete(ApiToken).where(ApiToken.id.in_(made.tokens)))
        cleanup.commit()


def token(engine: Engine, made: Made, role: Role) -> tuple[Actor, str]:
    with Session(engine) as db_session:
        row, secret = auth_service.create(db_session=db_session, role=role)
        db_session.commit()
        made.tokens.append(row.id)
        return Actor(token_id=row.id, role=role), secret


def at_once(count: int, work: Callable[[int], Any]) -> tuple[list[Any], list[BaseException]]:
    """Runs work(i) in `count` threads released together; their results and their exceptions."""
    start = threading.Barrier(count)
    results: list[Any] = []
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            start.wait()
            results.append(work(i))
        except BaseException as error:  # noqa: BLE001 - every failure is reported
            errors.append(error)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results, errors


def active_entries(engine: Engine, nhs_number: str) -> int:
    with Session(engine) as db_session:
        return (
            db_session.scalar(
                select(func.count())
                .select_from(RegisterEntry)
                .join(ReferralPersonal, ReferralPersonal.entry_id == RegisterEntry.id)
                .where(
                    ReferralPersonal.nhs_number == nhs_number, RegisterEntry.removed_at.is_(None)
                )
            )
            or 0
        )


def submit(engine: Engine, actor: Actor, body: dict[str, Any], key: str | None = None) -> int:
    """One referral as a request makes it: its own session, committed; the status it answers."""
    variant = variant_service.load("llr")
    with Session(engine) as db_session:
        try:
            answer = referral_service.submit(
                db_session=db_session,
                actor=actor,
                referral=ReferralCreate.model_validate(body),
                variant=variant,
                now=datetime.now(UTC),
                idempotency_key=key,
            )
        except referral_service.Refused as refused:
            db_session.rollback()
            return refused.status_code
        db_session.commit()
        return answer.status_code


def test_twenty_concurrent_referrals_of_one_person_store_one_entry_finding_2(
    engine: Engine, made: Made
) -> None:
    """Finding 2 of the security issue: the check "already on the register?" and the insert were
    two steps, so two referrals at once could both pass the check. The unique active NHS number
    makes the second insert fail, and that is answered 409, never a 500."""
    actor, _ = token(engine, made, Role.referrer)
    nhs_number = new_nhs_number()
    made.nhs_numbers.append(nhs_number)
    body = referral_body(nhs_number=nhs_number)

    statuses, errors = at_once(THREADS, lambda _: submit(engine, actor, body))
    assert errors == []
    assert Counter(statuses) == {201: 1, 409: THREADS - 1}
    assert active_entries(engine, nhs_number) == 1


def test_once_removed_the_person_can_be_referred_again_finding_2(
    engine: Engine, made: Made
) -> None:
    """The unique NHS number holds only while the person is on the pathway (001 s8: removal)."""
    actor, _ = token(engine, made, Role.referrer)
    admin, _ = token(engine, made, Role.dsr_admin)
    nhs_number = new_nhs_number()
    made.nhs_numbers.append(nhs_number)
    body = referral_body(nhs_number=nhs_number)
    assert submit(engine, actor, body) == 201
    assert submit(engine, actor, body) == 409

    variant = variant_service.load("llr")
    with Session(engine) as db_session:
        entry = register_service.get_by_nhs_number(
            db_session=db_session, nhs_number=nhs_number, active_only=True
        )
        assert entry is not None
        register_service.transition(
            db_session=db_session,
            actor=admin,
            entry=entry,
            to="removed",
            reason="Criteria no longer met (test).",
            removal_reason="criteria_not_met",
            variant=variant,
            now=datetime.now(UTC),
        )
        db_session.commit()
    assert active_entries(engine, nhs_number) == 0

    statuses, errors = at_once(THREADS // 2, lambda _: submit(engine, actor, body))
    assert errors == []
    assert Counter(statuses) == {201: 1, 409: THREADS // 2 - 1}
    assert active_entries(engine, nhs_number) == 1


def test_concurrent_retries_with_one_idempotency_key_get_the_first_answer_finding_2(
    engine: Engine, made: Made
) -> None:
    actor, _ = token(engine, made, Role.referrer)
    nhs_number = new_nhs_number()
    made.nhs_numbers.append(nhs_number)
    key = f"race-{uuid.uuid4()}"
    made.keys.append(key)
    body = referral_body(nhs_number=nhs_number)
    statuses, errors = at_once(10, lambda _: submit(engine, actor, body, key))
    assert errors == []
    assert set(statuses) == {201}
    assert active_entries(engine, nhs_number) == 1


@pytest.fixture
def app_on(engine: Engine) -> Callable[[], TestClient]:
    """TestClients whose requests each get their own session on `engine`, as in production
    (not the rolled-back fixture session)."""
    app = create_app()

    def own_session() -> Iterator[Session]:
        with Session(engine, expire_on_commit=False) as db_session:
            yield db_session

    app.dependency_overrides[get_db] = own_session
    return lambda: TestClient(app)


def test_concurrent_referrals_through_the_api_answer_201_once_and_409_never_500_finding_2(
    engine: Engine, made: Made, app_on: Callable[[], TestClient]
) -> None:
    _, secret = token(engine, made, Role.referrer)
    nhs_number = new_nhs_number()
    made.nhs_numbers.append(nhs_number)
    body = referral_body(nhs_number=nhs_number)
    headers = {"Authorization": f"Bearer {secret}"}
    statuses, errors = at_once(
        10, lambda _: app_on().post(URL, json=body, headers=headers).status_code
    )
    assert errors == []
    assert Counter(statuses) == {201: 1, 409: 9}
    assert active_entries(engine, nhs_number) == 1


def test_concurrent_chat_retries_with_one_key_hold_the_referral_once(
    engine: Engine, made: Made, app_on: Callable[[], TestClient]
) -> None:
    """The action server retries a referral whose answer it did not get, perhaps while the first
    is still being handled. Found by this suite: the second insert of the key was a 500."""
    _, secret = token(engine, made, Role.action_server)
    key = f"chat-race-{uuid.uuid4()}"
    made.keys.append(key)
    headers = {"Authorization": f"Bearer {secret}", "Idempotency-Key": key}
    body = referral_body()
    responses, errors = at_once(8, lambda _: app_on().post(URL, json=body, headers=headers))
    assert errors == []
    assert {r.status_code for r in responses} == {202}
    assert len({r.text for r in responses}) == 1
    with Session(engine) as db_session:
        held = db_session.scalar(
            select(func.count())
            .select_from(PendingReferral)
            .where(PendingReferral.reference == responses[0].json()["reference"])
        )
        assert held == 1
        others = db_session.scalar(
            select(func.count())
            .select_from(PendingReferral)
            .where(PendingReferral.submitted_by == made.tokens[-1])
        )
        assert others == 1


def test_two_presses_of_confirm_at_once_confirm_once(
    engine: Engine, made: Made, app_on: Callable[[], TestClient]
) -> None:
    """A double click on Confirm, or the link open in two tabs: one confirmation, one entry."""
    _, secret = token(engine, made, Role.action_server)
    nhs_number = new_nhs_number()
    made.nhs_numbers.append(nhs_number)
    headers = {"Authorization": f"Bearer {secret}"}
    received = app_on().post(URL, json=referral_body(nhs_number=nhs_number), headers=headers)
    assert received.status_code == 202
    reference = received.json()["reference"]
    with Session(engine) as db_session:
        body = db_session.scalar(
            select(OutboxMessage.body).where(OutboxMessage.subject.contains(reference))
        )
    assert body is not None
    found = re.search(r"/referrals/confirm/([A-Za-z0-9_-]+)", body)
    assert found is not None
    link = f"/referrals/confirm/{found.group(1)}"
    responses, errors = at_once(6, lambda _: app_on().post(link).status_code)
    assert errors == []
    assert Counter(responses) == {200: 1, 404: 5}
    assert active_entries(engine, nhs_number) == 1
    with Session(engine) as db_session:
        status = db_session.scalar(
            select(PendingReferral.status).where(PendingReferral.reference == reference)
        )
    assert status == "registered"


def test_a_database_error_never_shows_the_nhs_number_hide_parameters(
    engine: Engine, made: Made
) -> None:
    """DESIGN.md, Data protection: nothing person-identifiable in logs. An IntegrityError's text
    is what a log shows: make_engine's hide_parameters keeps the statement's values out of it,
    and (found by this suite) PostgreSQL's DETAIL line, which repeats the key ("Key
    (active_nhs_number)=(...) already exists"), is dropped."""
    actor, _ = token(engine, made, Role.referrer)
    first, second = new_nhs_number(), new_nhs_number()
    made.nhs_numbers.extend([first, second])
    assert submit(engine, actor, referral_body(nhs_number=first)) == 201
    assert submit(engine, actor, referral_body(nhs_number=second)) == 201
    same = make_engine(engine.url.render_as_string(hide_password=False))
    try:
        with Session(same) as db_session:
            personal = db_session.scalar(
                select(ReferralPersonal).where(ReferralPersonal.nhs_number == second)
            )
            assert personal is not None
            personal.active_nhs_number = first
            with pytest.raises(IntegrityError) as raised:
                db_session.flush()
            db_session.rollback()
    finally:
        same.dispose()
    text = str(raised.value)
    assert "active_nhs_number" in text  # the constraint is named, so the log still helps
    assert "parameters hidden" in text
    assert first not in text and second not in text
    assert first not in str(raised.value.orig)

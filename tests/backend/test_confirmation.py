"""A referral made in the chat counts only once the referrer confirms it (DESIGN.md, Data
protection): held with a random reference, confirmed from a link sent to the referrer's work
email, and the chat is told only "received", never whether the person is on a register."""

import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from test_referrals_factory import new_nhs_number, referral_body, self_referral_body

from dsp_backend.auth.schemas import Actor, Role
from dsp_backend.config import get_settings
from dsp_backend.outbox.models import OutboxMessage
from dsp_backend.referrals import confirmation
from dsp_backend.referrals.models import PendingReferral
from dsp_backend.referrals.schemas import ReferralCreate
from dsp_backend.register.models import RegisterEntry
from dsp_backend.variants import service as variant_service

URL = "/api/v1/referrals"
PENDING = "/api/v1/referrals/pending"
REFERENCE = re.compile(
    r"^REF-[23456789ABCDEFGHJKMNPQRSTWXYZ]{4}-[23456789ABCDEFGHJKMNPQRSTWXYZ]{4}$"
)
LINK = re.compile(r"/referrals/confirm/([A-Za-z0-9_-]{20,100})")
Headers = dict[str, str]
TokenFor = Callable[[Role], Headers]


@pytest.fixture
def chat(token_for: TokenFor) -> Headers:
    return token_for(Role.action_server)


@pytest.fixture
def admin(token_for: TokenFor) -> Headers:
    return token_for(Role.dsr_admin)


def count(db_session: Session, model: type[Any]) -> int:
    return db_session.scalar(select(func.count()).select_from(model)) or 0


def received(client: TestClient, headers: Headers, body: dict[str, Any]) -> dict[str, Any]:
    response = client.post(URL, json=body, headers=headers)
    assert response.status_code == 202, response.text
    return dict(response.json())


def pending(db_session: Session, reference: str) -> PendingReferral:
    row = db_session.scalar(select(PendingReferral).where(PendingReferral.reference == reference))
    assert row is not None
    db_session.refresh(row)
    return row


def email_about(db_session: Session, reference: str) -> OutboxMessage:
    (message,) = db_session.scalars(
        select(OutboxMessage).where(OutboxMessage.subject.contains(reference))
    ).all()
    return message


def token_in(message: OutboxMessage) -> str:
    found = LINK.search(message.body)
    assert found is not None, "the email holds the confirmation link"
    return found.group(1)


def personal_values(body: dict[str, Any]) -> list[str]:
    answers = body["answers"]
    name = answers["person_name"]
    return [
        name["given"],
        name["family"],
        answers["nhs_number"],
        answers["date_of_birth"],
        answers["postcode"],
    ]


# --- the chat's referral is held, and the referrer confirms it ---


def test_a_chat_referral_is_received_and_nothing_goes_on_the_register_design_data_protection(
    client: TestClient, chat: Headers, db_session: Session
) -> None:
    """DESIGN.md, Data protection: the chat "cannot write to the register on its own word"."""
    before = count(db_session, RegisterEntry)
    body = referral_body()
    answer = received(client, chat, body)
    assert set(answer) == {"status", "reference", "confirm_by", "next_steps"}
    assert answer["status"] == "received"
    assert answer["confirm_by"] == "email"
    assert REFERENCE.match(answer["reference"])
    assert count(db_session, RegisterEntry) == before
    held = pending(db_session, answer["reference"])
    assert held.status == "awaiting_confirmation"
    assert held.email_domain == "nhs.net"
    # The answer names nobody: no name, NHS number, date of birth or postcode.
    text = str(answer)
    assert not any(value in text for value in personal_values(body))


def test_the_confirmation_email_names_only_the_reference_design_data_protection(
    client: TestClient, chat: Headers, db_session: Session
) -> None:
    """DESIGN.md: "Nothing person-identifiable appears in logs, email subjects or URLs"."""
    body = referral_body()
    reference = received(client, chat, body)["reference"]
    message = email_about(db_session, reference)
    assert message.to_address == body["answers"]["referrer_email"]
    assert message.kind == "referral_confirmation"
    assert reference in message.subject
    assert message.sent_at is None and message.attempts == 0
    for value in personal_values(body):
        assert value not in message.subject
        assert value not in message.body
    link = f"{get_settings().public_url}/referrals/confirm/{token_in(message)}"
    assert link in message.body
    # The link's URL carries a random token only.
    assert not any(value in link for value in personal_values(body))


def test_get_then_post_of_the_link_from_nhs_net_puts_the_person_on_the_register_once(
    client: TestClient, chat: Headers, db_session: Session
) -> None:
    """DESIGN.md: confirmed from a domain the variant accepts (nhs.net), it counts at once. The
    GET shows a Confirm button and confirms nothing (a link scanner opening it changes nothing);
    the POST confirms."""
    before = count(db_session, RegisterEntry)
    reference = received(client, chat, referral_body())["reference"]
    token = token_in(email_about(db_session, reference))

    page = client.get(f"/referrals/confirm/{token}")
    assert page.status_code == 200
    assert "Confirm the referral" in page.text and reference in page.text
    assert 'method="post"' in page.text
    assert pending(db_session, reference).status == "awaiting_confirmation"
    assert count(db_session, RegisterEntry) == before

    confirmed = client.post(f"/referrals/confirm/{token}")
    assert confirmed.status_code == 200, confirmed.text
    assert "is confirmed" in confirmed.text
    assert count(db_session, RegisterEntry) == before + 1
    held = pending(db_session, reference)
    assert held.status == "registered" and held.entry_id is not None
    assert held.confirmed_at is not None
    # The register holds the person now; the held copy of their details is emptied.
    assert held.answers == {}


def test_a_used_unknown_or_expired_link_is_a_404_page_and_changes_nothing(
    client: TestClient, chat: Headers, db_session: Session
) -> None:
    """A link confirms once (DESIGN.md: the referral counts once the referrer confirms it).
    Found by this suite: a second POST of a used link answered 200 "Thank you" again."""
    reference = received(client, chat, referral_body())["reference"]
    token = token_in(email_about(db_session, reference))
    assert client.post(f"/referrals/confirm/{token}").status_code == 200
    after = count(db_session, RegisterEntry)

    for again in (client.post, client.get):
        used = again(f"/referrals/confirm/{token}")
        assert used.status_code == 404
        assert "expired or has already been used" in used.text
        assert 'method="post"' not in used.text
    unknown = "x" * 43
    assert client.get(f"/referrals/confirm/{unknown}").status_code == 404
    assert client.post(f"/referrals/confirm/{unknown}").status_code == 404
    assert count(db_session, RegisterEntry) == after

    late = received(client, chat, referral_body())["reference"]
    late_token = token_in(email_about(db_session, late))
    held = pending(db_session, late)
    held.expires_at = datetime.now(UTC) - timedelta(minutes=1)
    db_session.commit()
    assert client.get(f"/referrals/confirm/{late_token}").status_code == 404
    assert client.post(f"/referrals/confirm/{late_token}").status_code == 404
    assert pending(db_session, late).status == "awaiting_confirmation"
    assert count(db_session, RegisterEntry) == after


def test_a_domain_not_accepted_waits_for_the_dsr_admin_lead_who_accepts_it(
    client: TestClient, chat: Headers, admin: Headers, db_session: Session
) -> None:
    """DESIGN.md: "the variant lists the domains accepted at once; others wait for the DSR admin
    lead". A school's address is confirmed, then listed for the admin lead, then accepted."""
    before = count(db_session, RegisterEntry)
    body = referral_body(referrer_kind="education", referrer_email="senco@example-academy.sch.uk")
    reference = received(client, chat, body)["reference"]
    token = token_in(email_about(db_session, reference))
    confirmed = client.post(f"/referrals/confirm/{token}")
    assert confirmed.status_code == 200
    assert "DSR admin lead will check" in confirmed.text
    assert pending(db_session, reference).status == "awaiting_admin"
    assert count(db_session, RegisterEntry) == before

    listed = client.get(PENDING, headers=admin)
    assert listed.status_code == 200
    mine = [p for p in listed.json() if p["reference"] == reference]
    assert len(mine) == 1
    assert (mine[0]["status"], mine[0]["email_domain"]) == (
        "awaiting_admin",
        "example-academy.sch.uk",
    )
    assert mine[0]["dsp_id"] is None

    accepted = client.post(f"{PENDING}/{reference}/accept", headers=admin)
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["status"] == "registered"
    assert accepted.json()["dsp_id"].startswith("DSP-")
    assert count(db_session, RegisterEntry) == before + 1
    # Accepted once: a second accept finds nothing waiting.
    assert client.post(f"{PENDING}/{reference}/accept", headers=admin).status_code == 404
    assert count(db_session, RegisterEntry) == before + 1


def test_only_the_dsr_admin_lead_lists_and_accepts_held_referrals(
    client: TestClient, chat: Headers, token_for: TokenFor
) -> None:
    """DESIGN.md: "others wait for the DSR admin lead"; access is by role (001 section 8)."""
    for role in (Role.action_server, Role.referrer, Role.tco, Role.commissioner):
        headers = token_for(role)
        assert client.get(PENDING, headers=headers).status_code == 403
        assert client.post(f"{PENDING}/REF-2345-6789/accept", headers=headers).status_code == 403
    assert client.get(PENDING).status_code == 401


def test_the_pending_list_holds_no_personal_data_design_data_protection(
    client: TestClient, chat: Headers, admin: Headers, db_session: Session
) -> None:
    body = referral_body(referrer_email="teacher@school.example.org")
    reference = received(client, chat, body)["reference"]
    client.post(f"/referrals/confirm/{token_in(email_about(db_session, reference))}")
    listed = client.get(PENDING, headers=admin)
    assert reference in listed.text
    for value in [*personal_values(body), body["answers"]["referrer_email"], "@"]:
        assert value not in listed.text


def test_answers_that_no_longer_pass_when_confirmed_wait_for_the_admin_lead_not_a_500(
    client: TestClient, admin: Headers, db_session: Session
) -> None:
    """Found by this suite: a referral of a 15-year-old confirmed after their 16th birthday no
    longer passes (a person of 16 or over needs the capacity question answered); the link's
    page then failed with a 500. Now it waits for the DSR admin lead, whose accept says what is
    missing (422) and leaves it waiting."""
    variant = variant_service.load("llr")
    now = datetime.now(UTC)
    made = now - timedelta(days=2)
    yesterday = now.date() - timedelta(days=1)
    birth = yesterday.replace(year=yesterday.year - 16, day=min(yesterday.day, 28))
    if yesterday.day > 28:
        birth = birth.replace(day=yesterday.day)
    body = referral_body(age=15, date_of_birth=birth.isoformat(), consent_capacity=None)
    reference = confirmation.hold(
        db_session=db_session,
        actor=Actor(token_id=1, role=Role.action_server),
        referral=ReferralCreate.model_validate(body),
        variant=variant,
        settings=get_settings(),
        now=made,
    ).reference
    db_session.commit()
    before = count(db_session, RegisterEntry)

    page = client.post(f"/referrals/confirm/{token_in(email_about(db_session, reference))}")
    assert page.status_code == 200
    assert "will check the referral with you" in page.text
    assert "Your email address is not one" not in page.text  # it is: nhs.net
    assert pending(db_session, reference).status == "awaiting_admin"
    assert count(db_session, RegisterEntry) == before

    refused = client.post(f"{PENDING}/{reference}/accept", headers=admin)
    assert refused.status_code == 422
    assert "consent_capacity" in refused.text
    assert birth.isoformat() not in refused.text
    assert pending(db_session, reference).status == "awaiting_admin"
    assert count(db_session, RegisterEntry) == before


# --- no oracle: the chat never learns whether someone is on a register ---


def test_no_oracle_the_answer_is_the_same_for_someone_already_on_the_register_design(
    client: TestClient, chat: Headers, token_for: TokenFor, db_session: Session
) -> None:
    """DESIGN.md: the chat "must never reveal whether a person is on a register ... The referrer
    is told only 'received'"; a referral of someone on it is linked to their entry."""
    on_register = new_nhs_number()
    stored = client.post(
        URL, json=referral_body(nhs_number=on_register), headers=token_for(Role.referrer)
    )
    assert stored.status_code == 201
    before = count(db_session, RegisterEntry)

    known = client.post(URL, json=referral_body(nhs_number=on_register), headers=chat)
    new = client.post(URL, json=referral_body(), headers=chat)
    assert known.status_code == new.status_code == 202
    assert known.headers.keys() == new.headers.keys()
    known_body, new_body = known.json(), new.json()
    assert list(known_body) == list(new_body)
    assert {k: v for k, v in known_body.items() if k != "reference"} == {
        k: v for k, v in new_body.items() if k != "reference"
    }
    assert REFERENCE.match(known_body["reference"]) and REFERENCE.match(new_body["reference"])
    assert count(db_session, RegisterEntry) == before

    known_email = email_about(db_session, known_body["reference"])
    new_email = email_about(db_session, new_body["reference"])
    assert (
        known_email.body.replace(known_body["reference"], "R").split("/confirm/")[0]
        == (new_email.body.replace(new_body["reference"], "R").split("/confirm/")[0])
    )

    pages = []
    for reference, email in (
        (known_body["reference"], known_email),
        (new_body["reference"], new_email),
    ):
        page = client.post(f"/referrals/confirm/{token_in(email)}")
        assert page.status_code == 200
        pages.append(page.text.replace(reference, "R"))
    # Confirming says the same for both; the known person is linked, not added again.
    assert pages[0] == pages[1]
    linked = pending(db_session, known_body["reference"])
    assert linked.status == "linked"
    entry = db_session.get(RegisterEntry, linked.entry_id)
    assert entry is not None and entry.dsp_id == stored.json()["dsp_id"]
    assert pending(db_session, new_body["reference"]).status == "registered"
    assert count(db_session, RegisterEntry) == before + 1  # the new person only


def test_a_linked_referral_is_listed_for_the_admin_lead_with_the_entry_design(
    client: TestClient, chat: Headers, admin: Headers, token_for: TokenFor, db_session: Session
) -> None:
    """DESIGN.md: "a referral for someone already on a register is linked to that entry for the
    admin lead to review"."""
    nhs_number = new_nhs_number()
    dsp_id = client.post(
        URL, json=referral_body(nhs_number=nhs_number), headers=token_for(Role.referrer)
    ).json()["dsp_id"]
    reference = received(client, chat, referral_body(nhs_number=nhs_number))["reference"]
    client.post(f"/referrals/confirm/{token_in(email_about(db_session, reference))}")
    (listed,) = [
        p for p in client.get(PENDING, headers=admin).json() if p["reference"] == reference
    ]
    assert (listed["status"], listed["dsp_id"]) == ("linked", dsp_id)
    # Nothing left to accept: the person is on the register already.
    assert client.post(f"{PENDING}/{reference}/accept", headers=admin).status_code == 404


def test_a_phone_only_self_referral_waits_for_the_coordinator_at_once_003(
    client: TestClient, chat: Headers, db_session: Session, variant: Callable[[str], None]
) -> None:
    """003 (Tees Valley self-referral): a person who gives only a phone number cannot confirm by
    email; the DSR coordinator confirms it with them, so it waits for the admin lead at once."""
    variant("tees_valley")
    outbox_before = count(db_session, OutboxMessage)
    before = count(db_session, RegisterEntry)
    answer = received(client, chat, self_referral_body(self_contact="07700900456"))
    assert answer["confirm_by"] == "coordinator"
    held = pending(db_session, answer["reference"])
    assert held.status == "awaiting_admin" and held.email_domain is None
    assert count(db_session, OutboxMessage) == outbox_before
    assert count(db_session, RegisterEntry) == before


def test_a_self_referral_with_an_email_is_confirmed_by_email_then_waits_for_the_admin_lead(
    client: TestClient, chat: Headers, db_session: Session, variant: Callable[[str], None]
) -> None:
    """003 self-referral with an email: the link goes to it; a personal address is not a
    domain the variant accepts, so the admin lead checks it (DESIGN.md, Data protection)."""
    variant("tees_valley")
    answer = received(client, chat, self_referral_body(self_contact="robin.parent@example.com"))
    assert answer["confirm_by"] == "email"
    message = email_about(db_session, answer["reference"])
    assert message.to_address == "robin.parent@example.com"
    client.post(f"/referrals/confirm/{token_in(message)}")
    assert pending(db_session, answer["reference"]).status == "awaiting_admin"


# --- housekeeping and retries ---


def test_purge_expired_deletes_unconfirmed_referrals_past_their_time_and_keeps_the_rest(
    db_session: Session, chat: Headers
) -> None:
    """DESIGN.md: data are kept only as long as needed; an unconfirmed referral expires, and so
    does one the admin lead did not take up in their review period."""
    variant = variant_service.load("llr")
    actor = Actor(token_id=1, role=Role.action_server)
    now = datetime.now(UTC)
    long_ago = now - timedelta(hours=variant.draft_retention_hours + 1)

    def hold(at: datetime, **answers: Any) -> str:
        # Consent comes before the referral, whatever the hour the test runs at.
        answers.setdefault("consent_date", (at.date() - timedelta(days=1)).isoformat())
        referral = ReferralCreate.model_validate(referral_body(**answers))
        return confirmation.hold(
            db_session=db_session,
            actor=actor,
            referral=referral,
            variant=variant,
            settings=get_settings(),
            now=at,
        ).reference

    expired = hold(long_ago)
    fresh = hold(now)
    waiting = hold(long_ago, referrer_email="teacher@school.example.org")
    stale = hold(long_ago, referrer_email="head@school.example.org")
    db_session.flush()
    # Waiting for the admin lead: kept for their review period, then deleted like the rest.
    for reference, ends in ((waiting, now + timedelta(days=1)), (stale, now - timedelta(days=1))):
        held = pending(db_session, reference)
        held.status, held.expires_at = "awaiting_admin", ends
    db_session.flush()

    assert confirmation.purge_expired(db_session=db_session, now=now) == 2
    db_session.expire_all()
    left = set(db_session.scalars(select(PendingReferral.reference)))
    assert expired not in left and stale not in left
    assert {fresh, waiting} <= left
    assert confirmation.purge_expired(db_session=db_session, now=now) == 0


def test_a_retry_with_the_same_idempotency_key_gets_the_same_202_and_holds_it_once(
    client: TestClient, chat: Headers, db_session: Session
) -> None:
    """A retry after a lost answer (the action server's) gets the first answer back."""
    headers = {**chat, "Idempotency-Key": f"chat-{uuid.uuid4()}"}
    body = referral_body()
    held_before = count(db_session, PendingReferral)
    outbox_before = count(db_session, OutboxMessage)
    first = client.post(URL, json=body, headers=headers)
    second = client.post(URL, json=body, headers=headers)
    assert first.status_code == second.status_code == 202
    assert first.json() == second.json()
    assert count(db_session, PendingReferral) == held_before + 1
    assert count(db_session, OutboxMessage) == outbox_before + 1
    # The same key for another referral is refused, not held.
    other = client.post(URL, json=referral_body(), headers=headers)
    assert other.status_code == 409
    assert count(db_session, PendingReferral) == held_before + 1


def test_a_referrer_token_still_stores_at_once_and_a_second_referral_is_409(
    client: TestClient, token_for: TokenFor, db_session: Session
) -> None:
    """A professional's own token writes to the register (201); someone already on it is 409."""
    referrer = token_for(Role.referrer)
    before = count(db_session, RegisterEntry)
    nhs_number = new_nhs_number()
    assert (
        client.post(URL, json=referral_body(nhs_number=nhs_number), headers=referrer).status_code
        == 201
    )
    again = client.post(URL, json=referral_body(nhs_number=nhs_number), headers=referrer)
    assert again.status_code == 409
    assert count(db_session, RegisterEntry) == before + 1


def test_the_admin_lead_declines_a_held_referral_and_it_is_gone(
    client: TestClient, chat: Headers, token_for: Callable[[Role], Headers], db_session: Session
) -> None:
    body = referral_body(referrer_email="teacher@school.example.org")
    reference = client.post(URL, json=body, headers=chat).json()["reference"]
    held = pending(db_session, reference)
    held.status = "awaiting_admin"
    db_session.flush()
    admin = token_for(Role.dsr_admin)
    assert client.post(f"{URL}/pending/{reference}/decline", headers=admin).status_code == 204
    db_session.expire_all()
    assert reference not in set(db_session.scalars(select(PendingReferral.reference)))
    assert client.post(f"{URL}/pending/{reference}/decline", headers=admin).status_code == 404

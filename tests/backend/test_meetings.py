"""MAM records (001 sections 12 and 13 and the notes templates in its appendices): every section
of the first and subsequent templates round-trips, a section may be not applicable, and the next
steps move the register: follow up -> the next MAM on its date; stood down -> green or removed
(the referrer told); escalate -> red on the ROAR (the TCOs told)."""

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from mam_factory import (
    ACTIONS,
    MEETINGS,
    Headers,
    TokenFor,
    arrange,
    entry,
    every_section,
    hold,
    next_steps,
    refer,
)
from sqlalchemy import select
from sqlalchemy.orm import Session

from dsp_backend.audit.models import AuditEvent
from dsp_backend.auth.schemas import Role
from dsp_backend.config import get_settings
from dsp_backend.database.core import as_utc
from dsp_backend.meetings import service as mam_service
from dsp_backend.outbox.models import OutboxMessage

TCO = "llr.tco.team@nhs.net"

# The sections of the two notes templates in 001's appendices, in their order.
FIRST = [
    "update",
    "physical_health",
    "care_and_support",
    "family_involvement",
    "aspirations",
    "rights_and_legal_frameworks",
    "education",
    "covid_19_impact",
    "safety",
    "least_restrictive_environment",
    "inpatient_recommendations",
    "gaps_in_service",
    "plan_meets_aspirations",
]
# "Please record the outcomes from the existing action plan", then the same sections.
SUBSEQUENT = [
    "actions_completed",
    "actions_successful",
    "aspirations_achieved",
    "additional_support",
    "prevent_recurrence",
    *FIRST,
]


@pytest.fixture
def admin(token_for: TokenFor) -> Headers:
    return token_for(Role.dsr_admin)


@pytest.fixture
def tco_address(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("DSP_TCO_EMAIL", TCO)
    get_settings.cache_clear()
    yield TCO
    get_settings.cache_clear()


def emails(db_session: Session, dsp_id: str) -> list[OutboxMessage]:
    return list(
        db_session.scalars(
            select(OutboxMessage).where(OutboxMessage.about == dsp_id).order_by(OutboxMessage.id)
        )
    )


def held_mam(client: TestClient, admin: Headers, dsp_id: str) -> dict[str, Any]:
    mam = arrange(client, admin, dsp_id)
    return hold(client, admin, mam["id"])


def test_the_templates_name_every_section_of_the_001_notes_templates(
    client: TestClient, admin: Headers
) -> None:
    template = mam_service.notes_template()
    assert [s.key for s in template.for_kind("first")] == FIRST
    assert [s.key for s in template.for_kind("subsequent")] == SUBSEQUENT
    response = client.get(f"{MEETINGS}/template", headers=admin)
    assert response.status_code == 200
    assert [s["key"] for s in response.json()["sections"]] == [s.key for s in template.sections]
    # Shown to professionals: no document codes (DESIGN.md).
    assert "001" not in response.text


@pytest.mark.parametrize("kind", ["first", "subsequent"])
def test_every_section_and_the_header_round_trip(
    client: TestClient, admin: Headers, token_for: TokenFor, kind: str
) -> None:
    dsp_id = refer(client, token_for)
    mam = arrange(client, admin, dsp_id, in_days=-0.01)
    if kind == "subsequent":
        hold(client, admin, mam["id"])
        later = datetime.now(UTC) + timedelta(days=14)
        response = next_steps(
            client, admin, mam["id"], decision="follow_up", next_mam_at=later.isoformat()
        )
        assert response.status_code == 200, response.text
        mam = client.get(f"{MEETINGS}/{response.json()['next_mam_id']}", headers=admin).json()
    assert mam["kind"] == kind
    sections = every_section(kind)
    held_at = datetime.now(UTC).replace(microsecond=0)
    header = {
        "held_at": held_at.isoformat(),
        "chair": "Sam Referrer (community nurse)",
        "note_taker": "DSP admin lead",
        "attendees": [
            {"name": "Sam Referrer", "role": "Community nurse"},
            {"name": "Jo Example", "role": "Mother"},
        ],
    }
    response = client.put(
        f"{MEETINGS}/{mam['id']}/notes", json={**header, "sections": sections}, headers=admin
    )
    assert response.status_code == 200, response.text
    read = client.get(f"{MEETINGS}/{mam['id']}", headers=admin).json()
    assert set(read["sections"]) == set(sections)
    for key, given in sections.items():
        expected = {"text": None, "answer": None, "not_applicable": False, **given}
        assert read["sections"][key] == expected, key
    assert datetime.fromisoformat(read["held_at"]) == held_at
    assert (read["chair"], read["note_taker"]) == (header["chair"], header["note_taker"])
    assert read["attendees"] == header["attendees"]


def test_a_section_may_be_marked_not_applicable_and_then_holds_no_answer(
    client: TestClient, admin: Headers, token_for: TokenFor
) -> None:
    """001 s13: "Some sections may not be relevant ... Please indicate with not applicable"."""
    mam = arrange(client, admin, refer(client, token_for))
    not_applicable = {key: {"not_applicable": True} for key in FIRST}
    response = client.put(
        f"{MEETINGS}/{mam['id']}/notes", json={"sections": not_applicable}, headers=admin
    )
    assert response.status_code == 200, response.text
    read = client.get(f"{MEETINGS}/{mam['id']}", headers=admin).json()
    assert all(
        read["sections"][key] == {"text": None, "answer": None, "not_applicable": True}
        for key in FIRST
    )
    # Answered again later: the answer replaces "not applicable".
    hold(client, admin, mam["id"], education={"text": "Attends school three days a week."})
    read = client.get(f"{MEETINGS}/{mam['id']}", headers=admin).json()
    assert read["sections"]["education"] == {
        "text": "Attends school three days a week.",
        "answer": None,
        "not_applicable": False,
    }
    assert read["sections"]["safety"]["not_applicable"] is True
    both = {"education": {"not_applicable": True, "text": "something"}}
    response = client.put(f"{MEETINGS}/{mam['id']}/notes", json={"sections": both}, headers=admin)
    assert response.status_code == 422
    assert "something" not in response.text


def test_a_section_not_in_this_template_and_a_yes_for_a_written_section_are_refused(
    client: TestClient, admin: Headers, token_for: TokenFor
) -> None:
    mam = arrange(client, admin, refer(client, token_for))
    url = f"{MEETINGS}/{mam['id']}/notes"
    # The review of the existing plan belongs to subsequent MAMs only.
    response = client.put(
        url, json={"sections": {"actions_completed": {"answer": True}}}, headers=admin
    )
    assert response.status_code == 409
    response = client.put(url, json={"sections": {"safety": {"answer": True}}}, headers=admin)
    assert response.status_code == 409
    future = (datetime.now(UTC) + timedelta(hours=2)).isoformat()
    assert client.put(url, json={"held_at": future}, headers=admin).status_code == 409


def test_follow_up_arranges_the_next_mam_on_its_date_and_closes_these_notes(
    client: TestClient, admin: Headers, token_for: TokenFor
) -> None:
    dsp_id = refer(client, token_for)
    first = held_mam(client, admin, dsp_id)
    later = (datetime.now(UTC) + timedelta(days=21)).replace(microsecond=0)
    response = next_steps(
        client, admin, first["id"], decision="follow_up", next_mam_at=later.isoformat()
    )
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["mam"]["next_steps"] == {
        "decision": "follow_up",
        "next_mam_at": result["mam"]["next_steps"]["next_mam_at"],
        "stand_down_to": None,
        "follow_up_required": True,
        "removed_from_register": False,
        "escalated_to_roar": False,
    }
    assert datetime.fromisoformat(result["mam"]["next_steps"]["next_mam_at"]) == later
    # The register: the first MAM is dated, and the person stays amber on the DSR.
    assert result["register"]["first_mam_on"] == date.today().isoformat()
    assert (result["register"]["rag"], result["register"]["register"]) == ("amber", "DSR")
    follow_up = client.get(f"{MEETINGS}/{result['next_mam_id']}", headers=admin).json()
    assert (follow_up["number"], follow_up["kind"]) == (2, "subsequent")
    assert datetime.fromisoformat(follow_up["scheduled_at"]) == later
    # The same people are invited again; the family's pre-meeting is 15 minutes before.
    assert [i["email"] for i in follow_up["invitees"]] == [i["email"] for i in first["invitees"]]
    assert datetime.fromisoformat(follow_up["pre_meeting_at"]) == later - timedelta(minutes=15)
    # On the register: the MAM held (its event), the follow-up due on its date.
    detail = entry(client, admin, dsp_id)
    assert [e["ref"] for e in detail["events"] if e["kind"] == "mam_held"] == [f"mam:{first['id']}"]
    (due,) = [t for t in detail["tasks"] if t["ref"] == f"mam:{follow_up['id']}"]
    assert (due["kind"], due["due_on"], due["closed_at"]) == (
        "follow_up_mam_due",
        later.date().isoformat(),
        None,
    )
    listed = client.get(MEETINGS, params={"dsp_id": dsp_id}, headers=admin).json()
    assert [(m["number"], m["decision"]) for m in listed] == [(1, "follow_up"), (2, None)]
    # The notes are closed once the next steps are recorded.
    closed = client.put(f"{MEETINGS}/{first['id']}/notes", json={"chair": "x"}, headers=admin)
    assert closed.status_code == 409
    again = next_steps(client, admin, first["id"], decision="escalate")
    assert again.status_code == 409


def test_a_follow_up_needs_its_date_and_only_a_follow_up_has_one(
    client: TestClient, admin: Headers, token_for: TokenFor
) -> None:
    mam = held_mam(client, admin, refer(client, token_for))
    assert next_steps(client, admin, mam["id"], decision="follow_up").status_code == 422
    later = (datetime.now(UTC) + timedelta(days=3)).isoformat()
    response = next_steps(client, admin, mam["id"], decision="escalate", next_mam_at=later)
    assert response.status_code == 422
    earlier = (datetime.now(UTC) - timedelta(days=3)).isoformat()
    response = next_steps(client, admin, mam["id"], decision="follow_up", next_mam_at=earlier)
    assert response.status_code == 409


def test_stood_down_steps_down_to_green_where_the_variant_has_a_step_down_000(
    client: TestClient, admin: Headers, token_for: TokenFor, db_session: Session
) -> None:
    dsp_id = refer(client, token_for)
    mam = held_mam(client, admin, dsp_id)
    response = next_steps(client, admin, mam["id"], decision="stand_down")
    assert response.status_code == 200, response.text
    register = response.json()["register"]
    assert (register["rag"], register["register"], register["state"]) == ("green", "DSR", "green")
    assert register["step_down_ends_on"] is not None
    assert response.json()["mam"]["next_steps"]["stand_down_to"] == "green"
    assert emails(db_session, dsp_id) == []  # nobody is removed, so nobody is told


def test_stood_down_and_removed_tells_the_referrer_and_ends_the_open_actions_001_s9_s12(
    client: TestClient, admin: Headers, token_for: TokenFor, db_session: Session
) -> None:
    dsp_id = refer(client, token_for)
    mam = arrange(client, admin, dsp_id)
    action = {
        "task": "Refer to short breaks",
        "responsible": "Pat Smith, social worker",
        "timeline": (date.today() + timedelta(days=30)).isoformat(),
    }
    created = client.post(f"{MEETINGS}/{mam['id']}/actions", json=action, headers=admin)
    assert created.status_code == 201, created.text
    hold(client, admin, mam["id"])
    response = next_steps(client, admin, mam["id"], decision="stand_down", stand_down_to="removed")
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["register"]["state"] == "removed"
    assert result["register"]["removal_reason"] == "stood_down_by_mam"
    assert result["mam"]["next_steps"]["removed_from_register"] is True
    assert result["notified"] == ["referrer_notified"]
    (told,) = emails(db_session, dsp_id)
    assert (told.kind, told.to_address) == ("referrer_notified", "sam.referrer@nhs.net")
    assert told.subject == f"{dsp_id} has been removed from the Dynamic Support Pathway"
    assert "Alex" not in told.body and "Example" not in told.body
    detail = entry(client, admin, dsp_id)
    assert [
        t["closed_at"] is not None for t in detail["tasks"] if t["kind"] == "referrer_notified"
    ] == [True]
    plan = client.get(ACTIONS, params={"dsp_id": dsp_id}, headers=admin).json()
    assert [a["status"] for a in plan] == ["no_longer_needed"]


def test_escalate_puts_the_person_on_the_roar_as_red_and_tells_the_tcos_001_s10(
    client: TestClient,
    admin: Headers,
    token_for: TokenFor,
    db_session: Session,
    tco_address: str,
) -> None:
    dsp_id = refer(client, token_for)
    mam = held_mam(client, admin, dsp_id)
    response = next_steps(
        client, admin, mam["id"], decision="escalate", reason="Deteriorating despite the plan"
    )
    assert response.status_code == 200, response.text
    result = response.json()
    assert (result["register"]["rag"], result["register"]["register"]) == ("red", "ROAR")
    assert result["mam"]["next_steps"]["escalated_to_roar"] is True
    assert result["notified"] == ["tco_notified"] and result["not_notified"] == []
    (told,) = emails(db_session, dsp_id)
    assert (told.kind, told.to_address) == ("tco_notified", tco_address)
    assert told.subject == f"{dsp_id} is rated red: on the Risk of Admission Register"
    assert "Deteriorating despite the plan" in told.body
    detail = entry(client, admin, dsp_id)
    assert detail["transitions"][-1]["reason"] == "MAM 1: Deteriorating despite the plan"
    tco_tasks = [t for t in detail["tasks"] if t["kind"] == "tco_notified"]
    assert tco_tasks and all(t["closed_at"] is not None for t in tco_tasks)


def test_without_a_tco_address_the_notification_waits_on_the_register(
    client: TestClient, admin: Headers, token_for: TokenFor, db_session: Session
) -> None:
    dsp_id = refer(client, token_for)
    mam = held_mam(client, admin, dsp_id)
    result = next_steps(client, admin, mam["id"], decision="escalate").json()
    assert result["not_notified"] == ["tco_notified"] and result["notified"] == []
    assert emails(db_session, dsp_id) == []
    detail = entry(client, admin, dsp_id)
    assert [t["closed_at"] for t in detail["tasks"] if t["kind"] == "tco_notified"] == [None]


def moves(detail: dict[str, Any]) -> list[tuple[Any, ...]]:
    """An entry's rating changes, their times compared as instants (SQLite gives back naive
    UTC, so one read may carry the zone and the next not)."""
    return [
        (t["from_state"], t["to_state"], t["reason"], as_utc(datetime.fromisoformat(t["at"])))
        for t in detail["transitions"]
    ]


def test_a_change_the_register_refuses_changes_nothing(
    client: TestClient, admin: Headers, token_for: TokenFor, db_session: Session
) -> None:
    """Escalating someone already red is refused by the lifecycle: 409, the notes stay open and
    the register and the audit log are as they were."""
    red = {"rag": "red", "criteria": ("red.deterioration_despite_mam",), "imminent": True}
    dsp_id = refer(client, token_for, **red)
    mam = held_mam(client, admin, dsp_id)
    before = entry(client, admin, dsp_id)
    response = next_steps(client, admin, mam["id"], decision="escalate")
    assert response.status_code == 409, response.text
    assert "already red" in response.json()["detail"]
    read = client.get(f"{MEETINGS}/{mam['id']}", headers=admin).json()
    assert read["completed_at"] is None and read["next_steps"] is None
    after = entry(client, admin, dsp_id)
    assert moves(after) == moves(before)
    assert after["first_mam_on"] is None
    actions = db_session.scalars(
        select(AuditEvent.action).where(AuditEvent.entity_id == dsp_id)
    ).all()
    assert "mam.next_steps" not in actions


def test_a_second_mam_waits_until_the_first_has_its_next_steps(
    client: TestClient, admin: Headers, token_for: TokenFor
) -> None:
    dsp_id = refer(client, token_for)
    arrange(client, admin, dsp_id)
    body = {
        "dsp_id": dsp_id,
        "scheduled_at": datetime.now(UTC).isoformat(),
        "joining_link": "https://meet.example.nhs.uk/j/2",
    }
    assert client.post(MEETINGS, json=body, headers=admin).status_code == 409
    unknown = {**body, "dsp_id": "DSP-2222-2222"}
    assert client.post(MEETINGS, json=unknown, headers=admin).status_code == 404


def test_only_those_who_work_the_register_reach_the_meetings(
    client: TestClient, admin: Headers, token_for: TokenFor
) -> None:
    mam = arrange(client, admin, refer(client, token_for))
    url = f"{MEETINGS}/{mam['id']}"
    assert client.get(url).status_code == 401
    for role in (Role.commissioner, Role.referrer, Role.action_server):
        assert client.get(url, headers=token_for(role)).status_code == 403
    assert client.get(url, headers=token_for(Role.tco)).status_code == 200
    assert client.get(f"{MEETINGS}/999999", headers=admin).status_code == 404


def test_reads_and_changes_of_the_notes_are_audited_without_their_words(
    client: TestClient, admin: Headers, token_for: TokenFor, db_session: Session
) -> None:
    dsp_id = refer(client, token_for)
    mam = arrange(client, admin, dsp_id)
    hold(client, admin, mam["id"], safety={"text": "Risk to younger brother"})
    client.get(f"{MEETINGS}/{mam['id']}", headers=admin)
    events = db_session.scalars(
        select(AuditEvent).where(AuditEvent.entity_id == dsp_id, AuditEvent.entity_type == "mam")
    ).all()
    assert {"mam.arrange", "mam.notes", "mam.read"} <= {e.action for e in events}
    notes = next(e for e in events if e.action == "mam.notes")
    assert "safety" in notes.fields
    assert all("brother" not in str(e.fields) for e in events)


def test_the_follow_up_on_the_register_moves_with_the_meeting_and_closes_when_it_is_held(
    client: TestClient, admin: Headers, token_for: TokenFor
) -> None:
    dsp_id = refer(client, token_for)
    first = held_mam(client, admin, dsp_id)
    later = datetime.now(UTC) + timedelta(days=21)
    result = next_steps(
        client, admin, first["id"], decision="follow_up", next_mam_at=later.isoformat()
    ).json()
    ref = f"mam:{result['next_mam_id']}"
    moved = (datetime.now(UTC) - timedelta(minutes=5)).replace(microsecond=0)
    response = client.patch(
        f"{MEETINGS}/{result['next_mam_id']}",
        json={"scheduled_at": moved.isoformat()},
        headers=admin,
    )
    assert response.status_code == 200, response.text
    tasks = [t for t in entry(client, admin, dsp_id)["tasks"] if t["ref"] == ref]
    assert [(t["due_on"], t["closed_at"] is None) for t in tasks] == [
        (later.date().isoformat(), False),
        (moved.date().isoformat(), True),
    ]
    # Held, with its next steps: the follow-up is done.
    response = next_steps(client, admin, result["next_mam_id"], decision="stand_down")
    assert response.status_code == 200, response.text
    tasks = [t for t in entry(client, admin, dsp_id)["tasks"] if t["ref"] == ref]
    assert tasks[-1]["closed_because"] == "done"


def test_invitees_default_to_the_referrals_and_an_address_that_is_not_one_is_left_out(
    client: TestClient, admin: Headers, token_for: TokenFor
) -> None:
    """The referral keeps what was typed; the MAM takes what can be used."""
    people = {
        "people": [
            {
                "name": "Dr Example",
                "role": "Psychiatrist",
                "email": "dr.example@nhs.net",
                "phone": "0116 496 0001",
            },
            {
                "name": "Kim",
                "role": "SENCo @ Example Academy",
                "email": "kim at school",
                "phone": "0116 496 0002",
            },
            {
                "name": "Lee",
                "role": "lee@example.org",
                "email": "lee@example.org",
                "phone": "0116 496 0003",
            },
        ],
        "complete": True,
    }
    mam = arrange(client, admin, refer(client, token_for, invitees=people))
    assert [(i["name"], i["role"], i["email"]) for i in mam["invitees"]] == [
        ("Dr Example", "Psychiatrist", "dr.example@nhs.net"),
        ("Kim", "SENCo @ Example Academy", None),
        # A role the family would be told must never be an address.
        ("Lee", "Professional", "lee@example.org"),
    ]

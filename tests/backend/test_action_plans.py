"""Action plans (001 section 13 and the notes templates): task, who is responsible, timeline,
outcome and status; a subsequent MAM opens with the existing plan and keeps a revised one; an
action past its timeline is overdue and escalated to the relevant manager, once."""

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from mam_factory import ACTIONS, MEETINGS, Headers, TokenFor, arrange, hold, next_steps, refer
from sqlalchemy import select
from sqlalchemy.orm import Session

from dsp_backend.auth.schemas import Role
from dsp_backend.outbox.models import OutboxMessage
from dsp_backend.variants import service as variant_service

MANAGER = "team.manager@leics.gov.uk"


@pytest.fixture
def admin(token_for: TokenFor) -> Headers:
    return token_for(Role.dsr_admin)


def days(n: int) -> str:
    return (date.today() + timedelta(days=n)).isoformat()


def add(client: TestClient, headers: Headers, mam_id: int, task: str, **extra: Any) -> Any:
    body = {"task": task, "responsible": "Pat Smith, social worker", "timeline": days(14), **extra}
    response = client.post(f"{MEETINGS}/{mam_id}/actions", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


def change(client: TestClient, headers: Headers, action_id: int, **body: Any) -> Any:
    response = client.patch(f"{ACTIONS}/{action_id}", json=body, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def follow_up(client: TestClient, headers: Headers, mam_id: int) -> dict[str, Any]:
    hold(client, headers, mam_id)
    later = (datetime.now(UTC) + timedelta(days=28)).isoformat()
    response = next_steps(client, headers, mam_id, decision="follow_up", next_mam_at=later)
    assert response.status_code == 200, response.text
    mam_2 = client.get(f"{MEETINGS}/{response.json()['next_mam_id']}", headers=headers)
    return dict(mam_2.json())


def test_an_action_round_trips_task_responsibility_timeline_outcome_status(
    client: TestClient, admin: Headers, token_for: TokenFor
) -> None:
    mam = arrange(client, admin, refer(client, token_for))
    created = add(
        client,
        admin,
        mam["id"],
        "Refer to the short breaks service",
        manager_email=MANAGER,
        outcome="Referral form started",
    )
    assert created["task"] == "Refer to the short breaks service"
    assert created["responsible"] == "Pat Smith, social worker"
    assert created["timeline"] == days(14)
    assert (created["outcome"], created["status"], created["overdue"]) == (
        "Referral form started",
        "open",
        False,
    )
    read = client.get(f"{MEETINGS}/{mam['id']}", headers=admin).json()
    assert read["existing_action_plan"] == []
    assert [a["id"] for a in read["action_plan"]] == [created["id"]]
    done = change(client, admin, created["id"], outcome="Short breaks from May", status="completed")
    assert (done["outcome"], done["status"]) == ("Short breaks from May", "completed")
    assert done["closed_at"] is not None
    reopened = change(client, admin, created["id"], status="open")
    assert reopened["closed_at"] is None


def test_a_subsequent_mam_opens_with_the_existing_plan_and_keeps_a_revised_one_001_s13(
    client: TestClient, admin: Headers, token_for: TokenFor
) -> None:
    dsp_id = refer(client, token_for)
    mam_1 = arrange(client, admin, dsp_id)
    done = add(client, admin, mam_1["id"], "Book a sleep clinic appointment")
    outstanding = add(client, admin, mam_1["id"], "Review the medication")
    change(client, admin, done["id"], status="completed", outcome="Seen on 3 March")
    mam_2 = follow_up(client, admin, mam_1["id"])
    # The existing plan: the whole plan of the last MAM, to record its outcomes.
    existing = {a["task"]: a for a in mam_2["existing_action_plan"]}
    assert list(existing) == ["Book a sleep clinic appointment", "Review the medication"]
    assert existing["Book a sleep clinic appointment"]["outcome"] == "Seen on 3 March"
    # The revised plan: what is outstanding, and what this MAM adds.
    new = add(client, admin, mam_2["id"], "Ask for a keyworker")
    change(client, admin, outstanding["id"], outcome="Dose changed; review again in May")
    read = client.get(f"{MEETINGS}/{mam_2['id']}", headers=admin).json()
    assert [a["id"] for a in read["action_plan"]] == [outstanding["id"], new["id"]]
    assert read["action_plan"][0]["outcome"] == "Dose changed; review again in May"
    # The third MAM opens with the second's plan and the first's action still open.
    change(client, admin, new["id"], status="completed")
    mam_3 = follow_up(client, admin, mam_2["id"])
    assert [a["id"] for a in mam_3["existing_action_plan"]] == [outstanding["id"], new["id"]]


def test_an_action_is_added_only_while_the_notes_are_open(
    client: TestClient, admin: Headers, token_for: TokenFor
) -> None:
    mam_1 = arrange(client, admin, refer(client, token_for))
    follow_up(client, admin, mam_1["id"])
    body = {"task": "Late", "responsible": "Someone", "timeline": days(3)}
    response = client.post(f"{MEETINGS}/{mam_1['id']}/actions", json=body, headers=admin)
    assert response.status_code == 409


def escalations(db_session: Session, dsp_id: str) -> list[OutboxMessage]:
    return list(
        db_session.scalars(
            select(OutboxMessage).where(
                OutboxMessage.about == dsp_id, OutboxMessage.kind == "action_overdue"
            )
        )
    )


def test_an_action_past_its_timeline_is_overdue_and_escalated_to_its_manager_once_001_s13(
    client: TestClient, admin: Headers, token_for: TokenFor, db_session: Session
) -> None:
    dsp_id = refer(client, token_for)
    mam = arrange(client, admin, dsp_id)
    late = add(
        client, admin, mam["id"], "Send the sleep diary", timeline=days(-1), manager_email=MANAGER
    )
    on_time = add(client, admin, mam["id"], "Visit the school", timeline=days(5))
    overdue = client.get(ACTIONS, params={"dsp_id": dsp_id, "overdue": True}, headers=admin)
    assert [a["id"] for a in overdue.json()] == [late["id"]]
    assert overdue.json()[0]["overdue"] is True
    every = client.get(ACTIONS, params={"dsp_id": dsp_id}, headers=admin).json()
    assert {a["id"]: a["overdue"] for a in every} == {late["id"]: True, on_time["id"]: False}

    response = client.post(f"{ACTIONS}/escalations", headers=admin)
    assert response.status_code == 200, response.text
    assert response.json()["escalated"] >= 1
    (sent,) = escalations(db_session, dsp_id)
    assert sent.to_address == MANAGER
    assert sent.subject == f"An action for {dsp_id} is overdue"
    assert "Send the sleep diary" in sent.body and "Pat Smith" in sent.body
    # Once for its timeline: the next round does not escalate it again.
    client.post(f"{ACTIONS}/escalations", headers=admin)
    assert len(escalations(db_session, dsp_id)) == 1
    # A new timeline agreed and missed again: escalated again.
    change(client, admin, late["id"], timeline=days(-1))
    assert change(client, admin, late["id"], timeline=days(-2))["escalated_at"] is None
    client.post(f"{ACTIONS}/escalations", headers=admin)
    assert len(escalations(db_session, dsp_id)) == 2
    # Completed, it is no longer overdue.
    assert change(client, admin, late["id"], status="completed")["overdue"] is False


def test_an_overdue_action_with_no_manager_goes_to_the_dsp_admin_lead(
    client: TestClient, admin: Headers, token_for: TokenFor, db_session: Session
) -> None:
    dsp_id = refer(client, token_for)
    mam = arrange(client, admin, dsp_id)
    add(client, admin, mam["id"], "Chase the EHCP review", timeline=days(-3))
    client.post(f"{ACTIONS}/escalations", headers=admin)
    (sent,) = escalations(db_session, dsp_id)
    lead = next(c for c in variant_service.load("llr").contacts if c.kind == "dsr_admin")
    assert sent.to_address == lead.email


def test_only_the_admin_lead_escalates_and_only_register_workers_read_actions(
    client: TestClient, token_for: TokenFor
) -> None:
    assert client.post(f"{ACTIONS}/escalations", headers=token_for(Role.tco)).status_code == 403
    assert client.get(ACTIONS, headers=token_for(Role.commissioner)).status_code == 403
    assert client.get(ACTIONS).status_code == 401
    assert (
        client.patch(f"{ACTIONS}/999999", json={}, headers=token_for(Role.tco)).status_code == 404
    )


def register_tasks(client: TestClient, headers: Headers, dsp_id: str, ref: str) -> list[Any]:
    detail = client.get(f"/api/v1/register/{dsp_id}", headers=headers)
    assert detail.status_code == 200, detail.text
    return [t for t in detail.json()["tasks"] if t["ref"] == ref]


def test_each_open_action_is_a_follow_up_on_the_register_due_on_its_timeline(
    client: TestClient, admin: Headers, token_for: TokenFor
) -> None:
    """The register's deadline clock and reminders see what the MAM agreed: the action's
    follow-up is due on its timeline, moves with it, and closes with the action."""
    dsp_id = refer(client, token_for)
    mam = arrange(client, admin, dsp_id)
    action = add(client, admin, mam["id"], "Book the sleep clinic", timeline=days(10))
    ref = f"action:{action['id']}"
    (task,) = register_tasks(client, admin, dsp_id, ref)
    assert (task["kind"], task["due_on"], task["closed_at"]) == ("action_due", days(10), None)
    change(client, admin, action["id"], timeline=days(20))
    tasks = register_tasks(client, admin, dsp_id, ref)
    assert [(t["due_on"], t["closed_because"]) for t in tasks] == [
        (days(10), "no_longer_needed"),
        (days(20), None),
    ]
    change(client, admin, action["id"], status="completed")
    assert [t["closed_because"] for t in register_tasks(client, admin, dsp_id, ref)] == [
        "no_longer_needed",
        "done",
    ]
    change(client, admin, action["id"], status="open")  # not done after all
    assert register_tasks(client, admin, dsp_id, ref)[-1]["closed_at"] is None
    change(client, admin, action["id"], status="no_longer_needed")
    assert register_tasks(client, admin, dsp_id, ref)[-1]["closed_because"] == "no_longer_needed"

"""The register API: the list contract, filters, rating changes, look-ups, export, follow-ups."""

import csv
import io
import re
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from test_referrals_factory import new_nhs_number, referral_body

from dsp_backend.auth import service as auth_service
from dsp_backend.auth.schemas import Actor, Role
from dsp_backend.database.core import Base
from dsp_backend.register import service as register_service
from dsp_backend.register.models import RegisterEntry
from dsp_backend.variants import service as variant_service

Headers = dict[str, str]
TokenFor = Callable[[Role], Headers]
REGISTER = "/api/v1/register"


@pytest.fixture
def admin(token_for: TokenFor) -> Headers:
    return token_for(Role.dsr_admin)


@pytest.fixture
def refer(client: TestClient, token_for: TokenFor) -> Callable[..., str]:
    headers = token_for(Role.referrer)

    def make(**kwargs: Any) -> str:
        response = client.post("/api/v1/referrals", json=referral_body(**kwargs), headers=headers)
        assert response.status_code == 201, response.text
        return str(response.json()["dsp_id"])

    return make


def move(client: TestClient, headers: Headers, dsp_id: str, to: str, **extra: str) -> Any:
    return client.post(
        f"{REGISTER}/{dsp_id}/transitions",
        json={"to": to, "reason": f"now {to}", **extra},
        headers=headers,
    )


def listed(client: TestClient, headers: Headers, mine: list[str], **params: Any) -> list[str]:
    """The listed dsp_ids among this test's own, in the order listed (other tests' may remain)."""
    response = client.get(REGISTER, params=params, headers=headers)
    assert response.status_code == 200, response.text
    return [row["dsp_id"] for row in response.json() if row["dsp_id"] in mine]


def actor_of(db_session: Session, role: Role) -> Actor:
    row, _token = auth_service.create(db_session=db_session, role=role)
    return Actor(token_id=row.id, role=role)


def entry_of(db_session: Session, dsp_id: str) -> RegisterEntry:
    entry = register_service.get(db_session=db_session, dsp_id=dsp_id)
    assert entry is not None
    return entry


# 001 s10: red at referral is a direct ROAR referral: imminent risk, escalation not known before.
RED = {"rag": "red", "criteria": ("red.deterioration_despite_mam",), "imminent": True, "full": True}


# --- GET /api/v1/register: the contract other parts rely on (DESIGN.md) ---


def test_the_register_list_keeps_the_contract_and_carries_no_personal_data(
    client: TestClient, refer: Callable[..., str], admin: Headers, token_for: TokenFor
) -> None:
    mine = [refer(), refer(age=40, **RED)]
    for headers in (admin, token_for(Role.tco)):
        response = client.get(REGISTER, headers=headers)
        assert response.status_code == 200
        rows = [row for row in response.json() if row["dsp_id"] in mine]
        assert len(rows) == 2
        for row in rows:
            assert row["register"] in ("DSR", "ROAR")
            assert row["rag"] in ("amber", "red", "blue", "green")
            assert row["age_group"] in ("cyp", "adult")
            assert row["referral_source"] in ("professional", "self")
            assert row["dsp_id"].startswith("DSP-") and datetime.fromisoformat(row["created_at"])
        assert "Alex" not in response.text and "nhs_number" not in response.text


def test_the_register_filters_by_rating_register_and_age_group(
    client: TestClient, refer: Callable[..., str], admin: Headers
) -> None:
    child_amber = refer(age=10)
    adult_red = refer(age=40, **RED)
    adult_amber = refer(age=40)
    mine = [child_amber, adult_red, adult_amber]
    assert listed(client, admin, mine, rag="red") == [adult_red]
    assert listed(client, admin, mine, register="DSR") == [child_amber, adult_amber]
    assert listed(client, admin, mine, age_group="adult") == [adult_red, adult_amber]
    assert listed(client, admin, mine, age_group="adult", rag="amber") == [adult_amber]
    assert client.get(REGISTER, params={"rag": "purple"}, headers=admin).status_code == 422


# --- changing the rating (000; 001 sections 10 and 12) ---


def test_a_change_records_who_when_why_and_the_previous_state(
    client: TestClient, refer: Callable[..., str], admin: Headers
) -> None:
    dsp_id = refer(full=True)
    response = move(client, admin, dsp_id, "red")
    assert response.status_code == 200, response.text
    assert (response.json()["rag"], response.json()["register"]) == ("red", "ROAR")
    detail = client.get(f"{REGISTER}/{dsp_id}", headers=admin).json()
    last = detail["transitions"][-1]
    assert (last["from_state"], last["to_state"], last["reason"]) == ("amber", "red", "now red")
    assert last["role"] == "dsr_admin" and last["actor"].startswith("token:")
    assert datetime.fromisoformat(last["at"]).date() == date.today()
    # 001 s10: the TCOs are notified automatically; a CETR is arranged.
    assert {"tco_notified", "cetr_requested"} <= {task["kind"] for task in detail["tasks"]}


def test_an_illegal_change_is_refused_with_the_reason_and_changes_nothing(
    client: TestClient, refer: Callable[..., str], admin: Headers
) -> None:
    dsp_id = refer()
    response = move(client, admin, dsp_id, "unrated")
    assert response.status_code == 409
    assert "cannot be taken back to unrated" in response.json()["detail"]
    detail = client.get(f"{REGISTER}/{dsp_id}", headers=admin).json()
    assert detail["rag"] == "amber" and len(detail["transitions"]) == 1


def test_a_tco_can_change_a_rating_and_a_referrer_cannot(
    client: TestClient, refer: Callable[..., str], token_for: TokenFor
) -> None:
    dsp_id = refer()
    assert move(client, token_for(Role.referrer), dsp_id, "red").status_code == 403
    assert move(client, token_for(Role.tco), dsp_id, "red").status_code == 200


def test_admission_and_discharge_keep_the_person_on_the_register_000_blue(
    client: TestClient, refer: Callable[..., str], admin: Headers
) -> None:
    dsp_id = refer(**RED)
    assert move(client, admin, dsp_id, "blue").json()["register"] == "DSR"
    tasks = client.get(f"{REGISTER}/{dsp_id}", headers=admin).json()["tasks"]
    visit = next(t for t in tasks if t["kind"] == "commissioner_oversight_visit_due")
    assert date.fromisoformat(visit["due_on"]) == date.today() + timedelta(weeks=6)
    assert move(client, admin, dsp_id, "amber").status_code == 200
    tasks = {
        t["kind"]: t for t in client.get(f"{REGISTER}/{dsp_id}", headers=admin).json()["tasks"]
    }
    assert tasks["commissioner_oversight_visit_due"]["closed_because"] == "no_longer_needed"
    assert tasks["post_discharge_mam_due"]["closed_at"] is None


def test_removal_tells_the_referrer_and_leaves_the_list_001_s9(
    client: TestClient, refer: Callable[..., str], admin: Headers
) -> None:
    dsp_id = refer()
    assert move(client, admin, dsp_id, "removed").status_code == 409  # needs a removal reason
    response = move(client, admin, dsp_id, "removed", removal_reason="criteria_not_met")
    assert response.status_code == 200
    assert response.json()["state"] == "removed" and response.json()["removed_at"]
    assert listed(client, admin, [dsp_id]) == []
    assert listed(client, admin, [dsp_id], include_removed=True) == [dsp_id]
    tasks = client.get(f"{REGISTER}/{dsp_id}", headers=admin).json()["tasks"]
    assert [t["kind"] for t in tasks if t["closed_at"] is None] == ["referrer_notified"]


def test_a_variant_uses_only_the_ratings_it_defines_004(
    client: TestClient, admin: Headers, token_for: TokenFor, variant: Callable[[str], None]
) -> None:
    variant("west_sussex")
    body = referral_body(
        variant_id="west_sussex", rag="red", criteria=("red.imminent_admission",), full=True
    )
    created = client.post("/api/v1/referrals", json=body, headers=token_for(Role.referrer))
    assert created.status_code == 201, created.text
    assert created.json()["register"] == "DSR"  # West Sussex keeps one register
    response = move(client, admin, created.json()["dsp_id"], "blue")
    assert response.status_code == 409
    assert "does not use the blue rating" in response.json()["detail"]


def test_green_step_down_over_means_removal_not_a_move_back_000(
    client: TestClient, refer: Callable[..., str], admin: Headers, db_session: Session
) -> None:
    dsp_id = refer()
    entry = entry_of(db_session, dsp_id)
    seventy_days_ago = datetime.now(UTC) - timedelta(days=70)
    register_service.transition(
        db_session=db_session,
        actor=actor_of(db_session, Role.dsr_admin),
        entry=entry,
        to="green",
        reason="MAMs no longer needed",
        removal_reason=None,
        variant=variant_service.load("llr"),
        now=seventy_days_ago,
    )
    db_session.commit()
    assert listed(client, admin, [dsp_id], due="overdue") == [dsp_id]
    refused = move(client, admin, dsp_id, "amber")
    assert refused.status_code == 409 and "step-down period ended" in refused.json()["detail"]
    removed = move(client, admin, dsp_id, "removed", removal_reason="step_down_ended")
    assert removed.status_code == 200
    assert listed(client, admin, [dsp_id], due="overdue") == []


# --- what falls due ---


def test_due_soon_and_overdue_filters_follow_consent_renewal_004(
    client: TestClient, admin: Headers, token_for: TokenFor, variant: Callable[[str], None]
) -> None:
    variant("west_sussex")
    headers = token_for(Role.referrer)
    made = {}
    for name, days_ago in (("overdue", 370), ("soon", 360), ("later", 30)):
        body = referral_body(
            variant_id="west_sussex", criteria=("amber.starting_challenging_behaviour",)
        )
        body["answers"]["consent_date"] = (date.today() - timedelta(days=days_ago)).isoformat()
        made[name] = client.post("/api/v1/referrals", json=body, headers=headers).json()["dsp_id"]
    mine = list(made.values())
    assert listed(client, admin, mine, due="overdue") == [made["overdue"]]
    assert listed(client, admin, mine, due="due_soon") == [made["soon"]]
    assert listed(client, admin, mine, due="due_soon", due_within_days=365) == [
        made["soon"],
        made["later"],
    ]


def test_consent_renewal_moves_the_next_due_date_004(
    client: TestClient, admin: Headers, token_for: TokenFor, variant: Callable[[str], None]
) -> None:
    variant("west_sussex")
    body = referral_body(
        variant_id="west_sussex", criteria=("amber.starting_challenging_behaviour",)
    )
    body["answers"]["consent_date"] = (date.today() - timedelta(days=370)).isoformat()
    dsp_id = client.post("/api/v1/referrals", json=body, headers=token_for(Role.referrer)).json()[
        "dsp_id"
    ]
    url = f"{REGISTER}/{dsp_id}/consent"
    today = date.today()
    for refused_body, says in (
        ({"given_by": "not_given", "given_on": today.isoformat()}, "given_by"),
        ({"given_by": "best_interests", "given_on": today.isoformat()}, "In West Sussex"),
        ({"given_by": "person", "given_on": today.isoformat()}, "under 16"),
        (
            {
                "given_by": "parent_carer_guardian",
                "given_on": (today + timedelta(days=1)).isoformat(),
            },
            "cannot be in the future",
        ),
        ({"given": True}, "given"),
    ):
        refused = client.post(url, json=refused_body, headers=admin)
        assert refused.status_code == 422 and says in refused.text, refused_body
    renewed = client.post(
        url,
        json={"given_by": "parent_carer_guardian", "given_on": today.isoformat()},
        headers=admin,
    )
    assert renewed.status_code == 200, renewed.text
    assert (
        renewed.json()["consent_renewal_due_on"] == today.replace(year=today.year + 1).isoformat()
    )
    assert listed(client, admin, [dsp_id], due="overdue") == []


def test_renewed_consent_follows_capacity_for_someone_16_or_over_001_s7(
    client: TestClient, refer: Callable[..., str], admin: Headers
) -> None:
    """001 s7 and the Mental Capacity Act: a person of 16 or over with capacity consents
    themselves; a parent, carer or guardian or a best-interests decision only where they lack
    it. No renewal is due in LLR, so none is set."""
    url = f"{REGISTER}/{refer(age=30)}/consent"
    today = date.today().isoformat()
    parent_for_capable = {"given_by": "parent_carer_guardian", "given_on": today, "capacity": True}
    refused = client.post(url, json=parent_for_capable, headers=admin)
    assert refused.status_code == 422 and "themselves" in refused.text
    lacking = client.post(
        url, json={"given_by": "person", "given_on": today, "capacity": False}, headers=admin
    )
    assert lacking.status_code == 422 and "lacks capacity" in lacking.text
    for body in (
        {"given_by": "person", "given_on": today, "capacity": True},
        {"given_by": "best_interests", "given_on": today, "capacity": False},
    ):
        renewed = client.post(url, json=body, headers=admin)
        assert renewed.status_code == 200, renewed.text
        assert renewed.json()["consent_given_by"] == body["given_by"]
        assert renewed.json()["consent_renewal_due_on"] is None


def test_a_mam_held_dates_the_first_mam_and_completes_the_request_000(
    client: TestClient, refer: Callable[..., str], admin: Headers
) -> None:
    dsp_id = refer()
    url = f"{REGISTER}/{dsp_id}/mams"
    tomorrow = date.today() + timedelta(days=1)
    assert (
        client.post(url, json={"held_on": tomorrow.isoformat()}, headers=admin).status_code == 409
    )
    assert (
        client.post(url, json={"held_on": date.today().isoformat()}, headers=admin).status_code
        == 200
    )
    detail = client.get(f"{REGISTER}/{dsp_id}", headers=admin).json()
    assert detail["first_mam_on"] == date.today().isoformat()
    assert [(t["kind"], t["closed_because"]) for t in detail["tasks"]] == [
        ("mam_requested", "done"),
        ("keyworker_referral_due", None),
    ]
    assert [(e["kind"], e["on"]) for e in detail["events"]] == [
        ("mam_held", date.today().isoformat())
    ]


def test_an_oversight_visit_done_while_an_inpatient_sets_the_next_000(
    client: TestClient, refer: Callable[..., str], admin: Headers
) -> None:
    dsp_id = refer(**RED)
    move(client, admin, dsp_id, "blue")
    tasks = client.get(f"{REGISTER}/{dsp_id}", headers=admin).json()["tasks"]
    visit = next(t for t in tasks if t["kind"] == "commissioner_oversight_visit_due")
    url = f"{REGISTER}/{dsp_id}/tasks/{visit['id']}/done"
    assert client.post(url, headers=admin).status_code == 200
    assert client.post(url, headers=admin).status_code == 409  # already closed
    assert client.post(f"{REGISTER}/{dsp_id}/tasks/999999/done", headers=admin).status_code == 404
    tasks = client.get(f"{REGISTER}/{dsp_id}", headers=admin).json()["tasks"]
    open_visits = [
        t for t in tasks if t["kind"] == "commissioner_oversight_visit_due" and not t["closed_at"]
    ]
    assert [date.fromisoformat(t["due_on"]) for t in open_visits] == [
        date.today() + timedelta(weeks=6)
    ]


def test_admission_from_amber_sets_every_inpatient_linked_process_with_its_date_000_blue(
    client: TestClient, refer: Callable[..., str], admin: Headers
) -> None:
    dsp_id = refer()
    assert move(client, admin, dsp_id, "blue").status_code == 200
    tasks = client.get(f"{REGISTER}/{dsp_id}", headers=admin).json()["tasks"]
    due = {t["kind"]: t["due_on"] for t in tasks if t["closed_at"] is None}
    today = date.today()
    assert due["post_admission_cetr_due"] == (today + timedelta(weeks=2)).isoformat()
    assert due["cpa_due"] and due["discharge_planning_due"] and due["inpatient_cetr_due"]
    # The MAM that was requested is moot once the person is admitted.
    closed = {t["kind"]: t["closed_because"] for t in tasks if t["closed_at"]}
    assert closed["mam_requested"] == "no_longer_needed"


def test_overdue_follows_the_deadline_clock_and_says_what_is_due(
    client: TestClient, refer: Callable[..., str], admin: Headers, db_session: Session
) -> None:
    late, fine = refer(), refer()
    entry = entry_of(db_session, late)
    mam = next(t for t in entry.tasks if t.kind == "mam_requested")
    mam.due_on = date.today() - timedelta(days=1)
    db_session.commit()
    assert listed(client, admin, [late, fine], due="overdue") == [late]
    row = next(r for r in client.get(REGISTER, headers=admin).json() if r["dsp_id"] == late)
    assert (row["next_due"], row["due"]) == ("mam_requested", "overdue")


def test_the_timeline_shows_ratings_events_follow_ups_and_the_dates_ahead(
    client: TestClient, refer: Callable[..., str], admin: Headers, token_for: TokenFor
) -> None:
    dsp_id = refer(age=17, **RED)
    move(client, admin, dsp_id, "blue")
    client.post(
        f"{REGISTER}/{dsp_id}/mams", json={"held_on": date.today().isoformat()}, headers=admin
    )
    url = f"{REGISTER}/{dsp_id}/timeline"
    for role in (Role.referrer, Role.commissioner):
        assert client.get(url, headers=token_for(role)).status_code == 403
    response = client.get(url, headers=token_for(Role.tco))
    assert response.status_code == 200, response.text
    timeline = response.json()
    assert timeline["state"] == "blue"
    items = timeline["items"]
    assert [i["kind"] for i in items if i["what"] == "rating"] == ["red", "blue"]
    assert [i["kind"] for i in items if i["what"] == "event"] == ["mam_held"]
    visit = next(i for i in items if i["kind"] == "commissioner_oversight_visit_due")
    assert (visit["status"], visit["on"]) == (
        "ahead",
        (date.today() + timedelta(weeks=6)).isoformat(),
    )
    moot = next(i for i in items if i["kind"] == "cetr_requested")
    assert moot["status"] == "no_longer_needed"  # the community C(E)TR, once admitted
    assert {"transition_window", "eighteenth_birthday"} <= {i["kind"] for i in items}
    assert [i["on"] for i in items] == sorted(i["on"] for i in items)
    assert all(i["detail"] and not re.search(r"\b00[0-4]\b", i["detail"]) for i in items)
    events = client.get("/api/v1/audit", params={"entity_id": dsp_id}, headers=admin).json()
    assert "register.timeline" in [e["action"] for e in events]


# --- finding a person ---


def test_a_person_is_found_by_dsp_id_and_unknown_ids_are_404(
    client: TestClient, refer: Callable[..., str], admin: Headers
) -> None:
    dsp_id = refer()
    detail = client.get(f"{REGISTER}/{dsp_id}", headers=admin).json()
    assert detail["personal"]["given_name"] == "Alex"
    assert client.get(f"{REGISTER}/DSP-2222-2222", headers=admin).status_code == 404
    assert client.get(f"{REGISTER}/not-an-id", headers=admin).status_code == 422


def test_search_by_nhs_number_is_for_the_dsr_admin_lead_and_the_number_stays_in_the_body(
    client: TestClient, refer: Callable[..., str], admin: Headers, token_for: TokenFor
) -> None:
    nhs_number = new_nhs_number()
    dsp_id = refer(nhs_number=nhs_number)
    url = f"{REGISTER}/search"
    spaced = f"{nhs_number[:3]} {nhs_number[3:6]} {nhs_number[6:]}"
    found = client.post(url, json={"nhs_number": spaced}, headers=admin)
    assert found.status_code == 200 and found.json()["dsp_id"] == dsp_id
    assert (
        client.post(url, json={"nhs_number": nhs_number}, headers=token_for(Role.tco)).status_code
        == 403
    )
    other = new_nhs_number()
    missing = client.post(url, json={"nhs_number": other}, headers=admin)
    assert missing.status_code == 404 and other not in missing.text
    bad = client.post(url, json={"nhs_number": "9434765918"}, headers=admin)
    assert bad.status_code == 422 and "9434765918" not in bad.text


# --- export for the clinical folder (001 section 6) ---


def test_the_csv_export_is_for_the_dsr_admin_lead_and_cannot_carry_a_formula(
    client: TestClient, refer: Callable[..., str], admin: Headers, token_for: TokenFor
) -> None:
    nhs_number = new_nhs_number()
    dsp_id = refer(nhs_number=nhs_number)
    tricky = referral_body()
    tricky["answers"]["person_name"] = {"given": '=HYPERLINK("http://x")', "family": "Example"}
    created = client.post("/api/v1/referrals", json=tricky, headers=token_for(Role.referrer))
    assert client.get(f"{REGISTER}/export.csv", headers=token_for(Role.tco)).status_code == 403
    response = client.get(f"{REGISTER}/export.csv", headers=admin)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    rows = {row["dsp_id"]: row for row in csv.DictReader(io.StringIO(response.text))}
    mine = rows[dsp_id]
    assert (mine["nhs_number"], mine["rag"], mine["register"]) == (nhs_number, "amber", "DSR")
    assert rows[created.json()["dsp_id"]]["given_name"] == '\'=HYPERLINK("http://x")'


REGISTER_TABLES = frozenset(
    {
        "register_entry",
        "rating_transition",
        "register_task",
        "register_event",
        "gap_in_service",
        "referral",
        "referral_personal",
        "idempotency_record",
    }
)


def _ours(obj: Any, name: str | None, type_: str, _reflected: bool, _other: Any) -> bool:
    table = name if type_ == "table" else getattr(getattr(obj, "table", None), "name", None)
    return table in REGISTER_TABLES


def test_register_tables_match_the_migrations(db_session: Session) -> None:
    """Alembic builds the test database; a model changed without a migration shows up here."""
    context = MigrationContext.configure(
        db_session.connection(), opts={"compare_type": True, "include_object": _ours}
    )
    assert compare_metadata(context, Base.metadata) == []

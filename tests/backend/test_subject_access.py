"""Subject access and erasure on request (DESIGN.md data protection; 001 sections 6 to 8): the
DSR admin lead exports everything held on one person and erases one person on request, both on
the audit record; the dsp_id, ratings history and de-identified counts stay."""

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient
from mam_factory import arrange, every_section, hold
from mam_factory import refer as refer_for_meeting
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from test_referrals_factory import new_nhs_number

from dsp_backend.auth.schemas import Role
from dsp_backend.meetings.models import ActionItem, Mam, MamInvitee
from dsp_backend.referrals.models import Referral, ReferralPersonal

Headers = dict[str, str]
TokenFor = Callable[[Role], Headers]
REGISTER = "/api/v1/register"
PERSONAL = "/api/v1/personal-data"


def on_the_register_with_a_meeting_and_a_gap(
    client: TestClient, token_for: TokenFor, admin: Headers
) -> tuple[str, str]:
    nhs_number = new_nhs_number()
    dsp_id = refer_for_meeting(client, token_for, nhs_number=nhs_number)
    mam = arrange(client, admin, dsp_id, in_days=0)
    hold(client, admin, mam["id"], **every_section(mam["kind"]))
    gap = {
        "dsp_id": dsp_id,
        "theme": "crisis_support",
        "what_is_missing": "Alex has no crisis line out of hours.",
        "impact": "Police called twice.",
        "what_was_tried": "Asked the crisis team.",
    }
    assert client.post("/api/v1/gaps", json=gap, headers=admin).status_code == 201
    return dsp_id, nhs_number


def erase(client: TestClient, admin: Headers, dsp_id: str, confirm: str | None = None) -> Any:
    return client.post(
        f"{PERSONAL}/{dsp_id}/erasure", json={"confirm_dsp_id": confirm or dsp_id}, headers=admin
    )


def test_subject_access_exports_everything_held_on_the_person_and_is_audited(
    client: TestClient, token_for: TokenFor
) -> None:
    admin = token_for(Role.dsr_admin)
    dsp_id, nhs_number = on_the_register_with_a_meeting_and_a_gap(client, token_for, admin)
    response = client.get(f"{PERSONAL}/{dsp_id}", headers=admin)
    assert response.status_code == 200, response.text
    export = response.json()
    assert export["entry"]["personal"]["nhs_number"] == nhs_number
    assert export["entry"]["personal"]["given_name"] == "Alex"
    assert export["entry"]["transitions"][0]["reason"] == "referral"
    assert export["referral"]["matched_criteria"]
    assert [m["id"] for m in export["meetings"]] and export["meetings"][0]["sections"]
    assert export["gaps_in_service"][0]["what_is_missing"].startswith("Alex has no crisis")
    assert any(event["action"] == "referral.create" for event in export["access_log"])
    events = client.get("/api/v1/audit", params={"entity_id": dsp_id}, headers=admin).json()
    assert "personal_data.export" in [event["action"] for event in events]
    detail = client.get(f"{REGISTER}/{dsp_id}", headers=admin).json()
    assert "personal_data_exported" in [event["kind"] for event in detail["events"]]


def test_only_the_dsr_admin_lead_exports_or_erases(client: TestClient, token_for: TokenFor) -> None:
    admin = token_for(Role.dsr_admin)
    dsp_id = refer_for_meeting(client, token_for)
    for role in (Role.tco, Role.commissioner, Role.referrer, Role.action_server):
        assert client.get(f"{PERSONAL}/{dsp_id}", headers=token_for(role)).status_code == 403
        assert erase(client, token_for(role), dsp_id).status_code == 403
    assert client.get(f"{PERSONAL}/DSP-2222-2222", headers=admin).status_code == 404


def test_a_person_on_the_pathway_is_removed_before_their_data_are_erased_001_s7(
    client: TestClient, token_for: TokenFor
) -> None:
    admin = token_for(Role.dsr_admin)
    dsp_id = refer_for_meeting(client, token_for)
    refused = erase(client, admin, dsp_id)
    assert refused.status_code == 409 and "still on the pathway" in refused.json()["detail"]
    wrong = erase(client, admin, dsp_id, confirm="DSP-2222-2222")
    assert wrong.status_code == 422


def test_erasure_on_request_erases_the_personal_data_and_nothing_else(
    client: TestClient, token_for: TokenFor, db_session: Session
) -> None:
    admin = token_for(Role.dsr_admin)
    dsp_id, nhs_number = on_the_register_with_a_meeting_and_a_gap(client, token_for, admin)
    other, other_nhs = on_the_register_with_a_meeting_and_a_gap(client, token_for, admin)
    removed = client.post(
        f"{REGISTER}/{dsp_id}/transitions",
        json={
            "to": "removed",
            "reason": "Alex's mother withdrew consent",
            "removal_reason": "consent_withdrawn",
        },
        headers=admin,
    )
    assert removed.status_code == 200, removed.text
    done = erase(client, admin, dsp_id)
    assert done.status_code == 200, done.text
    erased = done.json()["erased"]
    assert erased["personal_details_and_referral_form"] == 1
    assert erased["meetings"] == 1 and erased["gap_in_service_text"] == 1
    assert erased["rating_change_reasons"] == 2

    detail = client.get(f"{REGISTER}/{dsp_id}", headers=admin).json()
    assert detail["personal"] is None and detail["erased_at"]
    # The dsp_id and the ratings history stay; their free-text reasons do not.
    assert [(t["from_state"], t["to_state"]) for t in detail["transitions"]] == [
        (None, "amber"),
        ("amber", "removed"),
    ]
    assert {t["reason"] for t in detail["transitions"]} == {""}
    assert "personal_data_erased" in [event["kind"] for event in detail["events"]]
    gaps = client.get("/api/v1/gaps", params={"dsp_id": dsp_id}, headers=admin).json()
    assert [(g["theme"], g["what_is_missing"], g["erased"]) for g in gaps] == [
        ("crisis_support", "", True)
    ]
    db_session.expire_all()
    entry_ids = select(ReferralPersonal.entry_id)
    assert (
        db_session.scalar(
            select(func.count())
            .select_from(ReferralPersonal)
            .where(ReferralPersonal.nhs_number == nhs_number)
        )
        == 0
    )
    # The de-identified referral facts stay for commissioners' counts.
    assert db_session.scalar(select(func.count()).select_from(Referral)) == 2
    remaining = db_session.scalars(select(Mam.entry_id)).all()
    assert len(remaining) == 1 and remaining[0] in db_session.scalars(entry_ids).all()
    # The meeting's invitees and attendees went with it.
    assert (
        db_session.scalar(
            select(func.count())
            .select_from(MamInvitee)
            .where(MamInvitee.mam_id.not_in(select(Mam.id)))
        )
        == 0
    )
    assert (
        db_session.scalar(
            select(func.count())
            .select_from(ActionItem)
            .where(ActionItem.entry_id.not_in(entry_ids))
        )
        == 0
    )

    # Nobody else's data were touched.
    kept = client.get(f"{REGISTER}/{other}", headers=admin).json()
    assert kept["personal"]["nhs_number"] == other_nhs and kept["erased_at"] is None
    other_gaps = client.get("/api/v1/gaps", params={"dsp_id": other}, headers=admin).json()
    assert other_gaps[0]["what_is_missing"].startswith("Alex has no crisis")

    events = client.get("/api/v1/audit", params={"entity_id": dsp_id}, headers=admin).json()
    assert "personal_data.erase" in [event["action"] for event in events]
    assert nhs_number not in str(events)
    again = erase(client, admin, dsp_id)
    assert again.status_code == 409 and "already been erased" in again.json()["detail"]


def test_no_removal_while_blue_except_criteria_not_met_through_the_api_000_blue(
    client: TestClient, token_for: TokenFor
) -> None:
    admin = token_for(Role.dsr_admin)
    dsp_id = refer_for_meeting(client, token_for)
    url = f"{REGISTER}/{dsp_id}/transitions"
    assert (
        client.post(url, json={"to": "blue", "reason": "admitted"}, headers=admin).status_code
        == 200
    )
    for why in ("consent_withdrawn", "stood_down_by_mam"):
        body = {"to": "removed", "reason": "x", "removal_reason": why}
        refused = client.post(url, json=body, headers=admin)
        assert refused.status_code == 409 and "whole stay" in refused.json()["detail"]
    body = {"to": "removed", "reason": "x", "removal_reason": "criteria_not_met"}
    assert client.post(url, json=body, headers=admin).status_code == 200

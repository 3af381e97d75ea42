"""Gaps in service (001 section 15): logged against a person or on their own with what is
missing, its impact and what was tried; the governance group and commissioners see themes and
counts, with counts under 5 suppressed."""

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient
from test_referrals_factory import referral_body

from dsp_backend.auth.schemas import Role

Headers = dict[str, str]
TokenFor = Callable[[Role], Headers]
GAPS = "/api/v1/gaps"


def gap(**extra: Any) -> dict[str, Any]:
    return {
        "theme": "short_breaks_and_respite",
        "what_is_missing": "No overnight short breaks for autistic teenagers in the county.",
        "impact": "Family at risk of breaking down; placement outside the area considered.",
        "what_was_tried": "Asked two providers and the council's brokerage team.",
        **extra,
    }


def refer(client: TestClient, token_for: TokenFor, **kwargs: Any) -> str:
    response = client.post(
        "/api/v1/referrals", json=referral_body(**kwargs), headers=token_for(Role.referrer)
    )
    assert response.status_code == 201, response.text
    return str(response.json()["dsp_id"])


def test_a_gap_is_recorded_against_a_person_and_shows_on_their_timeline_001_s15(
    client: TestClient, token_for: TokenFor
) -> None:
    dsp_id = refer(client, token_for)
    tco = token_for(Role.tco)
    created = client.post(GAPS, json=gap(dsp_id=dsp_id), headers=tco)
    assert created.status_code == 201, created.text
    body = created.json()
    assert (body["dsp_id"], body["age_group"], body["erased"]) == (dsp_id, "cyp", False)
    listed = client.get(GAPS, params={"dsp_id": dsp_id}, headers=tco).json()
    assert [row["id"] for row in listed] == [body["id"]]
    assert listed[0]["what_was_tried"].startswith("Asked two providers")
    timeline = client.get(f"/api/v1/register/{dsp_id}/timeline", headers=tco).json()
    recorded = [i for i in timeline["items"] if i["kind"] == "gap_in_service_recorded"]
    assert [i["ref"] for i in recorded] == [f"gap:{body['id']}"]


def test_a_gap_can_be_recorded_on_its_own(client: TestClient, token_for: TokenFor) -> None:
    admin = token_for(Role.dsr_admin)
    created = client.post(
        GAPS, json=gap(theme="housing_and_placements", age_group="adult"), headers=admin
    )
    assert created.status_code == 201, created.text
    assert (created.json()["dsp_id"], created.json()["age_group"]) == (None, "adult")
    themes = [row["theme"] for row in client.get(GAPS, headers=admin).json()]
    assert "housing_and_placements" in themes


def test_a_gap_needs_a_theme_of_the_variant_and_every_part_of_the_form(
    client: TestClient, token_for: TokenFor
) -> None:
    admin = token_for(Role.dsr_admin)
    unknown = client.post(GAPS, json=gap(theme="weather"), headers=admin)
    assert unknown.status_code == 422 and "short_breaks_and_respite" in unknown.text
    missing = gap()
    del missing["impact"]
    refused = client.post(GAPS, json=missing, headers=admin)
    assert refused.status_code == 422
    # The refusal names the field and never repeats what was sent.
    assert "impact" in refused.text and "overnight" not in refused.text
    nobody = client.post(GAPS, json=gap(dsp_id="DSP-2222-2222"), headers=admin)
    assert nobody.status_code == 404


def test_only_the_people_who_work_the_register_log_and_read_gaps(
    client: TestClient, token_for: TokenFor
) -> None:
    for role in (Role.referrer, Role.commissioner, Role.action_server):
        assert client.post(GAPS, json=gap(), headers=token_for(role)).status_code == 403
        assert client.get(GAPS, headers=token_for(role)).status_code == 403
    assert client.get(f"{GAPS}/themes", headers=token_for(Role.referrer)).status_code == 403
    assert client.get(GAPS).status_code == 401


def test_commissioners_see_themes_and_counts_with_counts_under_5_suppressed(
    client: TestClient, token_for: TokenFor
) -> None:
    admin, commissioner = token_for(Role.dsr_admin), token_for(Role.commissioner)
    for _ in range(5):
        client.post(GAPS, json=gap(age_group="cyp"), headers=admin)
    for _ in range(2):
        client.post(GAPS, json=gap(theme="mental_health", age_group="cyp"), headers=admin)
    response = client.get(f"{GAPS}/themes", headers=commissioner)
    assert response.status_code == 200
    themes = response.json()
    counts = {row["theme"]: row["gaps"] for row in themes["by_theme"]}
    assert counts["short_breaks_and_respite"] == 5
    assert counts["mental_health"] is None  # 2: fewer than 5
    assert counts["education"] == 0
    assert themes["total"] == 7 and themes["by_age_group"] == {"cyp": 7}
    # Counts only: none of the free text reaches a commissioner.
    assert "overnight" not in response.text and "providers" not in response.text


def test_recording_and_reading_gaps_is_audited(client: TestClient, token_for: TokenFor) -> None:
    admin = token_for(Role.dsr_admin)
    dsp_id = refer(client, token_for)
    client.post(GAPS, json=gap(dsp_id=dsp_id), headers=admin)
    client.get(GAPS, params={"dsp_id": dsp_id}, headers=admin)
    events = client.get("/api/v1/audit", params={"entity_id": dsp_id}, headers=admin).json()
    actions = [event["action"] for event in events]
    assert {"gap.create", "gap.list"} <= set(actions)
    assert "overnight" not in str(events)

"""The audit log: every change and every read of identifiable data, by whom, never the values
(001 section 8: access is by role and logged; DESIGN.md data protection)."""

import json
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from test_referrals_factory import new_nhs_number, referral_body

from dsp_backend.auth.schemas import Role
from dsp_backend.main import create_app

Headers = dict[str, str]
TokenFor = Callable[[Role], Headers]


@pytest.fixture
def admin(token_for: TokenFor) -> Headers:
    return token_for(Role.dsr_admin)


def events(client: TestClient, admin: Headers, **params: str) -> list[dict[str, Any]]:
    response = client.get("/api/v1/audit", params={"limit": "1000", **params}, headers=admin)
    assert response.status_code == 200
    return list(response.json())


def test_a_referral_is_logged_with_the_fields_given_and_none_of_their_values(
    client: TestClient, token_for: TokenFor, admin: Headers
) -> None:
    nhs_number = new_nhs_number()
    body = referral_body(nhs_number=nhs_number)
    created = client.post("/api/v1/referrals", json=body, headers=token_for(Role.referrer))
    dsp_id = created.json()["dsp_id"]
    (event,) = events(client, admin, entity_id=dsp_id)
    assert (event["action"], event["role"], event["entity_type"]) == (
        "referral.create",
        "referrer",
        "register_entry",
    )
    assert event["actor"].startswith("token:")
    # The answers' linkIds (and their parts), never their values.
    assert {"nhs_number", "person_name.given", "consent_by", "date_of_birth"} <= set(
        event["fields"]
    )
    logged = json.dumps(event)
    for value in (nhs_number, "Alex", "Example", "LE1 6TH", "sam.referrer@nhs.net"):
        assert value not in logged


def test_changes_and_reads_of_identifiable_data_are_each_logged(
    client: TestClient, token_for: TokenFor, admin: Headers
) -> None:
    nhs_number = new_nhs_number()
    body = referral_body(nhs_number=nhs_number, full=True)
    dsp_id = client.post("/api/v1/referrals", json=body, headers=token_for(Role.referrer)).json()[
        "dsp_id"
    ]
    tco = token_for(Role.tco)
    client.post(
        f"/api/v1/register/{dsp_id}/transitions", json={"to": "red", "reason": "worse"}, headers=tco
    )
    client.get(f"/api/v1/register/{dsp_id}", headers=tco)
    client.post("/api/v1/register/search", json={"nhs_number": nhs_number}, headers=admin)
    client.post(
        f"/api/v1/register/{dsp_id}/mams", json={"held_on": date.today().isoformat()}, headers=admin
    )
    logged = {e["action"]: e for e in events(client, admin, entity_id=dsp_id)}
    assert set(logged) == {
        "referral.create",
        "register.transition",
        "register.read",
        "register.search",
        "register.mam_held",
    }
    assert logged["register.transition"]["role"] == "tco"
    assert set(logged["register.transition"]["fields"]) == {
        "rag",
        "register",
        "rag_since",
        "step_down_ends_on",
    }
    assert "nhs_number" in logged["register.read"]["fields"]
    assert logged["register.search"]["role"] == "dsr_admin"
    assert nhs_number not in json.dumps(list(logged.values()))


def test_the_register_list_and_export_are_logged(client: TestClient, admin: Headers) -> None:
    client.get("/api/v1/register", headers=admin)
    client.get("/api/v1/register/export.csv", headers=admin)
    actions = [e["action"] for e in events(client, admin)]
    assert actions[:2] == ["register.export", "register.list"]  # newest first
    export = events(client, admin)[0]
    assert {"nhs_number", "given_name", "dsp_id"} <= set(export["fields"])


def test_a_search_that_finds_no_one_is_logged_without_the_number(
    client: TestClient, admin: Headers
) -> None:
    nhs_number = new_nhs_number()
    response = client.post(
        "/api/v1/register/search", json={"nhs_number": nhs_number}, headers=admin
    )
    assert response.status_code == 404
    latest = events(client, admin)[0]
    assert (latest["action"], latest["entity_id"], latest["fields"]) == (
        "register.search",
        "",
        ["nhs_number"],
    )
    assert nhs_number not in json.dumps(latest)


def test_a_refused_change_is_not_logged_as_a_change(
    client: TestClient, token_for: TokenFor, admin: Headers
) -> None:
    dsp_id = client.post(
        "/api/v1/referrals", json=referral_body(), headers=token_for(Role.referrer)
    ).json()["dsp_id"]
    refused = client.post(
        f"/api/v1/register/{dsp_id}/transitions",
        json={"to": "unrated", "reason": "x"},
        headers=admin,
    )
    assert refused.status_code == 409
    assert [e["action"] for e in events(client, admin, entity_id=dsp_id)] == ["referral.create"]


def test_the_audit_log_is_append_only_no_route_changes_or_deletes_it() -> None:
    for context in iter_route_contexts(create_app().routes):
        if str(context.path).startswith("/api/v1/audit"):
            assert (context.methods or set()) <= {"GET", "HEAD"}

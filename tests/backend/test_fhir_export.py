"""GET /api/v1/referrals/{dsp_id}/fhir: a stored referral as a FHIR QuestionnaireResponse (DESIGN.md
"The referral questionnaire"), for the DSR admin lead only, and every read audited (001 s8).
"""

import json
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse
from sqlalchemy import select
from sqlalchemy.orm import Session
from test_referrals_factory import referral_body, self_referral_body

from dsp_backend.auth.schemas import Role
from dsp_backend.questionnaire import logic
from dsp_backend.referrals.models import ReferralPersonal
from dsp_backend.register.models import RegisterEntry

Headers = dict[str, str]
TokenFor = Callable[[Role], Headers]


def refer(client: TestClient, token_for: TokenFor, body: dict[str, Any]) -> str:
    response = client.post("/api/v1/referrals", json=body, headers=token_for(Role.referrer))
    assert response.status_code == 201, response.text
    return str(response.json()["dsp_id"])


def url(dsp_id: str) -> str:
    return f"/api/v1/referrals/{dsp_id}/fhir"


def exported(client: TestClient, token_for: TokenFor, dsp_id: str) -> dict[str, Any]:
    response = client.get(url(dsp_id), headers=token_for(Role.dsr_admin))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/fhir+json")
    resource: dict[str, Any] = response.json()
    return resource


def by_link_id(resource: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {item["linkId"]: item for item in resource["item"]}


def test_a_stored_referral_exports_as_a_valid_questionnaire_response(
    client: TestClient, token_for: TokenFor, db_session: Session
) -> None:
    """DESIGN.md: a submitted referral exports as a FHIR R4 QuestionnaireResponse."""
    body = referral_body(full=True, mam_organised_by_admin=True)
    dsp_id = refer(client, token_for, body)
    db_session.expire_all()  # read back from the database, as a later request would
    resource = exported(client, token_for, dsp_id)
    parsed = QuestionnaireResponse.model_validate(resource)  # FHIR R4B = R4 here
    assert (parsed.status, resource["resourceType"]) == ("completed", "QuestionnaireResponse")
    # 001 s6: the person is identified by the register's anonymous id, not by name.
    assert resource["identifier"]["value"] == dsp_id
    assert resource["questionnaire"].endswith(logic.questionnaire().id)
    assert parsed.authored is not None and parsed.authored.utcoffset() is not None


def test_the_answers_are_held_by_linkid_in_fhirs_value_shapes(
    client: TestClient, token_for: TokenFor
) -> None:
    body = referral_body(full=True, mam_organised_by_admin=True)
    answers = body["answers"]
    items = by_link_id(exported(client, token_for, refer(client, token_for, body)))
    # Every answer given is there, under its own linkId, with the question's wording.
    assert set(items) == {k for k, v in answers.items() if v is not None}
    assert items["nhs_number"]["text"] == "What is their NHS number?"
    assert items["nhs_number"]["answer"] == [{"valueString": answers["nhs_number"]}]
    assert items["date_of_birth"]["answer"] == [{"valueDate": answers["date_of_birth"]}]
    assert items["diagnosis_confirmed"]["answer"] == [{"valueBoolean": True}]
    assert items["diagnosis"]["answer"] == [
        {"valueCoding": {"code": "autism", "display": "Autism"}}
    ]
    assert items["council_area"]["answer"][0]["valueCoding"]["code"] == "leicester_city"
    assert [a["valueCoding"]["code"] for a in items["concerns"]["answer"]] == answers["concerns"]
    assert items["person_name"]["answer"] == [{"valueString": "Alex Example"}]
    assert items["diagnosis_evidence"]["answer"] == [{"valueString": answers["diagnosis_evidence"]}]
    # Each invitee is a group of name, role, email and phone.
    (person,) = items["invitees"]["item"]
    assert {part["linkId"]: part["answer"][0]["valueString"] for part in person["item"]} == {
        f"invitees.{key}": value for key, value in answers["invitees"]["people"][0].items()
    }


def test_a_tees_valley_self_referral_exports_too_003(
    client: TestClient, token_for: TokenFor, variant: Callable[[str], None]
) -> None:
    variant("tees_valley")
    body = self_referral_body()
    resource = exported(client, token_for, refer(client, token_for, body))
    QuestionnaireResponse.model_validate(resource)
    items = by_link_id(resource)
    assert items["self_contact"]["answer"] == [{"valueString": body["answers"]["self_contact"]}]
    assert items["self_who"]["answer"][0]["valueCoding"]["code"] == "family"
    assert "nhs_number" not in items


@pytest.mark.parametrize("role", [Role.tco, Role.commissioner, Role.referrer, Role.action_server])
def test_only_the_dsr_admin_lead_may_export_001_s8(
    client: TestClient, token_for: TokenFor, role: Role
) -> None:
    dsp_id = refer(client, token_for, referral_body())
    assert client.get(url(dsp_id)).status_code == 401
    bad = {"Authorization": "Bearer dsp_not-a-real-token"}
    assert client.get(url(dsp_id), headers=bad).status_code == 401
    response = client.get(url(dsp_id), headers=token_for(role))
    assert response.status_code == 403
    assert "Alex" not in response.text


def test_an_unknown_or_malformed_dsp_id_finds_nothing(
    client: TestClient, token_for: TokenFor
) -> None:
    admin = token_for(Role.dsr_admin)
    assert client.get(url("DSP-2222-2222"), headers=admin).status_code == 404
    assert client.get(url("not-an-id"), headers=admin).status_code == 422


def test_once_retention_has_deleted_the_personal_data_there_is_nothing_to_export_001_s8(
    client: TestClient, token_for: TokenFor, db_session: Session
) -> None:
    dsp_id = refer(client, token_for, referral_body())
    entry = db_session.scalar(select(RegisterEntry).where(RegisterEntry.dsp_id == dsp_id))
    assert entry is not None
    personal = db_session.scalar(
        select(ReferralPersonal).where(ReferralPersonal.entry_id == entry.id)
    )
    db_session.delete(personal)
    db_session.commit()
    assert client.get(url(dsp_id), headers=token_for(Role.dsr_admin)).status_code == 404


def test_every_export_is_in_the_audit_log_without_the_answers_001_s8(
    client: TestClient, token_for: TokenFor
) -> None:
    body = referral_body()
    dsp_id = refer(client, token_for, body)
    admin = token_for(Role.dsr_admin)
    exported(client, token_for, dsp_id)
    exported(client, token_for, dsp_id)
    events = client.get(
        "/api/v1/audit", params={"entity_id": dsp_id, "limit": "100"}, headers=admin
    ).json()
    reads = [e for e in events if e["action"] == "referral.export_fhir"]
    assert len(reads) == 2
    assert {(e["role"], e["entity_type"]) for e in reads} == {("dsr_admin", "register_entry")}
    assert reads[0]["fields"] == ["answers"]
    logged = json.dumps(reads)
    for value in (body["answers"]["nhs_number"], "Alex", "LE1 6TH", "sam.referrer@nhs.net"):
        assert value not in logged
    # A refused read is not logged as a read.
    client.get(url(dsp_id), headers=token_for(Role.tco))
    after = client.get("/api/v1/audit", params={"entity_id": dsp_id}, headers=admin).json()
    assert len([e for e in after if e["action"] == "referral.export_fhir"]) == 2

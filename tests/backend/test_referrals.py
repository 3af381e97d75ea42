"""POST /api/v1/referrals: the referral form, its validation, consent, eligibility and retries."""

import re
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, inspect, select
from sqlalchemy.orm import Session
from test_referrals_factory import new_nhs_number, referral_body, self_referral_body, years_ago

from dsp_backend.auth.schemas import Role
from dsp_backend.referrals.models import ReferralPersonal
from dsp_backend.register import service as register_service
from dsp_backend.register.models import RegisterEntry

URL = "/api/v1/referrals"
Headers = dict[str, str]
TokenFor = Callable[[Role], Headers]


@pytest.fixture
def referrer(token_for: TokenFor) -> Headers:
    return token_for(Role.action_server)


def errors(response: Any) -> dict[str, str]:
    """'person.nhs_number' -> message, from a 422."""
    assert response.status_code == 422, response.text
    return {".".join(str(p) for p in e["loc"][1:]): e["msg"] for e in response.json()["detail"]}


def entries(db_session: Session) -> int:
    return db_session.scalar(select(func.count()).select_from(RegisterEntry)) or 0


# --- a referral that goes on the register ---


def test_a_mandatory_only_referral_goes_on_the_dsr_as_amber_001_s10(
    client: TestClient, referrer: Headers
) -> None:
    response = client.post(URL, json=referral_body(), headers=referrer)
    assert response.status_code == 201, response.text
    body = response.json()
    assert re.fullmatch(
        r"DSP-[23456789ABCDEFGHJKMNPQRSTWXYZ]{4}-[23456789ABCDEFGHJKMNPQRSTWXYZ]{4}", body["dsp_id"]
    )
    assert (body["register"], body["rag"], body["age_group"]) == ("DSR", "amber", "cyp")
    assert body["form"] == "mandatory"
    assert body["follow_ups"] == ["mam_requested"]  # 000: the MAM request is automatic
    # The answer identifies nobody: the dsp_id stands in for the person (001 section 6).
    assert "Alex" not in response.text and "Example" not in response.text


def test_age_is_derived_from_the_date_of_birth_18_and_over_is_adult_001_s14(
    client: TestClient, referrer: Headers
) -> None:
    response = client.post(URL, json=referral_body(age=30), headers=referrer)
    assert response.status_code == 201, response.text
    assert response.json()["age_group"] == "adult"


def test_a_direct_red_referral_needs_the_full_form_and_goes_on_the_roar_001_s10_s11(
    client: TestClient, referrer: Headers
) -> None:
    red = {"rag": "red", "criteria": ("red.deterioration_despite_mam",)}
    missing = errors(client.post(URL, json=referral_body(**red), headers=referrer))  # type: ignore[arg-type]
    assert "risk_details" in missing and "invitees" in missing
    assert "ROAR" in missing["risk_details"]
    response = client.post(URL, json=referral_body(full=True, **red), headers=referrer)  # type: ignore[arg-type]
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["register"], body["form"]) == ("ROAR", "full")
    assert body["follow_ups"] == ["tco_notified", "cetr_requested"]


def test_a_discharged_person_is_added_as_green_with_a_step_down_end_001_s10(
    client: TestClient, referrer: Headers
) -> None:
    body = referral_body(
        rag="green", criteria=("amber.recent_inpatient_discharge",), discharged=True
    )
    response = client.post(URL, json=body, headers=referrer)
    assert response.status_code == 201, response.text
    ends = date.fromisoformat(response.json()["step_down_ends_on"])
    assert 59 <= (ends - date.today()).days <= 62  # LLR: two months


def test_green_is_refused_for_someone_not_discharged_from_an_inpatient_hospital_001_s10(
    client: TestClient, referrer: Headers, db_session: Session
) -> None:
    """001 s10: "Only patients who have been discharged from an inpatient hospital should be
    added to the DSR as 'green'"; the rating question's answer travels in the suggestion."""
    before = entries(db_session)
    body = referral_body(rag="green", criteria=("amber.recent_inpatient_discharge",))
    assert body["rating"]["suggestion"]["choosable_at_referral"] == ["amber"]
    problems = errors(client.post(URL, json=body, headers=referrer))
    assert "discharged from an inpatient hospital" in problems["rating.decision.rag"]
    assert entries(db_session) == before


def test_long_free_text_and_the_good_referral_prompts_are_kept_003(
    client: TestClient, referrer: Headers, token_for: TokenFor
) -> None:
    prompts = {
        "lac_cin_cpp": "cin",
        "has_ehcp": True,
        "ehcp_primary_need": "Social, emotional and mental health",
        "lives_with": "Mother and brother",
        "school": "Example Academy",
        "who_is_involved": "CAMHS, social worker",
        "police_or_crisis_contact_last_12_months": True,
        "outcomes_wanted": "Stay at home and at school",
        "how_we_will_know": "Attending school four days a week",
    }
    long_text = "Sleep has broken down. " * 800
    body = referral_body(good_referral=prompts, current_situation=long_text)
    body["person"]["preferred_pronouns"] = "they/them"
    created = client.post(URL, json=body, headers=referrer)
    assert created.status_code == 201, created.text
    detail = client.get(
        f"/api/v1/register/{created.json()['dsp_id']}", headers=token_for(Role.dsr_admin)
    ).json()
    assert detail["personal"]["form"]["good_referral"] == prompts
    assert detail["personal"]["form"]["current_situation"] == long_text.strip()
    assert detail["personal"]["form"]["person"]["preferred_pronouns"] == "they/them"


# --- mandatory-only vs full (001 sections 10 and 11) ---


def test_the_mandatory_fields_are_each_named_in_plain_english(
    client: TestClient, referrer: Headers
) -> None:
    body = referral_body()
    del body["referrer"], body["current_situation"]
    body["person"] = {"date_of_birth": years_ago(12).isoformat()}
    missing = errors(client.post(URL, json=body, headers=referrer))
    assert set(missing) == {
        "person.given_name",
        "person.family_name",
        "person.nhs_number",
        "person.postcode",
        "referrer.name",
        "referrer.role",
        "referrer.organisation",
        "referrer.email",
        "current_situation",
    }
    assert missing["person.nhs_number"] == "Please give the person's NHS number."
    assert missing["current_situation"].startswith("Please give what is happening now")


def test_a_blank_answer_counts_as_missing(client: TestClient, referrer: Headers) -> None:
    missing = errors(
        client.post(URL, json=referral_body(current_situation="   "), headers=referrer)
    )
    assert set(missing) == {"current_situation"}


def test_when_the_admin_lead_organises_the_mam_every_section_and_invitee_contact_is_needed(
    client: TestClient, referrer: Headers
) -> None:
    """001 s10: "the referrer must complete the full referral form and provide contact details
    (email and phone number) for the people who should be invited to the MAM"."""
    missing = errors(
        client.post(URL, json=referral_body(mam_organised_by_admin=True), headers=referrer)
    )
    assert {
        "person.gender",
        "person.address",
        "person.gp_practice",
        "commissioner",
        "carer",
        "care_team",
        "current_location.kind",
        "communication_needs",
        "brief_history",
        "risk_details",
        "safeguarding",
        "support_in_place",
        "referrer.phone",
        "invitees",
    } <= set(missing)
    assert "001 sections 10 and 11" in missing["brief_history"]

    body = referral_body(full=True, mam_organised_by_admin=True)
    body["invitees"].append({"name": "Ms Teacher", "role": "SENCo"})
    body["carer"] = {"no_carer": False, "name": "Jo Example"}
    missing = errors(client.post(URL, json=body, headers=referrer))
    assert set(missing) == {
        "invitees.1.email",
        "invitees.1.phone",
        "carer.relationship",
        "carer.phone",
    }

    body["invitees"][1].update(email="teacher@school.example.org", phone="0116 496 0002")
    body["carer"] = {"no_carer": True}
    response = client.post(URL, json=body, headers=referrer)
    assert response.status_code == 201, response.text
    assert response.json()["form"] == "full"


# --- formats: plain English, and the value is never sent back ---


@pytest.mark.parametrize(
    ("section", "field", "value", "says"),
    [
        ("person", "nhs_number", "943 476 5918", "not a valid NHS number"),
        ("person", "postcode", "QX9 9ZZ", "UK postcode"),
        ("referrer", "email", "sam.referrer@", "email address"),
        ("referrer", "phone", "12345", "phone number"),
    ],
)
def test_a_badly_formed_value_gets_a_plain_message_that_does_not_repeat_it(
    client: TestClient, referrer: Headers, section: str, field: str, value: str, says: str
) -> None:
    body = referral_body()
    body[section][field] = value
    response = client.post(URL, json=body, headers=referrer)
    message = errors(response)[f"{section}.{field}"]
    assert says in message
    assert value not in response.text
    assert "input" not in response.json()["detail"][0]


def test_a_date_of_birth_in_the_future_is_refused(client: TestClient, referrer: Headers) -> None:
    body = referral_body()
    body["person"]["date_of_birth"] = (date.today() + timedelta(days=1)).isoformat()
    assert errors(client.post(URL, json=body, headers=referrer))["person.date_of_birth"] == (
        "The date of birth cannot be in the future."
    )


# --- consent (001 section 7; 004) ---


def test_no_consent_no_referral_001_s7(
    client: TestClient, referrer: Headers, db_session: Session
) -> None:
    before = entries(db_session)
    for consent in ({"given": False}, None):
        body = referral_body(consent=consent)
        message = errors(client.post(URL, json=body, headers=referrer))["consent.given"]
        assert "Consent is needed" in message and "001 section 7" in message
    assert entries(db_session) == before


def test_consent_records_by_whom_and_when_and_not_in_the_future_001_s7(
    client: TestClient, referrer: Headers
) -> None:
    tomorrow = (date.today() + timedelta(days=1)).isoformat()
    body = referral_body(consent={"given": True, "given_on": tomorrow})
    missing = errors(client.post(URL, json=body, headers=referrer))
    assert missing["consent.given_by"].startswith("Please say who gave consent")
    assert missing["consent.given_on"] == "The date consent was given cannot be in the future."


def test_a_child_under_16_cannot_consent_alone_004(client: TestClient, referrer: Headers) -> None:
    body = referral_body(age=12)
    body["consent"]["given_by"] = "person"
    assert "under 16" in errors(client.post(URL, json=body, headers=referrer))["consent.given_by"]
    body = referral_body(age=16)
    body["consent"]["given_by"] = "person"
    assert client.post(URL, json=body, headers=referrer).status_code == 201


def test_west_sussex_consent_by_the_person_or_a_parent_and_renewed_yearly_004(
    client: TestClient, referrer: Headers, variant: Callable[[str], None]
) -> None:
    variant("west_sussex")
    body = referral_body(
        variant_id="west_sussex", criteria=("amber.starting_challenging_behaviour",)
    )
    body["consent"]["given_by"] = "best_interests"
    message = errors(client.post(URL, json=body, headers=referrer))["consent.given_by"]
    assert "In West Sussex consent is given by" in message
    body["consent"]["given_by"] = "parent_carer_guardian"
    response = client.post(URL, json=body, headers=referrer)
    assert response.status_code == 201, response.text
    given = date.fromisoformat(body["consent"]["given_on"])
    due = date.fromisoformat(response.json()["consent_renewal_due_on"])
    assert (due.year - given.year, due.month, due.day) == (1, given.month, given.day)


# --- eligibility is checked again, so no ineligible person is stored (000, 001 s9) ---


def test_an_ineligible_person_is_not_stored_and_the_reason_is_given_001_s9(
    client: TestClient, referrer: Headers, db_session: Session
) -> None:
    before = entries(db_session)
    body = referral_body()
    body["eligibility"]["diagnosis"] = "learning_difficulty_only"
    messages = errors(client.post(URL, json=body, headers=referrer))
    assert "Learning difficulty" in messages["eligibility"]
    assert entries(db_session) == before


def test_what_still_needs_confirming_is_listed(client: TestClient, referrer: Headers) -> None:
    body = referral_body()
    del body["eligibility"]["council_area"]
    response = client.post(URL, json=body, headers=referrer)
    assert response.status_code == 422
    assert any("Please confirm" in e["msg"] for e in response.json()["detail"])


def test_a_section_117_cyp_placed_out_of_area_needs_a_red_rating_000(
    client: TestClient, referrer: Headers
) -> None:
    body = referral_body(full=True)
    body["eligibility"].update(
        council_area=None,
        out_of_area_placement=True,
        section_117_funded=True,
        urgent_cetr_needed=True,
    )
    message = errors(client.post(URL, json=body, headers=referrer))["rating.decision.rag"]
    assert "only with a red rating" in message


# --- the rating: suggested by the assistant, decided by the referrer (001 s10) ---


def test_nobody_is_referred_as_blue_and_the_register_follows_the_rating_000(
    client: TestClient, referrer: Headers
) -> None:
    body = referral_body()
    body["rating"]["decision"] = {"rag": "blue", "register": "DSR"}
    assert (
        "Nobody is referred as blue"
        in errors(client.post(URL, json=body, headers=referrer))["rating.decision.rag"]
    )
    body["rating"]["decision"] = {"rag": "amber", "register": "ROAR"}
    assert errors(client.post(URL, json=body, headers=referrer))["rating.decision.register"] == (
        "A amber rating goes on the DSR (001 section 10)."
    )


def test_the_referrer_must_decide_where_the_referrer_rates_001_s10(
    client: TestClient, referrer: Headers
) -> None:
    body = referral_body()
    del body["rating"]["decision"]
    assert (
        "the referrer decides"
        in errors(client.post(URL, json=body, headers=referrer))["rating.decision"]
    )


def test_criteria_that_are_not_the_variants_are_refused(
    client: TestClient, referrer: Headers
) -> None:
    body = referral_body()
    body["rating"]["suggestion"]["criteria_matched"][0]["id"] = "amber.made_up"
    assert (
        "amber.made_up"
        in errors(client.post(URL, json=body, headers=referrer))[
            "rating.suggestion.criteria_matched"
        ]
    )


# --- self-referral (003: Tees Valley only) ---


def test_self_referral_is_refused_kindly_where_the_variant_does_not_allow_it(
    client: TestClient, referrer: Headers
) -> None:
    body = referral_body(referral_source="self")
    message = errors(client.post(URL, json=body, headers=referrer))["referral_source"]
    assert "cannot refer themselves" in message and "professional" in message


def test_tees_valley_self_referral_needs_only_the_person_consent_and_a_way_to_reach_them_003(
    client: TestClient, referrer: Headers, variant: Callable[[str], None]
) -> None:
    variant("tees_valley")
    body = self_referral_body()
    del body["person"]["phone"]
    assert (
        "phone number or an email address"
        in errors(client.post(URL, json=body, headers=referrer))["person.phone"]
    )
    response = client.post(URL, json=self_referral_body(), headers=referrer)
    assert response.status_code == 201, response.text
    created = response.json()
    # 003: the DSR meeting rates; until then the person is on the DSR as amber (001 s10).
    assert (created["referral_source"], created["form"]) == ("self", "self_referral")
    assert (created["register"], created["rag"]) == ("DSR", "amber")


def test_the_referral_source_must_match_who_is_referring(
    client: TestClient, referrer: Headers
) -> None:
    body = referral_body()
    body["eligibility"]["referrer_kind"] = "family"
    assert (
        "does not match"
        in errors(client.post(URL, json=body, headers=referrer))["eligibility.referrer_kind"]
    )


# --- one person, one entry: retries and duplicates ---


def test_a_retry_with_the_same_idempotency_key_returns_the_first_answer(
    client: TestClient, referrer: Headers, db_session: Session
) -> None:
    body = referral_body()
    headers = {**referrer, "Idempotency-Key": "a2f1c0de-retry-0001"}
    first = client.post(URL, json=body, headers=headers)
    before = entries(db_session)
    again = client.post(URL, json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert entries(db_session) == before


def test_the_same_idempotency_key_with_a_different_body_is_a_conflict(
    client: TestClient, referrer: Headers
) -> None:
    headers = {**referrer, "Idempotency-Key": "a2f1c0de-retry-0002"}
    assert client.post(URL, json=referral_body(), headers=headers).status_code == 201
    response = client.post(URL, json=referral_body(), headers=headers)
    assert response.status_code == 409
    assert "different referral" in response.json()["detail"]


def test_a_refused_referral_does_not_use_up_its_idempotency_key(
    client: TestClient, referrer: Headers
) -> None:
    headers = {**referrer, "Idempotency-Key": "a2f1c0de-retry-0003"}
    body = referral_body()
    assert client.post(URL, json={**body, "consent": None}, headers=headers).status_code == 422
    # Put right and sent again under the same key: stored, because nothing was stored before.
    assert client.post(URL, json=body, headers=headers).status_code == 201


def test_someone_already_on_the_register_needs_no_new_referral_000(
    client: TestClient, referrer: Headers, token_for: TokenFor
) -> None:
    nhs_number = new_nhs_number()
    first = client.post(URL, json=referral_body(nhs_number=nhs_number), headers=referrer)
    again = client.post(URL, json=referral_body(nhs_number=nhs_number), headers=referrer)
    assert again.status_code == 409
    assert "already on the register" in again.json()["detail"]
    assert nhs_number not in again.text
    # Once removed, a new referral is how they come back.
    client.post(
        f"/api/v1/register/{first.json()['dsp_id']}/transitions",
        json={"to": "removed", "reason": "stood down", "removal_reason": "stood_down_by_mam"},
        headers=token_for(Role.dsr_admin),
    )
    assert (
        client.post(URL, json=referral_body(nhs_number=nhs_number), headers=referrer).status_code
        == 201
    )


# --- the dsp_id and where personal data lives (001 sections 6 and 8) ---


def test_dsp_ids_are_random_and_use_no_look_alike_characters() -> None:
    drawn = {register_service.new_dsp_id() for _ in range(500)}
    assert len(drawn) == 500
    assert not set("".join(drawn)) & set("01ILOUV")


def test_a_colliding_dsp_id_is_drawn_again(
    client: TestClient, referrer: Headers, db_session: Session
) -> None:
    taken = client.post(URL, json=referral_body(), headers=referrer).json()["dsp_id"]
    draws = iter([taken, taken, "DSP-2345-6789"])
    chosen = register_service.allocate_dsp_id(db_session=db_session, generate=lambda: next(draws))
    assert chosen == "DSP-2345-6789"
    with pytest.raises(RuntimeError):
        register_service.allocate_dsp_id(db_session=db_session, generate=lambda: taken)


def test_personal_data_lives_only_in_its_own_table_so_retention_can_delete_it(
    client: TestClient, referrer: Headers, db_session: Session, token_for: TokenFor
) -> None:
    personal_columns = {"nhs_number", "given_name", "family_name", "date_of_birth", "postcode"}
    inspector = inspect(db_session.connection())
    for table in ("register_entry", "referral", "rating_transition", "register_task"):
        assert not personal_columns & {c["name"] for c in inspector.get_columns(table)}
    dsp_id = client.post(URL, json=referral_body(), headers=referrer).json()["dsp_id"]
    entry = db_session.scalar(select(RegisterEntry).where(RegisterEntry.dsp_id == dsp_id))
    assert entry is not None
    personal = db_session.scalar(
        select(ReferralPersonal).where(ReferralPersonal.entry_id == entry.id)
    )
    db_session.delete(personal)
    db_session.commit()
    detail = client.get(f"/api/v1/register/{dsp_id}", headers=token_for(Role.dsr_admin))
    assert detail.status_code == 200
    assert detail.json()["personal"] is None and detail.json()["rag"] == "amber"

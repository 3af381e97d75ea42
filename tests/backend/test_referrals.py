"""POST /api/v1/referrals: the referral form, its validation, consent, eligibility and retries."""

import re
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, inspect, select
from sqlalchemy.orm import Session
from test_referrals_factory import (
    GOOD_REFERRAL,
    new_nhs_number,
    referral_body,
    self_referral_body,
    years_ago,
)

from dsp_backend.auth.schemas import Role
from dsp_backend.referrals.models import ReferralPersonal
from dsp_backend.register import service as register_service
from dsp_backend.register.models import RegisterEntry

URL = "/api/v1/referrals"
# DESIGN.md: replies never show the source documents' codes ("001", "003").
DOCUMENT_CODE = re.compile(r"\b00[0-4]\b")
Headers = dict[str, str]
TokenFor = Callable[[Role], Headers]


@pytest.fixture
def referrer(token_for: TokenFor) -> Headers:
    return token_for(Role.referrer)


def errors(response: Any) -> dict[str, str]:
    """linkId (or 'eligibility') -> message, from a 422; other places by their dotted path."""
    assert response.status_code == 422, response.text
    found = {}
    for problem in response.json()["detail"]:
        assert "input" not in problem  # a 422 never echoes what was sent
        loc = [str(part) for part in problem["loc"][1:]]
        found[".".join(loc[1:] if loc[:1] == ["answers"] and len(loc) > 1 else loc)] = problem[
            "msg"
        ]
    return found


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
    # 000: the MAM request is automatic; a keyworker is allocated to a child in line with need.
    assert body["follow_ups"] == ["mam_requested", "keyworker_referral_due"]
    # 001 s10: the referrer organises the MAM unless they asked the DSP admin lead to.
    assert body["next_steps"][0].startswith("What happens next: you organise and chair")
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
    """001 s10: imminent risk with no earlier knowledge of escalating risk is a direct ROAR
    referral; 001 s11: a ROAR referral needs every section of the form."""
    red = {"rag": "red", "criteria": ("red.deterioration_despite_mam",), "imminent": True}
    missing = errors(client.post(URL, json=referral_body(**red), headers=referrer))  # type: ignore[arg-type]
    assert {"risk_details", "invitees", "brief_history", "referrer_phone"} <= set(missing)
    assert all(message.startswith("Please give") for message in missing.values())
    response = client.post(URL, json=referral_body(full=True, **red), headers=referrer)  # type: ignore[arg-type]
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["register"], body["rag"], body["form"]) == ("ROAR", "red", "full")
    assert body["follow_ups"] == ["tco_notified", "cetr_requested", "keyworker_referral_due"]
    # 001 s10: the TCOs contact the referrer; said in plain words, with no document codes.
    assert any("Transforming Care Officers" in step for step in body["next_steps"])
    assert not any(DOCUMENT_CODE.search(step) for step in body["next_steps"])


def test_green_is_refused_for_someone_not_discharged_from_an_inpatient_hospital_001_s10(
    client: TestClient, referrer: Headers, db_session: Session
) -> None:
    """001 s10: "Only patients who have been discharged from an inpatient hospital should be
    added to the DSR as 'green'"; the service reads that from the hospital-stays answer."""
    before = entries(db_session)
    body = referral_body(rag="green", criteria=("amber.recent_inpatient_discharge",))
    assert body["answers"]["inpatient_status"] == "neither"
    problems = errors(client.post(URL, json=body, headers=referrer))
    assert set(problems) == {"rag"}
    assert "discharged from an inpatient hospital" in problems["rag"]
    assert entries(db_session) == before


def test_long_free_text_and_the_good_referral_prompts_are_kept_003(
    client: TestClient, referrer: Headers, token_for: TokenFor, variant: Callable[[str], None]
) -> None:
    """003's good-referral prompts are asked in every Tees Valley referral and kept with it."""
    variant("tees_valley")
    long_text = "Sleep has broken down. " * 800
    body = referral_body(
        variant_id="tees_valley",
        rag=None,
        criteria=(),
        current_situation=long_text,
        gender="they/them",
    )
    created = client.post(URL, json=body, headers=referrer)
    assert created.status_code == 201, created.text
    detail = client.get(
        f"/api/v1/register/{created.json()['dsp_id']}", headers=token_for(Role.dsr_admin)
    ).json()
    stored = detail["personal"]["form"]["answers"]
    assert {k: stored[k] for k in GOOD_REFERRAL} == GOOD_REFERRAL
    assert stored["current_situation"] == long_text
    assert stored["gender"] == "they/them"
    too_long = referral_body(
        variant_id="tees_valley", rag=None, criteria=(), current_situation="x" * 20_001
    )
    assert set(errors(client.post(URL, json=too_long, headers=referrer))) == {"current_situation"}


# --- mandatory-only vs full (001 sections 10 and 11) ---


def test_the_mandatory_fields_are_each_named_in_plain_english(
    client: TestClient, referrer: Headers
) -> None:
    gone = (
        "person_name",
        "nhs_number",
        "postcode",
        "referrer_name",
        "referrer_role",
        "referrer_organisation",
        "referrer_email",
        "current_situation",
    )
    body = referral_body()
    for link_id in gone:
        del body["answers"][link_id]
    missing = errors(client.post(URL, json=body, headers=referrer))
    assert set(missing) == set(gone)
    assert missing["nhs_number"] == "Please give NHS number."
    assert missing["current_situation"] == "Please give what is happening now."


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
    missing = errors(client.post(URL, json=referral_body(mam_by_admin=True), headers=referrer))
    assert set(missing) == {
        "gender",
        "address",
        "gp_practice",
        "commissioner",
        "carer",
        "care_team",
        "current_location",
        "communication_needs",
        "brief_history",
        "risk_details",
        "safeguarding",
        "support_in_place",
        "referrer_phone",
        "invitees",
    }

    body = referral_body(full=True, mam_organised_by_admin=True)
    people = list(body["answers"]["invitees"]["people"])
    body["answers"]["invitees"] = {
        "people": [*people, {"name": "Ms Teacher", "role": "SENCo"}],
        "complete": True,
    }
    assert "invitees" in errors(client.post(URL, json=body, headers=referrer))
    # A list of invitees still being given is not an answer yet.
    body["answers"]["invitees"] = {"people": people, "complete": False}
    assert errors(client.post(URL, json=body, headers=referrer)) == {
        "invitees": "Please give the people to invite."
    }

    teacher = {
        "name": "Ms Teacher",
        "role": "SENCo",
        "email": "teacher@school.example.org",
        "phone": "01164960002",
    }
    body["answers"]["invitees"] = {"people": [*people, teacher], "complete": True}
    response = client.post(URL, json=body, headers=referrer)
    assert response.status_code == 201, response.text
    assert response.json()["form"] == "full"
    assert "DSR admin lead will contact you" in response.json()["next_steps"][0]


# --- formats: plain English, and the value is never sent back ---


@pytest.mark.parametrize(
    ("link_id", "value", "says"),
    [
        ("nhs_number", "943 476 5918", "NHS number"),
        ("postcode", "QX9 9ZZ", "postcode"),
        ("referrer_email", "sam.referrer@", "your email"),
        ("referrer_phone", "12345", "your phone number"),
        ("date_of_birth", "14th March 2009", "YYYY-MM-DD"),
        ("person_name", {"given": "Alex Example"}, "their name"),
        ("consent_by", "Alex Example's mother", "who gave consent"),
        ("council_area", "Alex Example's road", "where they live"),
    ],
)
def test_a_badly_formed_value_gets_a_plain_message_that_does_not_repeat_it(
    client: TestClient, referrer: Headers, link_id: str, value: Any, says: str
) -> None:
    body = referral_body(full=True, mam_organised_by_admin=True, **{link_id: value})
    response = client.post(URL, json=body, headers=referrer)
    assert says in errors(response)[link_id]
    assert (value if isinstance(value, str) else "Alex") not in response.text
    assert all("input" not in problem for problem in response.json()["detail"])


def test_answers_the_rules_cannot_read_are_refused_plainly_never_a_server_error(
    client: TestClient, referrer: Headers
) -> None:
    """A number where a date goes, a list where a choice goes: each named, none repeated."""
    for link_id, value in (
        ("age", "Alex is 12"),
        ("date_of_birth", 20120403),
        ("inpatient_status", ["now"]),
        ("diagnosis", {"Alex": "autism"}),
        ("concerns", 7),
        ("escalating_risk_known", "Alex said no"),  # a question that does not apply
    ):
        body = referral_body()
        body["answers"][link_id] = value
        response = client.post(URL, json=body, headers=referrer)
        assert link_id in errors(response), link_id
        assert "Alex" not in response.text and "20120403" not in response.text


def test_only_the_questionnaire_answers_are_taken_nothing_the_service_derives(
    client: TestClient, referrer: Headers
) -> None:
    """The register, the suggestion and the ratings that may be chosen are the service's own."""
    for extra in ("register", "suggestion", "choosable_at_referral", "eligibility", "form"):
        body = referral_body()
        body["answers"][extra] = "ROAR"
        assert errors(client.post(URL, json=body, headers=referrer)) == {
            extra: "This is not a question of the referral."
        }
        body = referral_body()
        body[extra] = {"rag": "red"}
        response = client.post(URL, json=body, headers=referrer)
        assert response.status_code == 422 and "red" not in response.text


def test_a_date_of_birth_in_the_future_or_over_120_years_ago_is_refused(
    client: TestClient, referrer: Headers
) -> None:
    tomorrow = (date.today() + timedelta(days=1)).isoformat()
    future = errors(client.post(URL, json=referral_body(date_of_birth=tomorrow), headers=referrer))
    assert future["date_of_birth"] == "The date of birth cannot be in the future."
    long_ago = years_ago(130).isoformat()
    response = client.post(URL, json=referral_body(date_of_birth=long_ago), headers=referrer)
    assert "over 120" in errors(response)["date_of_birth"]
    assert long_ago not in response.text


# --- consent (001 section 7; 004) ---


def test_no_consent_no_referral_001_s7(
    client: TestClient, referrer: Headers, db_session: Session
) -> None:
    before = entries(db_session)
    not_given = errors(
        client.post(URL, json=referral_body(consent_by="not_given"), headers=referrer)
    )
    assert "Consent is needed" in not_given["consent_by"]
    assert not DOCUMENT_CODE.search(not_given["consent_by"])
    unsaid = errors(client.post(URL, json=referral_body(consent_by=None), headers=referrer))
    assert unsaid == {"consent_by": "Please give who gave consent."}
    assert entries(db_session) == before


def test_consent_records_by_whom_and_when_and_not_in_the_future_001_s7(
    client: TestClient, referrer: Headers, token_for: TokenFor
) -> None:
    tomorrow = (date.today() + timedelta(days=1)).isoformat()
    future = errors(client.post(URL, json=referral_body(consent_date=tomorrow), headers=referrer))
    assert future == {"consent_date": "The date cannot be in the future."}
    undated = errors(client.post(URL, json=referral_body(consent_date=None), headers=referrer))
    assert undated == {"consent_date": "Please give the date consent was given."}
    body = referral_body()
    created = client.post(URL, json=body, headers=referrer).json()
    detail = client.get(
        f"/api/v1/register/{created['dsp_id']}", headers=token_for(Role.dsr_admin)
    ).json()
    assert detail["consent_given_by"] == "parent_carer_guardian"
    assert detail["consent_given_on"] == body["answers"]["consent_date"]


def test_a_child_under_16_cannot_consent_alone_004(client: TestClient, referrer: Headers) -> None:
    body = referral_body(age=12, consent_by="person")
    assert "under 16" in errors(client.post(URL, json=body, headers=referrer))["consent_by"]
    body = referral_body(age=16, consent_by="person", consent_capacity=True)
    assert client.post(URL, json=body, headers=referrer).status_code == 201


def test_west_sussex_consent_by_the_person_or_a_parent_and_renewed_yearly_004(
    client: TestClient, referrer: Headers, variant: Callable[[str], None]
) -> None:
    variant("west_sussex")
    criteria = ("amber.starting_challenging_behaviour",)
    body = referral_body(variant_id="west_sussex", criteria=criteria, consent_by="best_interests")
    message = errors(client.post(URL, json=body, headers=referrer))["consent_by"]
    assert "In West Sussex consent is given by" in message
    body = referral_body(variant_id="west_sussex", criteria=criteria)
    response = client.post(URL, json=body, headers=referrer)
    assert response.status_code == 201, response.text
    given = date.fromisoformat(body["answers"]["consent_date"])
    due = date.fromisoformat(response.json()["consent_renewal_due_on"])
    assert (due.year - given.year, due.month, due.day) == (1, given.month, given.day)


# --- eligibility is checked again, so no ineligible person is stored (000, 001 s9) ---


def test_an_ineligible_person_is_not_stored_and_the_reason_is_given_001_s9(
    client: TestClient, referrer: Headers, db_session: Session
) -> None:
    before = entries(db_session)
    body = referral_body(diagnosis="learning_difficulty_only")
    messages = errors(client.post(URL, json=body, headers=referrer))
    assert "Learning difficulty" in messages["eligibility"]
    assert not DOCUMENT_CODE.search(messages["eligibility"])
    assert entries(db_session) == before


def test_what_still_needs_confirming_is_listed(client: TestClient, referrer: Headers) -> None:
    """000: a diagnosis not known yet is confirmed first, never guessed."""
    response = client.post(URL, json=referral_body(diagnosis="unknown"), headers=referrer)
    message = errors(response)["eligibility"]
    assert "please confirm whether the person has a diagnosis" in message
    assert "lpt.adult-lda-dsp@nhs.net" in message  # who to ask
    assert "Please give where they live." in errors(
        client.post(URL, json=referral_body(council_area=None), headers=referrer)
    ).get("council_area", "")


def test_a_section_117_cyp_placed_out_of_area_needs_a_red_rating_000(
    client: TestClient, referrer: Headers
) -> None:
    """000: a CYP fully or partly health funded (section 117) in an out-of-area placement may be
    referred where a red rating and an urgent CETR are needed; red is then the only rating."""
    placed = {
        "council_area": "outside",
        "looked_after_child": False,
        "section_117_placement": True,
        "urgent_cetr_needed": True,
    }
    amber = referral_body(full=True, **placed)  # type: ignore[arg-type]
    message = errors(client.post(URL, json=amber, headers=referrer))["rag"]
    assert "only with a red rating" in message
    response = client.post(URL, json=referral_body(full=True, rag=None, **placed), headers=referrer)  # type: ignore[arg-type]
    assert response.status_code == 201, response.text
    assert (response.json()["register"], response.json()["rag"]) == ("ROAR", "red")
    no_cetr = referral_body(full=True, rag=None, **{**placed, "urgent_cetr_needed": False})  # type: ignore[arg-type]
    assert "eligibility" in errors(client.post(URL, json=no_cetr, headers=referrer))


# --- the rating: suggested by the assistant, decided by the referrer (001 s10) ---


def test_nobody_is_referred_as_blue_and_the_register_follows_the_rating_000(
    client: TestClient, referrer: Headers
) -> None:
    blue = errors(client.post(URL, json=referral_body(rag="blue"), headers=referrer))
    assert "Nobody is referred as blue" in blue["rag"]
    # The register is derived from the rating: a referral cannot name one.
    body = referral_body(register="ROAR")
    assert "register" in errors(client.post(URL, json=body, headers=referrer))
    created = client.post(URL, json=referral_body(), headers=referrer).json()
    assert (created["rag"], created["register"]) == ("amber", "DSR")


def test_the_referrer_must_decide_where_the_referrer_rates_001_s10(
    client: TestClient, referrer: Headers
) -> None:
    """Discharged from an inpatient hospital: amber or green may be chosen, so the referrer
    chooses; the suggestion is only a suggestion."""
    body = referral_body(rag=None, criteria=(), discharged=True)
    assert errors(client.post(URL, json=body, headers=referrer)) == {
        "rag": "Please give the rating."
    }
    green_or_amber = client.post(
        "/api/v1/questionnaire/next",
        json={"answers": {k: v for k, v in body["answers"].items() if k != "rag"}},
        headers=referrer,
    ).json()
    assert green_or_amber["question"]["linkId"] == "rag"
    assert [o["code"] for o in green_or_amber["question"]["options"]] == ["amber", "green"]
    assert "You decide" in green_or_amber["question"]["text"]
    body = referral_body(rag="amber", criteria=(), discharged=True)
    assert client.post(URL, json=body, headers=referrer).json()["rag"] == "amber"


def test_criteria_that_are_not_the_variants_are_refused(
    client: TestClient, referrer: Headers
) -> None:
    body = referral_body(criteria=("amber.made_up",))
    message = errors(client.post(URL, json=body, headers=referrer))["concerns"]
    assert "not Leicester, Leicestershire and Rutland's criteria" in message
    adult_only = referral_body(age=12, criteria=("red.urgent_admission_avoidance",))
    assert "concerns" in errors(client.post(URL, json=adult_only, headers=referrer))


# --- self-referral (003: Tees Valley only) ---


def test_self_referral_is_refused_kindly_where_the_variant_does_not_allow_it(
    client: TestClient, referrer: Headers
) -> None:
    body = self_referral_body(council_area="leicester_city", postcode="LE1 6TH")
    del body["answers"]["concerns"], body["answers"]["outcomes_wanted"]
    body["answers"].update(concerns=["amber.carer_strain"], inpatient_status="neither")
    body["answers"].update(imminent_risk=False)
    message = errors(client.post(URL, json=body, headers=referrer))["eligibility"]
    assert "cannot refer themselves" in message and "professional" in message


def test_tees_valley_self_referral_needs_only_the_person_consent_and_a_way_to_reach_them_003(
    client: TestClient, referrer: Headers, variant: Callable[[str], None], token_for: TokenFor
) -> None:
    variant("tees_valley")
    body = self_referral_body()
    del body["answers"]["self_contact"]
    assert errors(client.post(URL, json=body, headers=referrer)) == {
        "self_contact": "Please give how to reach you."
    }
    response = client.post(URL, json=self_referral_body(), headers=referrer)
    assert response.status_code == 201, response.text
    created = response.json()
    assert (created["referral_source"], created["form"]) == ("self", "self_referral")
    # 003: the DSR meeting rates the referral; until then it is on the DSR, unrated.
    assert (created["register"], created["rag"], created["follow_ups"]) == (
        "DSR",
        None,
        ["keyworker_referral_due"],  # 003: the keyworker programme is for children
    )
    assert "DSR coordinator" in created["next_steps"][0]
    detail = client.get(
        f"/api/v1/register/{created['dsp_id']}", headers=token_for(Role.dsr_admin)
    ).json()
    assert detail["state"] == "unrated"


def test_the_referral_source_must_match_who_is_referring(
    client: TestClient, referrer: Headers, variant: Callable[[str], None]
) -> None:
    """A professional says their sector; a self-referrer whether it is for them or family."""
    family = errors(client.post(URL, json=referral_body(referrer_kind="family"), headers=referrer))
    assert "referrer_kind" in family
    variant("tees_valley")
    body = self_referral_body(self_who=None, referrer_kind="health")
    assert "self_who" in errors(client.post(URL, json=body, headers=referrer))


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
    refused = referral_body(consent_by="not_given")
    assert client.post(URL, json=refused, headers=headers).status_code == 422
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

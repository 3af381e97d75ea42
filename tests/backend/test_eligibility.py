"""Eligibility: each rule of 000, 001 section 9, 003 and 004, and POST /api/v1/eligibility."""

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st

from dsp_backend.auth.schemas import Role
from dsp_backend.eligibility import service as eligibility_service
from dsp_backend.eligibility.schemas import EligibilityAnswers, EligibilityResult
from dsp_backend.variants import service as variant_service

TODAY = date(2026, 11, 22)
LLR = variant_service.load("llr")
TEES_VALLEY = variant_service.load("tees_valley")
WEST_SUSSEX = variant_service.load("west_sussex")

# A referral that meets every LLR rule; each test changes what it is about.
GOOD: dict[str, Any] = {
    "diagnosis": "learning_disability",
    "diagnosis_confirmed": True,
    "confirmation_evidence_available": True,
    "council_area": "leicester_city",
    "age_years": 30,
    "referrer_kind": "health",
}


def check(variant_id: str = "llr", **changes: Any) -> EligibilityResult:
    answers = EligibilityAnswers.model_validate({**GOOD, **changes})
    variant = variant_service.load(variant_id)
    return eligibility_service.check(answers=answers, variant=variant, today=TODAY)


def reason(result: EligibilityResult, rule: str) -> Any:
    return next(r for r in result.reasons if r.rule == rule)


# --- diagnosis ----------------------------------------------------------------------------


def test_a_confirmed_learning_disability_in_llr_is_eligible_001_s9() -> None:
    result = check()
    assert result.outcome == "eligible" and result.eligible
    assert result.register == "DSR"
    assert result.age_group == "adult"
    assert result.to_confirm == []
    assert all(r.met for r in result.reasons)
    assert all(r.source for r in result.reasons)


@pytest.mark.parametrize("diagnosis", ["autism", "both"])
def test_autism_or_both_meet_the_diagnosis_rule_000(diagnosis: str) -> None:
    assert check(diagnosis=diagnosis).eligible


def test_learning_difficulty_is_not_a_learning_disability_001_s9() -> None:
    result = check(diagnosis="learning_difficulty_only")
    assert result.outcome == "not_eligible"
    assert not reason(result, "diagnosis").met
    assert "Learning difficulty" in reason(result, "diagnosis").text
    assert result.what_to_do_instead == LLR.what_to_do_instead.diagnosis


def test_no_diagnosis_is_not_eligible_000() -> None:
    assert check(diagnosis="none").outcome == "not_eligible"


def test_an_unknown_diagnosis_needs_confirmation_not_a_guess_000() -> None:
    result = check(diagnosis="unknown")
    assert result.outcome == "needs_confirmation"
    assert any("diagnosis" in item for item in result.to_confirm)


def test_an_unconfirmed_diagnosis_is_not_accepted_000_001_s9() -> None:
    result = check(diagnosis_confirmed=False)
    assert result.outcome == "not_eligible"
    assert "confirmed" in reason(result, "diagnosis").text


def test_evidence_of_the_confirmation_must_go_with_the_referral_000() -> None:
    result = check(confirmation_evidence_available=False)
    assert result.outcome == "needs_confirmation"
    assert not reason(result, "diagnosis_evidence").met
    assert any("evidence" in item for item in result.to_confirm)


def test_a_privately_obtained_autism_diagnosis_is_accepted_in_llr_001_s9() -> None:
    result = check(diagnosis="autism", autism_diagnosis_private=True)
    assert result.eligible
    assert "privately obtained" in reason(result, "diagnosis").text


def test_a_private_autism_diagnosis_is_asked_about_where_the_source_is_silent_003() -> None:
    result = check(
        "tees_valley",
        diagnosis="autism",
        autism_diagnosis_private=True,
        council_area="darlington",
        age_years=12,
    )
    assert result.outcome == "needs_confirmation"
    assert any("privately obtained" in item for item in result.to_confirm)


# --- area ---------------------------------------------------------------------------------


def test_a_gp_in_an_llr_icb_practice_is_enough_without_a_council_area_001_s9() -> None:
    result = check(council_area=None, gp_in_area=True)
    assert result.eligible
    assert "GP" in reason(result, "area").text


def test_an_llr_gp_does_not_bring_in_someone_who_lives_outside_llr_001_s9() -> None:
    """DESIGN.md (001 s9): lives in LLR AND (an LLR ICB GP or an LLR council address). Someone
    living outside is eligible only by an out-of-area exception, whatever their GP."""
    outside = check(council_area=None, lives_outside_area=True, gp_in_area=True, age_years=12)
    assert outside.outcome == "not_eligible"
    assert "None of the out-of-area exceptions applies" in reason(outside, "area").text
    placed = check(
        council_area=None,
        lives_outside_area=True,
        gp_in_area=True,
        age_years=12,
        looked_after_child=True,
        out_of_area_placement=True,
        placing_council="rutland",
    )
    assert placed.eligible
    assert reason(placed, "out_of_area.cyp_looked_after_placed_by_llr").met


def test_a_gp_alone_does_not_decide_where_the_variant_names_no_gp_rule_003() -> None:
    result = check("tees_valley", council_area=None, gp_in_area=True, age_years=12)
    assert result.outcome == "needs_confirmation"


def test_a_postcode_only_suggests_the_area_and_never_decides_000_001_s9() -> None:
    result = check(council_area=None, postcode="le15 6xy")
    assert result.outcome == "needs_confirmation"
    assert not result.eligible and result.register is None
    assert result.to_confirm == [
        "the postcode LE15 suggests Rutland: please confirm the council area"
    ]
    # only the district is repeated, never the whole postcode
    assert "6XY" not in result.model_dump_json().upper()


def test_a_postcode_outside_the_variant_still_only_asks_000_001_s9() -> None:
    result = check(council_area=None, postcode="NG1 1AA")
    assert result.outcome == "needs_confirmation"
    assert "NG1 is not one we know" in result.to_confirm[0]


def test_nothing_about_where_the_person_lives_asks_for_area_or_gp_001_s9() -> None:
    result = check(council_area=None)
    assert result.outcome == "needs_confirmation"
    assert "council area" in result.to_confirm[0] and "GP" in result.to_confirm[0]


def test_living_outside_with_no_exception_is_not_eligible_001_s9() -> None:
    result = check(council_area=None, lives_outside_area=True)
    assert result.outcome == "not_eligible"
    assert result.what_to_do_instead == LLR.what_to_do_instead.area


# --- out-of-area exceptions ---------------------------------------------------------------

CYP_OUT_OF_AREA: dict[str, Any] = {
    "council_area": None,
    "out_of_area_placement": True,
    "age_years": 14,
}


def test_cyp_section_117_out_of_area_needing_red_and_urgent_cetr_goes_to_roar_000() -> None:
    result = check(**CYP_OUT_OF_AREA, section_117_funded=True, urgent_cetr_needed=True)
    assert result.eligible
    assert result.register == "ROAR"
    assert result.rating_required == "red"
    assert reason(result, "out_of_area.cyp_section_117_red").met


def test_cyp_section_117_out_of_area_without_urgent_cetr_is_not_eligible_000() -> None:
    result = check(**CYP_OUT_OF_AREA, section_117_funded=True)
    assert result.outcome == "not_eligible"
    assert "urgent CETR" in reason(result, "area").text


def test_looked_after_child_placed_out_of_area_by_an_llr_council_000() -> None:
    result = check(**CYP_OUT_OF_AREA, looked_after_child=True, placing_council="rutland")
    assert result.eligible
    assert result.register == "DSR"
    assert result.rating_required is None


def test_looked_after_child_placed_by_another_council_is_not_eligible_000() -> None:
    result = check(**CYP_OUT_OF_AREA, looked_after_child=True)
    assert result.outcome == "not_eligible"


def test_adult_section_117_out_of_area_can_go_to_the_roar_for_a_ctr_001_appendix_2() -> None:
    result = check(council_area=None, out_of_area_placement=True, section_117_funded=True)
    assert result.eligible
    assert result.register == "ROAR"
    assert result.age_group == "adult"


def test_an_adult_cannot_use_the_looked_after_child_exception_000() -> None:
    result = check(
        council_area=None,
        out_of_area_placement=True,
        looked_after_child=True,
        placing_council="leicestershire",
    )
    assert result.outcome == "not_eligible"


def test_out_of_area_with_no_age_asks_for_it_before_the_exceptions() -> None:
    result = check(
        council_area=None, out_of_area_placement=True, section_117_funded=True, age_years=None
    )
    assert result.outcome == "needs_confirmation"


def test_tees_valley_has_no_out_of_area_exceptions_003() -> None:
    result = check(
        "tees_valley",
        **CYP_OUT_OF_AREA,
        section_117_funded=True,
        urgent_cetr_needed=True,
    )
    assert result.outcome == "not_eligible"
    assert result.what_to_do_instead == TEES_VALLEY.what_to_do_instead.area


# --- age, register and transition ---------------------------------------------------------


def test_under_18_is_cyp_and_18_is_adult_on_the_birthday_001_s14() -> None:
    assert check(date_of_birth=date(2008, 11, 23), age_years=None).age_group == "cyp"
    assert check(date_of_birth=date(2008, 11, 22), age_years=None).age_group == "adult"


def test_no_date_of_birth_or_age_needs_confirmation() -> None:
    result = check(age_years=None)
    assert result.outcome == "needs_confirmation"
    assert result.age_group is None


def test_tees_valley_does_not_take_adults_003() -> None:
    result = check("tees_valley", council_area="hartlepool", age_years=19)
    assert result.outcome == "not_eligible"
    assert not reason(result, "age").met
    assert result.what_to_do_instead == TEES_VALLEY.what_to_do_instead.age


def test_west_sussex_points_adults_to_the_local_adult_dsr_004() -> None:
    result = check("west_sussex", council_area="west_sussex", age_years=25)
    assert result.outcome == "not_eligible"
    assert result.what_to_do_instead == WEST_SUSSEX.ages.adults_elsewhere


def test_west_sussex_young_person_is_eligible_for_its_dsr_004() -> None:
    result = check("west_sussex", council_area="west_sussex", age_years=15)
    assert result.eligible and result.register == "DSR" and result.age_group == "cyp"


def test_transition_from_17_years_10_months_001_s14() -> None:
    """001 s14 says "17 years and 14 months": read as 17 years 10 months (DESIGN.md)."""
    at_window = check(date_of_birth=date(2009, 1, 22), age_years=None)  # 17y 10m
    assert at_window.transition is True
    assert reason(at_window, "transition").source == "LLR pathway guidance section 14"
    assert check(date_of_birth=date(2009, 1, 23), age_years=None).transition is False  # 17y 9m
    assert check(date_of_birth=date(2008, 11, 22), age_years=None).transition is False  # 18


def test_age_in_years_alone_says_the_date_of_birth_decides_transition_001_s14() -> None:
    result = check(age_years=17)
    assert result.transition is False
    assert not reason(result, "transition").met
    assert all(r.rule != "transition" for r in check(age_years=16).reasons)


def test_no_transition_window_outside_llr() -> None:
    result = check("west_sussex", council_area="west_sussex", date_of_birth=date(2009, 1, 22))
    assert result.transition is False


@given(
    born=st.dates(min_value=date(1900, 1, 1), max_value=TODAY),
)
def test_age_on_agrees_with_counting_birthdays(born: date) -> None:
    age = eligibility_service.age_on(date_of_birth=born, today=TODAY)
    had_birthday = (TODAY.month, TODAY.day) >= (born.month, born.day)
    assert age.years == TODAY.year - born.year - (0 if had_birthday else 1)
    assert age.months is not None and age.months // 12 == age.years


# --- who may refer ------------------------------------------------------------------------


def test_a_family_member_cannot_refer_in_llr_but_the_person_may_be_eligible_001_s11() -> None:
    result = check(referrer_kind="family")
    assert result.eligible
    assert result.referrer_may_refer is False
    assert "Ask a professional" in reason(result, "who_may_refer").text


@pytest.mark.parametrize("kind", ["self", "family"])
def test_self_and_family_referral_is_allowed_in_tees_valley_003(kind: str) -> None:
    result = check("tees_valley", council_area="stockton", age_years=12, referrer_kind=kind)
    assert result.eligible and result.referrer_may_refer


# --- keyworker and other services ---------------------------------------------------------


@pytest.mark.parametrize(("age", "offered"), [(3, False), (4, True), (18, False)])
def test_tees_valley_keyworker_is_for_ages_4_to_18_003(age: int, offered: bool) -> None:
    # 18 is an adult, so not eligible for the CYP DSR: no keyworker note on a refusal.
    result = check("tees_valley", council_area="middlesbrough", age_years=age)
    assert (result.keyworker is not None) is offered
    if offered:
        assert "Daisy Chain" in (result.keyworker or "")


def test_llr_keyworker_scheme_is_up_to_18_001_s2() -> None:
    assert check(age_years=17).keyworker is not None
    assert check(age_years=18).keyworker is None


def test_the_dsp_does_not_replace_other_referrals_001_s2_s12() -> None:
    services = check().other_services
    for name in ("Early Help", "Specialist Autism Team", "Safeguarding", "LD Access"):
        assert name in services


# --- refused answers ----------------------------------------------------------------------


def test_a_date_of_birth_in_the_future_is_refused_plainly() -> None:
    with pytest.raises(eligibility_service.InvalidAnswers, match="in the future"):
        check(date_of_birth=date(2030, 1, 1), age_years=None)


def test_an_area_of_another_variant_is_refused_naming_the_field() -> None:
    with pytest.raises(eligibility_service.InvalidAnswers, match="council_area must be one of"):
        check("tees_valley", council_area="rutland", age_years=12)


# --- POST /api/v1/eligibility -------------------------------------------------------------

URL = "/api/v1/eligibility"


@pytest.mark.parametrize(
    ("role", "status"),
    [
        (Role.action_server, 200),
        (Role.referrer, 200),
        (Role.dsr_admin, 200),
        (Role.tco, 200),
        (Role.commissioner, 403),
    ],
)
def test_eligibility_admits_the_checking_roles(
    client: TestClient, token_for: Callable[[Role], dict[str, str]], role: Role, status: int
) -> None:
    assert client.post(URL, json=GOOD, headers=token_for(role)).status_code == status


def test_eligibility_needs_a_token(client: TestClient) -> None:
    assert client.post(URL, json=GOOD).status_code == 401


def test_eligibility_answers_for_the_deployed_variant(
    client: TestClient,
    token_for: Callable[[Role], dict[str, str]],
    variant: Callable[[str], None],
) -> None:
    variant("tees_valley")
    answers = {**GOOD, "council_area": "redcar_and_cleveland", "age_years": 9}
    body = client.post(URL, json=answers, headers=token_for(Role.referrer)).json()
    assert body["eligible"] is True
    assert body["register"] == "DSR"
    assert {r["rule"] for r in body["reasons"]} >= {"who_may_refer", "diagnosis", "age", "area"}


def test_eligibility_refuses_a_future_date_of_birth_with_a_plain_422(
    client: TestClient, token_for: Callable[[Role], dict[str, str]]
) -> None:
    answers = {**GOOD, "age_years": None, "date_of_birth": "2099-03-04"}
    response = client.post(URL, json=answers, headers=token_for(Role.referrer))
    assert response.status_code == 422
    assert response.json()["detail"] == "The date of birth is in the future: please check it."


def test_eligibility_refuses_an_unknown_area_naming_the_choices(
    client: TestClient, token_for: Callable[[Role], dict[str, str]]
) -> None:
    answers = {**GOOD, "council_area": "narnia"}
    response = client.post(URL, json=answers, headers=token_for(Role.referrer))
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert "leicester_city, leicestershire, rutland" in detail
    assert "narnia" not in detail


def test_eligibility_refuses_an_unknown_diagnosis_word(
    client: TestClient, token_for: Callable[[Role], dict[str, str]]
) -> None:
    response = client.post(
        URL, json={**GOOD, "diagnosis": "adhd"}, headers=token_for(Role.referrer)
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "diagnosis"]


def test_eligibility_422_never_repeats_the_answers_sent(
    client: TestClient, token_for: Callable[[Role], dict[str, str]]
) -> None:
    """DESIGN.md data protection: nothing person-identifiable in error messages."""
    answers = {**GOOD, "date_of_birth": "2011-13-45", "postcode": "LE15 6XYZW1"}
    response = client.post(URL, json=answers, headers=token_for(Role.referrer))
    assert response.status_code == 422
    assert "2011-13-45" not in response.text and "6XYZW1" not in response.text
    assert {tuple(e["loc"]) for e in response.json()["detail"]} == {
        ("body", "date_of_birth"),
        ("body", "postcode"),
    }

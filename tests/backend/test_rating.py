"""Suggested ratings: 000, 001 sections 9 and 10, 003 and 004; POST /api/v1/rating/suggest."""

import re
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from dsp_backend.auth.schemas import Role
from dsp_backend.rating import service as rating_service
from dsp_backend.rating.schemas import RatingQuestion, RatingSuggestion
from dsp_backend.variants import service as variant_service

# DESIGN.md: replies never show the source documents' codes ("001", "003").
DOCUMENT_CODE = re.compile(r"\b00[0-4]\b")


def suggest(variant_id: str = "llr", **answers: Any) -> RatingSuggestion:
    question = RatingQuestion.model_validate(answers)
    return rating_service.suggest(question=question, variant=variant_service.load(variant_id))


# --- LLR: amber, red, blue, green ---------------------------------------------------------


def test_amber_concerns_suggest_amber_on_the_dsr_with_an_automatic_mam_000() -> None:
    result = suggest(criteria_ids=["amber.carer_strain", "amber.behaviours_that_challenge"])
    assert result.rag == "amber"
    assert result.register == "DSR"
    assert result.route == "dsr_referral"
    # criteria come back in the variant's order, with their text
    assert [c.id for c in result.criteria_matched] == [
        "amber.behaviours_that_challenge",
        "amber.carer_strain",
    ]
    assert any("automatic" in step for step in result.linked_processes)
    assert result.decided_by == "referrer"


def test_another_significant_concern_suggests_amber_criteria_are_examples_001_s9() -> None:
    result = suggest(other_concern=True)
    assert result.rag == "amber"
    assert result.criteria_matched == []


def test_imminent_risk_with_no_earlier_knowledge_allows_a_direct_roar_referral_001_s10() -> None:
    result = suggest(imminent_risk_of_admission=True)
    assert result.rag == "red"
    assert result.register == "ROAR"
    assert result.route == "direct_roar_referral"
    assert result.direct_roar_allowed is True
    llr = variant_service.load("llr")
    assert llr.ratings.direct_roar is not None
    # The reason explains the route in plain words; the source stays in the variant's data.
    assert any(llr.ratings.direct_roar.text in r for r in result.reasons)
    assert "LLR pathway guidance section 10" in llr.ratings.direct_roar.source
    assert not any(DOCUMENT_CODE.search(r) for r in result.reasons)


def test_imminent_risk_already_known_reaches_the_roar_by_escalation_001_s10() -> None:
    result = suggest(imminent_risk_of_admission=True, earlier_knowledge_of_escalating_risk=True)
    assert result.rag == "red"
    assert result.route == "escalation_from_dsr"
    assert result.direct_roar_allowed is False
    assert any("escalation from amber" in r for r in result.reasons)


def test_red_criteria_without_imminent_risk_are_an_escalation_from_amber_001_s10() -> None:
    result = suggest(criteria_ids=["red.deterioration_despite_mam", "amber.carer_strain"])
    assert result.rag == "red"
    assert result.register == "ROAR"
    assert result.route == "escalation_from_dsr"
    assert result.direct_roar_allowed is False


def test_green_at_referral_only_for_someone_discharged_from_inpatient_care_001_s10() -> None:
    result = suggest(recently_discharged_from_inpatient=True)
    assert result.rag == "green"
    assert result.register == "DSR"
    assert any("step" in r or "identify" in r for r in result.reasons)


def test_green_may_be_chosen_at_referral_only_after_an_inpatient_discharge_001_s10() -> None:
    """001 s10: only someone discharged from an inpatient hospital is added as green; the
    referrer may still choose green when concerns make the suggestion amber."""
    assert "green" not in suggest(criteria_ids=["amber.carer_strain"]).choosable_at_referral
    discharged = suggest(
        recently_discharged_from_inpatient=True, criteria_ids=["amber.carer_strain"]
    )
    assert discharged.rag == "amber"
    assert discharged.choosable_at_referral == ["amber", "green"]


def test_red_may_be_chosen_at_referral_only_where_a_direct_roar_referral_is_allowed_001_s10() -> (
    None
):
    direct = suggest(imminent_risk_of_admission=True)
    assert direct.choosable_at_referral == ["amber", "red"]
    known_before = suggest(
        imminent_risk_of_admission=True, earlier_knowledge_of_escalating_risk=True
    )
    assert known_before.choosable_at_referral == ["amber"]
    assert "blue" not in direct.choosable_at_referral  # nobody is referred as blue (000)


def test_an_adult_whose_admission_avoidance_is_urgent_may_go_straight_to_the_roar_001_app_2() -> (
    None
):
    """001 appendix 2 (adults' red): urgent admission avoidance with a CTR requested is a direct
    ROAR referral on its own; the criterion is for adults only."""
    result = suggest(criteria_ids=["red.urgent_admission_avoidance"], age_group="adult")
    assert (result.rag, result.register, result.route) == ("red", "ROAR", "direct_roar_referral")
    assert result.direct_roar_allowed is True
    assert result.choosable_at_referral == ["amber", "red"]
    with pytest.raises(rating_service.InvalidQuestion):
        suggest(criteria_ids=["red.urgent_admission_avoidance"], age_group="cyp")


def test_an_out_of_area_exception_that_needs_red_allows_only_red_000_001_app_2() -> None:
    """000 (a section 117 child placed out of area needing an urgent CETR) and 001 appendix 2 (an
    adult placed out of area, referred to the ROAR): the exception's rating is the only one."""
    for group in ("cyp", "adult"):
        result = suggest(out_of_area_rating="red", other_concern=True, age_group=group)
        assert (result.rag, result.register) == ("red", "ROAR")
        assert result.direct_roar_allowed is True
        assert result.choosable_at_referral == ["red"]


def test_red_criteria_alone_are_no_direct_roar_route_for_a_child_001_s10() -> None:
    result = suggest(criteria_ids=["red.suspected_mental_health_concern"], age_group="cyp")
    assert result.rag == "red" and result.direct_roar_allowed is False
    assert result.choosable_at_referral == ["amber"]


def test_discharged_with_concerns_is_amber_not_green_000_amber() -> None:
    """000 lists a recent discharge among the amber concerns; green is for no concerns."""
    result = suggest(
        recently_discharged_from_inpatient=True, criteria_ids=["amber.recent_inpatient_discharge"]
    )
    assert result.rag == "amber"


def test_an_inpatient_now_is_blue_with_the_inpatient_processes_000_blue() -> None:
    result = suggest(inpatient_now=True)
    assert result.rag == "blue"
    assert result.route == "inpatient"
    assert any("every 6 weeks" in step for step in result.linked_processes)
    assert any("discharge" in step.lower() for step in result.linked_processes)


def test_nothing_described_suggests_no_rating() -> None:
    result = suggest()
    assert result.rag is None
    assert result.criteria_matched == []
    assert "No rating suggested" in result.reasons[0]


def test_red_processes_say_cetr_for_children_and_ctr_for_adults_000_001_appendix_2() -> None:
    cyp = suggest(imminent_risk_of_admission=True, age_group="cyp").linked_processes
    adult = suggest(imminent_risk_of_admission=True, age_group="adult").linked_processes
    assert any("CETR" in step for step in cyp) and not any("(CTR)" in step for step in cyp)
    assert any("(CTR)" in step for step in adult) and not any("CETR" in step for step in adult)


def test_a_keyworker_follows_amber_for_children_only_000_001_s2() -> None:
    cyp = suggest(other_concern=True, age_group="cyp").linked_processes
    adult = suggest(other_concern=True, age_group="adult").linked_processes
    assert any("keyworker" in step for step in cyp)
    assert not any("keyworker" in step for step in adult)


def test_the_referrer_decides_and_every_suggestion_says_so_001_s10() -> None:
    for answers in ({}, {"other_concern": True}, {"imminent_risk_of_admission": True}):
        assert any("referrer decides" in r for r in suggest(**answers).reasons)


# --- refused questions --------------------------------------------------------------------


def test_an_unknown_criterion_is_refused_naming_the_known_ones() -> None:
    with pytest.raises(rating_service.InvalidQuestion, match="amber.made_up") as raised:
        suggest(criteria_ids=["amber.made_up"])
    assert "amber.carer_strain" in str(raised.value)


def test_a_criterion_for_children_is_refused_for_an_adult_000_red() -> None:
    with pytest.raises(rating_service.InvalidQuestion, match="age group 'adult'"):
        suggest(criteria_ids=["red.suspected_mental_health_concern"], age_group="adult")


def test_another_variants_criterion_is_refused() -> None:
    with pytest.raises(rating_service.InvalidQuestion):
        suggest("west_sussex", criteria_ids=["amber.carer_strain"])


def test_inpatient_now_and_recently_discharged_cannot_both_be_true() -> None:
    with pytest.raises(ValueError, match="choose one"):
        RatingQuestion(inpatient_now=True, recently_discharged_from_inpatient=True)


# --- Tees Valley: the DSR meeting rates ---------------------------------------------------


def test_tees_valley_leaves_the_rating_to_the_dsr_meeting_003() -> None:
    result = suggest(
        "tees_valley",
        criteria_ids=["concern.placement_breakdown"],
        imminent_risk_of_admission=True,
    )
    assert result.rag is None
    assert result.route == "dsr_meeting_rates"
    assert result.decided_by == "dsr_meeting"
    assert result.choosable_at_referral == []  # the referrer chooses no rating (003)
    assert result.register == "DSR"
    assert result.direct_roar_allowed is None
    assert [c.id for c in result.criteria_matched] == ["concern.placement_breakdown"]
    assert "DSR meeting" in result.reasons[0] and not DOCUMENT_CODE.search(result.reasons[0])
    assert (
        "Tees Valley DSR and Keyworker programme"
        in variant_service.load("tees_valley").ratings.source
    )


# --- West Sussex: its own red, amber and green --------------------------------------------


def test_west_sussex_imminent_risk_matches_its_red_criterion_on_the_dsr_004() -> None:
    result = suggest("west_sussex", imminent_risk_of_admission=True)
    assert result.rag == "red"
    assert result.register == "DSR"
    assert result.route == "dsr_referral"
    assert result.direct_roar_allowed is None
    assert [c.id for c in result.criteria_matched] == ["red.imminent_admission"]


def test_west_sussex_amber_criteria_suggest_amber_004() -> None:
    result = suggest("west_sussex", criteria_ids=["amber.starting_challenging_behaviour"])
    assert result.rag == "amber"


@pytest.mark.parametrize(
    "answers",
    [
        {"recently_discharged_from_inpatient": True},
        {"criteria_ids": ["green.previous_inpatient_no_concerns"]},
    ],
)
def test_west_sussex_green_is_a_former_inpatient_with_no_concerns_004(
    answers: dict[str, Any],
) -> None:
    assert suggest("west_sussex", **answers).rag == "green"


def test_west_sussex_red_is_chosen_only_when_a_red_criterion_applies_004() -> None:
    assert (
        "red"
        not in suggest(
            "west_sussex", criteria_ids=["amber.starting_challenging_behaviour"]
        ).choosable_at_referral
    )
    assert (
        "red"
        in suggest("west_sussex", criteria_ids=["red.crisis_team_last_year"]).choosable_at_referral
    )
    # Imminent risk of admission is West Sussex's first red criterion.
    assert "red" in suggest("west_sussex", imminent_risk_of_admission=True).choosable_at_referral


def test_west_sussex_green_may_be_chosen_only_for_a_former_inpatient_with_no_concerns_004() -> None:
    """004 green: previously an inpatient, now in the community, and no concerns. So green is
    not for someone never admitted, nor for a former inpatient with an amber or red concern."""
    assert "green" not in suggest("west_sussex", other_concern=True).choosable_at_referral
    settled = suggest("west_sussex", criteria_ids=["green.previous_inpatient_no_concerns"])
    assert (settled.rag, settled.choosable_at_referral) == ("green", ["amber", "green"])
    for worry in ("amber.residential_placement_risk", "red.serious_risk_of_harm"):
        worried = suggest(
            "west_sussex", recently_discharged_from_inpatient=True, criteria_ids=[worry]
        )
        assert "green" not in worried.choosable_at_referral, worry


def test_west_sussex_has_no_rating_for_an_inpatient_now_004() -> None:
    result = suggest("west_sussex", inpatient_now=True)
    assert result.rag is None
    assert result.route == "inpatient"
    assert "no rating" in result.reasons[0]


# --- every criterion the bot offers gives a suggestion of its own rating -----------------


@pytest.mark.parametrize("variant_id", ["llr", "west_sussex"])
def test_each_criterion_alone_suggests_its_own_rating(variant_id: str) -> None:
    variant = variant_service.load(variant_id)
    for criterion in variant.ratings.all_criteria():
        result = suggest(variant_id, criteria_ids=[criterion.id])
        assert result.rag == criterion.id.split(".")[0], criterion.id


# --- POST /api/v1/rating/suggest ----------------------------------------------------------

URL = "/api/v1/rating/suggest"


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
def test_rating_suggest_admits_the_referring_roles(
    client: TestClient, token_for: Callable[[Role], dict[str, str]], role: Role, status: int
) -> None:
    response = client.post(URL, json={"other_concern": True}, headers=token_for(role))
    assert response.status_code == status


def test_rating_suggest_needs_a_token(client: TestClient) -> None:
    assert client.post(URL, json={"other_concern": True}).status_code == 401


def test_rating_suggest_answers_for_the_deployed_variant(
    client: TestClient,
    token_for: Callable[[Role], dict[str, str]],
    variant: Callable[[str], None],
) -> None:
    variant("west_sussex")
    response = client.post(
        URL,
        json={"criteria_ids": ["red.serious_risk_of_harm"]},
        headers=token_for(Role.action_server),
    )
    body = response.json()
    assert body["rag"] == "red" and body["register"] == "DSR"
    assert body["criteria_matched"][0]["id"] == "red.serious_risk_of_harm"


def test_rating_suggest_refuses_an_unknown_criterion_with_422(
    client: TestClient, token_for: Callable[[Role], dict[str, str]]
) -> None:
    response = client.post(
        URL, json={"criteria_ids": ["amber.nope"]}, headers=token_for(Role.referrer)
    )
    assert response.status_code == 422
    assert "amber.nope" in response.json()["detail"]


def test_rating_suggest_refuses_a_contradiction_with_422(
    client: TestClient, token_for: Callable[[Role], dict[str, str]]
) -> None:
    response = client.post(
        URL,
        json={"inpatient_now": True, "recently_discharged_from_inpatient": True},
        headers=token_for(Role.referrer),
    )
    assert response.status_code == 422
    assert "choose one" in response.json()["detail"][0]["msg"]

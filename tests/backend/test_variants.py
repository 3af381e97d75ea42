"""Local variants: every row of DESIGN.md's "Local variants" table is a validated field."""

from collections.abc import Callable
from importlib import resources

import pytest
from fastapi.testclient import TestClient

from dsp_backend.variants import service as variant_service
from dsp_backend.variants.schemas import VariantPublic

LLR = variant_service.load("llr")
TEES_VALLEY = variant_service.load("tees_valley")
WEST_SUSSEX = variant_service.load("west_sussex")


def _text(variant_id: str) -> str:
    return (
        resources.files("dsp_backend.variants")
        .joinpath(f"{variant_id}.yml")
        .read_text(encoding="utf-8")
    )


def _broken(variant_id: str, old: str, new: str) -> str:
    text = _text(variant_id)
    assert old in text, f"the test's anchor is not in {variant_id}.yml: {old!r}"
    return text.replace(old, new, 1)


@pytest.mark.parametrize("variant_id", variant_service.VARIANT_IDS)
def test_every_shipped_variant_loads_under_its_own_id(variant_id: str) -> None:
    assert variant_service.load(variant_id).id == variant_id


def test_an_unknown_variant_is_refused_with_the_known_ones() -> None:
    with pytest.raises(variant_service.VariantError, match="llr, tees_valley, west_sussex"):
        variant_service.load("cornwall")


# --- ages and registers -------------------------------------------------------------------


def test_llr_serves_all_ages_with_a_cyp_register_under_18_001_s2_s14() -> None:
    assert LLR.ages.serves == ["cyp", "adult"]
    assert LLR.ages.adult_from == 18
    assert LLR.registers == ["DSR", "ROAR"]


def test_tees_valley_serves_children_and_young_people_003() -> None:
    assert TEES_VALLEY.ages.serves == ["cyp"]
    assert TEES_VALLEY.ages.adults_elsewhere is None


def test_west_sussex_points_adults_to_the_local_adult_dsr_004() -> None:
    assert WEST_SUSSEX.ages.serves == ["cyp"]
    assert WEST_SUSSEX.ages.adults_elsewhere is not None
    assert "adult DSR" in WEST_SUSSEX.ages.adults_elsewhere


# --- who may refer ------------------------------------------------------------------------


def test_only_tees_valley_allows_self_referral_003() -> None:
    assert TEES_VALLEY.self_referral is True
    assert {"self", "family"} <= set(TEES_VALLEY.referrers.kinds)
    for variant in (LLR, WEST_SUSSEX):
        assert variant.self_referral is False
        assert set(variant.referrers.kinds) == {"health", "social_care", "education"}


# --- area rule ----------------------------------------------------------------------------


def test_llr_counts_a_gp_in_an_llr_icb_practice_001_s9() -> None:
    assert LLR.area_rule.gp_practice_counts is True
    assert {a.council for a in LLR.areas} == {
        "Leicester City Council",
        "Leicestershire County Council",
        "Rutland County Council",
    }


def test_tees_valley_covers_its_five_council_areas_003() -> None:
    assert {a.id for a in TEES_VALLEY.areas} == {
        "stockton",
        "middlesbrough",
        "darlington",
        "redcar_and_cleveland",
        "hartlepool",
    }


def test_postcode_districts_are_not_shared_between_areas_of_a_variant() -> None:
    """A district is a hint for one area only; two areas claiming it would be a wrong hint."""
    for variant in (LLR, TEES_VALLEY, WEST_SUSSEX):
        districts = [d for area in variant.areas for d in area.postcode_districts]
        assert len(districts) == len(set(districts)), variant.id


def test_llr_out_of_area_exceptions_are_data_000_001_appendices() -> None:
    exceptions = {e.id: e for e in LLR.out_of_area_exceptions}
    assert exceptions["cyp_section_117_red"].rag == "red"
    assert exceptions["cyp_section_117_red"].register == "ROAR"
    assert "urgent_cetr_needed" in exceptions["cyp_section_117_red"].requires
    assert exceptions["cyp_looked_after_placed_by_llr"].register == "DSR"
    assert exceptions["adult_section_117_roar"].age_group == "adult"
    assert exceptions["adult_section_117_roar"].register == "ROAR"
    assert TEES_VALLEY.out_of_area_exceptions == []
    assert WEST_SUSSEX.out_of_area_exceptions == []


# --- ratings ------------------------------------------------------------------------------


def test_llr_rates_amber_red_blue_green_with_linked_processes_000() -> None:
    assert [d.rag for d in LLR.ratings.definitions] == ["amber", "red", "blue", "green"]
    assert LLR.ratings.rated_by == "referrer"
    assert all(d.linked_processes for d in LLR.ratings.definitions)
    blue = LLR.ratings.definition("blue")
    assert blue is not None and blue.at_referral is None
    assert any("6 weeks" in step.text for step in blue.linked_processes)


def test_llr_criteria_have_stable_ids_from_000_and_001_appendices() -> None:
    ids = {c.id for c in LLR.ratings.all_criteria()}
    assert {
        "amber.behaviours_that_challenge",
        "amber.health_deterioration",
        "amber.carer_strain",
        "amber.new_safeguarding_issue",
        "amber.carer_health",
        "amber.recent_inpatient_discharge",
        "red.deterioration_despite_mam",
        "red.suspected_mental_health_concern",
        "red.known_mental_health_escalating",
        "red.urgent_admission_avoidance",
    } == ids


def test_tees_valley_is_rated_by_the_dsr_meeting_003() -> None:
    assert TEES_VALLEY.ratings.rated_by == "dsr_meeting"
    assert TEES_VALLEY.ratings.definitions == []
    assert all(c.id.startswith("concern.") for c in TEES_VALLEY.ratings.concerns)
    assert TEES_VALLEY.ratings.direct_roar is None


def test_west_sussex_has_its_own_red_amber_green_and_no_roar_004() -> None:
    assert [d.rag for d in WEST_SUSSEX.ratings.definitions] == ["red", "amber", "green"]
    assert {d.register for d in WEST_SUSSEX.ratings.definitions} == {"DSR"}
    assert WEST_SUSSEX.ratings.imminent_risk_criterion == "red.imminent_admission"
    assert len(WEST_SUSSEX.ratings.definition("red").criteria) == 6  # type: ignore[union-attr]
    assert len(WEST_SUSSEX.ratings.definition("amber").criteria) == 4  # type: ignore[union-attr]


def test_each_rating_says_when_it_may_be_chosen_at_referral_001_s10_004() -> None:
    """001 s10: amber always, red only by a direct ROAR route, green only after an inpatient
    discharge, blue never; 004: red when a red criterion applies, green for a former inpatient
    with no concerns."""
    llr = {d.rag: d.choosable_when for d in LLR.ratings.definitions}
    assert llr == {
        "amber": "always",
        "red": "direct_roar",
        "blue": "never",
        "green": "inpatient_discharge",
    }
    west_sussex = {d.rag: d.choosable_when for d in WEST_SUSSEX.ratings.definitions}
    assert west_sussex == {
        "red": "criterion_ticked",
        "amber": "always",
        "green": "former_inpatient_no_concerns",
    }


def test_an_adults_urgent_admission_avoidance_is_a_direct_roar_route_001_appendix_2() -> None:
    assert LLR.ratings.direct_roar is not None
    assert LLR.ratings.direct_roar.criteria == ["red.urgent_admission_avoidance"]
    (criterion,) = [
        c for c in LLR.ratings.all_criteria() if c.id == "red.urgent_admission_avoidance"
    ]
    assert criterion.applies_to == ["adult"]
    adult_exception = {e.id: e for e in LLR.out_of_area_exceptions}["adult_section_117_roar"]
    assert (adult_exception.register, adult_exception.rag) == ("ROAR", "red")


def test_every_criterion_has_a_short_title_and_words_that_suggest_it() -> None:
    for variant in (LLR, TEES_VALLEY, WEST_SUSSEX):
        for criterion in variant.ratings.all_criteria():
            assert 0 < len(criterion.title) <= 60, criterion.id
            assert criterion.words, criterion.id


def test_each_variant_describes_what_follows_a_referral_in_its_own_process() -> None:
    """001 s10 and s12 (LLR: the DSP admin lead or the referrer organises the MAM; TCOs told of
    red); 003 (the DSR meeting rates; no admin lead or TCO); 004 (monthly review)."""
    assert (LLR.after_referral.process, LLR.after_referral.tco_notified_on_red) == (
        "admin_lead_mam",
        True,
    )
    assert LLR.after_referral.admin_lead and LLR.after_referral.referrer_organises
    assert (TEES_VALLEY.after_referral.process, TEES_VALLEY.after_referral.tco_notified_on_red) == (
        "dsr_meeting",
        False,
    )
    assert TEES_VALLEY.after_referral.text_self  # for families who referred themselves
    assert WEST_SUSSEX.after_referral.process == "register_review"
    assert not WEST_SUSSEX.after_referral.tco_notified_on_red
    for variant in (TEES_VALLEY, WEST_SUSSEX):
        assert "admin lead" not in variant.after_referral.text


def test_only_tees_valley_asks_the_good_referral_prompts_003() -> None:
    assert TEES_VALLEY.good_referral_prompts
    assert not LLR.good_referral_prompts and not WEST_SUSSEX.good_referral_prompts


def test_green_step_down_is_two_months_in_llr_and_none_elsewhere_000() -> None:
    """000 says "two months" in its text and "one month" in its table: a setting, default 2."""
    assert LLR.green_step_down_months == 2
    assert TEES_VALLEY.green_step_down_months is None
    assert WEST_SUSSEX.green_step_down_months is None


# --- consent, contacts, keyworker, transition, review -------------------------------------


def test_west_sussex_consent_is_renewed_yearly_and_by_a_parent_under_16_004() -> None:
    assert WEST_SUSSEX.consent.renewal_months == 12
    assert WEST_SUSSEX.consent.parent_consents_under_age == 16
    assert LLR.consent.renewal_months is None


def test_llr_contacts_carry_the_parent_carer_forums_002() -> None:
    forums = {c.area_ids[0]: c.email for c in LLR.contacts if c.kind == "parent_carer_forum"}
    assert forums == {
        "leicester_city": "info@lcpcf.net",
        "leicestershire": "admin@leicestershiresendhub.org.uk",
        "rutland": "rutlandpcv@gmail.com",
    }


def test_tees_valley_contacts_carry_the_dsr_inbox_and_daisy_chain_003() -> None:
    kinds = {c.kind: c for c in TEES_VALLEY.contacts}
    assert kinds["referral_inbox"].email == "nencicb-tv.childrensdsr@nhs.net"
    assert kinds["keyworker_service"].name.startswith("Daisy Chain")


def test_keyworker_ages_tees_valley_4_to_18_003_and_llr_under_18_001_s2() -> None:
    assert TEES_VALLEY.keyworker is not None
    assert (TEES_VALLEY.keyworker.min_age_years, TEES_VALLEY.keyworker.max_age_years) == (4, 18)
    assert TEES_VALLEY.keyworker.contact_id == "daisy_chain"
    assert LLR.keyworker is not None and LLR.keyworker.max_age_years == 17
    assert WEST_SUSSEX.keyworker is None


def test_llr_transition_window_is_17_years_10_months_to_18_001_s14() -> None:
    assert LLR.transition is not None
    assert (LLR.transition.from_age_months, LLR.transition.to_age_months) == (214, 216)


def test_west_sussex_reviews_the_register_monthly_004() -> None:
    assert WEST_SUSSEX.register_review is not None
    assert WEST_SUSSEX.register_review.every_months == 1


# --- a bad file fails with its name, the field and what was expected ----------------------


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("serves: [cyp, adult]", "serves: [cyp, adults]", "ages.serves.1: Input should be 'cyp'"),
        ("green_step_down_months: 2", "green_step_down_months: two", "green_step_down_months:"),
        ("  gp_practice_counts: true\n", "", "area_rule.gp_practice_counts: Field required"),
        (
            "- id: amber.carer_health",
            "- id: red.carer_health",
            "ratings.definitions.0.criteria.4.id: expected it to start with 'amber.'",
        ),
        ("area_ids: [rutland]", "area_ids: [oakham]", "contacts.5.area_ids: expected ids"),
        ("self_referral: false", "self_referral: true", "self_referral: expected it to agree"),
        ("from_age_months: 214", "from_age_months: 220", "transition.from_age_months: expected"),
        ("max_age_years: 17", "max_age_years: -1", "keyworker.max_age_years: Input should be"),
        ("registers: [DSR, ROAR]", "registers: [DSR]", "ratings.definitions.1.register"),
    ],
)
def test_a_bad_llr_file_names_the_file_field_and_expectation(
    old: str, new: str, expected: str
) -> None:
    with pytest.raises(variant_service.VariantError) as raised:
        variant_service.parse("llr.yml", _broken("llr", old, new))
    message = str(raised.value)
    assert message.startswith("variant file llr.yml is not valid:")
    assert expected in message


def test_an_unknown_field_is_refused_by_name() -> None:
    text = _broken("tees_valley", "self_referral: true", "self_referral: true\nself_refferal: true")
    with pytest.raises(variant_service.VariantError, match="self_refferal: Extra inputs"):
        variant_service.parse("tees_valley.yml", text)


def test_a_file_that_is_not_yaml_or_not_a_mapping_says_so() -> None:
    with pytest.raises(variant_service.VariantError, match="west_sussex.yml is not valid YAML"):
        variant_service.parse("west_sussex.yml", "id: [west_sussex")
    with pytest.raises(variant_service.VariantError, match=r"\(top level\): Input should be"):
        variant_service.parse("west_sussex.yml", "- just a list")


# --- GET /api/v1/variant ------------------------------------------------------------------


@pytest.mark.parametrize("variant_id", variant_service.VARIANT_IDS)
def test_variant_route_gives_the_bot_what_it_needs_without_a_token(
    client: TestClient, variant: Callable[[str], None], variant_id: str
) -> None:
    variant(variant_id)
    response = client.get("/api/v1/variant")
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == variant_id
    for key in (
        "areas",
        "area_rule",
        "ages",
        "self_referral",
        "referrers",
        "diagnosis",
        "ratings",
        "consent",
        "contacts",
        "keyworker",
        "transition",
        "other_services",
        "what_to_do_instead",
    ):
        assert key in body, key
    # settings only the service reads stay out of the public view
    assert "draft_retention_hours" not in body


def test_variant_route_lists_criteria_ids_and_text_for_buttons(client: TestClient) -> None:
    body = client.get("/api/v1/variant").json()
    amber = next(d for d in body["ratings"]["definitions"] if d["rag"] == "amber")
    criterion = amber["criteria"][0]
    assert criterion["id"] == "amber.behaviours_that_challenge"
    assert "behaviours that challenge" in criterion["text"]
    assert body["transition"]["from_age_months"] == 214


def test_public_view_keeps_every_public_field_and_drops_the_rest() -> None:
    public = variant_service.public(LLR)
    assert public.model_dump() == LLR.model_dump(include=set(VariantPublic.model_fields))
    assert not hasattr(public, "draft_retention_hours")

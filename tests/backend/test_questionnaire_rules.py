"""The referral's rules as the service applies them, from the answers alone: what POST
/api/v1/referrals accepts and what POST /api/v1/questionnaire/next asks, offers or stops on.

Sources: 000 (LLR CYP criteria), 001 (LLR guidance: s7 consent, s9 eligibility, s10 ratings,
appendix 2 adults), 003 (Tees Valley), 004 (West Sussex), and DESIGN.md where it reads them.
"""

import re
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_referrals_factory import GOOD_REFERRAL, referral_body, self_referral_body

from dsp_backend.auth.schemas import Role
from dsp_backend.questionnaire import logic, rules, service
from dsp_backend.questionnaire.schemas import Answers, Next
from dsp_backend.variants import service as variant_service

URL = "/api/v1/referrals"
NEXT = "/api/v1/questionnaire/next"
Headers = dict[str, str]
TokenFor = Callable[[Role], Headers]
# DESIGN.md: replies never show the source documents' codes ("001", "(003)").
DOCUMENT_CODE = re.compile(r"\b00[0-4]\b")


@pytest.fixture
def referrer(token_for: TokenFor) -> Headers:
    return token_for(Role.referrer)


def post(client: TestClient, headers: Headers, body: dict[str, Any]) -> Any:
    return client.post(URL, json=body, headers=headers)


def refused(response: Any) -> dict[str, str]:
    assert response.status_code == 422, response.text
    return {str(e["loc"][-1]): e["msg"] for e in response.json()["detail"]}


def stored(response: Any) -> dict[str, Any]:
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def walk(body: dict[str, Any], variant_id: str, **first: Any) -> tuple[list[str], Next]:
    """Answers next()'s questions one at a time from `body` (plus `first`, for questions the
    body answers another way, such as the age): the questions asked, and where it ended."""
    variant = variant_service.load(variant_id)
    given_answers = {**body["answers"], **first}
    answers: Answers = {}
    asked: list[str] = []
    for _ in range(80):
        step = service.next_step(
            answers=answers, source=body["referral_source"], variant=variant, today=date.today()
        )
        texts = [step.stopped or ""]
        if step.question:
            texts += [step.question.text, step.question.why]
        assert not any(DOCUMENT_CODE.search(t) for t in texts), texts
        if step.status != "question":
            return asked, step
        assert step.question is not None
        link_id = step.question.linkId
        assert link_id in given_answers, f"asked {link_id}, which the body does not answer"
        asked.append(link_id)
        answers[link_id] = given_answers[link_id]
    raise AssertionError("the questions never ended")


# --- red and green cannot be forced (001 s10; DESIGN "a client never posts a suggestion") ------


def test_a_client_cannot_post_a_suggestion_or_the_ratings_it_may_choose(
    client: TestClient, referrer: Headers
) -> None:
    """001 s10 as DESIGN.md reads it: the service derives the suggestion and the ratings that
    may be chosen; a body carrying them, beside the answers or among them, is refused."""
    red = {"rag": "red", "register": "ROAR", "choosable_at_referral": ["red"]}
    for key in ("suggestion", "choosable_at_referral", "rating", "eligibility"):
        body = referral_body(full=True, rag="red")
        body[key] = red
        assert post(client, referrer, body).status_code == 422, key
        body = referral_body(full=True, rag="red")
        body["answers"][key] = red
        assert refused(post(client, referrer, body))[key] == (
            "This is not a question of the referral."
        )


def test_red_without_a_direct_roar_route_is_refused_001_s10(
    client: TestClient, referrer: Headers
) -> None:
    """Red criteria alone, or imminent risk that was known to be escalating, reach the ROAR by
    escalation from amber, never by referral."""
    for body in (
        referral_body(full=True, rag="red", criteria=("red.deterioration_despite_mam",)),
        referral_body(full=True, rag="red", imminent=True, escalating_known=True),
        # In hospital now, the imminent-risk question does not apply: its answer is no route.
        referral_body(full=True, rag="red", imminent=True, inpatient_status="now"),
    ):
        message = refused(post(client, referrer, body))["rag"]
        assert message.startswith("Red at referral is only for someone at imminent risk")
        assert message.endswith("For this referral choose amber.")


def test_green_without_an_inpatient_discharge_is_refused_001_s10(
    client: TestClient, referrer: Headers
) -> None:
    for status in ("neither", "now"):
        body = referral_body(rag="green", criteria=(), inpatient_status=status)
        assert "rag" in refused(post(client, referrer, body)), status


LLR = variant_service.load("llr")
LLR_CRITERIA = [c.id for c in logic.criteria_for(LLR, None)]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rag=st.sampled_from(["amber", "red", "green", "blue", "purple", None]),
    criteria=st.lists(st.sampled_from(LLR_CRITERIA), unique=True, max_size=3),
    status=st.sampled_from(["neither", "discharged", "now"]),
    imminent=st.booleans(),
    known=st.booleans(),
    age=st.sampled_from([12, 17, 30]),
    area=st.sampled_from(["leicester_city", "outside"]),
    placement=st.fixed_dictionaries(
        {},
        optional={
            "looked_after_child": st.booleans(),
            "placing_council": st.sampled_from(["rutland", "outside"]),
            "section_117_placement": st.booleans(),
            "urgent_cetr_needed": st.booleans(),
        },
    ),
)
def test_no_body_stores_red_or_green_without_its_rule_001_s10_000(
    rag: str | None,
    criteria: list[str],
    status: str,
    imminent: bool,
    known: bool,
    age: int,
    area: str,
    placement: dict[str, Any],
) -> None:
    """Over random answers: whatever is stored red has a direct ROAR route (imminent risk not
    known to be escalating, 001 s10; an adult's urgent admission avoidance, 001 appendix 2; an
    out-of-area exception needing red, 000 and 001 appendix 2) and whatever is stored green was
    discharged from an inpatient hospital."""
    body = referral_body(
        full=True,
        rag=rag,
        criteria=tuple(criteria),
        age=age,
        imminent=imminent,
        escalating_known=known,
        inpatient_status=status,
        council_area=area,
        **placement,
    )
    state = logic.state_of(body["answers"], "professional", LLR, date.today())
    if rules.problems(state):
        return
    if state.rag == "red":
        direct = imminent and not known and status != "now"
        urgent_adult = age >= 18 and "red.urgent_admission_avoidance" in criteria
        exception = state.eligibility.rating_required == "red"
        assert direct or urgent_adult or exception
        assert state.register == "ROAR"
    if state.rag == "green":
        assert status == "discharged"
    assert state.rag in ("amber", "red", "green")


# --- direct ROAR routes (001 s10; 001 appendix 2; 000) ------------------------------------------


def test_imminent_risk_with_no_earlier_knowledge_is_a_direct_roar_referral_001_s10(
    client: TestClient, referrer: Headers
) -> None:
    body = referral_body(full=True, rag="red", imminent=True, escalating_known=False)
    asked, step = walk(body, "llr", age=12)
    assert {"imminent_risk", "escalating_risk_known", "rag"} <= set(asked)
    assert step.suggestion and step.suggestion.choosable_at_referral == ["amber", "red"]
    assert {line.linkId: line.value for line in step.summary}["rag"] == "red, on the ROAR"
    created = stored(post(client, referrer, body))
    assert (created["register"], created["rag"]) == ("ROAR", "red")
    # 000 amber and 003: a keyworker referral for a child where the variant has keyworkers.
    assert created["follow_ups"] == ["tco_notified", "cetr_requested", "keyworker_referral_due"]


def test_an_adult_whose_admission_avoidance_is_urgent_goes_straight_to_the_roar_001_app_2(
    client: TestClient, referrer: Headers
) -> None:
    body = referral_body(full=True, age=30, rag="red", criteria=("red.urgent_admission_avoidance",))
    created = stored(post(client, referrer, body))
    assert (created["register"], created["rag"], created["age_group"]) == ("ROAR", "red", "adult")
    # The same criterion is not a child's: 000 has no such red criterion.
    child = referral_body(full=True, rag="red", criteria=("red.urgent_admission_avoidance",))
    assert "concerns" in refused(post(client, referrer, child))


def test_a_cyp_section_117_placement_needing_an_urgent_cetr_is_referred_red_000(
    client: TestClient, referrer: Headers
) -> None:
    placed = {
        "council_area": "outside",
        "looked_after_child": False,
        "section_117_placement": True,
        "urgent_cetr_needed": True,
    }
    body = referral_body(full=True, rag=None, **placed)  # type: ignore[arg-type]
    asked, step = walk(body, "llr", age=12)
    assert {"looked_after_child", "section_117_placement", "urgent_cetr_needed"} <= set(asked)
    assert "rag" not in asked  # red is the only rating: nothing to choose
    assert step.status == "summary"
    assert {line.linkId: line.value for line in step.summary}["rag"] == "red, on the ROAR"
    created = stored(post(client, referrer, body))
    assert (created["register"], created["rag"], created["form"]) == ("ROAR", "red", "full")


def test_an_adult_section_117_placement_out_of_area_is_stored_red_on_the_roar_001_app_2(
    client: TestClient, referrer: Headers
) -> None:
    placed = {"council_area": "outside", "section_117_placement": True}
    body = referral_body(full=True, age=30, rag=None, **placed)  # type: ignore[arg-type]
    asked, step = walk(body, "llr", age=30)
    assert "section_117_placement" in asked and "urgent_cetr_needed" not in asked
    assert "looked_after_child" not in asked  # a child's exception
    assert step.suggestion is not None
    assert (step.suggestion.rag, step.suggestion.choosable_at_referral) == ("red", ["red"])
    assert {line.linkId: line.value for line in step.summary}["rag"] == "red, on the ROAR"
    created = stored(post(client, referrer, body))
    assert (created["register"], created["rag"]) == ("ROAR", "red")
    assert "tco_notified" in created["follow_ups"]
    amber = referral_body(full=True, age=30, rag="amber", **placed)  # type: ignore[arg-type]
    assert "only with a red rating" in refused(post(client, referrer, amber))["rag"]


def test_living_outside_llr_with_an_llr_gp_is_not_eligible_without_an_exception_design(
    client: TestClient, referrer: Headers
) -> None:
    """DESIGN.md (001 s9): lives in LLR AND (an LLR ICB GP or an LLR council address)."""
    body = referral_body(
        full=True, council_area="outside", gp_practice="Oakham Medical Practice (LLR ICB)"
    )
    body["answers"].update(looked_after_child=False, section_117_placement=False)
    assert "eligibility" in refused(post(client, referrer, body))
    _asked, step = walk(body, "llr", age=12)
    assert step.status == "stopped"
    assert step.stopped and "lives out of area" in step.stopped


# --- consent (001 s7; 004; the Mental Capacity Act) ------------------------------------------


def test_a_person_16_or_over_with_capacity_consents_for_themselves_001_s7(
    client: TestClient, referrer: Headers
) -> None:
    asked, _step = walk(referral_body(age=17), "llr", age=17)
    assert "consent_capacity" in asked
    stored(post(client, referrer, referral_body(age=17, consent_capacity=True)))
    parent = referral_body(age=17, consent_by="parent_carer_guardian", consent_capacity=True)
    assert "themselves" in refused(post(client, referrer, parent))["consent_by"]


def test_a_parent_carer_or_guardian_consents_for_a_child_under_16_004(
    client: TestClient, referrer: Headers
) -> None:
    asked, _step = walk(referral_body(age=12), "llr", age=12)
    assert "consent_by" in asked and "consent_capacity" not in asked
    stored(post(client, referrer, referral_body(age=12, consent_by="parent_carer_guardian")))
    assert (
        "under 16"
        in refused(post(client, referrer, referral_body(consent_by="person")))["consent_by"]
    )


def test_best_interests_only_where_the_person_lacks_capacity_001_s7(
    client: TestClient, referrer: Headers
) -> None:
    capable = referral_body(age=30, consent_by="best_interests", consent_capacity=True)
    assert "themselves" in refused(post(client, referrer, capable))["consent_by"]
    lacking = referral_body(age=30, consent_by="best_interests", consent_capacity=False)
    stored(post(client, referrer, lacking))


def test_best_interests_is_refused_in_west_sussex_004(
    client: TestClient, referrer: Headers, variant: Callable[[str], None]
) -> None:
    variant("west_sussex")
    body = referral_body(
        variant_id="west_sussex",
        age=17,
        criteria=("amber.starting_challenging_behaviour",),
        consent_by="best_interests",
        consent_capacity=False,
    )
    assert (
        "In West Sussex consent is given by" in refused(post(client, referrer, body))["consent_by"]
    )
    body["answers"]["consent_by"] = "parent_carer_guardian"
    stored(post(client, referrer, body))


# --- evidence of the diagnosis (000) ------------------------------------------------------------


def test_the_evidence_of_the_diagnosis_is_recorded_in_the_stored_form_000(
    client: TestClient, referrer: Headers, token_for: TokenFor
) -> None:
    evidence = "Diagnosis letter from Dr Patel, community paediatrician, 2019"
    created = stored(post(client, referrer, referral_body(diagnosis_evidence=evidence)))
    detail = client.get(
        f"/api/v1/register/{created['dsp_id']}", headers=token_for(Role.dsr_admin)
    ).json()
    assert detail["personal"]["form"]["answers"]["diagnosis_evidence"] == evidence
    missing = refused(post(client, referrer, referral_body(diagnosis_evidence=None)))
    assert missing == {"diagnosis_evidence": "Please give the evidence of the diagnosis."}


# --- Tees Valley (003): its own process -----------------------------------------------------------


def test_tees_valley_asks_the_good_referral_prompts_in_every_referral_003() -> None:
    body = referral_body(variant_id="tees_valley", rag=None, criteria=())
    asked, step = walk(body, "tees_valley", age=12)
    assert set(GOOD_REFERRAL) <= set(asked) and "gender" in asked
    assert "mam_by_admin" not in asked and "rag" not in asked
    assert step.status == "summary"
    assert {line.linkId: line.value for line in step.summary}["rag"] == "rated by the DSR meeting"
    self_asked, _step = walk(self_referral_body(), "tees_valley", age=13)
    assert "outcomes_wanted" in self_asked and "mam_by_admin" not in self_asked


def test_a_tees_valley_referral_is_stored_unrated_and_the_dsr_meeting_rates_it_003(
    client: TestClient, referrer: Headers, variant: Callable[[str], None], token_for: TokenFor
) -> None:
    variant("tees_valley")
    body = referral_body(variant_id="tees_valley", rag=None, criteria=())
    created = stored(post(client, referrer, body))
    assert (created["register"], created["rag"], created["follow_ups"]) == (
        "DSR",
        None,
        ["keyworker_referral_due"],  # 003: the keyworker programme is for children
    )
    assert "DSR meeting" in created["next_steps"][0]
    admin = token_for(Role.dsr_admin)
    dsp_id = created["dsp_id"]
    rows = client.get("/api/v1/register", headers=admin).json()
    assert [(r["rag"], r["state"]) for r in rows if r["dsp_id"] == dsp_id] == [(None, "unrated")]
    by_rating = client.get("/api/v1/reports/summary", headers=admin).json()["by_rating"]
    assert "unrated" in by_rating  # counted (a count under 5 is shown as None)
    url = f"/api/v1/register/{dsp_id}/transitions"
    assert client.post(url, json={"to": "blue", "reason": "x"}, headers=admin).status_code == 409
    rated = client.post(url, json={"to": "red", "reason": "DSR meeting"}, headers=admin)
    assert rated.status_code == 200, rated.text
    assert (rated.json()["rag"], rated.json()["register"]) == ("red", "DSR")  # no ROAR in 003
    detail = client.get(f"/api/v1/register/{dsp_id}", headers=admin).json()
    # No TCOs in 003.
    assert [t["kind"] for t in detail["tasks"]] == ["keyworker_referral_due", "cetr_requested"]
    assert [(t["from_state"], t["to_state"]) for t in detail["transitions"]] == [
        (None, "unrated"),
        ("unrated", "red"),
    ]
    back = client.post(url, json={"to": "unrated", "reason": "undo"}, headers=admin)
    assert back.status_code == 409


def test_a_rating_cannot_be_given_in_a_tees_valley_referral_003(
    client: TestClient, referrer: Headers, variant: Callable[[str], None]
) -> None:
    variant("tees_valley")
    created = stored(post(client, referrer, referral_body(variant_id="tees_valley", criteria=())))
    assert created["rag"] is None  # an "amber" sent with it is not the meeting's decision
    llr_criterion = referral_body(variant_id="tees_valley", rag=None)
    assert "concerns" in refused(post(client, referrer, llr_criterion))


# --- West Sussex (004): its own criteria and ratings ---------------------------------------------


def test_west_sussex_uses_its_own_criteria_004(
    client: TestClient, referrer: Headers, variant: Callable[[str], None]
) -> None:
    variant("west_sussex")
    body = referral_body(variant_id="west_sussex")  # LLR's amber criteria
    assert "not West Sussex's criteria" in refused(post(client, referrer, body))["concerns"]


def test_west_sussex_red_only_when_a_red_criterion_applies_004(
    client: TestClient, referrer: Headers, variant: Callable[[str], None]
) -> None:
    variant("west_sussex")
    amber_only = referral_body(
        variant_id="west_sussex", rag="red", criteria=("amber.starting_challenging_behaviour",)
    )
    assert "red criteria" in refused(post(client, referrer, amber_only))["rag"]
    red = referral_body(variant_id="west_sussex", rag="red", criteria=("red.serious_risk_of_harm",))
    created = stored(post(client, referrer, red))
    assert (created["rag"], created["register"]) == ("red", "DSR")
    assert "tco_notified" not in created["follow_ups"]  # no TCOs in 004
    asked, _step = walk(red, "west_sussex", age=12)
    assert "imminent_risk" in asked and "escalating_risk_known" not in asked  # no ROAR


def test_west_sussex_green_is_a_former_inpatient_with_no_concerns_004(
    client: TestClient, referrer: Headers, variant: Callable[[str], None]
) -> None:
    variant("west_sussex")
    settled = referral_body(
        variant_id="west_sussex",
        rag="green",
        criteria=("green.previous_inpatient_no_concerns",),
        discharged=True,
    )
    created = stored(post(client, referrer, settled))
    assert (created["rag"], created["step_down_ends_on"]) == ("green", None)
    for criteria, status in (
        (("amber.residential_placement_risk",), "discharged"),
        (("red.serious_risk_of_harm",), "discharged"),
        ((), "neither"),
    ):
        body = referral_body(
            variant_id="west_sussex", rag="green", criteria=criteria, inpatient_status=status
        )
        assert "no concerns" in refused(post(client, referrer, body))["rag"], criteria


# --- next(): what the assistant asks, and where it stops -----------------------------------------


def test_a_fresh_llr_professional_is_first_asked_their_sector(
    client: TestClient, referrer: Headers
) -> None:
    """001 s11: professionals in health, social care and education refer."""
    step = client.post(NEXT, json={}, headers=referrer).json()
    assert step["status"] == "question"
    assert step["question"]["linkId"] == "referrer_kind"
    assert [o["code"] for o in step["question"]["options"]] == [
        "health",
        "social_care",
        "education",
    ]
    assert step["progress"]["answered"] == 0 and step["progress"]["to_ask"] > 10


@pytest.mark.parametrize(
    ("variant_id", "source", "answers", "says"),
    [
        (
            "llr",
            "professional",
            {"referrer_kind": "health", "age": 12, "diagnosis": "learning_difficulty_only"},
            "Learning difficulty",
        ),
        (
            "llr",
            "professional",
            {"referrer_kind": "health", "age": 12, "diagnosis": "unknown"},
            "please confirm",
        ),
        (
            "llr",
            "professional",
            {
                **{k: v for k, v in referral_body()["answers"].items() if k != "council_area"},
                "age": 12,
                "council_area": "outside",
                "looked_after_child": False,
                "section_117_placement": False,
            },
            "out of area",
        ),
        ("llr", "self", {}, "cannot refer themselves"),
        ("tees_valley", "professional", {"referrer_kind": "health", "age": 30}, "children"),
        ("west_sussex", "professional", {"referrer_kind": "health", "age": 30}, "adult DSR"),
    ],
)
def test_next_stops_with_a_plain_refusal_and_no_document_codes(
    client: TestClient,
    referrer: Headers,
    variant: Callable[[str], None],
    variant_id: str,
    source: str,
    answers: dict[str, Any],
    says: str,
) -> None:
    """000 and 001 s9 (diagnosis, area), 001 s11 (who refers), 003 and 004 (ages): the refusal
    is plain English with what to do instead, never a document code (DESIGN.md)."""
    variant(variant_id)
    response = client.post(
        NEXT, json={"referral_source": source, "answers": answers}, headers=referrer
    )
    step = response.json()
    assert step["status"] == "stopped", step
    assert says in step["stopped"]
    assert not DOCUMENT_CODE.search(step["stopped"]), step["stopped"]
    assert step["question"] is None


def test_next_returns_the_summary_when_nothing_is_missing(
    client: TestClient, referrer: Headers
) -> None:
    """001 s10: amber on the DSR; 001 s6: the NHS number is masked in what is shown back."""
    body = referral_body()
    step = client.post(NEXT, json={"answers": body["answers"]}, headers=referrer).json()
    assert step["status"] == "summary" and step["question"] is None
    lines = {line["linkId"]: line["value"] for line in step["summary"]}
    assert lines["rag"] == "amber, on the DSR"
    assert lines["nhs_number"] == f"*** *** {body['answers']['nhs_number'][-4:]}"  # masked
    assert body["answers"]["nhs_number"] not in str(step)
    assert step["eligibility"]["eligible"] is True
    assert step["progress"]["to_ask"] == 0


@pytest.mark.parametrize("variant_id", ["llr", "tees_valley", "west_sussex"])
def test_no_question_or_summary_shows_a_document_code(variant_id: str) -> None:
    """DESIGN.md "Words the assistant uses": every question, reason and summary line of a whole
    referral, in each variant, is free of the source documents' codes."""
    rag = None if variant_id == "tees_valley" else "amber"
    criteria = {
        "llr": ("amber.carer_strain",),
        "tees_valley": ("concern.placement_breakdown",),
        "west_sussex": ("amber.starting_challenging_behaviour",),
    }[variant_id]
    body = referral_body(
        variant_id=variant_id, rag=rag, criteria=criteria, full=True, mam_organised_by_admin=True
    )
    _asked, step = walk(body, variant_id, age=12)
    assert step.status == "summary"
    shown = [line.value for line in step.summary]
    if step.suggestion:
        shown += step.suggestion.reasons
    assert not any(DOCUMENT_CODE.search(text) for text in shown)


def test_an_answer_to_a_question_that_does_not_apply_decides_nothing_000(
    client: TestClient, referrer: Headers
) -> None:
    """000: a looked-after child placed out of area by an LLR council is a DSR referral. A
    section 117 answer left over from another path (never asked for this child) cannot make it
    the red section 117 exception, nor is it stored."""
    body = referral_body(
        council_area="outside",
        looked_after_child=True,
        placing_council="leicestershire",
        section_117_placement=True,
        urgent_cetr_needed=True,
    )
    created = stored(post(client, referrer, body))
    assert (created["register"], created["rag"]) == ("DSR", "amber")

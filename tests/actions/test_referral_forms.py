"""The guided referral's forms against a real register service: which questions each stage asks,
how answers are read, and what every form shares (explain after two failures, skip, say so when
the service is down). Trackers are shaped as Rasa sends them to a form's validation action."""

import random
import socket
import time
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from rasa.shared.core.domain import Domain
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import referral_forms as rf
from actions import register_client
from tests.actions.conftest import RegisterService, tracker

pytestmark = pytest.mark.anyio
ROOT = Path(__file__).resolve().parents[2]

# ---- helpers shared with test_referral.py ---------------------------------------------------------


def load_domain() -> dict[str, Any]:
    """The real domain, as Rasa sends it to the action server."""
    return Domain.load(str(ROOT / "bot" / "domain")).as_dict()


@pytest.fixture(scope="module")
def domain() -> dict[str, Any]:
    return load_domain()


def nhs_number() -> str:
    """A valid NHS number (modulus 11 check digit) that no other test uses."""
    while True:
        first = "".join(str(random.randint(0, 9)) for _ in range(9))
        check = 11 - sum(int(d) * w for d, w in zip(first, range(10, 1, -1), strict=True)) % 11
        check = 0 if check == 11 else check
        if check != 10:
            return first + str(check)


def born(years: int, days: int = 0) -> str:
    """A date of birth `years` (and `days`) ago."""
    today = date.today()
    birthday = today.replace(year=today.year - years)
    return date.fromordinal(birthday.toordinal() - days).isoformat()


ELIGIBLE_CYP: dict[str, Any] = {
    "ref_referrer_kind": "health",
    "ref_diagnosis": "autism",
    "ref_diagnosis_confirmation": "confirmed_with_evidence",
    "ref_council_area": "leicester_city",
    "ref_date_of_birth": born(12),
}
AMBER_CONCERNS: dict[str, Any] = {
    "ref_criteria": ["amber.behaviours_that_challenge", "amber.carer_strain"],
    "ref_other_concern": False,
    "ref_imminent_risk": False,
    "ref_inpatient": "neither",
}


def consent() -> dict[str, Any]:
    return {
        "ref_consent_given": True,
        "ref_consent_given_by": "parent_carer_guardian",
        "ref_consent_date": date.today().isoformat(),
    }


def mandatory_details() -> dict[str, Any]:
    return {
        "ref_mam_by_admin": False,
        "ref_person_name": {"given_name": "Sam", "family_name": "Taylor"},
        "ref_nhs_number": nhs_number(),
        "ref_postcode": "LE1 6TH",
        "ref_referrer_name": "Jo Bloggs",
        "ref_referrer_role": "Community nurse",
        "ref_referrer_organisation": "Leicestershire Partnership NHS Trust",
        "ref_referrer_email": "jo.bloggs@nhs.net",
        "ref_current_situation": "He has stopped going to school and hits his mum when asked "
        "to do things; the family say they cannot cope.",
    }


def form_tracker(
    form: str, slot: str, value: Any, slots: dict[str, Any] | None = None, intent: str = "inform"
) -> Tracker:
    """What a form's validation action gets: the form ran, then the answer was set."""
    return tracker(
        slots={**(slots or {}), "requested_slot": slot, slot: value},
        events=[
            {"event": "action", "name": form},
            {"event": "slot", "name": slot, "value": value},
        ],
        latest_message={"intent": {"name": intent}, "entities": [], "text": str(value)},
        active_loop=form,
    )


def said(
    text: str, intent: str, slots: dict[str, Any] | None = None, active_loop: str | None = None
) -> Tracker:
    return tracker(
        slots=slots or {},
        latest_message={"intent": {"name": intent}, "entities": [], "text": text},
        active_loop=active_loop,
    )


def texts(dispatcher: CollectingDispatcher) -> str:
    return "\n".join(message.get("text") or "" for message in dispatcher.messages)


def slot_events(events: list[dict[str, Any]]) -> dict[str, Any]:
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


async def validate(
    action: rf.ReferralForm,
    slot: str,
    value: Any,
    domain: dict[str, Any],
    slots: dict[str, Any] | None = None,
    intent: str = "inform",
) -> tuple[dict[str, Any], CollectingDispatcher]:
    dispatcher = CollectingDispatcher()
    events = await action.run(
        dispatcher, form_tracker(action.form_name(), slot, value, slots, intent), domain
    )
    return slot_events(events), dispatcher


@pytest.fixture
async def variant(service_env: RegisterService) -> dict[str, Any]:
    return await register_client.get_variant_cached()


# ---- which questions: only what is needed ---------------------------------------------------------

TODAY = date.today()


async def test_eligibility_asks_only_what_it_needs(variant: dict[str, Any]) -> None:
    ask = rf.eligibility_slots
    assert ask({}, variant, TODAY) == ["ref_referrer_kind"]
    # A learning difficulty is refused from the diagnosis alone: nothing more is asked (001 s9).
    difficulty = {"ref_referrer_kind": "education", "ref_diagnosis": "learning_difficulty_only"}
    assert ask(difficulty, variant, TODAY) == ["ref_referrer_kind", "ref_diagnosis"]
    # LLR accepts a private autism diagnosis, so whether it was private is not asked.
    assert "ref_autism_private" not in ask(ELIGIBLE_CYP, variant, TODAY)
    assert ask(ELIGIBLE_CYP, variant, TODAY)[-1] == "ref_date_of_birth"
    # Living in a council area: neither the GP nor the out-of-area exceptions are asked.
    assert not {"ref_gp_in_area", "ref_out_of_area_placement"} & set(
        ask(ELIGIBLE_CYP, variant, TODAY)
    )


async def test_out_of_area_questions_follow_the_variants_exceptions(
    variant: dict[str, Any], domain: dict[str, Any]
) -> None:
    outside = {**ELIGIBLE_CYP, "ref_council_area": rf.OUTSIDE, "ref_gp_in_area": "no"}
    # The exceptions differ for children and adults: the age group is the service's, for the
    # date of birth given, kept in ref_age_group.
    events, _ = await validate(
        rf.ValidateReferralEligibilityForm(),
        "ref_date_of_birth",
        outside["ref_date_of_birth"],
        domain,
        outside,
    )
    assert events["ref_age_group"] == "cyp"
    assert events["requested_slot"] == "ref_out_of_area_placement"
    child = {**outside, "ref_age_group": "cyp"}
    assert rf.eligibility_slots(child, variant, TODAY)[-1] == "ref_out_of_area_placement"
    placed = {**child, "ref_out_of_area_placement": True}
    assert rf.eligibility_slots(placed, variant, TODAY)[-1] == "ref_looked_after"
    looked_after = {**placed, "ref_looked_after": True}
    assert rf.eligibility_slots(looked_after, variant, TODAY)[-1] == "ref_placing_council"
    # Placed by an LLR council: an exception holds, so section 117 is never asked.
    by_llr = {**looked_after, "ref_placing_council": "rutland"}
    assert "ref_section_117" not in rf.eligibility_slots(by_llr, variant, TODAY)
    # Not looked after: the section 117 exception with an urgent CETR is asked instead (000).
    not_lac = {**placed, "ref_looked_after": False, "ref_section_117": True}
    assert rf.eligibility_slots(not_lac, variant, TODAY)[-1] == "ref_urgent_cetr"
    # Not in a placement: no exception can hold, nothing more is asked.
    home = {**child, "ref_out_of_area_placement": False}
    assert rf.eligibility_slots(home, variant, TODAY)[-1] == "ref_out_of_area_placement"
    # An adult's only exception is section 117 funding (001 appendix 2).
    events, _ = await validate(
        rf.ValidateReferralEligibilityForm(), "ref_date_of_birth", born(30), domain, child
    )
    assert events["ref_age_group"] == "adult"
    adult = {**child, **events, "ref_out_of_area_placement": True}
    assert rf.eligibility_slots(adult, variant, TODAY)[-1] == "ref_section_117"


async def test_the_whole_form_only_where_the_admin_lead_organises_the_mam_or_for_the_roar(
    variant: dict[str, Any],
) -> None:
    mandatory = rf.details_slots({"ref_mam_by_admin": False, "ref_register": "DSR"}, variant, TODAY)
    assert mandatory == list(rf.MANDATORY_DETAILS)
    full = rf.details_slots({"ref_mam_by_admin": True, "ref_age_group": "cyp"}, variant, TODAY)
    assert set(rf.MANDATORY_DETAILS) < set(full)
    assert {"ref_lac_cin_cpp", "ref_ehcp", "ref_pronouns", "ref_police_crisis"} <= set(full)
    roar = rf.details_slots({"ref_mam_by_admin": False, "ref_register": "ROAR"}, variant, TODAY)
    assert roar == full
    adult = rf.details_slots({"ref_mam_by_admin": True, "ref_age_group": "adult"}, variant, TODAY)
    assert "ref_lac_cin_cpp" not in adult and "ref_school" not in adult
    assert rf.mam_slots({"ref_mam_by_admin": True}, variant, TODAY)[1:] == [
        "ref_invitee",
        "ref_invitee_more",
    ]


def test_every_field_has_a_slot_an_ask_action_and_a_form_in_the_domain() -> None:
    loaded = Domain.load(str(ROOT / "bot" / "domain"))
    actions = set(loaded.action_names_or_texts)
    for slot in rf.FIELDS:
        assert slot in {s.name for s in loaded.slots}
        assert f"action_ask_{slot}" in actions
        assert slot in loaded.required_slots_for_form(rf.STAGE_OF_SLOT[slot].form)
    for slot in rf.STATE_SLOTS:
        assert slot in {s.name for s in loaded.slots}


# ---- reading answers ------------------------------------------------------------------------------


def test_dates_as_people_type_them() -> None:
    today = date(2026, 11, 22)
    for typed in (
        "14/03/2009",
        "14-3-2009",
        "14.03.2009",
        "2009-03-14",
        "14th March 2009",
        "14 mar 2009",
        "March 14, 2009",
        "born on 14 of march 2009",
    ):
        assert rf.read_date(typed, today) == date(2009, 3, 14), typed
    assert rf.read_date("today", today) == today
    assert "year in full" in str(rf.read_date("14/03/09", today))
    assert "does not exist" in str(rf.read_date("31/02/2010", today))


def test_yes_and_no_are_never_guessed() -> None:
    assert rf.yes_or_no("Yeah.") is True
    assert rf.yes_or_no("nope") is False
    assert rf.yes_or_no("maybe") is None
    assert rf.yes_or_no("whatever", "affirm") is True


def test_contact_details_in_one_answer() -> None:
    """Finding the parts is parsing; whether they are a valid email and phone, the service says
    (test_as_many_invitees_as_needed)."""
    words, email, phone = rf.contact_parts(
        "Jo Bloggs, social worker, jo.bloggs@council.gov.uk, 0116 454 1000"
    )
    assert (words, email, phone) == (
        ["Jo Bloggs", "social worker"],
        "jo.bloggs@council.gov.uk",
        "0116 454 1000",
    )


def test_an_answer_is_found_in_a_sentence() -> None:
    assert rf.find_nhs_number("it's 943-476-5919 I think") == "943-476-5919"
    assert rf.find_nhs_number("no idea") is None
    assert rf.find_postcode("they live at le16th, near the park") == "le1 6th"
    assert rf.find_email("email me: jo.bloggs@nhs.net thanks") == "jo.bloggs@nhs.net"
    assert rf.find_phone("call 0116 454 1000 after 2") == "0116 454 1000"


@pytest.mark.parametrize(
    ("slot", "typed", "kept"),
    [
        ("ref_nhs_number", "It's 943-476-5919", "9434765919"),
        ("ref_postcode", "le16th", "LE1 6TH"),
        ("ref_postcode", "they live at le1 6th", "LE1 6TH"),
        ("ref_referrer_email", "jo.bloggs@nhs.net please", "jo.bloggs@nhs.net"),
        ("ref_referrer_phone", "+44 116 454 1000", "01164541000"),
    ],
)
async def test_the_service_keeps_each_answer_in_its_own_form(
    variant: dict[str, Any], domain: dict[str, Any], slot: str, typed: str, kept: str
) -> None:
    full = {"ref_mam_by_admin": True, "ref_age_group": "cyp"}
    events, dispatcher = await validate(rf.ValidateReferralDetailsForm(), slot, typed, domain, full)
    assert events[slot] == kept, texts(dispatcher)


@pytest.mark.parametrize(
    ("slot", "typed", "says"),
    [
        ("ref_nhs_number", "94347659", "not a valid NHS number"),
        ("ref_nhs_number", "the one on the letter", "could not find an NHS number"),
        # Postcode-shaped, but no UK postcode starts with Q: the service's rule decides.
        ("ref_postcode", "QX9 9ZZ", "UK postcode"),
        ("ref_referrer_email", "jo.bloggs@nhs", "email address"),
        ("ref_referrer_phone", "0116 454", "phone number"),
    ],
)
async def test_a_format_the_service_refuses_is_asked_again_in_its_words(
    variant: dict[str, Any], domain: dict[str, Any], slot: str, typed: str, says: str
) -> None:
    full = {"ref_mam_by_admin": True, "ref_age_group": "cyp"}
    events, dispatcher = await validate(rf.ValidateReferralDetailsForm(), slot, typed, domain, full)
    assert events[slot] is None
    assert says in texts(dispatcher)


async def test_a_date_of_birth_is_checked_by_the_service_which_gives_the_age_group(
    variant: dict[str, Any], domain: dict[str, Any]
) -> None:
    eligibility = rf.ValidateReferralEligibilityForm()
    slots = {k: v for k, v in ELIGIBLE_CYP.items() if k != "ref_date_of_birth"}
    future = date.fromordinal(TODAY.toordinal() + 30).strftime("%d/%m/%Y")
    for typed, says in ((future, "cannot be in the future"), ("14/03/1890", "over 120")):
        events, dispatcher = await validate(eligibility, "ref_date_of_birth", typed, domain, slots)
        assert events["ref_date_of_birth"] is None and "ref_age_group" not in events
        assert says in texts(dispatcher)
    events, _ = await validate(eligibility, "ref_date_of_birth", born(12), domain, slots)
    assert (events["ref_date_of_birth"], events["ref_age_group"]) == (born(12), "cyp")
    # A changed date of birth that makes them an adult: the concerns, chosen from the CYP
    # criteria, are asked again.
    rated = {**slots, **AMBER_CONCERNS, "ref_age_group": "cyp"}
    events, _ = await validate(eligibility, "ref_date_of_birth", born(30), domain, rated)
    assert events["ref_age_group"] == "adult"
    assert events["ref_criteria"] is None and events["ref_other_concern"] is None


async def test_a_bad_answer_says_what_is_wrong_and_is_asked_again(
    variant: dict[str, Any], domain: dict[str, Any]
) -> None:
    details = rf.ValidateReferralDetailsForm()
    slots = {
        "ref_mam_by_admin": False,
        "ref_person_name": {"given_name": "Sam", "family_name": "T"},
    }
    events, dispatcher = await validate(details, "ref_nhs_number", "943 476 5918", domain, slots)
    assert events["ref_nhs_number"] is None
    assert events["requested_slot"] == "ref_nhs_number"
    assert "check digit" in texts(dispatcher)
    good, _ = await validate(details, "ref_nhs_number", "943 476 5919", domain, slots)
    assert good["ref_nhs_number"] == "9434765919"
    assert good["requested_slot"] == "ref_postcode"


async def test_after_two_failures_the_field_is_explained_and_a_person_offered(
    variant: dict[str, Any], domain: dict[str, Any]
) -> None:
    details = rf.ValidateReferralDetailsForm()
    slots = {"ref_mam_by_admin": False, rf.FAILURES: {"ref_postcode": 1}}
    events, dispatcher = await validate(details, "ref_postcode", "near the park", domain, slots)
    said_ = texts(dispatcher)
    assert events["ref_postcode"] is None and events[rf.FAILURES] == {"ref_postcode": 2}
    assert "UK postcode" in said_
    assert "About postcode:" in said_ and "LE1 6TH" in said_
    assert "talk to someone" in said_ and "'skip'" not in said_


async def test_an_optional_field_can_be_skipped_and_a_mandatory_one_cannot(
    variant: dict[str, Any], domain: dict[str, Any]
) -> None:
    details = rf.ValidateReferralDetailsForm()
    full = {"ref_mam_by_admin": True, "ref_age_group": "cyp"}
    events, dispatcher = await validate(details, "ref_pronouns", "skip", domain, full, "skip")
    assert events["ref_pronouns"] == rf.SKIPPED
    assert "left out preferred pronouns" in texts(dispatcher)
    events, dispatcher = await validate(details, "ref_nhs_number", "skip", domain, full, "skip")
    assert events["ref_nhs_number"] is None
    assert "cannot be skipped" in texts(dispatcher)
    # "None known" is an answer to the safeguarding question, not a skip.
    events, _ = await validate(details, "ref_safeguarding", "none known", domain, full)
    assert events["ref_safeguarding"] == "none known"


async def test_a_town_suggests_an_area_but_never_decides_it(
    variant: dict[str, Any], domain: dict[str, Any]
) -> None:
    eligibility = rf.ValidateReferralEligibilityForm()
    slots = {k: v for k, v in ELIGIBLE_CYP.items() if k != "ref_council_area"}
    events, dispatcher = await validate(
        eligibility, "ref_council_area", "Loughborough", domain, slots
    )
    assert events["ref_council_area"] is None
    assert "Leicestershire County" in texts(dispatcher)
    assert dispatcher.messages[0]["buttons"][0]["title"] == "Leicestershire County"
    assert rf.FAILURES not in events  # a suggestion to confirm is not the referrer's error
    events, _ = await validate(eligibility, "ref_council_area", "Leicester City", domain, slots)
    assert events["ref_council_area"] == "leicester_city"
    events, _ = await validate(eligibility, "ref_council_area", "somewhere else", domain, slots)
    assert events["ref_council_area"] == rf.OUTSIDE
    assert events["requested_slot"] == "ref_gp_in_area"


async def test_a_child_under_16_cannot_consent_for_themselves(
    variant: dict[str, Any], domain: dict[str, Any]
) -> None:
    consent_form = rf.ValidateReferralConsentForm()
    slots = {**ELIGIBLE_CYP, "ref_consent_given": True}
    events, dispatcher = await validate(
        consent_form, "ref_consent_given_by", "The person", domain, slots
    )
    assert events["ref_consent_given_by"] is None
    assert "under 16" in texts(dispatcher)
    events, _ = await validate(
        consent_form, "ref_consent_given_by", "A parent, carer or guardian", domain, slots
    )
    assert events["ref_consent_given_by"] == "parent_carer_guardian"
    adult = {**slots, "ref_date_of_birth": born(30)}
    events, _ = await validate(
        consent_form, "ref_consent_given_by", "A best-interests decision", domain, adult
    )
    assert events["ref_consent_given_by"] == "best_interests"
    events, _ = await validate(consent_form, "ref_consent_given_by", "The person", domain, adult)
    assert events["ref_consent_given_by"] == "person"
    # The question itself offers "the person" only where the service says they may consent.
    ask = next(a for a in rf.ASK_ACTIONS if a().name() == "action_ask_ref_consent_given_by")()
    for dob, offered in ((born(12), False), (born(30), True)):
        dispatcher = CollectingDispatcher()
        await ask.run(dispatcher, tracker(slots={"ref_date_of_birth": dob}), domain)
        titles = [b["title"] for b in dispatcher.messages[0]["buttons"]]
        assert ("The person" in titles) is offered


async def test_consent_cannot_be_dated_in_the_future(
    variant: dict[str, Any], domain: dict[str, Any]
) -> None:
    consent_form = rf.ValidateReferralConsentForm()
    slots = {**ELIGIBLE_CYP, "ref_consent_given": True, "ref_consent_given_by": "person"}
    tomorrow = date.fromordinal(TODAY.toordinal() + 1).strftime("%d/%m/%Y")
    events, dispatcher = await validate(consent_form, "ref_consent_date", tomorrow, domain, slots)
    assert events["ref_consent_date"] is None
    assert "cannot be in the future" in texts(dispatcher)
    events, _ = await validate(consent_form, "ref_consent_date", "today", domain, slots)
    assert events["ref_consent_date"] == TODAY.isoformat()


async def test_no_consent_ends_the_consent_questions(
    variant: dict[str, Any], domain: dict[str, Any]
) -> None:
    events, _ = await validate(
        rf.ValidateReferralConsentForm(), "ref_consent_given", "no", domain, {}, "deny"
    )
    assert events["ref_consent_given"] is False
    assert events["requested_slot"] is None


async def test_as_many_invitees_as_needed(variant: dict[str, Any], domain: dict[str, Any]) -> None:
    mam = rf.ValidateReferralMamForm()
    slots = {"ref_mam_by_admin": True, "ref_register": "DSR"}
    events, dispatcher = await validate(
        mam,
        "ref_invitee",
        "Jo Bloggs, social worker, jo@council.gov.uk, 0116 454 1000",
        domain,
        slots,
    )
    first = {
        "name": "Jo Bloggs",
        "role": "social worker",
        "email": "jo@council.gov.uk",
        "phone": "01164541000",
    }
    assert events["ref_invitees"] == [first]
    assert "Jo Bloggs (social worker) added" in texts(dispatcher)
    slots = {**slots, "ref_invitee": first, "ref_invitees": [first]}
    # Another person: both questions come round again (the form asks the first unanswered).
    events, _ = await validate(mam, "ref_invitee_more", "yes", domain, slots, "affirm")
    assert events["ref_invitee"] is None and events["ref_invitee_more"] is None
    events, dispatcher = await validate(
        mam, "ref_invitee", "Dr Patel, 0116 225 5000", domain, slots
    )
    assert events["ref_invitee"] is None
    assert "their role, an email address" in texts(dispatcher)


async def test_green_is_offered_only_where_the_service_says_they_were_discharged_001_s10(
    variant: dict[str, Any], domain: dict[str, Any]
) -> None:
    """001 s10: only someone discharged from an inpatient hospital is added as green. The
    service's suggestion says so (choosable_at_referral); the form offers what it lists."""
    decision = rf.ValidateReferralDecisionForm()
    concerns = {"criteria_ids": ["amber.carer_strain"], "age_group": "cyp"}
    discharged = await register_client.suggest_rating(
        {**concerns, "recently_discharged_from_inpatient": True}
    )
    slots = {"ref_rating_suggestion": discharged, "ref_inpatient": "discharged"}
    assert rf.rating_choices(slots) == ["amber", "green"]
    not_discharged = await register_client.suggest_rating(concerns)
    slots = {"ref_rating_suggestion": not_discharged, "ref_inpatient": "neither"}
    assert rf.rating_choices(slots) == ["amber"]
    events, dispatcher = await validate(decision, "ref_rating_decision", "green", domain, slots)
    assert events["ref_rating_decision"] is None
    assert "discharged from an inpatient hospital" in texts(dispatcher)


async def test_a_direct_roar_rating_is_offered_only_where_the_rules_allow_it(
    variant: dict[str, Any], domain: dict[str, Any]
) -> None:
    decision = rf.ValidateReferralDecisionForm()
    suggestion = await register_client.suggest_rating(
        {
            "criteria_ids": ["amber.carer_strain"],
            "imminent_risk_of_admission": True,
            "earlier_knowledge_of_escalating_risk": True,
            "age_group": "cyp",
        }
    )
    assert suggestion["direct_roar_allowed"] is False
    slots = {"ref_rating_suggestion": suggestion, "ref_inpatient": "neither"}
    assert rf.rating_choices(slots) == ["amber"]
    events, dispatcher = await validate(decision, "ref_rating_decision", "red", domain, slots)
    assert events["ref_rating_decision"] is None
    assert "not open for this referral" in texts(dispatcher)
    # The service suggests red, but a direct ROAR referral is not for this person: "yes" to the
    # suggestion is not a way round that.
    assert suggestion["rag"] == "red"
    events, dispatcher = await validate(
        decision, "ref_rating_decision", "yes", domain, slots, "affirm"
    )
    assert events["ref_rating_decision"] is None
    assert "Please choose amber" in texts(dispatcher)
    events, _ = await validate(decision, "ref_rating_decision", "Amber", domain, slots)
    assert events["ref_rating_decision"] == "amber"
    assert events["ref_register"] == "DSR"
    # Nobody is referred as blue: the service's rule, in its words.
    events, dispatcher = await validate(decision, "ref_rating_decision", "blue", domain, slots)
    assert events["ref_rating_decision"] is None
    assert "Nobody is referred as blue" in texts(dispatcher)


async def test_the_ask_actions_offer_the_variants_options(
    variant: dict[str, Any], domain: dict[str, Any]
) -> None:
    ask = next(a for a in rf.ASK_ACTIONS if a().name() == "action_ask_ref_criteria")()
    dispatcher = CollectingDispatcher()
    await ask.run(dispatcher, tracker(slots={"ref_age_group": "adult"}), domain)
    [message] = dispatcher.messages
    assert "Red: urgent admission avoidance" in message["text"]
    assert "suspected mental health concern" not in message["text"]  # a CYP-only criterion
    titles = [b["title"] for b in message["buttons"]]
    assert titles[-2:] == ["Another significant concern", "None of these"]
    # Each section of the referral form is named when it starts.
    ask = next(a for a in rf.ASK_ACTIONS if a().name() == "action_ask_ref_referrer_name")()
    dispatcher = CollectingDispatcher()
    await ask.run(dispatcher, tracker(slots={"ref_mam_by_admin": False}), domain)
    assert dispatcher.messages[0]["text"].startswith("[You, the referrer]")


async def test_when_the_service_is_down_the_answer_is_asked_again_and_nothing_lost(
    monkeypatch: pytest.MonkeyPatch, domain: dict[str, Any]
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    monkeypatch.setenv("DSP_SERVICE_URL", f"http://127.0.0.1:{closed}")
    slots = {k: v for k, v in ELIGIBLE_CYP.items() if k != "ref_council_area"}
    events, dispatcher = await validate(
        rf.ValidateReferralEligibilityForm(), "ref_council_area", "Leicester City", domain, slots
    )
    assert events == {"ref_council_area": None, "requested_slot": "ref_council_area"}
    assert texts(dispatcher) == rf.SERVICE_DOWN_IN_FORM


async def test_when_the_service_cannot_check_an_answer_it_is_kept_as_given_and_said(
    variant: dict[str, Any], monkeypatch: pytest.MonkeyPatch, domain: dict[str, Any]
) -> None:
    """The service stops answering after the form read the variant: the answer is kept (the
    referral is checked again when it is sent) and the referrer is told."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}"
    monkeypatch.setenv("DSP_SERVICE_URL", closed)
    monkeypatch.setitem(register_client._VARIANT_CACHE, closed, (time.monotonic(), variant))
    slots = {
        "ref_mam_by_admin": False,
        "ref_person_name": {"given_name": "Sam", "family_name": "T"},
    }
    events, dispatcher = await validate(
        rf.ValidateReferralDetailsForm(), "ref_nhs_number", "943 476 5919", domain, slots
    )
    assert events["ref_nhs_number"] == "943 476 5919"
    assert events["requested_slot"] == "ref_postcode"
    assert texts(dispatcher) == rf.SERVICE_DOWN_ANSWER_KEPT


def test_no_question_or_crisis_is_ever_taken_as_an_answer() -> None:
    """Every `ask_*` intent of any journey, a crisis, and the referral's own steering intents stop
    the form instead of filling it; inside each referral form, the other journeys' questions are
    answered for a professional. Fails when a journey adds a question the referral does not know."""
    import yaml

    loaded = Domain.load(str(ROOT / "bot" / "domain"))
    questions = {i for i in loaded.intents if i.startswith("ask_")}
    steering = {"crisis", "stop_referral", "start_over", "pause_referral", "resume_referral"}
    for slot in loaded.slots:
        if slot.name in rf.FIELDS:
            [mapping] = slot.mappings
            assert (questions | steering | {"change_answer"}) <= set(mapping["not_intent"]), (
                slot.name
            )
    rules = yaml.safe_load((ROOT / "data" / "rules" / "referral.yml").read_text())["rules"]
    family = {
        i
        for i in questions
        if i
        not in {"ask_why", "ask_definition", "ask_what_to_prepare", "ask_self_referral", "ask_area"}
    }
    for stage in (*rf.STAGES, rf.RESUME_STAGE):
        answered = {
            option["intent"]
            for rule in rules
            if rule.get("condition") == [{"active_loop": stage.form}]
            for option in rule["steps"][0].get("or", [])
        }
        assert family <= answered, (stage.form, family - answered)

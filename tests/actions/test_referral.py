"""The guided referral's flow against a real register service: eligibility and its refusals, the
rating suggestion, consent, the summary, sending exactly once (also after the service was down),
pausing and resuming, changing an answer, stopping, and questions along the way."""

import socket
import uuid
from collections.abc import Iterator
from datetime import date
from typing import Any

import httpx
import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions import referral as flow
from actions import referral_forms as rf
from tests.actions.conftest import RegisterService, tracker
from tests.actions.test_referral_forms import (
    AMBER_CONCERNS,
    ELIGIBLE_CYP,
    born,
    consent,
    load_domain,
    mandatory_details,
    said,
    slot_events,
    texts,
    validate,
)

pytestmark = pytest.mark.anyio


@pytest.fixture(scope="module")
def domain() -> dict[str, Any]:
    return load_domain()


def started(**answers: Any) -> dict[str, Any]:
    return {"ref_idempotency_key": str(uuid.uuid4()), **answers}


async def next_step(
    slots: dict[str, Any], text: str = "", intent: str = "inform"
) -> tuple[str, dict[str, Any], str]:
    """Runs action_referral_next: the step, every slot as it now stands, and what was said."""
    dispatcher = CollectingDispatcher()
    events = await flow.ActionReferralNext().run(dispatcher, said(text, intent, slots), domain={})
    now = {**slots, **slot_events(events)}
    return now[flow.STEP], now, texts(dispatcher)


async def ready_to_send(**changes: Any) -> dict[str, Any]:
    """A mandatory-only amber referral, taken through the service's eligibility and rating."""
    slots = started(**ELIGIBLE_CYP, **AMBER_CONCERNS)
    step, slots, _ = await next_step(slots)
    assert step == "decision"
    slots.update({"ref_rating_decision": "amber", "ref_register": "DSR", **consent()})
    slots.update({**mandatory_details(), **changes})
    step, slots, summary = await next_step(slots)
    assert step == "confirm", summary
    return {**slots, "ref_confirm": True}


def closed_port_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}"


@pytest.fixture
def register(service_env: RegisterService) -> Iterator[httpx.Client]:
    """The register as the DSR admin lead reads it (GET /api/v1/register)."""
    headers = {"Authorization": f"Bearer {service_env.token('dsr_admin')}"}
    with httpx.Client(base_url=service_env.url, headers=headers, timeout=10) as client:
        yield client


# ---- eligibility ----------------------------------------------------------------------------------


async def test_an_eligible_person_goes_on_to_the_rating(service_env: RegisterService) -> None:
    step, slots, said_ = await next_step(started(**ELIGIBLE_CYP))
    assert step == "rating"
    assert slots["ref_eligibility"]["outcome"] == "eligible"
    assert slots["ref_age_group"] == "cyp"
    assert "meets the criteria" in said_ and "DSR" in said_
    # The DSP does not replace other referrals (001 section 12).
    assert "Early Help" in said_ and "Specialist Autism Team" in said_


async def test_a_learning_difficulty_is_refused_in_plain_words(
    service_env: RegisterService,
) -> None:
    answers = {"ref_referrer_kind": "education", "ref_diagnosis": "learning_difficulty_only"}
    step, slots, said_ = await next_step(started(**answers))
    assert step == "finished"
    assert slots["ref_eligibility"]["outcome"] == "not_eligible"
    assert '"Learning difficulty" is not the same as a learning disability' in said_
    assert "What you can do instead" in said_
    assert "Early Help" in said_ and "LD Access" in said_


async def test_an_unconfirmed_diagnosis_is_refused(service_env: RegisterService) -> None:
    answers = {**ELIGIBLE_CYP, "ref_diagnosis_confirmation": "not_confirmed"}
    step, _, said_ = await next_step(started(**answers))
    assert step == "finished"
    assert "must be confirmed" in said_


async def test_someone_living_out_of_area_with_no_exception_is_refused(
    service_env: RegisterService,
) -> None:
    answers = {
        **ELIGIBLE_CYP,
        "ref_council_area": rf.OUTSIDE,
        "ref_gp_in_area": "no",
        "ref_out_of_area_placement": False,
    }
    step, _, said_ = await next_step(started(**answers))
    assert step == "finished"
    assert "lives out of area" in said_
    assert "dynamic support register of the area where the person lives" in said_


async def test_a_looked_after_child_placed_out_of_area_by_an_llr_council_can_be_referred(
    service_env: RegisterService,
) -> None:
    answers = {
        **ELIGIBLE_CYP,
        "ref_council_area": rf.OUTSIDE,
        "ref_gp_in_area": "no",
        "ref_out_of_area_placement": True,
        "ref_looked_after": True,
        "ref_placing_council": "rutland",
    }
    step, _, said_ = await next_step(started(**answers))
    assert step == "rating"
    assert "looked-after child placed out of area" in said_


async def test_missing_evidence_asks_for_it_before_going_on(service_env: RegisterService) -> None:
    answers = {**ELIGIBLE_CYP, "ref_diagnosis_confirmation": "confirmed_no_evidence"}
    step, _, said_ = await next_step(started(**answers))
    assert step == "finished"
    assert "Before the referral can go ahead, please confirm" in said_
    assert "evidence of the confirmed diagnosis" in said_


async def test_a_person_close_to_18_is_flagged(service_env: RegisterService) -> None:
    # 17 years and 11 months: inside LLR's transition window (001 section 14).
    answers = {**ELIGIBLE_CYP, "ref_date_of_birth": born(17, days=335)}
    step, _, said_ = await next_step(started(**answers))
    assert step == "rating"
    assert "close to 18" in said_ and "adult DSR admin lead" in said_


async def test_this_guided_referral_is_for_professionals(service_env: RegisterService) -> None:
    step, slots, said_ = await next_step(started(ref_referrer_kind="family"))
    assert step == "finished"
    assert "for professionals" in said_
    assert "ref_eligibility" not in slots or slots["ref_eligibility"] is None


# ---- rating ---------------------------------------------------------------------------------------


async def test_the_suggestion_comes_with_its_reasons(service_env: RegisterService) -> None:
    step, slots, said_ = await next_step(started(**ELIGIBLE_CYP, **AMBER_CONCERNS))
    assert step == "decision"
    assert slots["ref_rating_suggestion"]["rag"] == "amber"
    assert "Suggested rating: amber, on the DSR. You decide." in said_
    assert "What follows the amber rating:" in said_
    assert "keyworker" in said_.lower()


async def test_imminent_risk_with_no_earlier_knowledge_offers_a_direct_roar_referral(
    service_env: RegisterService,
) -> None:
    concerns = {
        **AMBER_CONCERNS,
        "ref_criteria": ["red.suspected_mental_health_concern"],
        "ref_imminent_risk": True,
        "ref_earlier_knowledge": False,
    }
    step, slots, said_ = await next_step(started(**ELIGIBLE_CYP, **concerns))
    assert step == "decision"
    assert slots["ref_rating_suggestion"]["route"] == "direct_roar_referral"
    assert rf.rating_choices(slots) == ["amber", "red"]
    assert "Transforming Care Officers" in said_


async def test_a_changed_age_group_rates_again(service_env: RegisterService) -> None:
    slots = started(**ELIGIBLE_CYP, **AMBER_CONCERNS)
    _, slots, _ = await next_step(slots)
    # The date of birth was wrong: the person is an adult, so the CYP answers are rated again.
    slots.update({"ref_date_of_birth": born(30), "ref_eligibility": None})
    step, slots, _ = await next_step(slots)
    assert step == "rating"
    assert slots["ref_age_group"] == "adult"
    assert slots["ref_criteria"] is None


async def test_a_date_of_birth_kept_while_the_service_was_down_is_checked_before_eligibility(
    service_env: RegisterService,
) -> None:
    # Kept unchecked: no age group yet, so the out-of-area questions for a child were not asked.
    outside = {**ELIGIBLE_CYP, "ref_council_area": rf.OUTSIDE, "ref_gp_in_area": "no"}
    step, slots, _ = await next_step(started(**outside))
    assert step == "eligibility" and slots["ref_age_group"] == "cyp"
    assert slots.get("ref_eligibility") is None
    # A date the service refuses is asked again, in its words.
    future = date.fromordinal(date.today().toordinal() + 30).isoformat()
    step, slots, said_ = await next_step(started(**{**ELIGIBLE_CYP, "ref_date_of_birth": future}))
    assert step == "eligibility" and slots["ref_date_of_birth"] is None
    assert "cannot be in the future" in said_


# ---- consent --------------------------------------------------------------------------------------


async def test_without_consent_nothing_is_stored_and_the_referrer_learns_how_to_gain_it(
    service_env: RegisterService,
) -> None:
    slots = started(**ELIGIBLE_CYP, **AMBER_CONCERNS)
    _, slots, _ = await next_step(slots)
    slots.update(
        {"ref_rating_decision": "amber", "ref_register": "DSR", "ref_consent_given": False}
    )
    step, slots, said_ = await next_step(slots)
    assert step == "finished"
    assert "nothing has been stored" in said_
    assert "consent form" in said_ and "https://www.leicspart.nhs.uk" in said_
    # Nor can the answers be kept as a draft.
    dispatcher = CollectingDispatcher()
    events = await flow.ActionReferralPause().run(
        dispatcher, said("pause", "pause_referral", slots), domain={}
    )
    assert events == [] and "cannot save" in texts(dispatcher)


# ---- summary and sending --------------------------------------------------------------------------


async def test_the_summary_is_readable(service_env: RegisterService) -> None:
    slots = started(**ELIGIBLE_CYP, **AMBER_CONCERNS)
    _, slots, _ = await next_step(slots)
    slots.update({"ref_rating_decision": "amber", "ref_register": "DSR", **consent()})
    slots.update(mandatory_details())
    step, _, summary = await next_step(slots)
    assert step == "confirm"
    assert "Here is the referral. Please check it:" in summary
    assert "- the diagnosis: autism" in summary
    assert "- where the person lives: Leicester City" in summary
    assert "- the rating: amber, on the DSR" in summary
    assert "- who gave consent: a parent, carer or guardian" in summary
    assert "- the person's name: Sam Taylor" in summary
    assert "Amber: carer strain" in summary


async def test_a_mandatory_only_referral_lands_on_the_register_once(
    service_env: RegisterService, register: httpx.Client
) -> None:
    slots = await ready_to_send()
    dispatcher = CollectingDispatcher()
    events = slot_events(
        await flow.ActionReferralSubmit().run(dispatcher, tracker(slots=slots), domain={})
    )
    dsp_id = events["ref_dsp_id"]
    said_ = texts(dispatcher)
    assert dsp_id in said_ and "DSP admin lead" not in said_.split("What happens next")[0]
    assert "you organise and chair the multi-agency meeting" in said_
    assert "MAM notes template" in said_
    # The conversation keeps no personal answers once the referral is on the register.
    assert events["ref_nhs_number"] is None and events["ref_person_name"] is None
    [entry] = [e for e in register.get("/api/v1/register").json() if e["dsp_id"] == dsp_id]
    assert (entry["register"], entry["rag"], entry["age_group"]) == ("DSR", "amber", "cyp")
    assert entry["referral_source"] == "professional"
    assert entry["mam_organised_by_admin"] is False


async def test_when_the_service_is_down_the_answers_are_kept_and_a_retry_lands_once(
    service_env: RegisterService, register: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The whole form: the admin lead organises the MAM (001 sections 10 and 11).
    slots = await ready_to_send(
        **{
            "ref_mam_by_admin": True,
            "ref_invitee": {"name": "Jo Bloggs"},
            "ref_invitee_more": False,
            "ref_gender": "male",
            "ref_pronouns": rf.SKIPPED,
            "ref_ethnicity": rf.SKIPPED,
            "ref_address": "12 Church Street, Leicester",
            "ref_gp_practice": "Oak Tree Surgery",
            "ref_referrer_phone": "01162950000",
            "ref_commissioner": "LLR ICB",
            "ref_carer": {
                "no_carer": False,
                "name": "Ann Taylor",
                "relationship": "mother",
                "phone": "07700900123",
            },
            "ref_lives_with": "mum and two brothers",
            "ref_care_team": "Community LD nurse; CAMHS LD team",
            "ref_who_is_involved": rf.SKIPPED,
            "ref_location_kind": "family_home",
            "ref_location_details": "lives at home with mum",
            "ref_school": "Beaumont Leys School",
            "ref_lac_cin_cpp": "none",
            "ref_ehcp": {"has": True, "details": "autism"},
            "ref_communication_needs": "few words, Makaton",
            "ref_brief_history": "diagnosed at 6, stable until this year",
            "ref_risk_details": "hits his mum when anxious",
            "ref_police_crisis": {"has": False},
            "ref_safeguarding": "none known",
            "ref_support_in_place": "weekly nurse visits",
            "ref_outcomes_wanted": "back at school part time",
            "ref_how_we_will_know": "attending three days a week",
            "ref_invitees": [
                {
                    "name": "Jo Bloggs",
                    "role": "social worker",
                    "email": "jo@council.gov.uk",
                    "phone": "01164541000",
                }
            ],
        }
    )
    monkeypatch.setenv("DSP_SERVICE_URL", closed_port_url())
    dispatcher = CollectingDispatcher()
    events = slot_events(
        await flow.ActionReferralSubmit().run(dispatcher, tracker(slots=slots), domain={})
    )
    assert events == {"ref_confirm": None, "ref_submit_failed": True}
    assert "kept every answer" in texts(dispatcher)
    # Back up: the same key twice (as if the first answer had been lost) lands the referral once.
    monkeypatch.setenv("DSP_SERVICE_URL", service_env.url)
    slots = {**slots, **events, "ref_confirm": True}
    ids = []
    for _ in range(2):
        events = slot_events(
            await flow.ActionReferralSubmit().run(
                CollectingDispatcher(), tracker(slots=slots), domain={}
            )
        )
        ids.append(events["ref_dsp_id"])
    assert ids[0] == ids[1]
    entries = [e for e in register.get("/api/v1/register").json() if e["dsp_id"] == ids[0]]
    assert len(entries) == 1 and entries[0]["mam_organised_by_admin"] is True


async def test_a_refusal_by_the_service_asks_the_named_answers_again(
    service_env: RegisterService,
) -> None:
    # Consent dated tomorrow slips past no form in practice; the service still refuses it.
    slots = await ready_to_send(
        ref_consent_date=date.fromordinal(date.today().toordinal() + 1).isoformat()
    )
    dispatcher = CollectingDispatcher()
    events = slot_events(
        await flow.ActionReferralSubmit().run(dispatcher, tracker(slots=slots), domain={})
    )
    assert "could not accept the referral yet" in texts(dispatcher)
    assert events["ref_consent_date"] is None and events["ref_confirm"] is None
    step, _, _ = await next_step({**slots, **events})
    assert step == "consent"


# ---- pause and resume -----------------------------------------------------------------------------


async def test_pause_gives_a_resume_code_and_resume_carries_on(
    service_env: RegisterService,
) -> None:
    slots = started(**ELIGIBLE_CYP, **AMBER_CONCERNS)
    _, slots, _ = await next_step(slots)
    dispatcher = CollectingDispatcher()
    events = slot_events(
        await flow.ActionReferralPause().run(
            dispatcher, said("pause", "pause_referral", slots), domain={}
        )
    )
    said_ = texts(dispatcher)
    code = rf.find_resume_code(said_)
    assert code and "kept until" in said_
    assert all(value is None for value in events.values())  # nothing stays in the conversation
    # Later, in a new conversation: "resume CODE" opens the draft where it was left.
    step, resumed, said_ = await next_step({}, f"resume {code.lower()}", "resume_referral")
    assert step == "decision"
    assert "Welcome back" in said_
    assert resumed["ref_idempotency_key"] == slots["ref_idempotency_key"]
    assert resumed["ref_resume_code"] == code
    assert resumed["ref_rating_suggestion"] == slots["ref_rating_suggestion"]


async def test_resume_without_a_code_asks_for_it_and_an_unknown_code_is_explained(
    service_env: RegisterService, domain: dict[str, Any]
) -> None:
    step, _, _ = await next_step({}, "resume my referral", "resume_referral")
    assert step == "resume"
    form = rf.ValidateReferralResumeForm()
    events, dispatcher = await validate(form, "ref_resume_code_given", "ZZZZ-2222", domain)
    assert events["ref_resume_code_given"] is None
    assert "expired" in texts(dispatcher)
    events, dispatcher = await validate(
        form,
        "ref_resume_code_given",
        "ZZZZ-2222",
        domain,
        {rf.FAILURES: {"ref_resume_code_given": 1}},
    )
    assert "start again" in texts(dispatcher)


# ---- change, stop, start again ---------------------------------------------------------------------


async def test_changing_the_date_of_birth_checks_eligibility_again(
    service_env: RegisterService,
) -> None:
    slots = await ready_to_send()
    dispatcher = CollectingDispatcher()
    events = slot_events(
        await flow.ActionReferralChangeAnswer().run(
            dispatcher, said("the date of birth is wrong", "change_answer", slots), domain={}
        )
    )
    assert "change date of birth" in texts(dispatcher)
    assert events["ref_date_of_birth"] is None and events["ref_eligibility"] is None
    assert events["ref_rating_decision"] is None and events["ref_confirm"] is None
    step, _, _ = await next_step({**slots, **events})
    assert step == "eligibility"


@pytest.mark.parametrize(
    ("text", "slot"),
    [
        ("change the postcode", "ref_postcode"),
        ("the NHS number is incorrect", "ref_nhs_number"),
        ("can I change my email", "ref_referrer_email"),
        ("I made a mistake with the name", "ref_person_name"),
        ("change consent", "ref_consent_given"),
        ("change where they live", "ref_council_area"),
        ("my role is wrong", "ref_referrer_role"),
        ("change the invitees", "ref_invitee"),
    ],
)
def test_the_referrer_names_the_answer_to_change(text: str, slot: str) -> None:
    assert flow.fields_named(text) == [slot]


async def test_stop_sends_nothing_and_forgets_the_draft(service_env: RegisterService) -> None:
    slots = started(**ELIGIBLE_CYP)
    code = (await rf.register_client.create_draft({"ref_diagnosis": "autism"}))["resume_code"]
    dispatcher = CollectingDispatcher()
    events = slot_events(
        await flow.ActionReferralStop().run(
            dispatcher, said("stop", "stop_referral", {**slots, "ref_resume_code": code}), domain={}
        )
    )
    assert "Nothing has been sent or stored" in texts(dispatcher)
    assert all(value is None for value in events.values())
    with pytest.raises(rf.register_client.RegisterRejected):
        await rf.register_client.read_draft(code)


async def test_start_again_clears_everything_and_makes_a_new_key(
    service_env: RegisterService,
) -> None:
    slots = started(**ELIGIBLE_CYP)
    dispatcher = CollectingDispatcher()
    events = slot_events(
        await flow.ActionReferralStart().run(
            dispatcher, said("start again", "start_over", slots), domain={}
        )
    )
    assert events["ref_diagnosis"] is None
    assert events["ref_idempotency_key"] not in (None, slots["ref_idempotency_key"])
    assert texts(dispatcher).startswith("OK, starting again")


# ---- questions along the way ----------------------------------------------------------------------


async def ask(text: str, intent: str, slot: str | None = None, form: str | None = None) -> str:
    dispatcher = CollectingDispatcher()
    slots = {"requested_slot": slot} if slot else {}
    await flow.ActionReferralAnswerQuestion().run(
        dispatcher, said(text, intent, slots, active_loop=form), domain={}
    )
    return texts(dispatcher)


async def test_why_do_you_need_this_explains_the_question_being_asked(
    service_env: RegisterService,
) -> None:
    answer = await ask(
        "why do you need this?", "ask_why", "ref_nhs_number", "referral_details_form"
    )
    assert answer.startswith("About NHS number:")
    answer = await ask(
        "why do you ask?", "ask_why", "ref_council_area", "referral_eligibility_form"
    )
    assert "Leicester City, Leicestershire County or Rutland council area" in answer


async def test_what_the_words_mean_comes_from_the_variant_and_the_guidance(
    service_env: RegisterService,
) -> None:
    amber = await ask("what does amber mean?", "ask_colours")
    assert amber.startswith("Amber (DSR):") and "A referral to the DSR is rated amber." in amber
    assert "Care, Education and Treatment Review" in await ask("what is a CETR?", "ask_cetr")
    assert "Transforming Care Officers" in await ask("what is a TCO", "ask_definition")
    assert "Which would you like?" in await ask("what does that word mean", "ask_definition")


async def test_what_to_have_ready_and_who_to_talk_to(service_env: RegisterService) -> None:
    ready = await ask("what should I have ready?", "ask_what_to_prepare")
    assert "evidence of its confirmation" in ready and "NHS number" in ready
    people = await ask("can I talk to someone", "ask_talk_to_someone")
    assert "lpt.adult-lda-dsp@nhs.net" in people

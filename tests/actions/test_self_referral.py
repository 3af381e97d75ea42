"""Self-referral against real register services: Tees Valley allows it (003), LLR does not."""

import socket
import uuid
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from rasa.shared.core.domain import Domain
from rasa_sdk import Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

import easy_read
from actions import family
from actions import self_referral as sr
from tests.actions.conftest import RegisterService, start_register_service, tracker

pytestmark = pytest.mark.anyio

ROOT = Path(__file__).resolve().parents[2]
FORM = sr.FORM
QUESTION_SLOTS = [*sr.QUESTIONS, "self_area"]


@pytest.fixture(scope="module")
def domain() -> dict[str, Any]:
    return Domain.load(str(ROOT / "bot" / "domain")).as_dict()


@pytest.fixture(scope="module")
def tees_valley(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RegisterService]:
    yield from start_register_service(tmp_path_factory.mktemp("tees"), "tees_valley")


@pytest.fixture
def tees_env(tees_valley: RegisterService, monkeypatch: pytest.MonkeyPatch) -> RegisterService:
    monkeypatch.setenv("DSP_SERVICE_URL", tees_valley.url)
    monkeypatch.setenv("DSP_SERVICE_TOKEN", tees_valley.token("action_server"))
    return tees_valley


def born_years_ago(years: int) -> str:
    today = date.today()
    return (today.replace(year=today.year - years) - timedelta(days=10)).isoformat()


def answers(**changes: Any) -> dict[str, Any]:
    """A whole form as the validators leave it: a parent refers their 15-year-old."""
    filled = {
        "self_who": "family",
        "self_given_name": "Sam",
        "self_family_name": "Example",
        "self_date_of_birth": born_years_ago(15),
        "self_postcode": "TS18 1AB",
        "self_area": "stockton",
        "self_diagnosis": "autism",
        "self_situation": "He is not sleeping and will not go to school.",
        "self_consent": True,
        "self_contact": "07700 900123",
        "self_referral_key": f"self-referral-{uuid.uuid4()}",
    }
    return {**filled, **changes}


def answering(slot: str, value: Any, filled: dict[str, Any] | None = None) -> Tracker:
    """The tracker the form's validation sees after the person answers `slot`."""
    slots = {**(filled or {}), slot: value, "requested_slot": slot}
    return tracker(
        slots=slots,
        events=[
            {"event": "action", "name": FORM},
            {"event": "slot", "name": slot, "value": value},
        ],
        active_loop=FORM,
    )


def slot_events(events: list[dict[str, Any]]) -> dict[str, Any]:
    return {e["name"]: e["value"] for e in events if e["event"] == "slot"}


async def validate(
    slot: str, value: Any, domain: dict[str, Any], filled: dict[str, Any] | None = None
) -> tuple[dict[str, Any], CollectingDispatcher]:
    dispatcher = CollectingDispatcher()
    events = await sr.ValidateSelfReferralForm().run(
        dispatcher, answering(slot, value, filled), domain
    )
    return slot_events(events), dispatcher


# ---- starting ----------------------------------------------------------------------------------


async def test_tees_valley_starts_the_form_with_blank_answers(
    tees_env: RegisterService, dispatcher: CollectingDispatcher, domain: dict[str, Any]
) -> None:
    events = await sr.ActionCheckSelfReferral().run(dispatcher, tracker(), domain)
    slots = slot_events(events)
    assert slots["self_referral_allowed"] is True
    assert slots["self_referral_key"].startswith("self-referral-")
    assert all(slots[name] is None for name in domain["forms"][FORM]["required_slots"])
    assert [m["text"] for m in dispatcher.messages] == [sr.INTRO]


async def test_llr_says_kindly_that_a_professional_refers(
    service_env: RegisterService, dispatcher: CollectingDispatcher, domain: dict[str, Any]
) -> None:
    events = await sr.ActionCheckSelfReferral().run(dispatcher, tracker(), domain)
    assert events == [SlotSet("self_referral_allowed", False)]
    [message] = dispatcher.messages
    assert message["text"].split("\n") == [
        *easy_read.answer("self_referral", "llr"),
        family.ASK_A_WORKER,
    ]
    for who in ("GP", "school", "social worker", "nurse", "keyworker"):
        assert who in message["text"]


# ---- the questions -------------------------------------------------------------------------------


async def test_each_question_has_its_ask_action(domain: dict[str, Any]) -> None:
    for slot in domain["forms"][FORM]["required_slots"]:
        assert f"action_ask_{slot}" in domain["actions"]
    dispatcher = CollectingDispatcher()
    await sr.ActionAskSelfConsent().run(dispatcher, tracker(), domain)
    [message] = dispatcher.messages
    assert message["text"].endswith("Do you agree?")
    assert [b["payload"] for b in message["buttons"]] == ["/affirm", "/deny"]


async def test_the_area_question_puts_the_postcode_area_first(
    tees_env: RegisterService, dispatcher: CollectingDispatcher, domain: dict[str, Any]
) -> None:
    await sr.ActionAskSelfArea().run(
        dispatcher, tracker(slots={"self_postcode": "TS24 8AA"}), domain
    )
    [message] = dispatcher.messages
    assert message["text"] == "Their postcode is usually in Hartlepool.\n" + sr.ASK_AREA
    titles = [b["title"] for b in message["buttons"]]
    assert titles[0] == "Hartlepool" and len(titles) == 5


# ---- reading the answers ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("said", "who"),
    [("me", "self"), ("someone I care for", "family"), ("my son", "family"), ("hmm", None)],
)
async def test_who_the_referral_is_for(said: str, who: str | None, domain: dict[str, Any]) -> None:
    slots, dispatcher = await validate("self_who", said, domain)
    assert slots["self_who"] == who
    assert bool(dispatcher.messages) == (who is None)


async def test_names_are_read_or_asked_again(domain: dict[str, Any]) -> None:
    assert (await validate("self_given_name", "  Sam ", domain))[0] == {"self_given_name": "Sam"}
    assert (await validate("self_family_name", "123", domain))[0] == {"self_family_name": None}


async def test_dates_of_birth_are_checked_by_the_service(
    tees_env: RegisterService, domain: dict[str, Any]
) -> None:
    slots, _ = await validate("self_date_of_birth", "14 March 2012", domain)
    assert slots == {"self_date_of_birth": "2012-03-14"}
    assert (await validate("self_date_of_birth", "3/4/2011", domain))[0] == {
        "self_date_of_birth": "2011-04-03"
    }
    # No day in it: not a date at all, so the service is not asked.
    slots, dispatcher = await validate("self_date_of_birth", "March 2012", domain)
    assert slots == {"self_date_of_birth": None}
    assert dispatcher.messages[0]["text"] == sr.DATE_PROBLEM
    # A date, but not one a referral accepts: the service's own reasons (referrals.rules).
    future = (date.today() + timedelta(days=40)).strftime("%d %B %Y")
    slots, dispatcher = await validate("self_date_of_birth", future, domain)
    assert slots == {"self_date_of_birth": None}
    assert dispatcher.messages[0]["text"] == "The date of birth cannot be in the future."
    slots, dispatcher = await validate("self_date_of_birth", "1 May 1850", domain)
    assert slots == {"self_date_of_birth": None}
    assert "please check the year" in dispatcher.messages[0]["text"]


async def test_postcodes_are_checked_and_written_by_the_service(
    tees_env: RegisterService, domain: dict[str, Any]
) -> None:
    assert (await validate("self_postcode", "ts181ab", domain))[0] == {"self_postcode": "TS18 1AB"}
    slots, _ = await validate("self_postcode", "it is ts18  1ab thanks", domain)
    assert slots == {"self_postcode": "TS18 1AB"}
    for said in ("Stockton", "QQ1 1AA"):  # QQ: letters no UK postcode starts with
        slots, dispatcher = await validate("self_postcode", said, domain)
        assert slots == {"self_postcode": None}
        [message] = dispatcher.messages
        assert "does not look like a UK postcode" in message["text"]


async def test_when_the_service_is_down_an_answer_is_kept_and_that_is_said(
    domain: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The referral is checked again when it is sent, so nothing is lost by keeping it."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        monkeypatch.setenv("DSP_SERVICE_URL", f"http://127.0.0.1:{probe.getsockname()[1]}")
    slots, dispatcher = await validate("self_postcode", "ts18 1ab", domain)
    assert slots == {"self_postcode": "TS18 1AB"}
    assert [m["text"] for m in dispatcher.messages] == [sr.ANSWER_KEPT]
    slots, dispatcher = await validate("self_date_of_birth", "14 March 2012", domain)
    assert slots == {"self_date_of_birth": "2012-03-14"}
    assert [m["text"] for m in dispatcher.messages] == [sr.ANSWER_KEPT]


async def test_contact_formats(domain: dict[str, Any]) -> None:
    slots, _ = await validate("self_contact", "call me on 07700 900 123 please", domain)
    assert slots == {"self_contact": "07700900123"}
    slots, _ = await validate("self_contact", "mum@example.org", domain)
    assert slots == {"self_contact": "mum@example.org"}
    assert (await validate("self_contact", "whenever", domain))[0] == {"self_contact": None}


async def test_the_area_is_confirmed_by_the_service_never_guessed(
    tees_env: RegisterService, domain: dict[str, Any]
) -> None:
    assert (await validate("self_area", "Stockton-on-Tees", domain))[0] == {"self_area": "stockton"}
    # A postcode alone is a hint, not the answer (000, 001 section 9).
    slots, dispatcher = await validate("self_area", "TS18 1AB", domain)
    assert slots == {"self_area": None}
    assert dispatcher.messages[0]["text"] == sr.AREA_SEVERAL
    slots, dispatcher = await validate("self_area", "Leeds", domain)
    assert slots == {"self_area": None}
    assert "Tees Valley" in dispatcher.messages[0]["text"]


async def test_an_eligible_young_person_goes_on_to_the_next_question(
    tees_env: RegisterService, domain: dict[str, Any]
) -> None:
    filled = {k: v for k, v in answers().items() if k != "self_diagnosis"}
    slots, dispatcher = await validate("self_diagnosis", "Yes, autism", domain, filled)
    assert slots == {"self_diagnosis": "autism"}
    assert dispatcher.messages == []


async def test_the_service_stops_the_form_for_an_adult_and_says_why(
    tees_env: RegisterService, domain: dict[str, Any]
) -> None:
    """003: the Tees Valley DSR is for children and young people; the service says so."""
    filled = answers(self_date_of_birth=born_years_ago(30))
    slots, dispatcher = await validate("self_diagnosis", "both", domain, filled)
    assert slots["self_referral_stop"] == "not_eligible"
    assert slots["requested_slot"] is None  # the form ends here
    text = dispatcher.messages[0]["text"]
    assert "children and young people" in text
    assert text.endswith(sr.NOT_SENT)


async def test_not_sure_of_the_diagnosis_stops_kindly(
    tees_env: RegisterService, domain: dict[str, Any]
) -> None:
    slots, dispatcher = await validate("self_diagnosis", "not sure", domain, answers())
    assert slots["self_referral_stop"] == "not_eligible"
    assert family.ASK_A_WORKER in dispatcher.messages[0]["text"]


async def test_no_consent_ends_the_form_and_nothing_is_sent(domain: dict[str, Any]) -> None:
    slots, dispatcher = await validate("self_consent", False, domain, answers())
    assert slots["self_referral_stop"] == "no_consent"
    assert slots["requested_slot"] is None
    assert dispatcher.messages[0]["text"] == f"{sr.NO_CONSENT}\n{sr.NOT_SENT}"


# ---- sending -------------------------------------------------------------------------------------


async def registered(service: RegisterService) -> list[dict[str, Any]]:
    headers = {"Authorization": f"Bearer {service.token('dsr_admin')}"}
    async with httpx.AsyncClient(base_url=service.url) as client:
        response = await client.get("/api/v1/register", headers=headers)
    response.raise_for_status()
    return list(response.json())


async def test_a_completed_form_is_stored_as_a_self_referral(
    tees_env: RegisterService, dispatcher: CollectingDispatcher, domain: dict[str, Any]
) -> None:
    before = await registered(tees_env)
    filled = answers()
    events = await sr.ActionSubmitSelfReferral().run(dispatcher, tracker(slots=filled), domain)
    [message] = dispatcher.messages
    added = [entry for entry in await registered(tees_env) if entry not in before]
    assert len(added) == 1
    assert added[0]["referral_source"] == "self"
    assert added[0]["age_group"] == "cyp"
    assert f"Your reference is {added[0]['dsp_id']}." in message["text"]
    # 003: if you referred yourself, the DSR coordinator tells you the outcome.
    assert (
        "The DSR coordinator tells people who referred themselves the outcome" in (message["text"])
    )
    assert message["buttons"] == [
        {"title": "What happens after a referral?", "payload": "/ask_after_referral"}
    ]
    assert all(value is None for value in slot_events(events).values())  # answers cleared

    # The same form sent again (a retry) is the same referral, not a second person.
    again = CollectingDispatcher()
    await sr.ActionSubmitSelfReferral().run(again, tracker(slots=filled), domain)
    assert f"Your reference is {added[0]['dsp_id']}." in again.messages[0]["text"]
    assert len(await registered(tees_env)) == len(before) + 1


async def test_a_young_person_under_16_is_told_a_parent_must_agree(
    tees_env: RegisterService, dispatcher: CollectingDispatcher, domain: dict[str, Any]
) -> None:
    """The service's consent rule: under 16, a parent, carer or guardian consents."""
    filled = answers(self_who="self", self_date_of_birth=born_years_ago(13))
    events = await sr.ActionSubmitSelfReferral().run(dispatcher, tracker(slots=filled), domain)
    text = dispatcher.messages[0]["text"]
    assert text.startswith(sr.FIX_THESE)
    assert "parent, carer or guardian" in text
    assert text.endswith(sr.NOT_SENT)
    assert slot_events(events)["self_who"] is None


async def test_a_refusal_the_person_can_fix_asks_that_question_again(
    tees_env: RegisterService, dispatcher: CollectingDispatcher, domain: dict[str, Any]
) -> None:
    # A postcode shaped like one to the form, but with letters UK postcodes never use.
    events = await sr.ActionSubmitSelfReferral().run(
        dispatcher, tracker(slots=answers(self_postcode="QQ1 1AA")), domain
    )
    text = dispatcher.messages[0]["text"]
    assert "does not look like a UK postcode" in text
    assert text.endswith(sr.LET_US_FIX)
    assert events[0] == SlotSet("self_postcode", None)
    assert events[1]["name"] == "self_referral_key" and events[1]["value"].startswith("self-")
    assert events[2:] == [FollowupAction(FORM)]


async def test_a_stopped_form_sends_nothing(
    tees_env: RegisterService, dispatcher: CollectingDispatcher, domain: dict[str, Any]
) -> None:
    before = await registered(tees_env)
    filled = answers(self_referral_stop="no_consent", self_consent=False)
    await sr.ActionSubmitSelfReferral().run(dispatcher, tracker(slots=filled), domain)
    assert dispatcher.messages == []
    assert await registered(tees_env) == before


async def test_stop_and_why(dispatcher: CollectingDispatcher, domain: dict[str, Any]) -> None:
    waiting = tracker(slots={"requested_slot": "self_postcode"}, active_loop=FORM)
    await sr.ActionExplainSelfReferralQuestion().run(dispatcher, waiting, domain)
    events = await sr.ActionStopSelfReferral().run(dispatcher, waiting, domain)
    assert [m["text"] for m in dispatcher.messages] == [sr.WHY["self_postcode"], sr.STOPPED]
    assert SlotSet("self_postcode", None) in events


async def test_a_new_form_starts_blank_without_complaints(domain: dict[str, Any]) -> None:
    """Rasa asks the validator about the slots cleared at the start: nothing to say."""
    cleared = [{"event": "slot", "name": name, "value": None} for name in QUESTION_SLOTS]
    started = tracker(
        slots={"requested_slot": None},
        events=[{"event": "action", "name": "action_check_self_referral"}, *cleared],
        active_loop=FORM,
    )
    dispatcher = CollectingDispatcher()
    events = await sr.ValidateSelfReferralForm().run(dispatcher, started, domain)
    assert dispatcher.messages == []
    assert all(value is None for value in slot_events(events).values())

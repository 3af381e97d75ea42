"""The referral's one form runner against a real register service, with real trackers: a person
answers in their own words and the service's questionnaire leads. Start, ask, answer, clarify,
why, crisis, stop, pause and resume, the summary, sending exactly once."""

import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import referral as flow
from tests.actions.conftest import RegisterService, load_domain, start_register_service, tracker

pytestmark = pytest.mark.anyio

FORM = "referral_form"
ROOT = Path(__file__).resolve().parents[2]
DOMAIN = load_domain()
RESPONSES = DOMAIN["responses"]


def rendered(message: dict[str, Any]) -> str:
    """A message as Rasa renders it: a domain response is filled from the fields sent with it."""
    if message.get("response"):
        return str(RESPONSES[message["response"]][0]["text"]).format_map(message)
    return str(message.get("text") or "")


class Chat:
    """One conversation through the referral's actions, as Rasa runs them: the start action,
    then for each message the form's validation and, while it is open, its ask action."""

    def __init__(self) -> None:
        self.slots: dict[str, Any] = {}
        self.said: list[dict[str, Any]] = []

    def _tracker(
        self, text: str, intent: str, events: list[dict[str, Any]], **parsed: Any
    ) -> Tracker:
        message = {"intent": {"name": intent}, "entities": [], "text": text, **parsed}
        return tracker(self.slots, events=events, latest_message=message, active_loop=FORM)

    def _apply(self, events: list[dict[str, Any]]) -> None:
        for event in events:
            if event.get("event") == "slot":
                self.slots[event["name"]] = event["value"]

    async def run(
        self, action: Any, text: str, intent: str, events: list[Any], **parsed: Any
    ) -> str:
        dispatcher = CollectingDispatcher()
        message = self._tracker(text, intent, events, **parsed)
        self._apply(await action.run(dispatcher, message, DOMAIN))
        self.said += dispatcher.messages
        return "\n".join(rendered(m) for m in dispatcher.messages)

    async def start(self, text: str, intent: str = "refer_someone") -> str:
        said = await self.run(flow.ActionReferralStart(), text, intent, [])
        if self.slots.get(flow.STARTED):
            said += "\n" + await self.ask()
        return said

    async def ask(self) -> str:
        return await self.run(flow.ActionAskReferralAnswer(), "", "inform", [])

    async def say(self, text: str, intent: str = "inform", **parsed: Any) -> str:
        """One message while the form is open: validated, then the next question asked."""
        self.slots[flow.ANSWER] = text
        events = [
            {"event": "action", "name": FORM},
            {"event": "slot", "name": flow.ANSWER, "value": text},
        ]
        said = await self.run(flow.ValidateReferralForm(), text, intent, events, **parsed)
        if self.slots.get(flow.STATUS) in flow.ENDED:
            await self.run(flow.ActionReferralEnd(), "", "inform", [])
            return said
        return said + "\n" + await self.ask()

    @property
    def asking(self) -> str | None:
        for message in reversed(self.said):
            custom = message.get("custom") or {}
            if custom.get("question"):
                return str(custom["question"])
        return None


def born(years: int) -> str:
    today = date.today()
    return f"{today.day:02d}/{today.month:02d}/{today.year - years - 1}"


# A school nurse answering as people do: a negation, "his mum", typos, facts in the opening.
MANDATORY = {
    "diagnosis": "autisim",
    "diagnosis_confirmed": "yes - letter from the community paediatrician, 2019",
    "current_situation": "He's hitting his younger brother, not sleeping, mum is exhausted",
    "concerns": "1 and 2",
    "inpatient_status": "no, he has never been in hospital",
    "imminent_risk": "no not at the moment",
    "consent_by": "His mother, because he is under 16",
    "consent_date": "yesterday",
    "mam_by_admin": "no I'll organise it myself",
    "person_name": "his name is sam patel",
    "date_of_birth": born(12),
    "nhs_number": "943 476 5919",
    "postcode": "le2 1ab",
    "referrer_name": "Jo Bloggs, school nurse, Leicester City Council, jo.bloggs@leicester.gov.uk",
}


async def answer_all(chat: Chat, answers: dict[str, str], limit: int = 40) -> int:
    """Answers each question the service asks until the summary; returns the messages sent."""
    sent = 0
    while chat.asking not in (None, flow.SUMMARY) and sent < limit:
        await chat.say(answers[str(chat.asking)])
        sent += 1
    return sent


@pytest.fixture
def register(service_env: RegisterService) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {service_env.token('dsr_admin')}"}
    with httpx.Client(base_url=service_env.url, headers=headers, timeout=30) as client:
        yield client


async def test_a_professional_answering_in_their_own_words_lands_on_the_register(
    service_env: RegisterService, register: httpx.Client
) -> None:
    before = len(register.get("/api/v1/register").json())
    chat = Chat()
    opening = "Hi, I'm a school nurse and I'd like to refer a boy, he's 12 and lives in Leicester"
    await chat.start(opening)
    # The opening said the role, the sector, the age and the area: none of them is asked.
    assert chat.asking == "diagnosis"
    sent = 1 + await answer_all(chat, MANDATORY)
    assert chat.asking == flow.SUMMARY
    summary = rendered(chat.said[-2])
    assert "*** *** 5919" in summary and "943 476 5919" not in summary
    assert "amber, on the DSR" in summary
    said = await chat.say("yes send it")
    sent += 1
    assert sent <= 20
    # Received and held until the referrer confirms it from their email: the chat names no
    # register entry, and nothing is on the register on the chat's word alone.
    assert "has been received" in said and "emailed a link" in said
    assert re.search(r"REF-[A-Z0-9]{4}-[A-Z0-9]{4}", said) and "DSP-" not in said
    assert len(register.get("/api/v1/register").json()) == before
    # Nothing of the referral stays in the conversation.
    assert chat.slots[flow.ANSWERS] is None and chat.slots[flow.STATUS] is None


async def test_an_answer_not_understood_is_asked_about_with_the_choices(
    service_env: RegisterService,
) -> None:
    chat = Chat()
    await chat.start("I'd like to make a referral")
    assert chat.asking == "referrer_kind"
    said = await chat.say("hmm")
    assert chat.asking == "referrer_kind"
    assert "Social care" in [b["title"] for b in chat.said[-2]["buttons"]] or "Social care" in said
    await chat.say("I'm a social worker")
    assert chat.asking != "referrer_kind"


async def test_why_is_answered_from_the_questionnaire_and_the_question_stays(
    service_env: RegisterService,
) -> None:
    chat = Chat()
    await chat.start("Hi, I'm a GP and want to refer a patient")
    assert chat.asking == "age"
    said = await chat.say("why do you need this?")
    assert "registers are split by age" in said
    assert chat.asking == "age"


async def test_a_crisis_in_a_yes_no_question_gives_the_emergency_routes_and_asks_again(
    service_env: RegisterService,
) -> None:
    chat = Chat()
    await chat.start("I'm a social worker, I need to refer a 14 year old who lives in Oakham")
    await chat.say("autism")
    assert chat.asking == "diagnosis_confirmed"
    said = await chat.say("she has taken an overdose right now", intent="crisis")
    assert "999" in said and chat.asking == "diagnosis_confirmed"
    assert chat.slots[flow.ANSWERS].get("diagnosis_confirmed") is None


async def test_a_choice_the_service_reads_is_an_answer_whatever_the_crisis_classifier_says(
    service_env: RegisterService,
) -> None:
    """ "all of them" shares words with "took all of them": to a choice it is a choice. The same
    alarm on words that answer nothing still gets the routes and the question again."""
    chat = await _at_current_situation()
    await chat.say("She's stopped eating and mum is exhausted, she has started hitting her")
    assert chat.asking == "concerns"
    alarm = {"confidence": 0.78, "alarm": True}
    said = await chat.say("all of them", intent="crisis", crisis_classifier=alarm)
    assert "999" not in said and emergencies(chat) == 0
    assert chat.slots[flow.ANSWERS].get("concerns")
    assert chat.asking != "concerns"

    chat = await _at_current_situation()
    await chat.say("She's stopped eating and mum is exhausted, she has started hitting her")
    said = await chat.say(
        "cant stop shaking hes gone quiet", intent="crisis", crisis_classifier=alarm
    )
    assert "999" in said and chat.asking == "concerns"
    assert chat.slots[flow.ANSWERS].get("concerns") is None


async def _at_imminent_risk() -> Chat:
    chat = await _at_current_situation()
    await chat.say("She's stopped eating and mum is exhausted, she has started hitting her")
    await chat.say("all of them")
    await chat.say("no never been admitted")
    assert chat.asking == "imminent_risk"
    return chat


async def test_not_right_now_to_a_yes_no_question_is_a_no_not_an_emergency(
    service_env: RegisterService,
) -> None:
    """Tried as a person: "not right now no" got the emergency answer and the question again,
    and the next answer ("yes it's been getting worse") was taken for imminent risk."""
    chat = await _at_imminent_risk()
    said = await chat.say("not right now no", intent="crisis")
    assert "999" not in said and emergencies(chat) == 0
    assert chat.slots[flow.ANSWERS]["imminent_risk"] is False
    assert chat.asking != "imminent_risk"


async def test_a_described_risk_in_a_free_text_answer_is_recorded_and_the_form_goes_on(
    service_env: RegisterService,
) -> None:
    """A professional describes aggression as a matter of course: recorded, no emergency answer
    unless the danger is happening now."""
    chat = await _at_current_situation()
    text = "His placement at home is at risk of breaking down; he is hitting his younger brother"
    said = await chat.say(text, intent="crisis")
    assert "999" not in said
    assert chat.slots[flow.ANSWERS]["current_situation"] == text
    assert chat.asking == "concerns"


async def _at_current_situation() -> Chat:
    """A nurse's referral at its first free-text question."""
    chat = Chat()
    await chat.start("I'm a nurse referring a 14 year old in Rutland")
    await chat.say("autism")
    await chat.say("yes, diagnosis letter from CAMHS")
    assert chat.asking == "current_situation"
    return chat


async def test_danger_now_the_crisis_classifier_heard_without_a_time_word_adds_the_routes(
    service_env: RegisterService,
) -> None:
    """The crisis classifier learnt danger now from background risk: its alarm is enough in a
    free-text answer; the rules' match alone (past violence) is not."""
    chat = await _at_current_situation()
    text = "Barricaded in his room with a ligature, staff cannot get in"
    said = await chat.say(
        text, intent="crisis", crisis_classifier={"confidence": 0.93, "alarm": True}
    )
    assert "999" in said and emergencies(chat) == 1
    assert chat.slots[flow.ANSWERS]["current_situation"] == text
    assert chat.asking == "concerns"

    chat = await _at_current_situation()
    past = "Threatened staff with a kitchen knife in Oct, knives locked away since"
    said = await chat.say(
        past,
        intent="crisis",
        crisis_rule={"category": "violence"},
        crisis_classifier={"confidence": 0.41, "alarm": False},
    )
    assert "999" not in said and emergencies(chat) == 0
    assert chat.slots[flow.ANSWERS]["current_situation"] == past


async def test_a_learning_difficulty_only_is_refused_and_nothing_is_kept(
    service_env: RegisterService,
) -> None:
    chat = Chat()
    await chat.start("I'm a teacher and want to refer a 10 year old in Leicester")
    said = await chat.say("he has learning difficulties, dyslexia mainly")
    assert "not the same as a learning disability" in said
    assert chat.slots[flow.ANSWERS] is None and chat.slots[flow.STATUS] is None


async def test_stop_sends_nothing(service_env: RegisterService, register: httpx.Client) -> None:
    before = len(register.get("/api/v1/register").json())
    chat = Chat()
    await chat.start("I want to make a referral, I'm a social worker")
    said = await chat.say("stop")
    assert "Nothing has been sent" in said
    assert len(register.get("/api/v1/register").json()) == before


async def test_an_answer_the_classifier_took_for_stop_is_kept_as_the_answer(
    service_env: RegisterService,
) -> None:
    chat = Chat()
    await chat.start("I'm a nurse referring a 12 year old who lives in Leicester")
    await chat.say("autism")
    await chat.say("yes, letter from the paediatrician")
    assert chat.asking == "current_situation"
    said = await chat.say(
        "hitting the foster carers' son, running off at night, damage to property",
        intent="stop_referral",
    )
    assert "Nothing has been sent" not in said
    assert chat.slots[flow.STATUS] != "stopped"
    assert chat.asking not in (None, "current_situation")
    # Asked in words, it still stops, whatever the question.
    said = await chat.say("please cancel this referral", intent="stop_referral")
    assert "Nothing has been sent" in said


async def test_pause_gives_a_code_and_resume_carries_on_where_it_stopped(
    service_env: RegisterService,
) -> None:
    chat = Chat()
    await chat.start("I'm a nurse referring a 12 year old who lives in Leicester")
    await chat.say("autism")
    said = await chat.say("can I pause and finish this later?")
    code = chat.slots[flow.CODE]
    assert code and code in said
    again = Chat()
    await again.run(flow.ActionReferralResume(), f"resume {code}", "resume_referral", [])
    assert again.slots[flow.STARTED] is True
    await again.ask()
    assert again.asking == "diagnosis_confirmed"


async def test_a_change_at_the_summary_asks_that_answer_again(
    service_env: RegisterService,
) -> None:
    chat = Chat()
    await chat.start(
        "Hi, I'm a school nurse and I'd like to refer a boy, he's 12, lives in Leicester"
    )
    await answer_all(chat, MANDATORY)
    assert chat.asking == flow.SUMMARY
    await chat.say("actually the NHS number is wrong")
    assert chat.asking == "nhs_number"
    await chat.say("450 557 1025")
    assert chat.asking == flow.SUMMARY


async def test_when_the_service_is_down_the_answers_are_kept(
    service_env: RegisterService, monkeypatch: pytest.MonkeyPatch
) -> None:
    chat = Chat()
    await chat.start("I'm a nurse referring a 12 year old who lives in Leicester")
    await chat.say("autism")
    kept = dict(chat.slots[flow.ANSWERS])
    monkeypatch.setenv("DSP_SERVICE_URL", "http://127.0.0.1:9")
    said = await chat.say("yes, letter from the paediatrician")
    assert "can't reach the register service" in said
    assert chat.slots[flow.ANSWERS] == kept


@pytest.fixture(scope="module")
def tees_valley(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RegisterService]:
    yield from start_register_service(tmp_path_factory.mktemp("tees"), "tees_valley")


async def test_a_parent_refers_their_son_in_tees_valley_in_easy_read(
    tees_valley: RegisterService, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DSP_SERVICE_URL", tees_valley.url)
    monkeypatch.setenv("DSP_SERVICE_TOKEN", tees_valley.token("action_server"))
    answers = {
        "self_who": "my son",
        "age": "he's 9",
        "diagnosis": "autism",
        "diagnosis_confirmed": "yes the paediatrician told us",
        "autism_private": "no, it was through the NHS",
        "council_area": "we live in Darlington",
        "current_situation": "He is hurting himself and his sister and we cannot cope",
        "concerns": "yes those",
        "consent_by": "me, his mum",
        "consent_date": "today",
        "person_name": "Leo Smith",
        "date_of_birth": born(9),
        "postcode": "DL1 1AA",
        "self_contact": "07700 900123",
        "outcomes_wanted": "He can stay at home with us and be calmer",
    }
    chat = Chat()
    said = await chat.start("I want to put my son on the register myself", "start_self_referral")
    assert "I will ask you some short questions." in said
    await answer_all(chat, answers)
    said = await chat.say("send it")
    assert "The team has got your answers." in said
    # Only a phone number: the DSR coordinator confirms it with the family, then accepts it.
    assert "Someone from the team will phone you." in said
    reference = next(word for word in said.split() if word.startswith("REF-"))
    headers = {"Authorization": f"Bearer {tees_valley.token('dsr_admin')}"}
    pending = httpx.get(f"{tees_valley.url}/api/v1/referrals/pending", headers=headers).json()
    assert [p["status"] for p in pending if p["reference"] == reference] == ["awaiting_admin"]
    accepted = httpx.post(
        f"{tees_valley.url}/api/v1/referrals/pending/{reference}/accept", headers=headers
    ).json()
    entries = httpx.get(f"{tees_valley.url}/api/v1/register", headers=headers).json()
    [entry] = [e for e in entries if e["dsp_id"] == accepted["dsp_id"]]
    assert (entry["rag"], entry["referral_source"]) == (None, "self")


async def test_self_referral_elsewhere_explains_how_to_ask_a_professional(
    service_env: RegisterService,
) -> None:
    chat = Chat()
    said = await chat.start("I want to put my son on the register myself", "start_self_referral")
    assert chat.slots[flow.STARTED] is False
    assert "A worker needs to make the referral." in said


async def test_an_unclear_message_between_the_two_ways_to_start_a_referral_starts_one(
    tees_valley: RegisterService, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The classifier could not choose between a person's own referral and a professional's:
    "myself" says which. Any other unclear message gets the helpful fallback, never a guess."""
    monkeypatch.setenv("DSP_SERVICE_URL", tees_valley.url)
    monkeypatch.setenv("DSP_SERVICE_TOKEN", tees_valley.token("action_server"))
    ranking = [
        {"name": "nlu_fallback", "confidence": 0.6},
        {"name": "start_self_referral", "confidence": 0.45},
        {"name": "refer_someone", "confidence": 0.44},
    ]
    for text, started, source in (
        ("hello, could i refer myself to the register? i have autism", True, "self"),
        ("could i refer a pupil to the register", True, "professional"),
    ):
        message = {"intent": {"name": "nlu_fallback"}, "intent_ranking": ranking, "text": text}
        dispatcher = CollectingDispatcher()
        events = await flow.ActionReferralStart().run(
            dispatcher, tracker(latest_message=message), {}
        )
        slots = {e["name"]: e["value"] for e in events if e.get("event") == "slot"}
        assert (slots[flow.STARTED], slots.get(flow.SOURCE)) == (started, source), text
    other = [ranking[0], {"name": "ask_mam", "confidence": 0.4}, ranking[1]]
    message = {"intent": {"name": "nlu_fallback"}, "intent_ranking": other, "text": "blah"}
    dispatcher = CollectingDispatcher()
    events = await flow.ActionReferralStart().run(dispatcher, tracker(latest_message=message), {})
    assert dispatcher.messages[0]["response"] == "utter_default"
    assert [e["value"] for e in events if e.get("name") == flow.STARTED] == [False]


def emergencies(chat: Chat) -> int:
    return sum(
        1 for m in chat.said if (m.get("json_message") or m.get("custom") or {}).get("emergency")
    )


async def test_danger_now_in_a_free_text_answer_adds_the_routes_once_and_the_form_goes_on(
    service_env: RegisterService,
) -> None:
    chat = Chat()
    await chat.start("I'm a nurse referring a 14 year old in Rutland")
    await chat.say("autism")
    await chat.say("yes, diagnosis letter from CAMHS")
    assert chat.asking == "current_situation"
    text = "he has a knife right now and is threatening his brother"
    said = await chat.say(text, intent="crisis", crisis_rule={"category": "violence"})
    assert "999" in said and emergencies(chat) == 1
    assert chat.slots[flow.ANSWERS]["current_situation"] == text
    assert chat.asking == "concerns"  # the next question, not the routes in its place
    assert chat.slots[flow.WARNED] is True


async def test_the_routes_are_added_to_free_text_answers_once_in_a_referral(
    service_env: RegisterService,
) -> None:
    chat = Chat()
    await chat.start("I'm a nurse referring a 14 year old in Rutland")
    await chat.say("autism")
    await chat.say("yes, diagnosis letter from CAMHS")
    chat.slots[flow.WARNED] = True  # an earlier free-text answer had them
    said = await chat.say("tonight he is smashing the house up", intent="crisis")
    assert "999" not in said and emergencies(chat) == 0
    assert chat.asking == "concerns"


async def test_a_bank_question_in_the_middle_is_answered_and_the_question_stays(
    service_env: RegisterService,
) -> None:
    chat = Chat()
    await chat.start("I'm a GP and want to refer a patient")
    asking = chat.asking
    ranked = [{"id": "after_referral", "confidence": 0.8}]
    said = await chat.say("what happens after I refer?", intent="faq", bank_ranking=ranked)
    variation = next(v for v in RESPONSES["utter_faq/after_referral"] if not v.get("condition"))
    assert variation["text"] in said
    assert chat.asking == asking
    assert flow.ANSWERS in chat.slots and asking not in chat.slots[flow.ANSWERS]

"""The question bank against a real register service: families get easy read, professionals plain
English, who is asking is read or asked once, an unsure message gets the nearest questions. The
bank's completeness (every question has an answer, enough of both kinds) is checked here too."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from rasa.core.nlg.interpolator import interpolate
from rasa_sdk import Tracker
from rasa_sdk.events import UserUtteranceReverted
from rasa_sdk.executor import CollectingDispatcher

import easy_read
from actions import questions
from tests.actions.conftest import RegisterService, load_domain, start_register_service, tracker

pytestmark = pytest.mark.anyio

ROOT = Path(__file__).resolve().parents[2]
DOMAIN = load_domain()
BANK = questions.Bank(DOMAIN)


def phrasings() -> list[tuple[str, str]]:
    """Every `faq/<id>` example in the NLU data, as (id, text)."""
    found = []
    for path in sorted((ROOT / "data" / "nlu").glob("*.yml")):
        for block in (yaml.safe_load(path.read_text("utf-8")) or {}).get("nlu") or []:
            intent = str(block.get("intent") or "")
            if intent.startswith("faq/"):
                lines = str(block.get("examples") or "").splitlines()
                found += [(intent[4:], line.strip()[2:]) for line in lines if line.strip()]
    return found


def nlu_question_ids() -> set[str]:
    return {question_id for question_id, _ in phrasings()}


def asked(
    question_id: str | None = None,
    text: str = "",
    *,
    confidence: float = 0.9,
    intent: str = "faq",
    slots: dict[str, Any] | None = None,
    entities: list[dict[str, Any]] | None = None,
) -> Tracker:
    """A message as Rasa parses it: the bank ranker's choice with its confidence."""
    message: dict[str, Any] = {"intent": {"name": intent}, "entities": entities or [], "text": text}
    if question_id:
        message["bank_ranking"] = [{"id": question_id, "confidence": confidence}]
    return tracker(slots, latest_message=message)


def with_both_answers() -> str:
    return next(q for q in BANK.ids if BANK.audience_matters(q))


async def run(action: Any, message: Tracker) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, message, DOMAIN)
    return dispatcher.messages, {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


@pytest.fixture(scope="module")
def tees_valley(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RegisterService]:
    yield from start_register_service(tmp_path_factory.mktemp("tees"), "tees_valley")


@pytest.fixture(scope="module")
def west_sussex(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RegisterService]:
    yield from start_register_service(tmp_path_factory.mktemp("sussex"), "west_sussex")


def point_at(service: RegisterService, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DSP_SERVICE_URL", service.url)
    monkeypatch.setenv("DSP_SERVICE_TOKEN", service.token("action_server"))


# ---- the bank's completeness ------------------------------------------------------------------


def test_every_question_the_classifier_learns_has_an_answer_and_back() -> None:
    assert nlu_question_ids() == set(BANK.ids)
    for question_id in BANK.ids:
        assert BANK.has_easy_read(question_id) or BANK.has_plain(question_id), question_id


def test_the_bank_answers_at_least_50_family_and_50_professional_questions() -> None:
    assert sum(BANK.has_easy_read(q) for q in BANK.ids) >= 50
    assert sum(BANK.has_plain(q) for q in BANK.ids) >= 50


def test_every_question_has_at_least_8_phrasings() -> None:
    counts: dict[str, int] = {}
    for question_id, _ in phrasings():
        counts[question_id] = counts.get(question_id, 0) + 1
    assert {q: n for q, n in counts.items() if n < 8} == {}


def test_every_professional_answer_has_its_question_source_and_follow_ups() -> None:
    for question_id in BANK.ids:
        for variation in BANK.professional[question_id]:
            if not variation.get("text"):
                assert variation.get("custom") == {"answer": "easy_read"}, question_id
                continue
            metadata = variation["metadata"]
            assert metadata["question"] and metadata["source"], question_id
            for follow_up in metadata["follow_ups"]:
                assert follow_up in BANK or follow_up in questions.CONTACT_TOPICS, follow_up
            for condition in variation.get("condition") or []:
                assert condition["name"] == "variant"
                assert condition["value"] in easy_read.variants()


def test_professional_answers_show_no_document_codes() -> None:
    import re

    for question_id in BANK.ids:
        for variation in BANK.professional[question_id]:
            assert not re.search(r"\b00\d\b", str(variation.get("text") or "")), question_id


# ---- answering -----------------------------------------------------------------------------------


async def test_a_family_gets_the_easy_read_answer_and_follow_up_questions(
    service_env: RegisterService,
) -> None:
    said, slots = await run(
        questions.ActionAnswerQuestion(), asked("mam", "wat happens at the meetin about my son")
    )
    [message] = said
    assert message["text"].split("\n") == easy_read.answer("mam", "llr")
    assert slots["audience"] == "family"
    payloads = [b["payload"] for b in message["buttons"]]
    assert '/faq{"question": "mam_who"}' in payloads


async def test_a_button_names_its_question(service_env: RegisterService) -> None:
    entities = [{"entity": "question", "value": "consent"}]
    said, _ = await run(
        questions.ActionAnswerQuestion(),
        asked(text='/faq{"question": "consent"}', entities=entities, slots={"audience": "family"}),
    )
    assert "https://www.leicspart.nhs.uk/services/dynamic-support-pathway/" in said[0]["text"]


async def test_a_professional_gets_the_plain_english_answer(service_env: RegisterService) -> None:
    question_id = with_both_answers()
    said, slots = await run(
        questions.ActionAnswerQuestion(), asked(question_id, "quick q about my patient")
    )
    assert slots["audience"] == "professional"
    assert said[0]["text"] == BANK._variation(question_id, "llr")["text"]
    assert said[0]["text"].split("\n") != easy_read.answer(question_id, "llr")


async def test_not_knowing_who_asks_gives_easy_read_and_once_the_offer_of_the_detailed_answer(
    service_env: RegisterService,
) -> None:
    question_id = with_both_answers()
    said, slots = await run(questions.ActionAnswerQuestion(), asked(question_id, "quick question"))
    [message] = said
    assert message["text"].split("\n") == easy_read.answer(question_id, "llr")
    assert message["buttons"][-1]["payload"] == '/tell_audience{"audience": "professional"}'
    assert slots == {"pending_question": question_id, "audience_asked": True}
    told = asked(
        intent="tell_audience",
        text='/tell_audience{"audience": "professional"}',
        entities=[{"entity": "audience", "value": "professional"}],
        slots=slots,
    )
    said, slots = await run(questions.ActionAnswerQuestion(), told)
    assert said[0]["text"] == BANK._variation(question_id, "llr")["text"]
    assert slots["audience"] == "professional" and slots["pending_question"] is None
    # Offered once: a later question without a clue is answered in easy read, with no offer.
    said, _ = await run(
        questions.ActionAnswerQuestion(),
        asked(question_id, "another one", slots={"audience_asked": True}),
    )
    assert said[0]["text"].split("\n") == easy_read.answer(question_id, "llr")
    assert "/tell_audience" not in str(said[0]["buttons"])


@pytest.mark.parametrize(
    ("text", "audience"),
    [
        ("does my son need to go", "family"),
        ("im his mum, what happens next", "family"),
        ("my patient has a private diagnosis", "professional"),
        ("I'm a social worker, quick question", "professional"),
        ("a young person I support is at risk", "professional"),
        ("what is a MAM", None),
    ],
)
def test_who_is_asking_is_read_from_the_words(text: str, audience: str | None) -> None:
    assert questions.audience_in(text) == audience


async def test_an_unsure_choice_offers_the_nearest_questions_then_a_person(
    service_env: RegisterService,
) -> None:
    message = asked(text="can i bring my sister to the meting")
    message.latest_message["bank_ranking"] = [
        {"id": "mam_who", "confidence": 0.12},
        {"id": "mam_can_i_come", "confidence": 0.1},
        {"id": "mam", "confidence": 0.06},
        {"id": "consent", "confidence": 0.01},
    ]
    assert questions.chosen_question(message) is None
    said, _ = await run(questions.ActionAnswerQuestion(), message)
    [message_said] = said
    assert message_said["response"] == "utter_did_you_mean"
    # As Rasa fills the response: the payloads come out as written.
    buttons = interpolate(message_said["buttons"], {})
    payloads = [b["payload"] for b in buttons]
    assert payloads == [
        '/faq{"question": "mam_who"}',
        '/faq{"question": "mam_can_i_come"}',
        '/faq{"question": "mam"}',
        "/ask_talk_to_someone",
    ]
    assert message_said["buttons"][-1]["title"] == "None of these"


def test_the_surest_question_comes_first() -> None:
    message = asked(text="x").latest_message
    message["bank_ranking"] = [
        {"id": "mam", "confidence": 0.1},
        {"id": "mam_topics", "confidence": 0.9},
    ]
    assert questions.ranked_questions(message) == [("mam_topics", 0.9), ("mam", 0.1)]


async def test_nothing_near_gets_the_default_answer(service_env: RegisterService) -> None:
    said, _ = await run(
        questions.ActionDefaultFallback(), asked(text="qqqq zzzz", intent="nlu_fallback")
    )
    assert [m["response"] for m in said] == ["utter_default"]


async def test_who_is_asking_is_read_from_what_they_said_before(
    service_env: RegisterService,
) -> None:
    question_id = with_both_answers()
    said_before = [
        {"event": "user", "text": "hello, I'm his mum"},
        {"event": "user", "text": "ok"},
    ]
    message = asked(question_id, "and how long does it take").latest_message
    conversation = tracker(events=said_before, latest_message=message)
    said, slots = await run(questions.ActionAnswerQuestion(), conversation)
    assert slots["audience"] == "family"
    assert "/tell_audience" not in str(said[0]["buttons"])


async def test_the_fallback_takes_the_message_back_so_that_it_is_not_predicted_again(
    service_env: RegisterService,
) -> None:
    events = await questions.ActionDefaultFallback().run(
        CollectingDispatcher(), asked(text="no", intent="deny"), DOMAIN
    )
    assert events == [UserUtteranceReverted()]


async def test_can_i_refer_myself_in_llr_offers_no_form(service_env: RegisterService) -> None:
    said, _ = await run(
        questions.ActionAnswerQuestion(), asked("self_referral", "can i refer myself")
    )
    assert said[0]["text"].split("\n") == easy_read.answer("self_referral", "llr")
    assert "/start_self_referral" not in [b["payload"] for b in said[0]["buttons"]]


async def test_can_i_refer_myself_in_tees_valley_offers_the_form(
    tees_valley: RegisterService, monkeypatch: pytest.MonkeyPatch
) -> None:
    point_at(tees_valley, monkeypatch)
    said, _ = await run(
        questions.ActionAnswerQuestion(), asked("self_referral", "can i refer myself")
    )
    assert "Yes, in Tees Valley you can refer yourself to the DSR." in said[0]["text"]
    assert said[0]["buttons"][0]["payload"] == "/start_self_referral"


async def test_a_professional_answer_that_differs_by_variant_gives_the_variants_own(
    west_sussex: RegisterService, monkeypatch: pytest.MonkeyPatch
) -> None:
    point_at(west_sussex, monkeypatch)
    question_id = next(
        q
        for q in BANK.ids
        for v in BANK.professional[q]
        if any(c.get("value") == "west_sussex" for c in v.get("condition") or [])
    )
    said, _ = await run(
        questions.ActionAnswerQuestion(),
        asked(question_id, "question", slots={"audience": "professional"}),
    )
    assert said[0]["text"] == BANK._variation(question_id, "west_sussex")["text"]
    assert said[0]["text"] != BANK._variation(question_id, "llr")["text"]


async def test_the_service_being_down_still_answers_professionals(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DSP_SERVICE_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("DSP_SERVICE_TOKEN", "none")
    questions.register_client._VARIANT_CACHE.clear()
    question_id = with_both_answers()
    said, _ = await run(
        questions.ActionAnswerQuestion(),
        asked(question_id, "q", slots={"audience": "professional"}),
    )
    assert said[0]["text"] == BANK._variation(question_id, None)["text"]


def test_every_follow_up_payload_names_a_question_of_the_bank() -> None:
    for question_id in BANK.ids:
        for variant in easy_read.variants():
            if not BANK.has_easy_read(question_id):
                continue
            for button in questions.follow_up_buttons(question_id, variant):
                if button["payload"].startswith("/faq"):
                    named = yaml.safe_load(button["payload"][len("/faq") :])["question"]
                    assert named in BANK, (question_id, named)


async def test_the_service_being_down_is_said_kindly_to_a_family(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The easy-read answer needs the variant (its contacts): without the service it says so."""
    monkeypatch.setenv("DSP_SERVICE_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("DSP_SERVICE_TOKEN", "none")
    only_easy = next(q for q in BANK.ids if BANK.has_easy_read(q) and not BANK.has_plain(q))
    said, _ = await run(
        questions.ActionAnswerQuestion(), asked(only_easy, "q", slots={"audience": "family"})
    )
    assert [m["text"] for m in said] == [questions.UNAVAILABLE]

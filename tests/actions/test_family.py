"""Who to contact, against a real register service (LLR, Tees Valley, West Sussex). Answers are
compared with the easy-read content, never with copied text. Families' questions: test_questions.py."""

import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

import easy_read
from actions import family
from tests.actions.conftest import RegisterService, start_register_service, tracker

pytestmark = pytest.mark.anyio

ROOT = Path(__file__).resolve().parents[2]


def domain_intents() -> set[str]:
    intents: set[str] = set()
    for path in (ROOT / "bot" / "domain").glob("*.yml"):
        intents |= set(yaml.safe_load(path.read_text("utf-8")).get("intents", []))
    return intents


def asked(intent: str, text: str = "", entities: list[dict[str, Any]] | None = None) -> Tracker:
    message = {"intent": {"name": intent}, "entities": entities or [], "text": text}
    return tracker(latest_message=message)


def point_at(service: RegisterService, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DSP_SERVICE_URL", service.url)
    monkeypatch.setenv("DSP_SERVICE_TOKEN", service.token("action_server"))


@pytest.fixture(scope="module")
def tees_valley(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RegisterService]:
    yield from start_register_service(tmp_path_factory.mktemp("tees"), "tees_valley")


@pytest.fixture(scope="module")
def west_sussex(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RegisterService]:
    yield from start_register_service(tmp_path_factory.mktemp("sussex"), "west_sussex")


def test_every_follow_up_button_sends_an_intent_the_domain_knows() -> None:
    intents = domain_intents()
    for topic in easy_read.topics():
        for variant in easy_read.variants():
            for follow_up in easy_read.follow_ups(topic, variant):
                payload = family.payload_for(follow_up)
                assert payload.lstrip("/").split("{")[0] in intents, (topic, variant, payload)


async def test_a_town_finds_its_parent_carer_forum(
    service_env: RegisterService, dispatcher: CollectingDispatcher
) -> None:
    entities = [{"entity": "place", "value": "Oakham"}]
    events = await family.ActionFindContact().run(
        dispatcher, asked("ask_who_to_contact", "who can I contact in Oakham", entities), {}
    )
    [message] = dispatcher.messages
    assert "rutlandpcv@gmail.com" in message["text"]
    assert "info@lcpcf.net" not in message["text"]
    assert "Email Rutland Parent Carer Voice at rutlandpcv@gmail.com." in message["text"]
    assert message["text"].startswith("\n".join(easy_read.answer("who_to_contact", "llr")[:3]))
    assert SlotSet("place", "Rutland") in events


async def test_speak_to_someone_without_a_place_asks_which_area(
    service_env: RegisterService, dispatcher: CollectingDispatcher
) -> None:
    events = await family.ActionFindContact().run(
        dispatcher, asked("ask_talk_to_someone", "can I speak to someone"), domain={}
    )
    [message] = dispatcher.messages
    assert message["text"] == family.ASK_AREA
    assert [b["title"] for b in message["buttons"]] == [
        "Leicester City",
        "Leicestershire County",
        "Rutland",
    ]
    assert message["buttons"][2]["payload"] == '/inform_place{"place": "Rutland"}'
    assert SlotSet("contact_topic", "talk_to_someone") in events
    assert "@" not in message["text"]  # never a guessed email


async def test_the_chosen_area_answers_the_waiting_question(
    service_env: RegisterService, dispatcher: CollectingDispatcher
) -> None:
    waiting = tracker(
        slots={"contact_topic": "talk_to_someone"},
        latest_message={
            "intent": {"name": "inform_place"},
            "entities": [{"entity": "place", "value": "Leicester City"}],
            "text": '/inform_place{"place": "Leicester City"}',
        },
    )
    await family.ActionFindContact().run(dispatcher, waiting, domain={})
    text = dispatcher.messages[0]["text"]
    assert "This chat is a computer program, not a person." in text  # talk_to_someone
    assert "Email Leicester City Parent Carer Forum at info@lcpcf.net." in text


async def test_a_near_spelling_is_asked_about_not_guessed(
    service_env: RegisterService, dispatcher: CollectingDispatcher
) -> None:
    await family.ActionFindContact().run(dispatcher, asked("inform_place", "Loughbrough"), {})
    [message] = dispatcher.messages
    assert message["text"] == f"{family.SEVERAL_PLACES}\n{family.ASK_AREA}"
    assert [b["title"] for b in message["buttons"]] == ["Leicestershire County"]


async def test_an_unknown_place_is_said_and_the_areas_offered(
    service_env: RegisterService, dispatcher: CollectingDispatcher
) -> None:
    await family.ActionFindContact().run(dispatcher, asked("inform_place", "Leeds"), {})
    [message] = dispatcher.messages
    assert message["text"].startswith(
        "Sorry, I could not find that place in Leicester, Leicestershire and Rutland."
    )
    assert len(message["buttons"]) == 3
    assert "@" not in message["text"]


async def test_a_postcode_is_a_hint_and_says_so(
    service_env: RegisterService, dispatcher: CollectingDispatcher
) -> None:
    entities = [{"entity": "postcode", "value": "LE15 6AB"}]
    await family.ActionFindContact().run(
        dispatcher, asked("inform_place", "LE15 6AB", entities), {}
    )
    lines = dispatcher.messages[0]["text"].split("\n")
    assert lines[:2] == [family.POSTCODE_HINT.format(area="Rutland"), family.POSTCODE_CHECK]
    assert "rutlandpcv@gmail.com" in lines[-1]


async def test_tees_valley_speak_to_someone_gives_the_dsr_team(
    tees_valley: RegisterService,
    monkeypatch: pytest.MonkeyPatch,
    dispatcher: CollectingDispatcher,
) -> None:
    point_at(tees_valley, monkeypatch)
    await family.ActionFindContact().run(dispatcher, asked("ask_talk_to_someone"), domain={})
    text = dispatcher.messages[0]["text"]
    assert "Email Tees Valley children's DSR at nencicb-tv.childrensdsr@nhs.net." in text
    assert "Daisy Chain" in text


async def test_west_sussex_contact_has_no_made_up_email(
    west_sussex: RegisterService,
    monkeypatch: pytest.MonkeyPatch,
    dispatcher: CollectingDispatcher,
) -> None:
    point_at(west_sussex, monkeypatch)
    await family.ActionFindContact().run(dispatcher, asked("ask_who_to_contact"), domain={})
    text = dispatcher.messages[0]["text"]
    assert "You can contact West Sussex Joint Commissioning Unit." in text
    assert "@" not in text


async def test_the_service_being_down_is_said_kindly(
    monkeypatch: pytest.MonkeyPatch, dispatcher: CollectingDispatcher
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        monkeypatch.setenv("DSP_SERVICE_URL", f"http://127.0.0.1:{probe.getsockname()[1]}")
    await family.ActionFindContact().run(dispatcher, asked("ask_who_to_contact"), domain={})
    assert [m["text"] for m in dispatcher.messages] == [family.UNAVAILABLE]

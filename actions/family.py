"""Who to contact, for families: the register service finds the contacts for the place a person
names. The answers are easy-read topics (easy_read); their follow-ups are buttons, so nobody has
to know what to type. Families' questions are the question bank's (actions/questions.py).
"""

import json
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

import easy_read
from actions import register_client

INTENT_PREFIX = "ask_"
CONTACT_TOPICS = ("who_to_contact", "talk_to_someone")

# Conversation glue, in the same easy-read style as the content: short, one idea a line.
UNAVAILABLE = "Sorry, I cannot get that information just now.\nPlease try again in a few minutes."
ASK_AREA = "Which area do you live in?\nChoose one below, or type your town."
SEVERAL_PLACES = "That could be more than one place."
NOT_FOUND = "Sorry, I could not find that place in {variant}."
POSTCODE_HINT = "That postcode is usually in {area}."
POSTCODE_CHECK = "If you live somewhere else, tell me your town."


def intent_of(tracker: Tracker) -> str | None:
    """The intent the conversation acted on (what a button sent, or what NLU chose)."""
    return ((tracker.latest_message or {}).get("intent") or {}).get("name")


def topic_for(intent: str | None) -> str | None:
    """`ask_mam_who` -> `mam_who`, when the easy-read content has that topic."""
    if not intent or not intent.startswith(INTENT_PREFIX):
        return None
    topic = intent[len(INTENT_PREFIX) :]
    return topic if topic in easy_read.topics() else None


def question_payload(question_id: str) -> str:
    """A button that asks the question bank's question `question_id` (actions/questions.py)."""
    return "/faq" + json.dumps({"question": question_id})


def payload_for(follow_up: easy_read.FollowUp) -> str:
    """A contact topic is asked with its intent, the emergency topic is the crisis intent, and any
    other topic is a question of the bank."""
    if follow_up.topic == easy_read.EMERGENCY_TOPIC:
        return "/crisis"
    if follow_up.topic in CONTACT_TOPICS:
        return f"/{INTENT_PREFIX}{follow_up.topic}"
    if follow_up.topic is not None:
        return question_payload(follow_up.topic)
    return f"/{follow_up.intent}"


def follow_up_buttons(topic: str, variant_id: str | None) -> list[dict[str, str]]:
    return [
        {"title": follow_up.title, "payload": payload_for(follow_up)}
        for follow_up in easy_read.follow_ups(topic, variant_id)
    ]


def say(
    dispatcher: CollectingDispatcher,
    lines: list[str],
    buttons: list[dict[str, str]] | None = None,
) -> None:
    """One message, one short sentence a line (the chat page keeps the line breaks)."""
    dispatcher.utter_message(text="\n".join(lines), buttons=buttons or [])


def place_button(area_name: str) -> dict[str, str]:
    """A button that names the area; the payload carries it as the `place` entity."""
    return {"title": area_name, "payload": "/inform_place" + json.dumps({"place": area_name})}


def place_in_message(tracker: Tracker) -> str | None:
    """The place the latest message names: the place or postcode entities, else, when the person
    is answering "which area?", what they typed."""
    message = tracker.latest_message or {}
    found = [
        str(entity["value"])
        for entity in message.get("entities", [])
        if entity.get("entity") in ("place", "postcode") and entity.get("value")
    ]
    if found:
        return " ".join(dict.fromkeys(found))
    text = str(message.get("text") or "").strip()
    if intent_of(tracker) == "inform_place" and text and not text.startswith("/"):
        return text
    return None


class ActionFindContact(Action):
    """Who to contact, or how to speak to a person: the register service finds the contacts for
    the place the person names, asks which area when it is not clear, and never guesses."""

    def name(self) -> str:
        return "action_find_contact"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        asked = topic_for(intent_of(tracker))
        topic = asked if asked in CONTACT_TOPICS else tracker.get_slot("contact_topic")
        topic = topic or CONTACT_TOPICS[0]
        place = place_in_message(tracker) or tracker.get_slot("place")
        try:
            found = await register_client.lookup_contacts(place)
        except (register_client.RegisterUnavailable, register_client.RegisterRejected):
            say(dispatcher, [UNAVAILABLE])
            return []
        choices = [place_button(area["name"]) for area in found["choices"]]
        if found["status"] == "ambiguous":
            lines = [SEVERAL_PLACES, ASK_AREA] if place else [ASK_AREA]
            say(dispatcher, lines, choices)
            return [SlotSet("contact_topic", topic), SlotSet("place", None)]
        if found["status"] == "not_found":
            say(dispatcher, [NOT_FOUND.format(variant=found["variant_name"]), ASK_AREA], choices)
            return [SlotSet("contact_topic", topic), SlotSet("place", None)]
        lines = easy_read.answer(topic, found["variant_id"], contacts=found["contacts"])
        if found["hint_only"] and found["area"]:
            lines = [POSTCODE_HINT.format(area=found["area"]["name"]), POSTCODE_CHECK, *lines]
        say(dispatcher, lines, follow_up_buttons(topic, found["variant_id"]))
        area = found["area"]["name"] if found["area"] else None
        return [SlotSet("contact_topic", None), SlotSet("place", area)]

"""The question bank: what families, the person and professionals ask, answered for who is asking.

Every bank question is the retrieval intent `faq/<id>` (the bank ranker picks the id).
Its professional answer is the domain response `utter_faq/<id>` (bot/domain/questions.yml), one
variation per variant where the documents differ; its easy-read answer is the easy_read topic of
the same id. A response whose `custom` says `answer: easy_read` marks a question answered only in
easy read. Families get easy read, professionals plain English; a question with one answer gives
it to everybody. Who is asking is known from the conversation, read from the message ("my son",
"my patient"), or asked once.

The bank ranker (a logistic regression over TF-IDF and the sentence embedding,
bot/components/bank_ranker.py) ranks the bank for every message. When it is unsure, the three
nearest questions are offered ("Did you mean ...?"); only after that a person.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Final

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet, UserUtteranceReverted
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

import easy_read
from actions import register_client
from actions.family import CONTACT_TOPICS, UNAVAILABLE, follow_up_buttons, question_payload

RETRIEVAL: Final = "faq"
RESPONSE_PREFIX: Final = f"utter_{RETRIEVAL}/"
QUESTION_ENTITY: Final = "question"
AUDIENCE: Final = "audience"
AUDIENCE_ASKED: Final = "audience_asked"
PENDING: Final = "pending_question"
FAMILY: Final = "family"
PROFESSIONAL: Final = "professional"
# The bank ranker's confidence: under CHOICE_MIN the choice is a guess and the nearest questions
# are offered instead; a message the intent classifier was unsure of (nlu_fallback) is answered
# only from FALLBACK_CHOICE_MIN; under OFFER_MIN a question is too far to offer. Set on the
# development sets (tests/bot/questions_dev*.yml): 92.5% answered right, 5.3% answered wrong.
CHOICE_MIN: Final = 0.15
FALLBACK_CHOICE_MIN: Final = 0.4
OFFER_MIN: Final = 0.05
SUGGESTIONS: Final = 3

_FAMILY_WORDS = re.compile(
    r"\b(my|our) (son|daughter|child|children|kid|boy|girl|lad|brother|sister|grandson|"
    r"granddaughter|nephew|niece|mum|mom|dad|husband|wife|partner|family)\b|"
    r"\b(i'?m|i am|as) (a|the|his|her|their) (mum|mom|mother|dad|father|parent|carer|nan|gran|"
    r"grandma|grandad|sister|brother|foster carer)\b|\b(myself|me)\b\W*$",
    re.I,
)
_PROFESSIONAL_WORDS = re.compile(
    r"\bmy (patient|client|service user|caseload|case load|pupil|student)s?\b|"
    r"\b(young person|child|person|cyp|family|families) (i|we) (support|work with|care for|see)\b|"
    r"\b(i'?m|i am|as) (a|an|the|his|her|their) (nurse|social worker|sw|gp|doctor|teacher|senco|"
    r"psychiatrist|psychologist|keyworker|key worker|practitioner|clinician|commissioner|"
    r"therapist|professional|paediatrician|support worker)\b|"
    r"\b(referrer|on my caseload|our team|our service|my team)\b",
    re.I,
)


def audience_in(text: str) -> str | None:
    """Who is asking, when the words say so: "my son" is family, "my patient" a professional."""
    if _PROFESSIONAL_WORDS.search(text):
        return PROFESSIONAL
    if _FAMILY_WORDS.search(text):
        return FAMILY
    return None


def audience_said(tracker: Tracker) -> str | None:
    """Who is asking, from the latest of the user's messages that says so ("hello, I'm his mum"
    and then a question)."""
    for event in reversed(tracker.events):
        if event.get("event") == "user" and (said := audience_in(str(event.get("text") or ""))):
            return said
    return audience_in(text_of(tracker))


@dataclass(frozen=True)
class Answer:
    lines: list[str]
    buttons: list[dict[str, str]]


class Bank:
    """The bank as the domain and the easy-read content hold it."""

    def __init__(self, domain: DomainDict) -> None:
        responses = domain.get("responses") or {}
        self.professional: dict[str, list[dict[str, Any]]] = {
            key[len(RESPONSE_PREFIX) :]: variations
            for key, variations in responses.items()
            if key.startswith(RESPONSE_PREFIX)
        }
        self.ids = sorted(self.professional)
        self._topics = set(easy_read.topics())

    def __contains__(self, question_id: object) -> bool:
        return question_id in self.professional

    def has_easy_read(self, question_id: str) -> bool:
        return question_id in self._topics

    def has_plain(self, question_id: str) -> bool:
        return any(v.get("text") for v in self.professional.get(question_id, []))

    def audience_matters(self, question_id: str) -> bool:
        return self.has_easy_read(question_id) and self.has_plain(question_id)

    def _variation(self, question_id: str, variant_id: str | None) -> dict[str, Any]:
        """The variation whose condition names the variant, else the one without a condition."""
        variations = [v for v in self.professional.get(question_id, []) if v.get("text")]
        for variation in variations:
            for condition in variation.get("condition") or []:
                if condition.get("name") == "variant" and condition.get("value") == variant_id:
                    return variation
        plain = [v for v in variations if not v.get("condition")]
        return (plain or variations)[0]

    def title(self, question_id: str, audience: str | None, variant_id: str | None) -> str:
        if self.has_easy_read(question_id) and (
            audience != PROFESSIONAL or not self.has_plain(question_id)
        ):
            # A question's title hardly differs by variant: any variant's will do when unknown.
            return easy_read.title(question_id, variant_id or easy_read.variants()[0])
        return str(self._variation(question_id, variant_id)["metadata"]["question"])

    def answer(
        self, question_id: str, audience: str | None, variant: dict[str, Any] | None
    ) -> Answer:
        variant_id = variant["id"] if variant else None
        easy = self.has_easy_read(question_id) and variant is not None
        if easy and (audience != PROFESSIONAL or not self.has_plain(question_id)):
            assert variant is not None
            lines = easy_read.answer(question_id, variant_id, contacts=variant["contacts"])
            return Answer(lines, follow_up_buttons(question_id, variant_id))
        variation = self._variation(question_id, variant_id)
        ups = [str(u) for u in (variation.get("metadata") or {}).get("follow_ups", [])]
        return Answer([str(variation["text"])], self.buttons(ups, audience, variant_id))

    def buttons(
        self, ids: list[str], audience: str | None, variant_id: str | None
    ) -> list[dict[str, str]]:
        """A button for each question of the bank (or contact topic) named."""
        buttons = []
        for question_id in ids:
            if question_id in self:
                title = self.title(question_id, audience, variant_id)
                buttons.append({"title": title, "payload": question_payload(question_id)})
            elif question_id in CONTACT_TOPICS:
                title = easy_read.title(question_id, variant_id or easy_read.variants()[0])
                buttons.append({"title": title, "payload": f"/ask_{question_id}"})
        return buttons


def ranked_questions(message: dict[str, Any]) -> list[tuple[str, float]]:
    """The bank's questions by the bank ranker's confidence, surest first."""
    ranking = [(str(e["id"]), float(e["confidence"])) for e in message.get("bank_ranking") or []]
    return sorted(ranking, key=lambda item: item[1], reverse=True)


def chosen_question(tracker: Tracker) -> str | None:
    """The question a button names, or the rankings' confident choice for a `faq` message."""
    message = tracker.latest_message or {}
    for entity in message.get("entities") or []:
        if entity.get("entity") == QUESTION_ENTITY and entity.get("value"):
            return str(entity["value"])
    floor = {RETRIEVAL: CHOICE_MIN, "nlu_fallback": FALLBACK_CHOICE_MIN}.get(
        str((message.get("intent") or {}).get("name"))
    )
    ranked = ranked_questions(message)
    if floor is None or not ranked or ranked[0][1] < floor:
        return None
    return ranked[0][0]


def nearest_questions(message: dict[str, Any]) -> list[str]:
    """The questions worth offering when nothing was chosen."""
    return [q for q, score in ranked_questions(message)[:SUGGESTIONS] if score >= OFFER_MIN]


def text_of(tracker: Tracker) -> str:
    return str((tracker.latest_message or {}).get("text") or "")


async def _variant() -> dict[str, Any] | None:
    try:
        return await register_client.get_variant_cached()
    except (register_client.RegisterUnavailable, register_client.RegisterRejected):
        return None


async def answer_question(
    dispatcher: CollectingDispatcher,
    bank: Bank,
    question_id: str,
    audience: str | None,
    extra: list[dict[str, str]] | None = None,
) -> None:
    """Says the answer for the audience, with its follow-up questions as buttons."""
    variant = await _variant()
    if variant is None and not bank.has_plain(question_id):
        dispatcher.utter_message(text=UNAVAILABLE)  # the easy-read answer needs the variant
        return
    answer = bank.answer(question_id, audience, variant)
    buttons = answer.buttons
    if question_id == "self_referral" and variant and variant["self_referral"]:
        buttons.insert(0, {"title": "Start my referral", "payload": "/start_self_referral"})
    dispatcher.utter_message(text="\n".join(answer.lines), buttons=[*buttons, *(extra or [])])


async def answer_or_suggest(
    dispatcher: CollectingDispatcher, bank: Bank, tracker: Tracker, audience: str | None
) -> None:
    """An unclear message: the bank's question when the rankings are sure enough, else the
    nearest questions."""
    question_id = chosen_question(tracker)
    if question_id in bank:
        audience = audience or audience_said(tracker) or FAMILY
        await answer_question(dispatcher, bank, question_id, audience)
    else:
        await suggest(dispatcher, bank, tracker, audience)


def for_response(buttons: list[dict[str, str]]) -> list[dict[str, str]]:
    """Buttons sent with a domain response, whose {slot} placeholders Rasa fills in them too:
    the braces of a payload's entity are doubled so that it comes out as written."""
    return [{**b, "payload": b["payload"].replace("{", "{{").replace("}", "}}")} for b in buttons]


async def suggest(
    dispatcher: CollectingDispatcher, bank: Bank, tracker: Tracker, audience: str | None
) -> None:
    """ "Did you mean ...?" with the nearest questions; a person to talk to when none is near."""
    variant = await _variant()
    variant_id = variant["id"] if variant else None
    near = [q for q in nearest_questions(tracker.latest_message or {}) if q in bank]
    if near:
        buttons = bank.buttons(near, audience, variant_id)
        buttons.append({"title": "None of these", "payload": "/ask_talk_to_someone"})
        dispatcher.utter_message(response="utter_did_you_mean", buttons=for_response(buttons))
    else:
        dispatcher.utter_message(response="utter_default")


class ActionAnswerQuestion(Action):
    """Answers a bank question (typed, or a button), for who is asking."""

    def name(self) -> str:
        return "action_answer_question"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        bank = Bank(domain)
        told = _told_audience(tracker)
        audience = told or tracker.get_slot(AUDIENCE) or audience_said(tracker)
        question_id = chosen_question(tracker)
        if question_id is None and told:
            question_id = tracker.get_slot(PENDING)
        events: list[EventType] = [SlotSet(PENDING, None)]
        if audience:
            events.append(SlotSet(AUDIENCE, audience))
        if question_id is None or question_id not in bank:
            await suggest(dispatcher, bank, tracker, audience)
            return events
        if audience is None and bank.audience_matters(question_id):
            # Not known: the easy-read answer, which suits everybody, and once a button for a
            # professional to say so and get the plain-English one.
            if tracker.get_slot(AUDIENCE_ASKED):
                await answer_question(dispatcher, bank, question_id, FAMILY)
                return events
            offer = (domain.get("responses") or {}).get("utter_ask_audience") or [{}]
            extra = list(offer[0].get("buttons") or [])
            await answer_question(dispatcher, bank, question_id, FAMILY, extra)
            return [SlotSet(PENDING, question_id), SlotSet(AUDIENCE_ASKED, True)]
        await answer_question(dispatcher, bank, question_id, audience)
        return events


def _told_audience(tracker: Tracker) -> str | None:
    """The answer to "who is asking?": a button's entity, or the words typed."""
    message = tracker.latest_message or {}
    if ((message.get("intent") or {}).get("name")) != "tell_audience":
        return None
    for entity in message.get("entities") or []:
        if entity.get("entity") == AUDIENCE and entity.get("value") in (FAMILY, PROFESSIONAL):
            return str(entity["value"])
    return audience_in(text_of(tracker)) or FAMILY


class ActionDefaultFallback(Action):
    """The classifier was unsure, or nothing else fits: the nearest questions, then a person."""

    def name(self) -> str:
        return "action_default_fallback"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        bank = Bank(domain)
        await answer_or_suggest(dispatcher, bank, tracker, tracker.get_slot(AUDIENCE))
        # As Rasa's own fallback does: the message is taken back, so that the next prediction
        # is to listen, not this fallback again (up to ten times for one "no").
        return [UserUtteranceReverted()]

"""The referral, rendered from the register service's questionnaire: one form for every question,
every variant and both professionals and people who refer themselves.

The service leads the content (questionnaire/ in the register service): which question comes
next, what an answer means, eligibility, the rating, the summary. This module owns the
conversation around it: starting, asking, saying what was not understood, "stop", "pause",
"start again", crisis, sending the referral and what happens next. It holds no rule of the pathway.

One form, `referral_form`, has one slot, `referral_answer`: every message while it is active is
an answer, read by validate_referral_form, which asks the service and keeps the answers in
`referral_answers`; action_ask_referral_answer asks what the service said comes next.
"""

import contextlib
import re
import uuid
from typing import Any, Final

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction
from rasa_sdk.types import DomainDict

import easy_read
from actions import questions, register_client
from actions.family import follow_up_buttons, intent_of
from actions.safety import say_emergency

ANSWER: Final = "referral_answer"
ANSWERS: Final = "referral_answers"
SOURCE: Final = "referral_source"
NEXT: Final = "referral_next"
ASKED: Final = "referral_question"
STATUS: Final = "referral_status"
KEY: Final = "referral_key"
CODE: Final = "referral_resume_code"
STARTED: Final = "referral_started"
CLARIFIED: Final = "referral_clarified"
FAILURES: Final = "referral_failures"
# The emergency routes were added to a free-text answer already: once is enough in one referral.
WARNED: Final = "referral_warned"
# Every slot the referral keeps; all are cleared when it ends, so no answer outlives it.
SLOTS: Final = (ANSWERS, SOURCE, NEXT, ASKED, STATUS, KEY, CODE, CLARIFIED, FAILURES, WARNED)
# The referral has ended (the form asks nothing more).
ENDED: Final = frozenset({"submitted", "stopped", "paused"})
SUMMARY: Final = "$summary"
SELF: Final = "self"

# What a person says to steer the conversation rather than answer.
_STOP = re.compile(r"^\W*(stop|cancel|quit|exit|abandon|forget it)\b.{0,30}$", re.I)
# Inside a free-text answer the classifier's "stop" is not enough (a risk described as "running
# off at night" was once taken for it, and the referral lost): the words must ask to stop.
_ASKS_TO_STOP = re.compile(
    r"\b(stop|cancel|quit|abandon|scrap)\b.{0,25}\b(referral|referal|this|it|everything)\b"
    r"|\b(don'?t|do not|no longer)\s+want\s+to\s+(continue|carry on|go on|make|do|send)\b",
    re.I,
)
_PAUSE = re.compile(
    r"\b(pause|save (it|this|my answers)|finish (it |this )?later|come back later)\b", re.I
)
_RESTART = re.compile(r"^\W*(start (again|over)|restart|begin again)\W*$", re.I)
_CHANGE = re.compile(r"^\W*(change|correct|edit|go back to|fix)\b", re.I)
_NOW_WORDS = (
    r"\b(right now|now|tonight|at the moment|currently|this minute|as we speak|at present|"
    r"as i (write|type)|just (happened|now))\b"
)
_NOW = re.compile(_NOW_WORDS, re.I)
# "Not right now", "isn't currently": the time word denied, no danger now said.
_NOT_NOW = re.compile(r"(\bnot|\bno|\bnever|\bnothing|n't)\W+" + _NOW_WORDS, re.I)
_FREE_TEXT: Final = frozenset({"text"})
# A message put as a question, not an answer: it ends with "?" or opens with a question word.
_ASKING = re.compile(
    r"\?\s*$|^\W*(what|what's|whats|how|who|when|why|where|which|can|could|does|do|is|are|"
    r"will|would|should|shall|has|have|if)\b",
    re.I,
)


def emergency_in_answer(message: dict[str, Any], free_text: bool, answered: bool = False) -> bool:
    """Whether an answer inside the referral gets the emergency routes: danger happening now (the
    crisis classifier's alarm, which learnt it from background risk, or a crisis said with "now"),
    or, to a question that is not free text, the crisis rules' own match. There the classifier's
    alarm alone counts only when the service did not read the message as an answer (`answered`):
    a few words such as "all of them" are a choice, whatever the classifier makes of them.
    "Not right now" says no danger now."""
    if ((message.get("intent") or {}).get("name")) != "crisis":
        return False
    alarm = bool((message.get("crisis_classifier") or {}).get("alarm"))
    said_now = bool(_NOW.search(_NOT_NOW.sub(" ", str(message.get("text") or ""))))
    if free_text:
        return alarm or said_now
    return said_now or bool(message.get("crisis_rule")) or (alarm and not answered)


def _say(
    dispatcher: CollectingDispatcher,
    source: str,
    topic: str,
    *,
    before: tuple[str, ...] = (),
    after: tuple[str, ...] = (),
    **fields: Any,
) -> None:
    """Conversation glue: the easy-read topic for someone referring themselves, with the data it
    is about (answers, a reference, a code) before or after it; the domain's plain-English
    response for professionals, with the same data in its fields."""
    if source == SELF:
        lines = [*before, *easy_read.answer(topic, fields.get("variant_id")), *after]
        dispatcher.utter_message(text="\n".join(lines))
    else:
        fields.pop("variant_id", None)
        dispatcher.utter_message(response=f"utter_{topic}", **fields)


def _buttons(options: list[register_client.Option]) -> list[dict[str, str]]:
    return [{"title": o["display"], "payload": o["say"]} for o in options]


def _cleared() -> list[EventType]:
    return [SlotSet(slot, None) for slot in SLOTS]


def _text_of(tracker: Tracker) -> str:
    return str((tracker.latest_message or {}).get("text") or "")


class ActionReferralStart(Action):
    """Starts a referral: a professional's, or a person's own where the variant allows it. What
    the opening message already says ("I'm a social worker... she's 14") is kept, not asked."""

    def name(self) -> str:
        return "action_referral_start"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        text = _text_of(tracker)
        intent = intent_of(tracker)
        if intent == "nlu_fallback":
            intent = _referral_meant(tracker)
            if intent is None:
                bank = questions.Bank(domain)
                audience = tracker.get_slot(questions.AUDIENCE)
                await questions.answer_or_suggest(dispatcher, bank, tracker, audience)
                return [SlotSet(STARTED, False)]
        source = SELF if intent == "start_self_referral" else "professional"
        try:
            variant = await register_client.get_variant_cached()
            if source == SELF and not variant["self_referral"]:
                lines = easy_read.answer(
                    "self_referral", variant["id"], contacts=variant["contacts"]
                )
                buttons = follow_up_buttons("self_referral", variant["id"])
                dispatcher.utter_message(text="\n".join(lines), buttons=buttons)
                return [*_cleared(), SlotSet(STARTED, False)]
            answers: dict[str, Any] = {}
            if text and not text.startswith("/"):
                opened = await register_client.interpret("$opening", text, answers, source)
                answers = opened["answers"]
            found = await register_client.next_question(answers, source)
        except (register_client.RegisterUnavailable, register_client.RegisterRejected):
            _say(dispatcher, source, "referral_unavailable")
            return [*_cleared(), SlotSet(STARTED, False)]
        if found["status"] == "stopped":
            dispatcher.utter_message(text=found["stopped"] or "")
            return [*_cleared(), SlotSet(STARTED, False)]
        _say(dispatcher, source, "referral_start", variant_id=variant["id"])
        return [
            *_cleared(),
            SlotSet(ANSWERS, answers),
            SlotSet(SOURCE, source),
            SlotSet(NEXT, found),
            SlotSet(KEY, f"referral-{uuid.uuid4()}"),
            SlotSet(STARTED, True),
            SlotSet(
                questions.AUDIENCE, questions.FAMILY if source == SELF else questions.PROFESSIONAL
            ),
        ]


_STARTS: Final = ("refer_someone", "start_self_referral")
_OWN: Final = re.compile(
    r"\b(myself|me|my (son|daughter|child|boy|girl)|i'?m (his|her) (mum|dad))\b", re.I
)


def _referral_meant(tracker: Tracker) -> str | None:
    """An unclear message whose two best guesses are both ways to start a referral asks for one:
    the person's own ("myself", "my son") or a professional's. Anything else: None."""
    ranking = (tracker.latest_message or {}).get("intent_ranking") or []
    top = [r.get("name") for r in ranking if r.get("name") != "nlu_fallback"][:2]
    if set(top) != set(_STARTS):
        return None
    return "start_self_referral" if _OWN.search(_text_of(tracker)) else "refer_someone"


class ActionAskReferralAnswer(Action):
    """Asks what the service said comes next: a question with its choices, or the summary. The
    question's id goes with it, so the page (and tests) know what is being asked."""

    def name(self) -> str:
        return "action_ask_referral_answer"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        found: register_client.Next | None = tracker.get_slot(NEXT)
        source = tracker.get_slot(SOURCE) or "professional"
        clarified = bool(tracker.get_slot(CLARIFIED))
        if found is None:
            return []
        question = found.get("question")
        if found["status"] == "question" and question:
            if not clarified:
                dispatcher.utter_message(
                    text=question["text"], buttons=_buttons(question["options"])
                )
            dispatcher.utter_message(json_message={"question": question["linkId"]})
            return [SlotSet(ASKED, question["linkId"]), SlotSet(CLARIFIED, None)]
        if not clarified:
            lines = tuple(f"- {line['label']}: {line['value']}" for line in found["summary"])
            _say(dispatcher, source, "referral_summary", before=lines, summary="\n".join(lines))
        dispatcher.utter_message(json_message={"question": SUMMARY})
        return [SlotSet(ASKED, SUMMARY), SlotSet(CLARIFIED, None)]


class ValidateReferralForm(FormValidationAction):
    """Reads every message while the referral is open: steering words, a crisis, a question about
    the question, or an answer the service interprets; then what comes next."""

    def name(self) -> str:
        return "validate_referral_form"

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[str]:
        return [] if tracker.get_slot(STATUS) in ENDED else [ANSWER]

    async def validate_referral_answer(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        text = str(value or "").strip()
        source = tracker.get_slot(SOURCE) or "professional"
        answers: dict[str, Any] = dict(tracker.get_slot(ANSWERS) or {})
        asked = tracker.get_slot(ASKED) or SUMMARY
        found: register_client.Next | None = tracker.get_slot(NEXT)
        question = found.get("question") if found else None
        try:
            free_text = question is not None and question["type"] in _FREE_TEXT
            stop_asked = intent_of(tracker) == "stop_referral" and (
                not free_text or _ASKS_TO_STOP.search(text)
            )
            if _STOP.match(text) or stop_asked:
                _say(dispatcher, source, "referral_stopped")
                await _forget_draft(tracker)
                return {ANSWER: None, STATUS: "stopped"}
            if _PAUSE.search(text):
                return await self.pause(dispatcher, tracker, answers, source)
            if _RESTART.match(text):
                return await self.advance(dispatcher, {}, source, note="referral_restarted")
            # Professionals describe risk as a matter of course: a free-text answer is always
            # recorded, with the emergency routes first for danger happening now. Elsewhere the
            # crisis rules' own match, or danger now, gets the routes and the question again; the
            # classifier's guess alone gets them only when the message is no answer.
            crisis = intent_of(tracker) == "crisis"
            if _CHANGE.match(text) and asked != SUMMARY:
                asked = SUMMARY
            # To a choice, the service's reading comes first: an answer it understands is no alarm
            # on the classifier's word alone.
            read = None
            if crisis and not free_text:
                read = await register_client.interpret(asked, text, answers, source)
            answered = read is not None and read["understood"]
            warned = emergency_in_answer(tracker.latest_message or {}, free_text, answered)
            if warned and not (free_text and tracker.get_slot(WARNED)):
                say_emergency(dispatcher)
                if not free_text:  # danger now is no answer to a choice: ask it again
                    return {ANSWER: None, CLARIFIED: None}
            if not warned and intent_of(tracker) == questions.RETRIEVAL and _ASKING.search(text):
                # A question from the bank in the middle: answered, then the same question again.
                bank = questions.Bank(domain)
                audience = questions.FAMILY if source == SELF else questions.PROFESSIONAL
                question_id = questions.chosen_question(tracker)
                if question_id in bank:
                    await questions.answer_question(dispatcher, bank, question_id, audience)
                else:
                    await questions.suggest(dispatcher, bank, tracker, audience)
                return {ANSWER: None, CLARIFIED: None}
            if read is None:
                read = await register_client.interpret(asked, text, answers, source)
            if crisis and not warned and not read["understood"]:
                say_emergency(dispatcher)
            if read["action"] == "submit":
                return await self.submit(dispatcher, tracker, answers, source)
            if read["message"]:
                dispatcher.utter_message(text=read["message"], buttons=_buttons(read["options"]))
            if read["action"] == "explain" or not read["understood"]:
                failures = int(tracker.get_slot(FAILURES) or 0) + 1
                if failures >= 2 and read["action"] != "explain":
                    _say(dispatcher, source, "referral_stuck")
                return {ANSWER: None, CLARIFIED: True, ANSWERS: read["answers"], FAILURES: failures}
            advanced = await self.advance(dispatcher, read["answers"], source)
            return {**advanced, WARNED: True} if warned else advanced
        except register_client.RegisterUnavailable:
            _say(dispatcher, source, "referral_unavailable")
            return {ANSWER: None, CLARIFIED: None}

    @staticmethod
    async def advance(
        dispatcher: CollectingDispatcher,
        answers: dict[str, Any],
        source: str,
        note: str | None = None,
    ) -> dict[str, Any]:
        """Asks the service what comes next; a stop ends the referral with its reason."""
        found = await register_client.next_question(answers, source)
        if note:
            _say(dispatcher, source, note)
        if found["status"] == "stopped":
            dispatcher.utter_message(text=found["stopped"] or "")
            return {ANSWER: None, ANSWERS: None, STATUS: "stopped"}
        return {ANSWER: None, ANSWERS: answers, NEXT: found, CLARIFIED: None, FAILURES: None}

    async def submit(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        answers: dict[str, Any],
        source: str,
    ) -> dict[str, Any]:
        key = tracker.get_slot(KEY) or f"referral-{uuid.uuid4()}"
        try:
            created = await register_client.submit_referral(answers, source, key)
        except register_client.RegisterRejected as refused:
            return await self.refused(dispatcher, refused, answers, source)
        variant = await register_client.get_variant_cached()
        confirm = f"referral_confirm_{created['confirm_by']}"
        _say(
            dispatcher,
            source,
            "referral_sent",
            after=(created["reference"], *created["next_steps"]),
            variant_id=variant["id"],
            reference=created["reference"],
            next_steps="\n".join(created["next_steps"]),
        )
        _say(dispatcher, source, confirm, variant_id=variant["id"])
        await _forget_draft(tracker)
        return {ANSWER: None, ANSWERS: None, STATUS: "submitted"}

    async def refused(
        self,
        dispatcher: CollectingDispatcher,
        refused: register_client.RegisterRejected,
        answers: dict[str, Any],
        source: str,
    ) -> dict[str, Any]:
        """A 422 names the answers to give again; they are asked again. Anything else ends it."""
        detail = refused.detail
        if refused.status_code != 422 or not isinstance(detail, list):
            dispatcher.utter_message(text=str(detail))
            return {ANSWER: None, ANSWERS: None, STATUS: "stopped"}
        again = {str(p["loc"][-1]) for p in detail if isinstance(p, dict) and p.get("loc")}
        dispatcher.utter_message(text="\n".join(str(p.get("msg")) for p in detail))
        kept = {k: v for k, v in answers.items() if k not in again}
        return await self.advance(dispatcher, kept, source)

    @staticmethod
    async def pause(
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        answers: dict[str, Any],
        source: str,
    ) -> dict[str, Any]:
        """Keeps the answers in the service under a resume code for the variant's retention."""
        data = {"source": source, "answers": answers}
        code = tracker.get_slot(CODE)
        try:
            if code:
                saved = await register_client.update_draft(code, data)
            else:
                saved = await register_client.create_draft(data)
                code = saved["resume_code"]
        except register_client.RegisterRejected:
            _say(dispatcher, source, "referral_unavailable")
            return {ANSWER: None, CLARIFIED: None}
        expires = saved["expires_at"][:16].replace("T", " ")
        _say(dispatcher, source, "referral_paused", after=(code,), code=code, expires=expires)
        return {ANSWER: None, ANSWERS: None, STATUS: "paused", CODE: code}


async def _forget_draft(tracker: Tracker) -> None:
    code = tracker.get_slot(CODE)
    if code:
        # If it cannot be deleted now, it expires by itself after the variant's retention period.
        with contextlib.suppress(
            register_client.RegisterUnavailable, register_client.RegisterRejected
        ):
            await register_client.delete_draft(code)


RESUME_CODE: Final = re.compile(r"\b([A-Za-z0-9]{4})\s*-?\s*([A-Za-z0-9]{4})\b")


class ActionReferralResume(Action):
    """Opens a paused referral from its resume code and carries on where it stopped."""

    def name(self) -> str:
        return "action_referral_resume"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        match = RESUME_CODE.search(_text_of(tracker).replace("resume", " "))
        if match is None:
            dispatcher.utter_message(response="utter_referral_resume_how")
            return [SlotSet(STARTED, False)]
        code = f"{match[1]}-{match[2]}".upper()
        try:
            draft = await register_client.read_draft(code)
            data = draft["data"]
            found = await register_client.next_question(data["answers"], data["source"])
        except register_client.RegisterRejected:
            dispatcher.utter_message(response="utter_referral_resume_unknown")
            return [SlotSet(STARTED, False)]
        except register_client.RegisterUnavailable:
            dispatcher.utter_message(response="utter_referral_unavailable")
            return [SlotSet(STARTED, False)]
        dispatcher.utter_message(response="utter_referral_resumed")
        return [
            *_cleared(),
            SlotSet(ANSWERS, data["answers"]),
            SlotSet(SOURCE, data["source"]),
            SlotSet(NEXT, found),
            SlotSet(CODE, code),
            SlotSet(KEY, f"referral-{uuid.uuid4()}"),
            SlotSet(STARTED, True),
        ]


class ActionReferralEnd(Action):
    """After the referral ends (sent, stopped or paused): nothing of it stays in the
    conversation but the resume code of a paused one."""

    def name(self) -> str:
        return "action_referral_end"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        code = tracker.get_slot(CODE) if tracker.get_slot(STATUS) == "paused" else None
        return [*_cleared(), SlotSet(STARTED, None), SlotSet(CODE, code)]


class ActionReferralExplain(Action):
    """ "Why do you need this?", "what does amber mean?", "what should I have ready?" outside a
    referral: answered from the service's questionnaire and variant."""

    def name(self) -> str:
        return "action_referral_explain"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        try:
            read = await register_client.interpret(
                "$explain", _text_of(tracker), {}, "professional"
            )
        except (register_client.RegisterUnavailable, register_client.RegisterRejected):
            read = None
        if read and read["action"] == "explain" and read["message"]:
            dispatcher.utter_message(text=read["message"])
        else:
            dispatcher.utter_message(response="utter_referral_what_to_prepare")
        return []

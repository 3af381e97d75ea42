"""Self-referral (003): a young person or a parent refers themselves, where the variant allows it.

The register service decides: whether self-referral is allowed (GET /api/v1/variant), whether a
postcode or date of birth is acceptable and how it is kept (POST /api/v1/referrals/answers/check),
which council area a place is in (POST /api/v1/contacts/lookup), whether the person is eligible
(POST /api/v1/eligibility) and what a stored self-referral needs (POST /api/v1/referrals,
`referral_source: self`). This module only turns the person's words into those requests and the
service's answers into short easy-read messages.
"""

import re
import uuid
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from datetime import date, datetime
from typing import Any

from dateutil import parser as date_parser
from rasa_sdk import Action, FormValidationAction, Tracker, utils
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

import easy_read
from actions import register_client
from actions.family import ASK_A_WORKER, UNAVAILABLE, follow_up_buttons, say

FORM = "self_referral_form"
SELF_REFERRAL_TOPIC = "self_referral"
AFTER_REFERRAL_TOPIC = "after_referral"
ACCEPTED_DIAGNOSES = ("autism", "learning_disability", "both")

# Conversation glue, in the content's easy-read style: short, one idea a line.
INTRO = (
    "Thank you.\nI will ask you some short questions.\nThen I will send your answers to the team."
)
PICK_A_BUTTON = "Sorry, I did not understand.\nPlease choose one of the buttons."
NAME_PROBLEM = "Please type the name in letters, up to 100 of them."
DATE_PROBLEM = "Sorry, I could not read that date.\nPlease type the day, month and year."
ANSWER_KEPT = "I could not check that answer just now.\nI have kept it.\nThe team will check it."
ASK_AREA = "Which council area is their home in?"
POSTCODE_SUGGESTS = "Their postcode is usually in {area}."
AREA_NOT_FOUND = "Sorry, I could not find that place in {variant}.\nPlease choose an area below."
AREA_SEVERAL = "That could be more than one place.\nPlease choose an area below."
SITUATION_PROBLEM = "Please tell me a little about what is happening."
CONTACT_PROBLEM = "Please type a phone number, like 07700 900123, or an email address."
NOT_SENT = "Nothing has been sent."
NO_CONSENT = "That is OK.\nWe can only send a referral if you agree."
SENT = "Thank you.\nYour referral has been sent.\nYour reference is {dsp_id}.\nPlease keep it."
CONTACT_EMAIL = "You can email them at {email}."
FIX_THESE = "Sorry, I could not send it yet."
LET_US_FIX = "Let us put this right."
ALREADY_ON_LIST = "The team may already know this person.\nPlease contact them."

Validator = Callable[..., dict[str, Any] | Awaitable[dict[str, Any]]]

# The form's questions, each with its buttons (title, payload). The consent buttons send the
# affirm / deny intents; the others send words the validators read.
QUESTIONS: dict[str, tuple[str, list[tuple[str, str]]]] = {
    "self_who": (
        "Who is the referral for?",
        [("Me", "me"), ("My child, or someone I care for", "someone I care for")],
    ),
    "self_given_name": ("What is their first name?\nIf it is for you, type your first name.", []),
    "self_family_name": ("What is their last name?", []),
    "self_date_of_birth": ("What is their date of birth?\nFor example 14 March 2012.", []),
    "self_postcode": ("What is the postcode of their home?\nFor example TS18 1AB.", []),
    "self_diagnosis": (
        "Has a doctor or a specialist team said they have autism or a learning disability?",
        [
            ("Yes, autism", "autism"),
            ("Yes, a learning disability", "learning disability"),
            ("Yes, both", "both"),
            ("No, or I am not sure", "not sure"),
        ],
    ),
    "self_situation": ("What is happening now that worries you?\nTell me in your own words.", []),
    "self_consent": (
        "We will send your answers to the team who keep the support list.\n"
        "They will use them to plan help.\nDo you agree?",
        [("Yes, I agree", "/affirm"), ("No", "/deny")],
    ),
    "self_contact": (
        "How can the team contact you about what happens next?\n"
        "Type a phone number or an email address.",
        [],
    ),
}

# "Why do you need this?", for each question.
WHY = {
    "self_who": "So we know if you are the young person, or someone who cares for them.",
    "self_given_name": "The team needs to know who the referral is for.",
    "self_family_name": "The team needs to know who the referral is for.",
    "self_date_of_birth": "The support list is for children and young people.\n"
    "The date of birth shows their age.",
    "self_postcode": "The postcode helps the team know where they live.",
    "self_area": "The support list is for people who live in this area.\n"
    "A postcode is only a clue, so we ask you to choose.",
    "self_diagnosis": "The support list is for people with autism, a learning disability or both.",
    "self_situation": "This helps the team understand what help is needed.",
    "self_consent": "We can only send your answers if you agree.",
    "self_contact": "The team will use it to tell you what happens next.",
}
STOPPED = "OK. I have stopped the form.\nNothing was sent."

# The register service's field for each form slot, so its refusals can be asked again.
SLOT_OF_FIELD = {
    ("person", "given_name"): "self_given_name",
    ("person", "family_name"): "self_family_name",
    ("person", "date_of_birth"): "self_date_of_birth",
    ("person", "postcode"): "self_postcode",
    ("person", "phone"): "self_contact",
    ("person", "email"): "self_contact",
}

_POSTCODE = re.compile(r"\b([A-Z]{1,2}\d[A-Z\d]?) ?(\d[A-Z]{2})\b")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_PHONE = re.compile(r"(?:0|\+44)\d{9,10}")


def who_from(text: str) -> str | None:
    """'me' -> self; 'someone I care for', 'my son' -> family (the service's referrer kinds)."""
    words = set(re.findall(r"[a-z]+", text.lower()))
    family = {"care", "carer", "child", "son", "daughter", "parent", "mum", "dad", "someone"}
    family |= {"brother", "sister", "grandson", "granddaughter", "boy", "girl", "them", "family"}
    if words & family:
        return "family"
    if words & {"me", "myself", "i", "mine", "self"}:
        return "self"
    return None


def diagnosis_from(text: str) -> str | None:
    """The person's words as the service's diagnosis answers. "Learning difficulty" is passed on
    as what it is, for the service to judge (001 section 9)."""
    said = text.lower()
    if re.search(r"\bboth\b", said):
        return "both"
    if re.search(r"not sure|don'?t know|unsure|waiting|\bno\b|\bnot yet\b|\bnope\b", said):
        return "unknown"
    if "difficult" in said:
        return "learning_difficulty_only"
    autism = re.search(r"autis|\basd\b|asperger", said)
    disability = re.search(r"learning disab|\bld\b", said)
    if autism and disability:
        return "both"
    if autism:
        return "autism"
    if disability:
        return "learning_disability"
    return None


def date_from(text: str) -> date | None:
    """The date with day, month and year the person typed, if there is one. Whether it is a date
    of birth the register accepts is the service's to say."""
    try:
        first = date_parser.parse(text, dayfirst=True, fuzzy=True, default=datetime(1900, 1, 1))
        second = date_parser.parse(text, dayfirst=True, fuzzy=True, default=datetime(2000, 2, 2))
    except (ValueError, OverflowError):
        return None
    if first != second:  # the day, month or year came from the default, not from the text
        return None
    return first.date()


def postcode_from(text: str) -> str:
    """The part of the answer that looks like a postcode, else the whole answer: whether it is
    one, and how it is written, is the service's to say."""
    match = _POSTCODE.search(re.sub(r"\s+", " ", text.upper()))
    return f"{match.group(1)} {match.group(2)}" if match else " ".join(text.split())


async def checked_answer(
    field: str, candidate: str, dispatcher: CollectingDispatcher
) -> str | None:
    """One answer checked by the register service as a referral's would be (POST
    /api/v1/referrals/answers/check): its normalised value, or None after saying why not. When the
    service is not answering the answer is kept as given, and the person is told; the referral is
    checked again when it is sent."""
    try:
        result = await register_client.check_answers({field: candidate})
    except register_client.RegisterUnavailable:
        say(dispatcher, [ANSWER_KEPT])
        return candidate
    checked = result[field]
    if checked["ok"]:
        return str(checked["value"])
    say(dispatcher, [checked["message"]])
    return None


def contact_from(text: str) -> str | None:
    email = _EMAIL.search(text)
    if email:
        return email.group(0)
    digits = re.sub(r"[\s()-]", "", text)
    phone = _PHONE.search(digits)
    return phone.group(0) if phone else None


def eligibility_answers(slots: dict[str, Any]) -> dict[str, Any]:
    diagnosis = slots["self_diagnosis"]
    return {
        "referrer_kind": slots["self_who"],
        "diagnosis": diagnosis,
        "diagnosis_confirmed": diagnosis in ACCEPTED_DIAGNOSES,
        "date_of_birth": slots["self_date_of_birth"],
        "postcode": slots["self_postcode"],
        "council_area": slots["self_area"],
    }


def referral_body(slots: dict[str, Any], suggestion: dict[str, Any], today: date) -> dict[str, Any]:
    contact = slots["self_contact"]
    how = {"email": contact} if "@" in contact else {"phone": contact}
    return {
        "referral_source": "self",
        "eligibility": eligibility_answers(slots),
        "rating": {"suggestion": suggestion},
        "consent": {
            "given": True,
            "given_by": "person" if slots["self_who"] == "self" else "parent_carer_guardian",
            "given_on": today.isoformat(),
        },
        "person": {
            "given_name": slots["self_given_name"],
            "family_name": slots["self_family_name"],
            "date_of_birth": slots["self_date_of_birth"],
            "postcode": slots["self_postcode"],
            **how,
        },
        "current_situation": slots["self_situation"],
    }


def form_slots(domain: DomainDict) -> list[str]:
    return list(domain.get("forms", {}).get(FORM, {}).get("required_slots", []))


def reset(domain: DomainDict) -> list[EventType]:
    """Clears the answers, so nothing personal waits in the slots and a new form starts blank."""
    names = [*form_slots(domain), "self_referral_stop", "self_referral_key"]
    return [SlotSet(name, None) for name in names]


def coordinator_lines(variant: dict[str, Any]) -> list[str]:
    """The variant's coordinator: how they reach people who referred themselves (003)."""
    lines: list[str] = []
    for contact in variant["contacts"]:
        if contact["kind"] != "coordinator":
            continue
        if contact.get("how_to_reach"):
            lines.append(contact["how_to_reach"])
        if contact.get("email"):
            lines.append(CONTACT_EMAIL.format(email=contact["email"]))
    return lines


class ActionCheckSelfReferral(Action):
    """Starts the form where the variant allows self-referral; elsewhere says, kindly, that a
    professional refers and who to ask."""

    def name(self) -> str:
        return "action_check_self_referral"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        try:
            variant = await register_client.get_variant()
        except (register_client.RegisterUnavailable, register_client.RegisterRejected):
            say(dispatcher, [UNAVAILABLE])
            return [SlotSet("self_referral_allowed", False)]
        if not variant["self_referral"]:
            lines = easy_read.answer(
                SELF_REFERRAL_TOPIC, variant["id"], contacts=variant["contacts"]
            )
            say(
                dispatcher,
                [*lines, ASK_A_WORKER],
                follow_up_buttons(SELF_REFERRAL_TOPIC, variant["id"]),
            )
            return [SlotSet("self_referral_allowed", False)]
        say(dispatcher, [INTRO])
        return [
            *reset(domain),
            SlotSet("self_referral_allowed", True),
            SlotSet("self_referral_key", f"self-referral-{uuid.uuid4()}"),
        ]


class _AskQuestion(Action, ABC):
    """Asks one of the form's QUESTIONS (Rasa runs `action_ask_<slot>` to ask for a slot)."""

    @property
    @abstractmethod
    def slot(self) -> str: ...

    def name(self) -> str:
        return f"action_ask_{self.slot}"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        text, buttons = QUESTIONS[self.slot]
        dispatcher.utter_message(
            text=text, buttons=[{"title": title, "payload": payload} for title, payload in buttons]
        )
        return []


class ActionAskSelfWho(_AskQuestion):
    slot = "self_who"


class ActionAskSelfGivenName(_AskQuestion):
    slot = "self_given_name"


class ActionAskSelfFamilyName(_AskQuestion):
    slot = "self_family_name"


class ActionAskSelfDateOfBirth(_AskQuestion):
    slot = "self_date_of_birth"


class ActionAskSelfPostcode(_AskQuestion):
    slot = "self_postcode"


class ActionAskSelfDiagnosis(_AskQuestion):
    slot = "self_diagnosis"


class ActionAskSelfSituation(_AskQuestion):
    slot = "self_situation"


class ActionAskSelfConsent(_AskQuestion):
    slot = "self_consent"


class ActionAskSelfContact(_AskQuestion):
    slot = "self_contact"


class ActionAskSelfArea(Action):
    """Asks the council area, with the area the postcode suggests first: a postcode is a hint the
    person confirms, never the answer (000, 001 section 9)."""

    def name(self) -> str:
        return "action_ask_self_area"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        try:
            variant = await register_client.get_variant()
            hint = await register_client.lookup_contacts(tracker.get_slot("self_postcode"))
        except (register_client.RegisterUnavailable, register_client.RegisterRejected):
            say(dispatcher, [UNAVAILABLE])
            return []
        names = [area["name"] for area in variant["areas"]]
        lines = [ASK_AREA]
        if hint["status"] == "found" and hint["area"]:
            suggested = hint["area"]["name"]
            lines.insert(0, POSTCODE_SUGGESTS.format(area=suggested))
            names = [suggested, *(name for name in names if name != suggested)]
        say(dispatcher, lines, [{"title": name, "payload": name} for name in names])
        return []


def answered(validate: Validator) -> Validator:
    """Skips a slot cleared to None: a new form starts blank, and Rasa asks the validator about
    those cleared slots too when the form starts."""

    async def checked(
        self: Any,
        value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        if value is None:
            return {validate.__name__.removeprefix("validate_"): None}
        return await utils.call_potential_coroutine(
            validate(self, value, dispatcher, tracker, domain)
        )

    checked.__name__ = validate.__name__
    return checked


class ValidateSelfReferralForm(FormValidationAction):
    def name(self) -> str:
        return "validate_self_referral_form"

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[str]:
        # Not eligible, or no consent: the form ends here and nothing is sent.
        if tracker.get_slot("self_referral_stop"):
            return []
        return domain_slots

    @answered
    def validate_self_who(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        who = who_from(str(value))
        if who is None:
            say(dispatcher, [PICK_A_BUTTON])
        return {"self_who": who}

    def _name(self, slot: str, value: Any, dispatcher: CollectingDispatcher) -> dict[str, Any]:
        name = " ".join(str(value).split())
        if not name or len(name) > 100 or not re.search(r"[^\W\d_]", name):
            say(dispatcher, [NAME_PROBLEM])
            return {slot: None}
        return {slot: name}

    @answered
    def validate_self_given_name(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return self._name("self_given_name", value, dispatcher)

    @answered
    def validate_self_family_name(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return self._name("self_family_name", value, dispatcher)

    @answered
    async def validate_self_date_of_birth(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        found = date_from(str(value))
        if found is None:
            say(dispatcher, [DATE_PROBLEM])
            return {"self_date_of_birth": None}
        born = await checked_answer("date_of_birth", found.isoformat(), dispatcher)
        return {"self_date_of_birth": born}

    @answered
    async def validate_self_postcode(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        candidate = postcode_from(str(value))[:16]
        postcode = await checked_answer("postcode", candidate, dispatcher)
        return {"self_postcode": postcode}

    @answered
    async def validate_self_area(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        try:
            found = await register_client.lookup_contacts(str(value))
        except (register_client.RegisterUnavailable, register_client.RegisterRejected):
            say(dispatcher, [UNAVAILABLE])
            return {"self_area": None}
        if found["status"] == "found" and found["area"] and not found["hint_only"]:
            return {"self_area": found["area"]["id"]}
        if found["status"] == "not_found":
            say(dispatcher, [AREA_NOT_FOUND.format(variant=found["variant_name"])])
        else:
            say(dispatcher, [AREA_SEVERAL])
        return {"self_area": None}

    @answered
    async def validate_self_diagnosis(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """The last answer eligibility needs: the service checks it now, so nobody answers the
        rest of the form for a referral that cannot be accepted."""
        diagnosis = diagnosis_from(str(value))
        if diagnosis is None:
            say(dispatcher, [PICK_A_BUTTON])
            return {"self_diagnosis": None}
        slots = {**tracker.slots, "self_diagnosis": diagnosis}
        try:
            result = await register_client.check_eligibility(eligibility_answers(slots))
        except (register_client.RegisterUnavailable, register_client.RegisterRejected):
            say(dispatcher, [UNAVAILABLE])
            return {"self_diagnosis": None}
        if result["eligible"]:
            return {"self_diagnosis": diagnosis}
        unmet = [reason["text"] for reason in result["reasons"] if not reason["met"]]
        instead = [result["what_to_do_instead"]] if result.get("what_to_do_instead") else []
        say(dispatcher, [*unmet, *instead, ASK_A_WORKER, NOT_SENT])
        return {"self_diagnosis": diagnosis, "self_referral_stop": "not_eligible"}

    @answered
    def validate_self_situation(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        situation = str(value).strip()
        if not situation:
            say(dispatcher, [SITUATION_PROBLEM])
            return {"self_situation": None}
        return {"self_situation": situation[:20_000]}

    @answered
    def validate_self_consent(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if value is True:
            return {"self_consent": True}
        say(dispatcher, [NO_CONSENT, NOT_SENT])
        return {"self_consent": False, "self_referral_stop": "no_consent"}

    @answered
    def validate_self_contact(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        contact = contact_from(str(value))
        if contact is None:
            say(dispatcher, [CONTACT_PROBLEM])
        return {"self_contact": contact}


class ActionSubmitSelfReferral(Action):
    """Sends the completed form as a self-referral, and says the coordinator will tell them the
    outcome (003). A refusal the person can put right is asked again; anything else is said."""

    def name(self) -> str:
        return "action_submit_self_referral"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        slots = {name: tracker.get_slot(name) for name in form_slots(domain)}
        if tracker.get_slot("self_referral_stop") or any(v is None for v in slots.values()):
            return reset(domain)  # the form ended early and has already said why
        key = tracker.get_slot("self_referral_key") or f"self-referral-{uuid.uuid4()}"
        try:
            variant = await register_client.get_variant()
            suggestion = await register_client.suggest_rating({"criteria_ids": []})
            created = await register_client.submit_referral(
                referral_body(slots, suggestion, date.today()), key
            )
        except register_client.RegisterUnavailable:
            say(dispatcher, [UNAVAILABLE, NOT_SENT])
            return reset(domain)
        except register_client.RegisterRejected as refused:
            return self._refused(dispatcher, refused, domain)
        say(
            dispatcher,
            [SENT.format(dsp_id=created["dsp_id"]), *coordinator_lines(variant)],
            [
                {
                    "title": easy_read.title(AFTER_REFERRAL_TOPIC, variant["id"]),
                    "payload": f"/ask_{AFTER_REFERRAL_TOPIC}",
                }
            ],
        )
        return reset(domain)

    def _refused(
        self,
        dispatcher: CollectingDispatcher,
        refused: register_client.RegisterRejected,
        domain: DomainDict,
    ) -> list[EventType]:
        if refused.status_code == 409:
            say(dispatcher, [ALREADY_ON_LIST, NOT_SENT])
            return reset(domain)
        problems = refused.detail if isinstance(refused.detail, list) else [refused.detail]
        messages = [str(p.get("msg", "")) if isinstance(p, dict) else str(p) for p in problems]
        fields = [tuple(p.get("loc", [])[1:3]) if isinstance(p, dict) else () for p in problems]
        again = [SLOT_OF_FIELD.get(field) for field in fields]
        if again and all(again):
            say(dispatcher, [FIX_THESE, *messages, LET_US_FIX])
            # The corrected answers are a different request: it gets its own key.
            return [
                *(SlotSet(slot, None) for slot in dict.fromkeys(again)),
                SlotSet("self_referral_key", f"self-referral-{uuid.uuid4()}"),
                FollowupAction(FORM),
            ]
        say(dispatcher, [FIX_THESE, *messages, ASK_A_WORKER, NOT_SENT])
        return reset(domain)


class ActionExplainSelfReferralQuestion(Action):
    """Says why the form asks the question it is waiting for; the form then asks it again."""

    def name(self) -> str:
        return "action_explain_self_referral_question"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        why = WHY.get(str(tracker.get_slot("requested_slot")))
        if why:
            say(dispatcher, [why])
        return []


class ActionStopSelfReferral(Action):
    """The person stopped the form: nothing is sent and their answers are cleared."""

    def name(self) -> str:
        return "action_stop_self_referral"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        say(dispatcher, [STOPPED])
        return reset(domain)

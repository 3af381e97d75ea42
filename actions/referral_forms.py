"""The guided referral's forms: what each asks, how an answer is read, and what they share.

The referral is a chain of short forms (eligibility -> rating -> decision -> consent -> MAM ->
details -> confirm), each asking only what is still needed. One table, FIELDS, says for every
slot how it is asked, why it is needed, how to read an answer and what a person calls it; the form
validators, the ask actions, the summary and "why do you need this?" all read it.

Nothing here decides eligibility, a rating or whether an answer is acceptable: the stage
functions read the variant the register service publishes (GET /api/v1/variant) to choose which
questions apply, and the service answers the questions themselves. Reading an answer here is
parsing only (finding the digits, a postcode-shaped token or an email in a sentence, reading a typed
date); whether it is a valid NHS number, postcode, email, phone, date of birth, consent or rating,
and the age group a date of birth gives, the service says (POST /api/v1/referrals/answers/check,
the same checks a referral goes through), so a mistyped answer is asked again at once.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Final

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction
from rasa_sdk.types import DomainDict

from actions import register_client

REQUESTED_SLOT: Final = "requested_slot"
FAILURES: Final = "ref_failures"
# An optional answer the referrer chose to leave out; sent to the service as "not given".
SKIPPED: Final = "__skipped__"
OTHER_COUNCIL: Final = "other"
OUTSIDE: Final = "outside"
UNKNOWN: Final = "unknown"
SERVICE_DOWN_IN_FORM: Final = (
    "I could not check that answer: the register service is not answering just now. Your "
    "earlier answers are kept. Please give that answer again in a minute."
)
SERVICE_DOWN_ANSWER_KEPT: Final = (
    "I could not check that answer: the register service is not answering just now. I have kept "
    "it as you gave it, and it will be checked when the referral is sent."
)

# ---- reading answers ------------------------------------------------------------------------------

_YES = frozenset(
    [
        "yes",
        "y",
        "yeah",
        "yea",
        "yep",
        "yup",
        "ye",
        "yes please",
        "ys",
        "yse",
        "yess",
        "yesh",
        "correct",
        "right",
        "sure",
        "ok",
        "okay",
        "true",
        "affirmative",
        "they are",
        "he is",
        "she is",
        "it is",
        "i have",
        "we have",
        "absolutely",
        "definitely",
        "of course",
        "please do",
        "go ahead",
        "confirm",
        "confirmed",
        "agreed",
        "agree",
        "that's right",
        "thats right",
        "that is right",
    ]
)
_NO = frozenset(
    [
        "no",
        "n",
        "nope",
        "nah",
        "na",
        "not",
        "negative",
        "none",
        "no they are not",
        "they are not",
        "he is not",
        "she is not",
        "it is not",
        "no thanks",
        "no thank you",
        "not really",
        "never",
        "nop",
        "noo",
        "nö",
        "false",
        "i have not",
        "we have not",
        "no it isn't",
        "no it is not",
    ]
)
_SKIP = frozenset(
    [
        "skip",
        "skip it",
        "skip this",
        "skip that",
        "pass",
        "next",
        "leave it",
        "leave it out",
        "leave blank",
        "n/a",
        "na",
        "not applicable",
        "not known",
        "unknown",
        "don't know",
        "dont know",
        "do not know",
        "not sure",
        "rather not say",
        "prefer not to say",
        "no idea",
        "none known",
    ]
)

# Said of a field that must be answered, these ask to skip it; "none known" is an answer.
_EXPLICIT_SKIP = frozenset({"skip", "skip it", "skip this", "skip that", "pass", "next"})


def normalise(text: str) -> str:
    """Lower case with single spaces and without the punctuation people end answers with."""
    return " ".join(re.sub(r"[.!?,;:]+$", "", text.strip().lower()).split())


def intent_of(tracker: Tracker) -> str | None:
    intent = (tracker.latest_message or {}).get("intent") or {}
    return intent.get("name")


def yes_or_no(text: str, intent: str | None = None) -> bool | None:
    """True, False or None when the answer is neither (never a guess)."""
    said = normalise(text)
    if said in _YES:
        return True
    if said in _NO:
        return False
    first = said.split(" ", 1)[0] if said else ""
    if first in {"yes", "yeah", "yep", "yup", "yes,"}:
        return True
    if first in {"no", "nope", "nah", "no,"}:
        return False
    if intent == "affirm":
        return True
    if intent == "deny":
        return False
    return None


def wants_to_skip(text: str, intent: str | None) -> bool:
    return intent == "skip" or normalise(text) in _SKIP


_MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ],
        start=1,
    )
    for name in names
}


def read_date(text: str, today: date) -> date | str:
    """A date as people type it, or a plain-English reason it is not one."""
    said = normalise(text)
    if said in {"today", "today's date", "todays date", "this morning", "this afternoon"}:
        return today
    if said == "yesterday":
        return today - timedelta(days=1)
    parts: tuple[int, int, int] | None = None
    if match := re.search(r"\b(\d{4})-(\d{1,2})-(\d{1,2})\b", said):
        parts = (int(match[1]), int(match[2]), int(match[3]))
    elif match := re.search(r"\b(\d{1,2})\s*[/.\-]\s*(\d{1,2})\s*[/.\-]\s*(\d{2,4})\b", said):
        if len(match[3]) != 4:
            return "Please give the year in full, for example 14/03/2009."
        parts = (int(match[3]), int(match[2]), int(match[1]))
    elif match := re.search(
        r"\b(\d{1,2})(?:st|nd|rd|th)?(?:\s+of)?\s+([a-z]+)\.?,?\s+(\d{4})\b", said
    ):
        month = _MONTHS.get(match[2])
        if month:
            parts = (int(match[3]), month, int(match[1]))
    elif match := re.search(r"\b([a-z]+)\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})\b", said):
        month = _MONTHS.get(match[1])
        if month:
            parts = (int(match[3]), month, int(match[2]))
    if parts is None:
        return "I could not read that as a date. Please write it like 14/03/2009."
    try:
        return date(*parts)
    except ValueError:
        return "That date does not exist: please check the day and the month."


# Shapes to find an answer in a sentence ("it's LE1 6TH I think"). Whether what is found is a
# valid NHS number, postcode, email or phone, the register service says.
_DIGITS_IN_TEXT = re.compile(r"\d(?:[\d\s-]*\d)?")
_POSTCODE_IN_TEXT = re.compile(r"\b([A-Za-z]{1,2}\d[A-Za-z\d]?)\s*(\d[A-Za-z]{2})\b")
_EMAIL = re.compile(r"[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
_PHONE = re.compile(r"(?:\+\d[\d\s().-]{7,18}\d|\b0[\d\s().-]{8,14}\d)")


def find_nhs_number(text: str) -> str | None:
    """The digits typed as an NHS number, grouped or not: the longest run of digits (with the
    spaces and hyphens people group them by)."""
    runs = _DIGITS_IN_TEXT.findall(text)
    return max(runs, key=len) if runs else None


def find_postcode(text: str) -> str | None:
    """A postcode-shaped token, as typed ("le1 6th", "LE16TH")."""
    match = _POSTCODE_IN_TEXT.search(text)
    return f"{match[1]} {match[2]}" if match else None


def find_email(text: str) -> str | None:
    match = _EMAIL.search(text)
    return match[0] if match else None


def find_phone(text: str) -> str | None:
    """The first phone-shaped run of digits, as typed."""
    match = _PHONE.search(text)
    return match[0].strip() if match else None


def contact_parts(text: str) -> tuple[list[str], str | None, str | None]:
    """Splits "Jo Bloggs, social worker, jo@x.gov.uk, 0116 454 1000" into the words that are
    neither email nor phone (in order), the email and the phone."""
    email = find_email(text)
    phone = find_phone(text)
    rest = text
    if email:
        rest = rest.replace(email, ",")
    if phone:
        rest = re.sub(_PHONE, ",", rest, count=1)
    parts = [p.strip(" -") for p in re.split(r"[,;\n]|\s+-\s+", rest)]
    return [p for p in parts if p], email, phone


# ---- one answer, checked --------------------------------------------------------------------------


@dataclass(frozen=True)
class Ok:
    value: Any
    also: dict[str, Any] = field(default_factory=dict)  # other slots this answer settles
    # The register service could not check it: kept as given; the referral is checked when sent.
    unchecked: bool = False


@dataclass(frozen=True)
class Bad:
    message: str
    # False for a suggestion to confirm (a town or postcode names an area): not the referrer's error.
    counts: bool = True
    buttons: tuple[tuple[str, str], ...] = ()


Parsed = Ok | Bad


class Context:
    """What reading an answer may need: the slots so far, the message, today and the variant."""

    def __init__(self, tracker: Tracker, today: date | None = None) -> None:
        self.tracker = tracker
        self.today = today or date.today()

    @property
    def slots(self) -> dict[str, Any]:
        return self.tracker.slots

    def slot(self, name: str) -> Any:
        return self.tracker.get_slot(name)

    @property
    def intent(self) -> str | None:
        return intent_of(self.tracker)

    async def variant(self) -> dict[str, Any]:
        return await register_client.get_variant_cached()


Parser = Callable[[str, Context], Awaitable[Parsed]]
Render = str | Callable[[Context], Awaitable[str]]
ButtonsFor = tuple[tuple[str, str], ...] | Callable[[Context], Awaitable[list[tuple[str, str]]]]

YES_NO: Final = (("Yes", "yes"), ("No", "no"))


async def render(value: Render, ctx: Context) -> str:
    return value if isinstance(value, str) else await value(ctx)


@dataclass(frozen=True)
class Field:
    slot: str
    label: str  # what a person calls it, for the summary and messages
    prompt: Render
    why: Render  # "why do you need this?"
    parse: Parser
    hint: str = ""  # the format, shown after two failures
    buttons: ButtonsFor = ()
    optional: bool = False
    keywords: tuple[str, ...] = ()  # how a referrer names it: "change the postcode"
    section: str = ""


# ---- asking the register service whether an answer is acceptable ----------------------------------

# The most the service reads as one answer; every field's own limit is far below it.
_ANSWER_LIMIT: Final = 1000


async def service_check(answers: Mapping[str, Any]) -> dict[str, Any] | None:
    """The register service's check of these answers, the one a referral goes through
    (POST /api/v1/referrals/answers/check), or None when it is not answering: the answer is then
    kept as given, the form says so, and the referral is checked again when it is sent."""
    try:
        return await register_client.check_answers(dict(answers))
    except register_client.RegisterUnavailable:
        return None


async def checked_formats(answers: Mapping[str, str]) -> Parsed:
    """Ok with {name: the answer as the register keeps it} ("LE1 6TH", "9434765919"), or Bad
    with the service's plain-English reasons."""
    asked = {name: text[:_ANSWER_LIMIT] for name, text in answers.items()}
    result = await service_check(asked)
    if result is None:
        return Ok(asked, unchecked=True)
    refused = [result[name]["message"] for name in asked if not result[name]["ok"]]
    if refused:
        return Bad(" ".join(refused))
    return Ok({name: result[name]["value"] for name in asked})


async def checked_format(name: str, candidate: str) -> Parsed:
    checked = await checked_formats({name: candidate})
    if isinstance(checked, Bad):
        return checked
    return Ok(checked.value[name], unchecked=checked.unchecked)


def age_group_settled(slots: Mapping[str, Any], group: str | None) -> dict[str, Any]:
    """The slots a new age group from the service settles: `ref_age_group` itself (it chooses
    the out-of-area questions, the concerns and the sections to ask), and, where it changed, the
    concerns chosen for the other register (CYP or adult), which has other criteria: they are
    asked again."""
    settled: dict[str, Any] = {"ref_age_group": group}
    if slots.get("ref_age_group") not in (None, group):
        settled.update(
            {"ref_criteria": None, "ref_other_concern": None, "ref_rating_suggestion": None}
        )
    return settled


async def free_text(text: str, _ctx: Context, *, min_words: int = 1) -> Parsed:
    answer = text.strip()
    if not re.search(r"[A-Za-z0-9]", answer):
        return Bad("I did not catch an answer there. Please type it in words.")
    if len(answer.split()) < min_words:
        return Bad("Please say a little more: a few sentences are best. Long answers are welcome.")
    return Ok(answer[:20_000])


async def short_text(text: str, ctx: Context) -> Parsed:
    parsed = await free_text(text, ctx)
    if isinstance(parsed, Ok) and len(parsed.value) > 500:
        return Bad("That is longer than this answer can hold (500 characters): please shorten it.")
    return parsed


async def long_text(text: str, ctx: Context) -> Parsed:
    return await free_text(text, ctx, min_words=2)


async def situation_text(text: str, ctx: Context) -> Parsed:
    return await free_text(text, ctx, min_words=5)


async def yes_no(text: str, ctx: Context) -> Parsed:
    answer = yes_or_no(text, ctx.intent)
    if answer is None:
        return Bad("Sorry, I did not catch that. Please answer yes or no.", buttons=YES_NO)
    return Ok(answer)


def choice(options: Sequence[tuple[str, Sequence[str]]], ask: str) -> Parser:
    """Reads one of several answers by the words people use for each (first match wins)."""

    async def parse(text: str, _ctx: Context) -> Parsed:
        said = f" {normalise(text)} "
        for value, words in options:
            if any(f" {word} " in said for word in words):
                return Ok(value)
        return Bad(f"Sorry, I did not catch that. {ask}")

    return parse


# -- eligibility --

parse_referrer_kind = choice(
    [
        ("self", ["i am the person", "myself", "me", "self"]),
        ("family", ["family", "parent", "mum", "mom", "dad", "carer", "relative", "guardian"]),
        ("education", ["education", "teacher", "school", "senco", "college", "tutor", "teaching"]),
        (
            "social_care",
            [
                "social care",
                "social worker",
                "social work",
                "socialcare",
                "council",
                "support worker",
            ],
        ),
        (
            "health",
            [
                "health",
                "nhs",
                "nurse",
                "doctor",
                "gp",
                "camhs",
                "psychiatrist",
                "psychologist",
                "therapist",
                "clinician",
                "paediatrician",
                "hospital",
                "helth",
                "healthcare",
            ],
        ),
    ],
    "Please choose health, social care or education.",
)

parse_diagnosis = choice(
    [
        (
            "both",
            [
                "both",
                "ld and autism",
                "autism and ld",
                "learning disability and autism",
                "autism and learning disability",
                "autism and a learning disability",
            ],
        ),
        (
            "learning_difficulty_only",
            [
                "difficulty",
                "difficulties",
                "dyslexia",
                "dyspraxia",
                "dyslexic",
                "difficulity",
                "dificulty",
            ],
        ),
        ("unknown", ["not sure", "unsure", "don't know", "dont know", "unknown", "not known"]),
        ("none", ["no diagnosis", "none", "not diagnosed", "awaiting", "waiting", "no"]),
        (
            "learning_disability",
            [
                "learning disability",
                "learning disabilities",
                "ld",
                "intellectual disability",
                "learning disabilty",
                "lerning disability",
            ],
        ),
        (
            "autism",
            ["autism", "autistic", "asd", "asc", "asperger", "aspergers", "autisim", "autsim"],
        ),
    ],
    "Please choose one of the options: learning disability, autism, both, a learning "
    "difficulty, no diagnosis yet, or not sure.",
)

parse_confirmation = choice(
    [
        (
            "not_confirmed",
            ["not confirmed", "not yet", "unconfirmed", "awaiting", "waiting", "suspected", "no"],
        ),
        (
            "confirmed_no_evidence",
            [
                "without evidence",
                "no evidence",
                "not to hand",
                "don't have",
                "dont have",
                "evidence not",
                "not got",
                "haven't got",
            ],
        ),
        (
            "confirmed_with_evidence",
            [
                "with evidence",
                "have the evidence",
                "have evidence",
                "yes",
                "confirmed",
                "letter",
                "report",
                "i have it",
                "yep",
                "yeah",
            ],
        ),
    ],
    "Please choose: confirmed with evidence, confirmed but evidence not to hand, or not "
    "confirmed yet.",
)


def _area_buttons(variant: Mapping[str, Any]) -> list[tuple[str, str]]:
    return [(area["name"], area["name"]) for area in variant["areas"]]


def _area_by_name(text: str, variant: Mapping[str, Any]) -> str | None:
    said = normalise(text)
    for area in variant["areas"]:
        names = {
            area["id"],
            area["name"].lower(),
            area["council"].lower(),
            area["id"].replace("_", " "),
        }
        if said in names:
            return str(area["id"])
    return None


async def parse_council_area(text: str, ctx: Context) -> Parsed:
    variant = await ctx.variant()
    said = normalise(text)
    if said in {
        "somewhere else",
        "elsewhere",
        "outside",
        "out of area",
        "another area",
        "none of these",
        "other",
        "not in the area",
        "outside the area",
    }:
        return Ok(OUTSIDE)
    if said in {"not sure", "don't know", "dont know", "unknown", "unsure", "no idea"}:
        return Ok(UNKNOWN)
    found = _area_by_name(text, variant)
    if found:
        return Ok(found)
    choices = (
        *_area_buttons(variant),
        ("Somewhere else", "somewhere else"),
        ("Not sure", "not sure"),
    )
    answer = await register_client.lookup_contacts(text, audience="professional")
    area = answer.get("area")
    if answer.get("status") == "found" and area:
        if answer.get("matched_by") in {"council", "area"} and not answer.get("hint_only"):
            return Ok(area["id"])
        # A town, a postcode or a near spelling only suggests an area: ask, never assume (001 s9).
        return Bad(
            f"That suggests {area['name']}, but a town or postcode cannot decide it. Is the "
            f"person's home address in the {area['name']} council area?",
            counts=False,
            buttons=(
                (area["name"], area["name"]),
                ("Somewhere else", "somewhere else"),
                ("Not sure", "not sure"),
            ),
        )
    if answer.get("status") == "ambiguous":
        names = [c["name"] for c in answer.get("choices", [])]
        return Bad(
            f"That could be {' or '.join(names)}: which council area is it?",
            counts=False,
            buttons=tuple((n, n) for n in names),
        )
    return Bad(
        f"I do not know that place in {variant['name']}. Please choose the council area, or "
        "'Somewhere else' if the person lives outside it.",
        buttons=choices,
    )


async def parse_placing_council(text: str, ctx: Context) -> Parsed:
    variant = await ctx.variant()
    if normalise(text) in {
        "another council",
        "other",
        "another",
        "none of these",
        "somewhere else",
    }:
        return Ok(OTHER_COUNCIL)
    found = _area_by_name(text, variant)
    if found:
        return Ok(found)
    answer = await register_client.lookup_contacts(text, audience="professional")
    area = answer.get("area")
    if answer.get("status") == "found" and area and answer.get("matched_by") in {"council", "area"}:
        return Ok(area["id"])
    return Bad(
        "Please choose the council that placed them, or 'Another council'.",
        buttons=(*_area_buttons(variant), ("Another council", "another council")),
    )


parse_gp = choice(
    [
        (UNKNOWN, ["not sure", "don't know", "dont know", "unknown", "unsure"]),
        ("no", ["no", "nope", "not", "outside"]),
        ("yes", ["yes", "yeah", "yep", "it is", "they are", "correct"]),
    ],
    "Please answer yes, no or not sure.",
)


async def parse_date_of_birth(text: str, ctx: Context) -> Parsed:
    """A typed date, checked by the service, which also gives the age group (kept in
    `ref_age_group`: the stages read it from there)."""
    found = read_date(text, ctx.today)
    if isinstance(found, str):
        return Bad(found)
    result = await service_check({"date_of_birth": found.isoformat()})
    if result is None:
        # The age group stays as it was; action_referral_next asks the service for it again.
        return Ok(found.isoformat(), unchecked=True)
    answer = result["date_of_birth"]
    if not answer["ok"]:
        return Bad(answer["message"])
    return Ok(answer["value"], age_group_settled(ctx.slots, result["age_group"]))


# -- rating --


def criteria_for(variant: Mapping[str, Any], age_group: str | None) -> list[dict[str, Any]]:
    """The variant's criteria a referrer can tick, in its order, for this age group."""
    ratings = variant["ratings"]
    found = [c for d in ratings["definitions"] for c in d.get("criteria", [])]
    found += list(ratings.get("concerns", []))
    return [c for c in found if age_group is None or age_group in c.get("applies_to", [age_group])]


def criterion_title(criterion: Mapping[str, Any]) -> str:
    rag, _, rest = str(criterion["id"]).partition(".")
    words = " ".join("MAM" if word == "mam" else word for word in rest.split("_"))
    return f"{rag.capitalize()}: {words}"


async def parse_criteria(text: str, ctx: Context) -> Parsed:
    variant = await ctx.variant()
    options = criteria_for(variant, ctx.slot("ref_age_group"))
    said = normalise(text)
    other = any(word in said for word in ("other", "another", "something else"))
    if said in {"none", "none of these", "no", "nothing", "neither"}:
        return Ok([], {"ref_other_concern": False})
    chosen: list[str] = []
    for number in re.findall(r"\d+", said):
        index = int(number) - 1
        if not 0 <= index < len(options):
            return Bad(f"Please use the numbers 1 to {len(options)}.")
        chosen.append(options[index]["id"])
    for criterion in options:
        words = str(criterion["id"]).partition(".")[2].replace("_", " ")
        if words in said or criterion["id"] in said:
            chosen.append(criterion["id"])
    if not chosen and not other:
        return Bad(
            "Please type the numbers of the concerns that apply (for example '1 3'), 'none', or "
            "'another concern' if something else significant is happening."
        )
    return Ok(list(dict.fromkeys(chosen)), {"ref_other_concern": other})


parse_inpatient = choice(
    [
        ("neither", ["neither", "none", "no", "not", "nope"]),
        ("discharged", ["discharged", "recently", "left hospital", "came out", "come out"]),
        ("now", ["now", "currently", "in hospital", "inpatient", "admitted", "on a ward", "yes"]),
    ],
    "Please choose: in an inpatient unit now, recently discharged, or neither.",
)


def rating_choices(ctx_slots: Mapping[str, Any]) -> list[str]:
    """The ratings to offer: the one an out-of-area exception needs, else those the service's
    suggestion says may be chosen at referral (red only where a direct ROAR referral is allowed,
    green only for someone discharged from an inpatient hospital: 001 s10)."""
    required = (ctx_slots.get("ref_eligibility") or {}).get("rating_required")
    if required:
        return [required]
    suggestion = ctx_slots.get("ref_rating_suggestion") or {}
    return list(suggestion.get("choosable_at_referral") or [])


async def parse_rating_decision(text: str, ctx: Context) -> Parsed:
    """The rating the referrer chooses among those offered. Whether anyone is referred with it in
    this variant, and the register it goes on (`ref_register`), the service says."""
    variant = await ctx.variant()
    offered = rating_choices(ctx.slots)
    choose = " or ".join(offered)
    suggested = (ctx.slot("ref_rating_suggestion") or {}).get("rag")
    said = normalise(text)
    named = [rag for rag in ("amber", "red", "green", "blue") if re.search(rf"\b{rag}\b", said)]
    if not named and yes_or_no(text, ctx.intent) is True and suggested in offered:
        named = [suggested]
    if len(named) != 1:
        return Bad(f"Please choose {choose}.")
    rag = named[0]
    # Not kept unchecked when the service is down: the register decides the questions that
    # follow, so the base form says so and the rating is asked again.
    result = await register_client.check_answers({"rag": rag})
    if not result["rag"]["ok"]:
        return Bad(f"{result['rag']['message']} For this referral you can choose {choose}.")
    if rag in offered:
        return Ok(rag, {"ref_register": result["register"]})
    reasons = (ctx.slot("ref_rating_suggestion") or {}).get("reasons", [])
    route = [r for r in reasons if "ROAR" in r and rag == "red"]
    definition = next((d for d in variant["ratings"]["definitions"] if d["rag"] == rag), None)
    why = route[0] if route else (definition or {}).get("at_referral") or ""
    return Bad(f"A {rag} rating is not open for this referral. {why} You can choose {choose}.")


# -- consent --

_GIVERS: Final = {
    "person": (
        "The person",
        [
            "the person",
            "person",
            "they did",
            "themselves",
            "client",
            "patient",
            "young person",
            "him",
            "her",
            "them",
            "service user",
        ],
    ),
    "parent_carer_guardian": (
        "A parent, carer or guardian",
        [
            "parent",
            "carer",
            "guardian",
            "mum",
            "mother",
            "dad",
            "father",
            "foster",
            "grandparent",
            "family",
        ],
    ),
    "best_interests": (
        "A best-interests decision (they lack capacity)",
        ["best interest", "best interests", "capacity", "mca"],
    ),
}


async def consent_giver_buttons(ctx: Context) -> list[tuple[str, str]]:
    """The variant's consent givers; "the person" only where the service says they may consent
    at their age (004)."""
    variant = await ctx.variant()
    givers = list(variant["consent"]["who_may_consent"])
    born = ctx.slot("ref_date_of_birth")
    if born and "person" in givers:
        facts = await register_client.check_answers({"date_of_birth": born})
        if facts["person_may_consent"] is False:
            givers.remove("person")
    return [(_GIVERS[g][0], _GIVERS[g][0]) for g in givers]


async def parse_consent_giver(text: str, ctx: Context) -> Parsed:
    """Who gave consent, by the words people use; whether they may (the variant's givers, and a
    parent, carer or guardian for a child, 004) the service says, from the date of birth."""
    said = f" {normalise(text.replace('-', ' '))} "
    giver = next(
        (
            g
            for g in ("best_interests", "parent_carer_guardian", "person")
            if any(f" {w} " in said for w in _GIVERS[g][1])
        ),
        None,
    )
    if giver is None:
        rule = (await ctx.variant())["consent"]
        allowed = ", ".join(_GIVERS[g][0].lower() for g in rule["who_may_consent"])
        return Bad(f"Please choose who gave consent: {allowed}.")
    answers: dict[str, Any] = {"consent": {"given_by": giver}}
    born = ctx.slot("ref_date_of_birth")
    if born:
        answers["date_of_birth"] = born
    result = await service_check(answers)
    if result is None:
        return Ok(giver, unchecked=True)
    answer = result["consent"]["given_by"]
    if not answer["ok"]:
        return Bad(f"{answer['message']} Who gave consent?")
    return Ok(answer["value"])


async def parse_consent_date(text: str, ctx: Context) -> Parsed:
    found = read_date(text, ctx.today)
    if isinstance(found, str):
        return Bad(found)
    result = await service_check({"consent": {"given_on": found.isoformat()}})
    if result is None:
        return Ok(found.isoformat(), unchecked=True)
    answer = result["consent"]["given_on"]
    return Ok(answer["value"]) if answer["ok"] else Bad(answer["message"])


# -- MAM and invitees --


async def parse_invitee(text: str, _ctx: Context) -> Parsed:
    words, email, phone = contact_parts(text)
    missing = []
    if len(words) < 1:
        missing.append("their name")
    if len(words) < 2:
        missing.append("their role")
    if not email:
        missing.append("an email address")
    if not phone:
        missing.append("a phone number")
    if missing or email is None or phone is None:
        return Bad(
            f"I need {', '.join(missing)} for each person invited, separated by commas: for "
            "example 'Jo Bloggs, social worker, jo.bloggs@council.gov.uk, 0116 454 1000'."
        )
    checked = await checked_formats({"email": email, "phone": phone})
    if isinstance(checked, Bad):
        return checked
    invitee = {"name": words[0], "role": ", ".join(words[1:]), **checked.value}
    return Ok(invitee, unchecked=checked.unchecked)


# -- the form --


async def parse_person_name(text: str, _ctx: Context) -> Parsed:
    name = " ".join(text.strip().split())
    if re.search(r"\d|@", name) or len(name) > 100:
        return Bad("Please give just their first name and family name, in letters.")
    parts = name.split(" ")
    if len(parts) < 2:
        return Bad("Please give both their first name and their family name.")
    return Ok({"given_name": " ".join(parts[:-1]), "family_name": parts[-1]})


async def parse_nhs_number(text: str, _ctx: Context) -> Parsed:
    candidate = find_nhs_number(text)
    if candidate is None:
        return Bad("I could not find an NHS number there: it has 10 digits, like 943 476 5919.")
    return await checked_format("nhs_number", candidate)


async def parse_postcode(text: str, _ctx: Context) -> Parsed:
    return await checked_format("postcode", find_postcode(text) or text.strip())


async def parse_email(text: str, _ctx: Context) -> Parsed:
    return await checked_format("email", find_email(text) or text.strip())


async def parse_phone(text: str, _ctx: Context) -> Parsed:
    return await checked_format("phone", find_phone(text) or text.strip())


async def parse_carer(text: str, _ctx: Context) -> Parsed:
    said = normalise(text)
    if said in {
        "none",
        "no",
        "no carer",
        "there is no carer",
        "no one",
        "nobody",
        "n/a",
        "they don't have one",
        "not applicable",
        "no parent or carer",
    }:
        return Ok({"no_carer": True})
    words, email, phone = contact_parts(text)
    if len(words) < 2 or not phone:
        return Bad(
            "Please give the parent or carer's name, their relationship to the person and a "
            "phone number, separated by commas (for example 'Ann Smith, mother, 07700 900123'), "
            "or say 'no carer'."
        )
    checked = await checked_formats({"phone": phone, **({"email": email} if email else {})})
    if isinstance(checked, Bad):
        return checked
    carer = {"no_carer": False, "name": words[0], "relationship": ", ".join(words[1:])}
    return Ok({**carer, **checked.value}, unchecked=checked.unchecked)


_LOCATIONS: Final = (
    (
        "family_home",
        "Family home",
        ["family home", "with family", "at home with", "parents", "home"],
    ),
    ("own_home", "Own home", ["own home", "own flat", "their own", "own house", "tenancy"]),
    ("foster_placement", "Foster placement", ["foster"]),
    ("supported_living", "Supported living", ["supported living", "supported accommodation"]),
    (
        "residential_placement",
        "Residential placement",
        ["residential", "care home", "children's home"],
    ),
    ("inpatient_unit", "Inpatient unit", ["inpatient", "hospital", "ward", "unit"]),
    ("other", "Somewhere else", ["other", "somewhere else", "elsewhere", "homeless"]),
)

parse_location_kind = choice(
    [
        (value, [label.lower(), *words])
        for value, label, words in (
            _LOCATIONS[2],
            _LOCATIONS[3],
            _LOCATIONS[4],
            _LOCATIONS[5],
            _LOCATIONS[1],
            _LOCATIONS[0],
            _LOCATIONS[6],
        )
    ],
    "Please choose where they live now from the options.",
)

parse_lac_cin_cpp = choice(
    [
        ("lac", ["lac", "looked after", "looked-after"]),
        ("cpp", ["cpp", "child protection", "protection plan"]),
        ("cin", ["cin", "child in need"]),
        ("none", ["none", "no", "neither", "none of these", "nope"]),
        ("not_known", ["not known", "don't know", "dont know", "unknown", "not sure"]),
    ],
    "Please choose LAC, CIN, CPP, none of these, or not known.",
)


def yes_with_details(what: str) -> Parser:
    """'no', or 'yes' with details in the same answer ("yes, SEMH"); 'yes' alone asks for them."""

    async def parse(text: str, ctx: Context) -> Parsed:
        answer = yes_or_no(text, ctx.intent)
        said = normalise(text)
        details = re.sub(r"^(yes|yeah|yep|yup|y)\b[\s,:;.-]*", "", text.strip(), flags=re.I)
        if answer is False and len(said.split()) <= 4:
            return Ok({"has": False})
        if answer is True and not details:
            return Bad(f"Thank you. Please say yes with {what}, for example 'yes, {what}'.")
        if answer is None and len(said.split()) < 2:
            return Bad(f"Please answer 'no', or 'yes' with {what}.")
        return Ok({"has": True, "details": details})

    return parse


# ---- the table ------------------------------------------------------------------------------------


async def _ask_council(ctx: Context) -> str:
    variant = await ctx.variant()
    return (
        "Where does the person live? Which council area is their home address in? "
        f"({variant['area_rule']['text']})"
    )


async def _why_area(ctx: Context) -> str:
    variant = await ctx.variant()
    rule = variant["area_rule"]
    return (
        f"The pathway is for people who live in {variant['name']}. {rule['text']} A postcode "
        f"or town can suggest the area but never decides it ({rule['source']})."
    )


async def _why_diagnosis(ctx: Context) -> str:
    rule = (await ctx.variant())["diagnosis"]
    return f"{rule['text']} ({rule['source']})"


async def _ask_gp(ctx: Context) -> str:
    icb = (await ctx.variant())["area_rule"]["icb"]
    return f"Is their GP surgery in a {icb} practice?"


async def _why_gp(ctx: Context) -> str:
    rule = (await ctx.variant())["area_rule"]
    return f"A GP in a {rule['icb']} practice also counts: {rule['text']} ({rule['source']})"


async def _why_exception(ctx: Context) -> str:
    variant = await ctx.variant()
    texts = [e["text"] for e in variant.get("out_of_area_exceptions", [])]
    return "Some people living out of area can still be referred: " + " ".join(texts)


async def _ask_placement(ctx: Context) -> str:
    name = (await ctx.variant())["name"]
    return f"Are they in an out-of-area placement (placed to live outside {name})?"


async def _placing_buttons(ctx: Context) -> list[tuple[str, str]]:
    variant = await ctx.variant()
    return [*_area_buttons(variant), ("Another council", "another council")]


async def _area_buttons_for(ctx: Context) -> list[tuple[str, str]]:
    variant = await ctx.variant()
    return [*_area_buttons(variant), ("Somewhere else", "somewhere else"), ("Not sure", "not sure")]


async def _ask_criteria(ctx: Context) -> str:
    variant = await ctx.variant()
    options = criteria_for(variant, ctx.slot("ref_age_group"))
    lines = [f"{n}. {criterion_title(c)}. {c['text']}" for n, c in enumerate(options, start=1)]
    return (
        "Now the rating. Which of these describe what is happening now? Type all the numbers "
        "that apply (for example '1 3'), 'none', or 'another concern'. They are examples, not "
        "a checklist.\n" + "\n".join(lines)
    )


async def _criteria_buttons(ctx: Context) -> list[tuple[str, str]]:
    variant = await ctx.variant()
    options = criteria_for(variant, ctx.slot("ref_age_group"))
    return [(criterion_title(c), str(n)) for n, c in enumerate(options, start=1)] + [
        ("Another significant concern", "another concern"),
        ("None of these", "none"),
    ]


async def _why_criteria(ctx: Context) -> str:
    ratings = (await ctx.variant())["ratings"]
    return (
        "The concerns help suggest a rating; you decide the rating. "
        f"{ratings['text']} ({ratings['source']})"
    )


async def _ask_decision(ctx: Context) -> str:
    offered = rating_choices(ctx.slots)
    suggested = (ctx.slot("ref_rating_suggestion") or {}).get("rag")
    if suggested in offered:
        others = [rag for rag in offered if rag != suggested]
        return (
            f"Which rating do you choose? The suggestion is {suggested}; you decide. Say 'yes' to "
            f"use {suggested}" + (f", or choose {' or '.join(others)}." if others else ".")
        )
    return f"Which rating do you choose: {' or '.join(offered)}?"


async def _decision_buttons(ctx: Context) -> list[tuple[str, str]]:
    suggested = (ctx.slot("ref_rating_suggestion") or {}).get("rag")
    return [
        (f"{rag.capitalize()}{' (suggested)' if rag == suggested else ''}", rag)
        for rag in rating_choices(ctx.slots)
    ]


async def _why_decision(ctx: Context) -> str:
    direct = (await ctx.variant())["ratings"].get("direct_roar") or {}
    return "The referrer decides the rating and the register keeps it (001 section 10). " + (
        direct.get("text", "")
    )


async def _why_consent(ctx: Context) -> str:
    rule = (await ctx.variant())["consent"]
    return f"{rule['text']} ({rule['source']})"


async def _ask_mam(ctx: Context) -> str:
    roar = ctx.slot("ref_register") == "ROAR"
    return (
        "Would you like the DSP admin lead to organise the multi-agency meeting (MAM)? If yes, "
        "I will ask for the whole form and the people to invite. If no, only the mandatory "
        "fields are needed and you organise the MAM yourself."
        + (" A referral to the ROAR needs the whole form either way." if roar else "")
    )


def _f(slot: str, label: str, prompt: Render, why: Render, parse: Parser, **more: Any) -> Field:
    return Field(slot, label, prompt, why, parse, **more)


_OWN: Final = "Please give it in your own words; long answers are welcome."
FIELD_LIST: Final[tuple[Field, ...]] = (
    # -- eligibility (000, 001 section 9) --
    _f(
        "ref_referrer_kind",
        "your sector",
        "First, which sector do you work in?",
        "The pathway takes referrals from professionals in health, social care and education, "
        "and the register counts where referrals come from (001 sections 6 and 11).",
        parse_referrer_kind,
        keywords=("sector", "referrer kind"),
        buttons=(
            ("Health", "health"),
            ("Social care", "social care"),
            ("Education", "education"),
            ("I am the person or family", "family"),
        ),
        section="Eligibility",
    ),
    _f(
        "ref_diagnosis",
        "the diagnosis",
        "What diagnosis does the person have?",
        _why_diagnosis,
        parse_diagnosis,
        keywords=("diagnosis",),
        buttons=(
            ("Learning disability", "learning disability"),
            ("Autism", "autism"),
            ("Both", "both"),
            ("A learning difficulty", "learning difficulty"),
            ("No diagnosis yet", "no diagnosis"),
            ("Not sure", "not sure"),
        ),
        hint="A learning difficulty (such as dyslexia) is not a learning disability.",
        section="Eligibility",
    ),
    _f(
        "ref_diagnosis_confirmation",
        "confirmation of the diagnosis",
        "Is the diagnosis confirmed, and do you have evidence of the confirmation to go with the "
        "referral?",
        _why_diagnosis,
        parse_confirmation,
        keywords=("confirmation", "evidence"),
        buttons=(
            ("Confirmed, I have the evidence", "confirmed with evidence"),
            ("Confirmed, evidence not to hand", "confirmed without evidence"),
            ("Not confirmed yet", "not confirmed"),
        ),
        section="Eligibility",
    ),
    _f(
        "ref_autism_private",
        "a private autism diagnosis",
        "Was the autism diagnosis obtained privately?",
        _why_diagnosis,
        yes_no,
        keywords=("private", "privately"),
        buttons=YES_NO,
        section="Eligibility",
    ),
    _f(
        "ref_council_area",
        "where the person lives",
        _ask_council,
        _why_area,
        parse_council_area,
        keywords=("council", "area", "where they live", "lives", "local authority"),
        buttons=_area_buttons_for,
        section="Eligibility",
    ),
    _f(
        "ref_gp_in_area",
        "their GP",
        _ask_gp,
        _why_gp,
        parse_gp,
        keywords=("gp in",),
        buttons=(("Yes", "yes"), ("No", "no"), ("Not sure", "not sure")),
        section="Eligibility",
    ),
    _f(
        "ref_date_of_birth",
        "date of birth",
        "What is the person's date of birth? (for example 14/03/2009)",
        "The date of birth says which register they go on (under 18: children and young people; "
        "18 and over: adults) and whether they are close to 18 (001 section 14). It also "
        "identifies them on the register.",
        parse_date_of_birth,
        keywords=("date of birth", "dob", "birthday", "born", "d.o.b", "age"),
        hint="Write it as day/month/year with the year in full, for example 14/03/2009.",
        section="Eligibility",
    ),
    _f(
        "ref_out_of_area_placement",
        "an out-of-area placement",
        _ask_placement,
        _why_exception,
        yes_no,
        keywords=("placement", "out of area"),
        buttons=YES_NO,
        section="Eligibility",
    ),
    _f(
        "ref_looked_after",
        "looked-after child",
        "Are they a looked-after child?",
        _why_exception,
        yes_no,
        keywords=("looked after", "looked-after"),
        buttons=YES_NO,
        section="Eligibility",
    ),
    _f(
        "ref_placing_council",
        "the council that placed them",
        "Which council placed them?",
        _why_exception,
        parse_placing_council,
        keywords=("placed them", "placing council"),
        buttons=_placing_buttons,
        section="Eligibility",
    ),
    _f(
        "ref_section_117",
        "section 117 funding",
        "Are they fully or partially health funded (section 117 aftercare)?",
        _why_exception,
        yes_no,
        keywords=("section 117", "s117", "117", "funded", "funding"),
        buttons=YES_NO,
        section="Eligibility",
    ),
    _f(
        "ref_urgent_cetr",
        "an urgent CETR",
        "Is the risk high enough to need a red rating, with an urgent Care, Education and "
        "Treatment Review (CETR) being requested?",
        _why_exception,
        yes_no,
        keywords=("cetr", "urgent"),
        buttons=YES_NO,
        section="Eligibility",
    ),
    # -- rating (000; 001 sections 10 and 12) --
    _f(
        "ref_criteria",
        "the concerns",
        _ask_criteria,
        _why_criteria,
        parse_criteria,
        keywords=("concern", "concerns", "criteria", "criterion"),
        buttons=_criteria_buttons,
        section="Rating",
    ),
    _f(
        "ref_imminent_risk",
        "imminent risk of admission",
        "Is the person at imminent risk of admission to a mental health or learning disability "
        "hospital?",
        "A direct referral to the ROAR (red) is only for someone at imminent risk of admission "
        "when escalating risk was not known before (001 section 10).",
        yes_no,
        keywords=("imminent", "risk of admission"),
        buttons=YES_NO,
        section="Rating",
    ),
    _f(
        "ref_earlier_knowledge",
        "earlier knowledge of escalating risk",
        "Was escalating risk known before now? (For example, they are already on the DSR as "
        "amber, or services saw this coming.)",
        "If escalating risk was known before, the ROAR is reached by escalation from amber on "
        "the DSR, not by a direct referral (001 section 10).",
        yes_no,
        keywords=("earlier", "known before", "prior knowledge"),
        buttons=YES_NO,
        section="Rating",
    ),
    _f(
        "ref_inpatient",
        "an inpatient stay",
        "Are they in a mental health or learning disability inpatient unit now, or recently "
        "discharged from one?",
        "Someone discharged from an inpatient hospital can be added as green; someone in hospital "
        "now is rated blue while on the register (000; 001 section 10).",
        parse_inpatient,
        keywords=("inpatient", "in-patient", "discharged", "hospital stay"),
        buttons=(
            ("In an inpatient unit now", "inpatient now"),
            ("Recently discharged", "recently discharged"),
            ("Neither", "neither"),
        ),
        section="Rating",
    ),
    _f(
        "ref_rating_decision",
        "the rating",
        _ask_decision,
        _why_decision,
        parse_rating_decision,
        keywords=("rating", "rag", "amber", "red", "green"),
        buttons=_decision_buttons,
        section="Rating",
    ),
    # -- consent (001 section 7; 004) --
    _f(
        "ref_consent_given",
        "consent",
        "Has consent been given for this referral, and for keeping their details on the register?",
        _why_consent,
        yes_no,
        keywords=("consent",),
        buttons=YES_NO,
        section="Consent",
    ),
    _f(
        "ref_consent_given_by",
        "who gave consent",
        "Who gave consent?",
        _why_consent,
        parse_consent_giver,
        keywords=("who gave", "gave consent", "consent given by"),
        buttons=consent_giver_buttons,
        section="Consent",
    ),
    _f(
        "ref_consent_date",
        "when consent was given",
        "When was consent given? (a date, or 'today')",
        _why_consent,
        parse_consent_date,
        keywords=("consent date", "when consent", "date of consent"),
        hint="Write it as day/month/year, for example 02/11/2026, or say 'today'.",
        section="Consent",
    ),
    # -- the MAM (001 sections 10 and 12) --
    _f(
        "ref_mam_by_admin",
        "the DSP admin lead organises the MAM",
        _ask_mam,
        "Where the DSP admin lead organises the MAM, or for the ROAR, every section of the form "
        "is needed with the invitees' contact details; otherwise only the mandatory fields, and "
        "you organise the MAM (001 sections 10 and 11).",
        yes_no,
        keywords=("mam", "meeting", "admin lead", "organise"),
        buttons=YES_NO,
        section="The MAM",
    ),
    _f(
        "ref_invitee",
        "the people to invite",
        "Who should be invited to the MAM? Give one person's name, role, email and phone, "
        "separated by commas (for example: Jo Bloggs, social worker, jo.bloggs@council.gov.uk, "
        "0116 454 1000). Professionals' emails are never shared with the family.",
        "The DSP admin lead sends the invitations, with the referral attached and password "
        "protected (001 section 10).",
        parse_invitee,
        keywords=("invitee", "invitees", "invite", "who to invite", "people to invite"),
        section="The MAM",
    ),
    _f(
        "ref_invitee_more",
        "more invitees",
        "Would you like to invite someone else?",
        "You can add as many people as needed.",
        yes_no,
        buttons=YES_NO,
        section="The MAM",
    ),
    # -- the referral form (001 section 11; 003) --
    _f(
        "ref_person_name",
        "the person's name",
        "Now the referral form. What is the person's full name (first name and family name)?",
        "The register identifies the person; documents then use the anonymous DSP id instead of "
        "their name (001 section 6).",
        parse_person_name,
        keywords=(
            "their name",
            "person's name",
            "persons name",
            "the name",
            "first name",
            "family name",
            "surname",
            "name of the",
        ),
        section="The person",
    ),
    _f(
        "ref_nhs_number",
        "NHS number",
        "What is their NHS number?",
        "The NHS number identifies the person without doubt, and shows whether they are already "
        "on the register.",
        parse_nhs_number,
        keywords=("nhs number", "nhs no", "nhs"),
        hint="An NHS number has 10 digits, for example 943 476 5919.",
        section="The person",
    ),
    _f(
        "ref_postcode",
        "postcode",
        "What is the postcode of their home?",
        "The postcode goes with the address and helps confirm the area (it never decides it).",
        parse_postcode,
        keywords=("postcode", "post code", "zip"),
        hint="A UK postcode looks like LE1 6TH.",
        section="The person",
    ),
    _f(
        "ref_gender",
        "gender",
        "What is their gender?",
        "Demographics are part of the referral form (001 section 11).",
        short_text,
        keywords=("gender", "sex"),
        section="Demographics",
    ),
    _f(
        "ref_pronouns",
        "preferred pronouns",
        "What are their preferred pronouns? (optional: say 'skip' to leave it out)",
        "Using the right pronouns matters to the person (003).",
        short_text,
        optional=True,
        keywords=("pronoun", "pronouns"),
        section="Demographics",
    ),
    _f(
        "ref_ethnicity",
        "ethnicity",
        "What is their ethnicity? (optional: say 'skip')",
        "Demographics are part of the referral form (001 section 11).",
        short_text,
        optional=True,
        keywords=("ethnicity",),
        section="Demographics",
    ),
    _f(
        "ref_address",
        "address",
        "What is their home address?",
        "The DSP admin lead and the MAM need to know where the person lives.",
        long_text,
        keywords=("address",),
        section="Demographics",
    ),
    _f(
        "ref_gp_practice",
        "GP practice",
        "Which GP practice are they registered with?",
        "The GP is part of the care team around the person.",
        short_text,
        keywords=("gp practice", "gp surgery", "surgery", "doctor"),
        section="Demographics",
    ),
    _f(
        "ref_referrer_name",
        "your name",
        "Now about you. What is your name?",
        "You remain the accountable professional; the DSR admin lead will contact you to agree "
        "the next steps (001 section 10).",
        short_text,
        keywords=("my name", "your name", "referrer name", "referrer's name"),
        section="You, the referrer",
    ),
    _f(
        "ref_referrer_role",
        "your role",
        "What is your role?",
        "The admin lead and the MAM need to know who is referring (001 section 10).",
        short_text,
        keywords=("my role", "your role", "job", "role"),
        section="You, the referrer",
    ),
    _f(
        "ref_referrer_organisation",
        "your organisation",
        "Which organisation do you work for?",
        "The register records where referrals come from (001 section 6).",
        short_text,
        keywords=("organisation", "organization", "employer", "my team"),
        section="You, the referrer",
    ),
    _f(
        "ref_referrer_email",
        "your email",
        "What is your work email address?",
        "The DSR admin lead will email you to agree the next steps (001 section 10).",
        parse_email,
        keywords=("my email", "your email", "email"),
        hint="For example name@nhs.net.",
        section="You, the referrer",
    ),
    _f(
        "ref_referrer_phone",
        "your phone number",
        "What is your work phone number?",
        "The DSR admin lead may need to call you to agree the urgency of the MAM.",
        parse_phone,
        keywords=("my phone", "your phone", "my number", "phone number", "phone"),
        hint="A UK number has 10 or 11 digits and starts with 0.",
        section="You, the referrer",
    ),
    _f(
        "ref_commissioner",
        "the commissioner",
        "Who is the commissioner (for example the ICB or council team that funds their care)?",
        "Commissioner information is a section of the referral form (001 section 11).",
        short_text,
        keywords=("commissioner", "funder"),
        section="Commissioner",
    ),
    _f(
        "ref_carer",
        "the parent or carer",
        "Who is their parent or main carer? Give the name, relationship and phone, separated by "
        "commas (for example 'Ann Smith, mother, 07700 900123'), or say 'no carer'.",
        "Patient and carer information is a section of the form; families are invited to the "
        "MAM (001 sections 10 and 11).",
        parse_carer,
        keywords=("carer", "parent", "mum", "dad"),
        section="Family and carers",
    ),
    _f(
        "ref_lives_with",
        "who they live with",
        "Who do they live with? (optional: say 'skip')",
        "A good referral says who the person lives with (003).",
        short_text,
        optional=True,
        keywords=("live with", "lives with"),
        section="Family and carers",
    ),
    _f(
        "ref_care_team",
        "the current care team",
        "Who is in their current care team (names, roles and services)?",
        "The current care team is a section of the form; they are usually invited to the MAM.",
        long_text,
        keywords=("care team",),
        section="Care team",
    ),
    _f(
        "ref_who_is_involved",
        "who else is involved",
        "Who else is involved with them (for example school, social care, voluntary groups)? "
        "(optional: say 'skip')",
        "A good referral says who is involved (003).",
        long_text,
        optional=True,
        keywords=("involved", "who else"),
        section="Care team",
    ),
    _f(
        "ref_location_kind",
        "where they live now",
        "Where do they live now?",
        "Current location, home or provider is a section of the form (001 section 11).",
        parse_location_kind,
        keywords=("location", "where they live now", "placement type"),
        buttons=tuple((label, label) for _v, label, _w in _LOCATIONS),
        section="Where they live",
    ),
    _f(
        "ref_location_details",
        "details of the home or provider",
        "Please give the details of the home or provider (name, address, who runs it).",
        "The admin lead needs to know who provides the home or support.",
        long_text,
        keywords=("provider", "home details"),
        section="Where they live",
    ),
    _f(
        "ref_school",
        "school or college",
        "Which school or college do they attend? (optional: say 'skip')",
        "A good referral says which school they attend (003).",
        short_text,
        optional=True,
        keywords=("school", "college"),
        section="Where they live",
    ),
    _f(
        "ref_lac_cin_cpp",
        "LAC / CIN / CPP status",
        "Are they a looked-after child (LAC), a child in need (CIN) or on a child protection "
        "plan (CPP)? (optional: say 'skip')",
        "A good referral says whether the child is LAC, CIN or CPP (003).",
        parse_lac_cin_cpp,
        optional=True,
        keywords=("lac", "cin", "cpp", "child in need", "protection plan"),
        buttons=(
            ("LAC", "lac"),
            ("CIN", "cin"),
            ("CPP", "cpp"),
            ("None of these", "none"),
            ("Not known", "not known"),
        ),
        section="Education and social care",
    ),
    _f(
        "ref_ehcp",
        "EHCP",
        "Do they have an Education, Health and Care Plan (EHCP)? If yes, what is the primary "
        "need? (for example 'yes, autism' or 'no'; optional: say 'skip')",
        "A good referral says whether there is an EHCP and its primary need (003).",
        yes_with_details("the primary need"),
        optional=True,
        keywords=("ehcp", "education health and care plan", "primary need"),
        section="Education and social care",
    ),
    _f(
        "ref_communication_needs",
        "communication needs",
        "What are their communication needs (how they communicate, and what helps)?",
        "Communication needs is a section of the form, so everyone at the MAM can include the "
        "person (001 section 11).",
        long_text,
        keywords=("communication",),
        section="Communication",
    ),
    _f(
        "ref_brief_history",
        "brief history",
        "Please give a brief history. " + _OWN,
        "A brief history is a section of the form (001 section 11).",
        long_text,
        keywords=("history", "background"),
        section="History",
    ),
    _f(
        "ref_current_situation",
        "the current situation",
        "What is happening now that is causing concern, and what impact is it having on their "
        "health and well-being? Please include any risks to their future health. " + _OWN,
        "The reasons for the referral matter most: what is happening and its impact. This is "
        "shared with the people invited to the MAM (001 section 11).",
        situation_text,
        keywords=("situation", "concerns now", "what is happening", "reason for referral"),
        hint="A few sentences about what is happening and its impact are best.",
        section="Current situation",
    ),
    _f(
        "ref_risk_details",
        "the risk details",
        "Please give the risk details. " + _OWN,
        "Risk details is a section of the form (001 section 11).",
        long_text,
        keywords=("risk details", "risks"),
        section="Risk",
    ),
    _f(
        "ref_police_crisis",
        "police or crisis team contact",
        "Have the police or a crisis team been involved in the last 12 months? (for example "
        "'no', or 'yes, crisis team in June'; optional: say 'skip')",
        "A good referral says whether police or crisis teams were involved in the last 12 "
        "months (003).",
        yes_with_details("what happened"),
        optional=True,
        keywords=("police", "crisis team"),
        section="Risk",
    ),
    _f(
        "ref_safeguarding",
        "safeguarding information",
        "Please give any safeguarding information (or say 'none known').",
        "Safeguarding information is a section of the form (001 section 11). The DSP does not "
        "replace a safeguarding referral.",
        long_text,
        keywords=("safeguarding",),
        section="Safeguarding",
    ),
    _f(
        "ref_support_in_place",
        "support already in place",
        "What support is already in place?",
        "Additional support already in place is a section of the form (001 section 11).",
        long_text,
        keywords=("support",),
        section="Support in place",
    ),
    _f(
        "ref_outcomes_wanted",
        "outcomes wanted",
        "What do you, the person and their family want from this referral? (optional: say 'skip')",
        "A good referral says what outcomes are wanted (003).",
        long_text,
        optional=True,
        keywords=("outcome", "outcomes", "want from"),
        section="Outcomes",
    ),
    _f(
        "ref_how_we_will_know",
        "how we will know",
        "How will we know the outcomes have been met? (optional: say 'skip')",
        "A good referral says how we will know the outcomes were met (003).",
        long_text,
        optional=True,
        keywords=("how we will know", "how will we know", "measure"),
        section="Outcomes",
    ),
    # -- check and send --
    _f(
        "ref_confirm",
        "sending the referral",
        "Shall I send the referral now? Say 'yes' to send it, or tell me what to change (for "
        "example 'change the postcode').",
        "Nothing is stored until you say so; after that the referral goes on the register.",
        yes_no,
        buttons=(("Yes, send it", "yes"),),
        section="Check and send",
    ),
    _f(
        "ref_resume_code_given",
        "your resume code",
        "What is your resume code? (it looks like ABCD-EFGH)",
        "The resume code unlocks the answers you saved; nobody else can see them without it.",
        yes_no,
        hint="It has 8 letters and numbers, like ABCD-EFGH.",
        section="Resume",
    ),
)
FIELDS: Final[dict[str, Field]] = {f.slot: f for f in FIELD_LIST}

# ---- which questions each stage needs -------------------------------------------------------------

_CONDITION_SLOTS: Final = {
    "out_of_area_placement": "ref_out_of_area_placement",
    "looked_after_child": "ref_looked_after",
    "placed_by_area_council": "ref_placing_council",
    "section_117_funded": "ref_section_117",
    "urgent_cetr_needed": "ref_urgent_cetr",
}
PROFESSIONAL_KINDS: Final = frozenset({"health", "social_care", "education"})
ACCEPTED_DIAGNOSES: Final = ("learning_disability", "autism", "both")


def _holds(condition: str, value: Any) -> bool:
    if condition == "placed_by_area_council":
        return value not in (None, OTHER_COUNCIL)
    return value is True


def eligibility_slots(
    slots: Mapping[str, Any], variant: Mapping[str, Any], today: date
) -> list[str]:
    """Only what the eligibility check needs, given the answers so far (000, 001 section 9)."""
    needed = ["ref_referrer_kind"]
    kind = slots.get("ref_referrer_kind")
    if kind not in PROFESSIONAL_KINDS:
        return needed  # unanswered, or not a professional: this guided referral is for them
    needed.append("ref_diagnosis")
    diagnosis = slots.get("ref_diagnosis")
    if diagnosis not in ACCEPTED_DIAGNOSES:
        return needed  # a refusal or not known: the service says why, nothing more to ask
    needed.append("ref_diagnosis_confirmation")
    if diagnosis == "autism" and variant["diagnosis"].get("private_autism_accepted") is not True:
        needed.append("ref_autism_private")
    if slots.get("ref_diagnosis_confirmation") in (None, "not_confirmed"):
        return needed
    needed.append("ref_council_area")
    area = slots.get("ref_council_area")
    if area is None:
        return needed
    if area in (OUTSIDE, UNKNOWN) and variant["area_rule"].get("gp_practice_counts"):
        needed.append("ref_gp_in_area")
    needed.append("ref_date_of_birth")
    gp = slots.get("ref_gp_in_area")
    if area != OUTSIDE or gp == "yes" or ("ref_gp_in_area" in needed and gp is None):
        return needed
    # The service's age group for the date of birth (set when it was answered): the out-of-area
    # exceptions differ for children and adults.
    group = slots.get("ref_age_group")
    if group is None:
        return needed
    exceptions = [e for e in variant.get("out_of_area_exceptions", []) if e["age_group"] == group]
    answers = {c: slots.get(s) for c, s in _CONDITION_SLOTS.items()}
    for condition, slot in _CONDITION_SLOTS.items():
        if answers[condition] is not None:
            needed.append(slot)
            continue
        if any(all(_holds(c, answers[c]) for c in e["requires"]) for e in exceptions):
            break  # an exception holds: nothing more to ask
        possible = [
            e
            for e in exceptions
            if condition in e["requires"]
            and all(answers[c] is None or _holds(c, answers[c]) for c in e["requires"])
        ]
        if possible:
            needed.append(slot)
            break
    return needed


def rating_slots(slots: Mapping[str, Any], variant: Mapping[str, Any], today: date) -> list[str]:
    needed = ["ref_criteria", "ref_imminent_risk"]
    if slots.get("ref_imminent_risk") is True and variant["ratings"].get("direct_roar"):
        needed.append("ref_earlier_knowledge")
    return [*needed, "ref_inpatient"]


def decision_slots(slots: Mapping[str, Any], variant: Mapping[str, Any], today: date) -> list[str]:
    return ["ref_rating_decision"] if variant["ratings"]["rated_by"] == "referrer" else []


def consent_slots(slots: Mapping[str, Any], variant: Mapping[str, Any], today: date) -> list[str]:
    if slots.get("ref_consent_given") is False:
        return ["ref_consent_given"]
    return ["ref_consent_given", "ref_consent_given_by", "ref_consent_date"]


def full_form(slots: Mapping[str, Any]) -> bool:
    """Every field where the admin lead organises the MAM or the referral is to the ROAR (001
    sections 10 and 11); the register comes from the variant, with the decided rating."""
    return slots.get("ref_mam_by_admin") is True or slots.get("ref_register") == "ROAR"


def mam_slots(slots: Mapping[str, Any], variant: Mapping[str, Any], today: date) -> list[str]:
    needed = ["ref_mam_by_admin"]
    if slots.get("ref_mam_by_admin") is None or not full_form(slots):
        return needed
    return [*needed, "ref_invitee", "ref_invitee_more"]


MANDATORY_DETAILS: Final = (
    "ref_person_name",
    "ref_nhs_number",
    "ref_postcode",
    "ref_referrer_name",
    "ref_referrer_role",
    "ref_referrer_organisation",
    "ref_referrer_email",
    "ref_current_situation",
)
CYP_ONLY: Final = frozenset({"ref_school", "ref_lac_cin_cpp"})
DETAILS_ORDER: Final = (
    "ref_person_name",
    "ref_nhs_number",
    "ref_postcode",
    "ref_gender",
    "ref_pronouns",
    "ref_ethnicity",
    "ref_address",
    "ref_gp_practice",
    "ref_referrer_name",
    "ref_referrer_role",
    "ref_referrer_organisation",
    "ref_referrer_email",
    "ref_referrer_phone",
    "ref_commissioner",
    "ref_carer",
    "ref_lives_with",
    "ref_care_team",
    "ref_who_is_involved",
    "ref_location_kind",
    "ref_location_details",
    "ref_school",
    "ref_lac_cin_cpp",
    "ref_ehcp",
    "ref_communication_needs",
    "ref_brief_history",
    "ref_current_situation",
    "ref_risk_details",
    "ref_police_crisis",
    "ref_safeguarding",
    "ref_support_in_place",
    "ref_outcomes_wanted",
    "ref_how_we_will_know",
)


def details_slots(slots: Mapping[str, Any], variant: Mapping[str, Any], today: date) -> list[str]:
    """The mandatory fields, or every section with the good-referral prompts (003)."""
    if not full_form(slots):
        return list(MANDATORY_DETAILS)
    adult = slots.get("ref_age_group") == "adult"
    return [s for s in DETAILS_ORDER if not (adult and s in CYP_ONLY)]


def confirm_slots(slots: Mapping[str, Any], variant: Mapping[str, Any], today: date) -> list[str]:
    return ["ref_confirm"]


def resume_slots(slots: Mapping[str, Any], variant: Mapping[str, Any], today: date) -> list[str]:
    return ["ref_resume_code_given"]


StageSlots = Callable[[Mapping[str, Any], Mapping[str, Any], date], list[str]]


@dataclass(frozen=True)
class Stage:
    step: str  # the value of the referral_step slot that activates the form
    form: str
    slots: StageSlots


STAGES: Final[tuple[Stage, ...]] = (
    Stage("eligibility", "referral_eligibility_form", eligibility_slots),
    Stage("rating", "referral_rating_form", rating_slots),
    Stage("decision", "referral_decision_form", decision_slots),
    Stage("consent", "referral_consent_form", consent_slots),
    Stage("mam", "referral_mam_form", mam_slots),
    Stage("details", "referral_details_form", details_slots),
    Stage("confirm", "referral_confirm_form", confirm_slots),
)
RESUME_STAGE: Final = Stage("resume", "referral_resume_form", resume_slots)


def form_slots_of(stage: Stage) -> tuple[str, ...]:
    """Every slot a stage's form can ask, in the order of the table."""
    owners = {
        "eligibility": (
            "ref_referrer_kind",
            "ref_diagnosis",
            "ref_diagnosis_confirmation",
            "ref_autism_private",
            "ref_council_area",
            "ref_gp_in_area",
            "ref_date_of_birth",
            *_CONDITION_SLOTS.values(),
        ),
        "rating": ("ref_criteria", "ref_imminent_risk", "ref_earlier_knowledge", "ref_inpatient"),
        "decision": ("ref_rating_decision",),
        "consent": ("ref_consent_given", "ref_consent_given_by", "ref_consent_date"),
        "mam": ("ref_mam_by_admin", "ref_invitee", "ref_invitee_more"),
        "details": DETAILS_ORDER,
        "confirm": ("ref_confirm",),
        "resume": ("ref_resume_code_given",),
    }
    return owners[stage.step]


STAGE_OF_SLOT: Final[dict[str, Stage]] = {
    slot: stage for stage in (*STAGES, RESUME_STAGE) for slot in form_slots_of(stage)
}


def missing(
    stage: Stage, slots: Mapping[str, Any], variant: Mapping[str, Any], today: date
) -> list[str]:
    return [s for s in stage.slots(slots, variant, today) if slots.get(s) is None]


# ---- what every referral form shares --------------------------------------------------------------


def _failures(tracker: Tracker) -> dict[str, int]:
    return dict(tracker.get_slot(FAILURES) or {})


async def explain(field_: Field, ctx: Context) -> str:
    why = await render(field_.why, ctx)
    return " ".join(part for part in (f"About {field_.label}: {why}", field_.hint) if part)


def handoff_offer(optional: bool) -> str:
    if optional:
        return "If you would rather leave it out, say 'skip'."
    return (
        "If you would like to talk to a person, say 'talk to someone' and I will give you the "
        "DSP team's contact details. You can also say 'pause' to save your answers and come "
        "back later."
    )


class ReferralForm(FormValidationAction, ABC):
    """The behaviour all the referral's forms share (like financial-demo's custom_forms):

    - only the questions the stage needs, from its stage function over the answers so far;
    - each answer read by its field's parser: a bad answer gets a message saying what is wrong
      and is asked again; after two failures the field is explained and the referrer is offered
      to skip it (optional fields) or to talk to a person;
    - 'skip' leaves out an optional field;
    - if the register service cannot be reached, nothing is lost: an answer it could not check
      is kept as given and the referrer told so (the referral is checked again when it is sent);
      an answer that cannot be read without it is asked again.
    """

    stage: Stage

    @abstractmethod
    def name(self) -> str: ...

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[str]:
        variant = await register_client.get_variant_cached()
        needed = self.stage.slots(tracker.slots, variant, date.today())
        # The question just asked is always read, whatever the answers before it now say.
        requested = tracker.get_slot(REQUESTED_SLOT)
        if requested in form_slots_of(self.stage) and requested not in needed:
            needed.append(requested)
        return needed

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        candidates = [s for s in tracker.slots_to_validate() if s != REQUESTED_SLOT]
        requested = tracker.get_slot(REQUESTED_SLOT)
        try:
            return await super().run(dispatcher, tracker, domain)
        except register_client.RegisterUnavailable:
            dispatcher.utter_message(text=SERVICE_DOWN_IN_FORM)
            undo: list[EventType] = [SlotSet(slot, None) for slot in candidates]
            return undo + ([SlotSet(REQUESTED_SLOT, requested)] if requested else [])

    async def answer(
        self, slot: str, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> dict[str, Any]:
        """Reads one answer with the field's parser; see the class docstring."""
        field_ = FIELDS[slot]
        ctx = Context(tracker)
        failures = _failures(tracker)
        text = value if isinstance(value, str) else str(value)
        if tracker.get_slot(REQUESTED_SLOT) != slot:
            # A value set by the stage itself (a resumed draft, a reset): already read.
            return {slot: value}
        if field_.optional and wants_to_skip(text, ctx.intent):
            failures.pop(slot, None)
            dispatcher.utter_message(text=f"OK, I have left out {field_.label}.")
            return {slot: SKIPPED, FAILURES: failures}
        if normalise(text) in _EXPLICIT_SKIP:
            parsed: Parsed = Bad(
                f"I need {field_.label} for this referral, so it cannot be skipped."
            )
        else:
            parsed = await field_.parse(text, ctx)
        if isinstance(parsed, Ok):
            failures.pop(slot, None)
            if parsed.unchecked:
                dispatcher.utter_message(text=SERVICE_DOWN_ANSWER_KEPT)
            return {slot: parsed.value, **parsed.also, FAILURES: failures}
        buttons = [{"title": t, "payload": p} for t, p in parsed.buttons]
        dispatcher.utter_message(text=parsed.message, buttons=buttons or None)
        if not parsed.counts:
            return {slot: None}
        failures[slot] = failures.get(slot, 0) + 1
        if failures[slot] == 2:
            offer = handoff_offer(field_.optional)
            dispatcher.utter_message(text=f"{await explain(field_, ctx)} {offer}")
        elif failures[slot] > 2:
            dispatcher.utter_message(text=handoff_offer(field_.optional))
        return {slot: None, FAILURES: failures}


def answers(slot: str) -> Callable[..., Awaitable[dict[str, Any]]]:
    """A validate_<slot> method that reads the answer with the field's parser."""

    async def validate(
        self: ReferralForm,
        value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        return await self.answer(slot, value, dispatcher, tracker)

    validate.__name__ = f"validate_{slot}"
    return validate


class ValidateReferralEligibilityForm(ReferralForm):
    stage = STAGES[0]

    def name(self) -> str:
        return "validate_referral_eligibility_form"

    validate_ref_referrer_kind = answers("ref_referrer_kind")
    validate_ref_diagnosis = answers("ref_diagnosis")
    validate_ref_diagnosis_confirmation = answers("ref_diagnosis_confirmation")
    validate_ref_autism_private = answers("ref_autism_private")
    validate_ref_council_area = answers("ref_council_area")
    validate_ref_gp_in_area = answers("ref_gp_in_area")
    validate_ref_date_of_birth = answers("ref_date_of_birth")
    validate_ref_out_of_area_placement = answers("ref_out_of_area_placement")
    validate_ref_looked_after = answers("ref_looked_after")
    validate_ref_placing_council = answers("ref_placing_council")
    validate_ref_section_117 = answers("ref_section_117")
    validate_ref_urgent_cetr = answers("ref_urgent_cetr")


class ValidateReferralRatingForm(ReferralForm):
    stage = STAGES[1]

    def name(self) -> str:
        return "validate_referral_rating_form"

    validate_ref_criteria = answers("ref_criteria")
    validate_ref_imminent_risk = answers("ref_imminent_risk")
    validate_ref_earlier_knowledge = answers("ref_earlier_knowledge")
    validate_ref_inpatient = answers("ref_inpatient")


class ValidateReferralDecisionForm(ReferralForm):
    stage = STAGES[2]

    def name(self) -> str:
        return "validate_referral_decision_form"

    # The referrer's choice, with the register the service says it goes on (parse_rating_decision).
    validate_ref_rating_decision = answers("ref_rating_decision")


class ValidateReferralConsentForm(ReferralForm):
    stage = STAGES[3]

    def name(self) -> str:
        return "validate_referral_consent_form"

    validate_ref_consent_given = answers("ref_consent_given")
    validate_ref_consent_given_by = answers("ref_consent_given_by")
    validate_ref_consent_date = answers("ref_consent_date")


class ValidateReferralMamForm(ReferralForm):
    """Whether the DSP admin lead organises the MAM, then as many invitees as needed."""

    stage = STAGES[4]

    def name(self) -> str:
        return "validate_referral_mam_form"

    validate_ref_mam_by_admin = answers("ref_mam_by_admin")

    async def validate_ref_invitee(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        result = await self.answer("ref_invitee", value, dispatcher, tracker)
        invitee = result.get("ref_invitee")
        if invitee and tracker.get_slot(REQUESTED_SLOT) == "ref_invitee":
            result["ref_invitees"] = [*(tracker.get_slot("ref_invitees") or []), invitee]
            dispatcher.utter_message(
                text=f"Thank you: {invitee['name']} ({invitee['role']}) added."
            )
        return result

    async def validate_ref_invitee_more(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        result = await self.answer("ref_invitee_more", value, dispatcher, tracker)
        if result.get("ref_invitee_more") is True:
            # Ask for the next person: both questions come round again.
            return {**result, "ref_invitee": None, "ref_invitee_more": None}
        return result


class ValidateReferralDetailsForm(ReferralForm):
    """The referral form's sections (001 section 11) with the good-referral prompts (003)."""

    stage = STAGES[5]

    def name(self) -> str:
        return "validate_referral_details_form"

    async def validate_ref_person_name(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return await self.answer("ref_person_name", value, dispatcher, tracker)

    validate_ref_nhs_number = answers("ref_nhs_number")
    validate_ref_postcode = answers("ref_postcode")
    validate_ref_gender = answers("ref_gender")
    validate_ref_pronouns = answers("ref_pronouns")
    validate_ref_ethnicity = answers("ref_ethnicity")
    validate_ref_address = answers("ref_address")
    validate_ref_gp_practice = answers("ref_gp_practice")
    validate_ref_referrer_name = answers("ref_referrer_name")
    validate_ref_referrer_role = answers("ref_referrer_role")
    validate_ref_referrer_organisation = answers("ref_referrer_organisation")
    validate_ref_referrer_email = answers("ref_referrer_email")
    validate_ref_referrer_phone = answers("ref_referrer_phone")
    validate_ref_commissioner = answers("ref_commissioner")
    validate_ref_carer = answers("ref_carer")
    validate_ref_lives_with = answers("ref_lives_with")
    validate_ref_care_team = answers("ref_care_team")
    validate_ref_who_is_involved = answers("ref_who_is_involved")
    validate_ref_location_kind = answers("ref_location_kind")
    validate_ref_location_details = answers("ref_location_details")
    validate_ref_school = answers("ref_school")
    validate_ref_lac_cin_cpp = answers("ref_lac_cin_cpp")
    validate_ref_ehcp = answers("ref_ehcp")
    validate_ref_communication_needs = answers("ref_communication_needs")
    validate_ref_brief_history = answers("ref_brief_history")
    validate_ref_current_situation = answers("ref_current_situation")
    validate_ref_risk_details = answers("ref_risk_details")
    validate_ref_police_crisis = answers("ref_police_crisis")
    validate_ref_safeguarding = answers("ref_safeguarding")
    validate_ref_support_in_place = answers("ref_support_in_place")
    validate_ref_outcomes_wanted = answers("ref_outcomes_wanted")
    validate_ref_how_we_will_know = answers("ref_how_we_will_know")


_SEND_WORDS: Final = frozenset(
    [
        "send",
        "send it",
        "submit",
        "submit it",
        "try again",
        "retry",
        "go ahead",
        "yes send it",
        "yes, send it",
        "please send",
        "send now",
        "try sending again",
    ]
)


class ValidateReferralConfirmForm(ReferralForm):
    stage = STAGES[6]

    def name(self) -> str:
        return "validate_referral_confirm_form"

    async def validate_ref_confirm(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        text = str(value)
        if normalise(text) in _SEND_WORDS:
            return {"ref_confirm": True}
        if yes_or_no(text, intent_of(tracker)) is False:
            dispatcher.utter_message(
                text="Tell me what you would like to change, for example 'change the postcode' "
                "or 'the date of birth is wrong'."
            )
            return {"ref_confirm": None}
        return await self.answer("ref_confirm", value, dispatcher, tracker)


# Slots the referral keeps besides the answers: results from the service and the flow's state.
STATE_SLOTS: Final = (
    "ref_other_concern",
    "ref_eligibility",
    "ref_age_group",
    "ref_rating_suggestion",
    "ref_register",
    "ref_invitees",
    "ref_idempotency_key",
    "ref_resume_code",
    "ref_submit_failed",
    "ref_dsp_id",
    FAILURES,
)
REFERRAL_SLOTS: Final = (*FIELDS, *STATE_SLOTS)
# What a paused draft keeps: the answers and the service's results, with the idempotency key so a
# referral sent after resuming still lands once. Not the flow's passing state.
DRAFT_SLOTS: Final = tuple(
    s
    for s in REFERRAL_SLOTS
    if s
    not in {
        FAILURES,
        "ref_resume_code_given",
        "ref_confirm",
        "ref_dsp_id",
        "ref_resume_code",
        "ref_submit_failed",
    }
)
DRAFT_NOT_FOUND: Final = (
    "I could not find a draft with that code. It may be mistyped, or it has expired: paused "
    "referrals are kept for a limited time and then deleted."
)
DRAFT_SERVICE_DOWN: Final = (
    "The register service is not answering, so I cannot open your draft just now. Please try "
    "again in a few minutes."
)


def readable_time(iso: str) -> str:
    """'2026-11-25T12:00:00+00:00' -> 'Wednesday 25 November at 12:00 (UTC)'."""
    moment = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    return f"{moment:%A} {moment.day} {moment:%B} at {moment:%H:%M} (UTC)"


async def load_draft(
    code: str, dispatcher: CollectingDispatcher
) -> tuple[dict[str, Any] | None, str]:
    """The slots of a paused referral, every referral slot set (so nothing from another referral
    is mixed in), or None and what to tell the referrer."""
    try:
        draft = await register_client.read_draft(code)
    except register_client.RegisterRejected:
        return None, DRAFT_NOT_FOUND
    except register_client.RegisterUnavailable:
        return None, DRAFT_SERVICE_DOWN
    data = draft.get("data", {})
    slots: dict[str, Any] = {slot: data.get(slot) for slot in REFERRAL_SLOTS}
    slots.update({"ref_resume_code": code, FAILURES: None})
    dispatcher.utter_message(
        text="Welcome back: I have your answers. They are kept until "
        f"{readable_time(draft['expires_at'])}. Let us carry on where you left off."
    )
    return slots, ""


RESUME_CODE = re.compile(r"\b([A-Za-z0-9]{4})\s*-?\s*([A-Za-z0-9]{4})\b")


def find_resume_code(text: str) -> str | None:
    """A code typed as ABCD-EFGH, abcdefgh or ABCD EFGH; it always has a digit or a hyphen-like
    shape, so ordinary words are not taken for one."""
    for match in RESUME_CODE.finditer(text):
        code = (match[1] + match[2]).upper()
        if any(ch.isdigit() for ch in code) or "-" in match[0]:
            return f"{code[:4]}-{code[4:]}"
    return None


class ValidateReferralResumeForm(ReferralForm):
    """Loads a paused referral from the register service by its resume code."""

    stage = RESUME_STAGE

    def name(self) -> str:
        return "validate_referral_resume_form"

    async def validate_ref_resume_code_given(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        failures = _failures(tracker)
        code = find_resume_code(str(value))
        if code is None:
            message = "That does not look like a resume code: it has 8 letters and numbers, like ABCD-EFGH."
        else:
            loaded, message = await load_draft(code, dispatcher)
            if loaded is not None:
                return {**loaded, "ref_resume_code_given": code}
        failures["ref_resume_code_given"] = failures.get("ref_resume_code_given", 0) + 1
        dispatcher.utter_message(text=message)
        if failures["ref_resume_code_given"] >= 2:
            dispatcher.utter_message(
                text="If the code has expired, the answers were deleted and you will need to start "
                "again: say 'start again'. Say 'stop' to leave this, or 'talk to someone' for the "
                "DSP team's contact details."
            )
        return {"ref_resume_code_given": None, FAILURES: failures}


# ---- asking ---------------------------------------------------------------------------------------


class AskForField(Action, ABC):
    """Asks for a field: its prompt (from the table, or the variant) and its buttons. Each slot
    gets a subclass named action_ask_<slot>, which Rasa's forms call to ask for it."""

    slot: str

    @abstractmethod
    def name(self) -> str: ...

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        field_ = FIELDS[self.slot]
        ctx = Context(tracker)
        try:
            text = await self.prompt(field_, ctx)
            buttons = (
                field_.buttons if isinstance(field_.buttons, tuple) else await field_.buttons(ctx)
            )
            text = await self.with_section(field_, ctx, text)
        except register_client.RegisterUnavailable:
            text = f"Next: {field_.label}. (The register service is not answering, so I cannot show the options just now.)"
            buttons = []
        dispatcher.utter_message(
            text=text, buttons=[{"title": t, "payload": p} for t, p in buttons] or None
        )
        return []

    async def prompt(self, field_: Field, ctx: Context) -> str:
        if self.slot == "ref_confirm" and ctx.slot("ref_submit_failed"):
            return "Shall I try sending the referral again now? Your answers are as before."
        if self.slot == "ref_invitee" and ctx.slot("ref_invitees"):
            return (
                "Who else should be invited? Give their name, role, email and phone, separated "
                "by commas."
            )
        return await render(field_.prompt, ctx)

    async def with_section(self, field_: Field, ctx: Context, text: str) -> str:
        """In the referral form, each section is named when it starts."""
        if STAGE_OF_SLOT.get(self.slot) is not STAGES[5]:
            return text
        variant = await ctx.variant()
        needed = STAGES[5].slots(ctx.slots, variant, ctx.today)
        index = needed.index(self.slot) if self.slot in needed else 0
        earlier = FIELDS[needed[index - 1]].section if index else None
        return text if earlier == field_.section else f"[{field_.section}] {text}"


def _ask_action(slot: str) -> type[AskForField]:
    return type(
        f"AskFor_{slot}",
        (AskForField,),
        {"slot": slot, "name": lambda self: f"action_ask_{self.slot}", "__module__": __name__},
    )


ASK_ACTIONS: Final = tuple(_ask_action(slot) for slot in FIELDS)

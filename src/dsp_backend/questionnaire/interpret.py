"""What a free-text answer means for the question asked: the value understood, with any other
answers the same message gives, or a short clarification that offers the choices.

Readers (questionnaire.reading) find what was said; this module knows the questionnaire: which
options a question has, what a "yes, letter from the paediatrician" also answers, what an opening
message already tells ("I'm a social worker... she's 14 and lives in Oakham").
"""

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from dsp_backend import formats as validation
from dsp_backend.eligibility.service import area_for_postcode
from dsp_backend.questionnaire import logic, reading, rules
from dsp_backend.questionnaire.reading import Choice
from dsp_backend.questionnaire.schemas import Answers, Interpreted, Item, Option
from dsp_backend.register.consent import consent_problem
from dsp_backend.variants.schemas import Variant


@dataclass
class Reading:
    """One answer read: its value (None: not understood), what else it answered, and what to
    say (a clarification, or a note of what was understood)."""

    value: Any = None
    also: Answers = field(default_factory=dict)
    message: str | None = None
    options: list[Option] = field(default_factory=list)


def _yes_no_options() -> list[Option]:
    return [Option(code="yes", display="Yes"), Option(code="no", display="No")]


def item_choices(item: Item) -> list[Choice]:
    return [
        Choice(o.code, [o.display.lower(), o.code.replace("_", " "), *o.words])
        for o in item.answerOption
    ]


def area_choices(variant: Variant, *, outside_words: bool = True) -> list[Choice]:
    found = [
        Choice(a.id, [a.name, a.council, a.id.replace("_", " "), *a.towns]) for a in variant.areas
    ]
    if outside_words:
        found.append(
            Choice(
                logic.OUTSIDE,
                ["somewhere else", "outside", "out of area", "another area", "elsewhere"],
            )
        )
    return found


def area_options(variant: Variant) -> list[Option]:
    return [Option(code=a.id, display=a.name) for a in variant.areas] + [
        Option(code=logic.OUTSIDE, display="Somewhere else")
    ]


_PLACED_BY = re.compile(
    r"placed\s+(?:there\s+|out\s+of\s+area\s+|here\s+)?by\s+(?:the\s+)?([^,.;)]+)", re.IGNORECASE
)
# "Leicestershire placed him there": the council named just before "placed".
_PLACER_FIRST = re.compile(
    r"((?:[A-Za-z']+\s+){0,3}[A-Za-z']+)\s+(?:have\s+|has\s+|had\s+)?placed\s+"
    r"(?:him|her|them|the\s+child|the\s+young\s+person)\b",
    re.IGNORECASE,
)
_NOT_A_PLACE = re.compile(r"^\W*(?:yes|no|ok|okay|not sure|don'?t know|unknown|n/?a)\W*$", re.I)


def read_area(text: str, variant: Variant, answers: Answers) -> Reading:
    """A council area, a town, or "somewhere else"; a place outside the variant is outside. A
    looked-after child's placing council said in passing is kept as that. A postcode alone only
    suggests an area (000, 001 s9), so it is offered to confirm."""
    also: Answers = {}
    rest = text
    if placed := _PLACED_BY.search(text):
        councils = reading.chosen(placed[1], area_choices(variant, outside_words=False))
        also["looked_after_child"] = True
        also["placing_council"] = councils[0] if councils else logic.OUTSIDE
        rest = text[: placed.start()] + text[placed.end() :]
    elif placer := _PLACER_FIRST.search(text):
        councils = reading.chosen(placer[1], area_choices(variant, outside_words=False))
        if councils:
            also["looked_after_child"] = True
            also["placing_council"] = councils[-1]
            rest = text[: placer.start()] + text[placer.end() :]
    if reading.normalise(rest) in ("yes", "yeah", "yep", "correct", "that's right"):
        hint = answers.get("_council_area_hint")
        if hint:
            return Reading(hint, also)
    found = reading.chosen(rest, area_choices(variant))
    if len(found) == 1:
        return Reading(found[0], also)
    names = {a.id: a.name for a in variant.areas}
    if len(found) > 1:
        return Reading(
            message="Which one is their home in?",
            options=[Option(code=f, display=names.get(f, "Somewhere else")) for f in found],
        )
    postcode = reading.find_postcode(rest)
    if postcode:
        suggested = area_for_postcode(postcode, variant)
        if suggested:
            return Reading(
                also={"_council_area_hint": suggested},
                message=f"That postcode is usually in {names[suggested]}. Is their home in "
                f"{names[suggested]}?",
                options=[
                    Option(code=suggested, display=names[suggested]),
                    Option(code=logic.OUTSIDE, display="Somewhere else"),
                ],
            )
        return Reading(logic.OUTSIDE, also, message=f"That postcode is outside {variant.name}.")
    if (
        re.search(r"[A-Za-z]{3,}", rest)
        and not _NOT_A_PLACE.match(rest)
        and not (reading.is_unsure(rest))
    ):
        return Reading(logic.OUTSIDE, also, message=f"Noted: that is outside {variant.name}.")
    return Reading(message="Which council area is their home in?", options=area_options(variant))


# Words that make a diagnosis a question, not a fact: "suspected autism", "being assessed for a
# learning disability", "autism assessment".
_HEDGED_BEFORE = frozenset(
    [
        "suspected",
        "suspect",
        "possible",
        "possibly",
        "probable",
        "probably",
        "query",
        "queried",
        "likely",
        "awaiting",
        "assessed",
        "assessing",
        "referred",
        "waiting",
        "undiagnosed",
    ]
)
_HEDGED_AFTER = frozenset(["assessment", "query", "queried", "suspected", "referral", "pathway"])


def _diagnoses_said(text: str, item: Item) -> set[str]:
    """The options named, with a hedged learning disability or autism read as not known yet."""
    tokens = [t.replace("'", "") for t in reading.words_of(text)]
    found = reading.find_choices(text, item_choices(item))
    kept = [f for f in found if not f.weak] or found
    codes: set[str] = set()
    for f in kept:
        before = tokens[max(0, f.start - 3) : f.start]
        after = tokens[f.start + f.length : f.start + f.length + 1]
        hedged = any(t in _HEDGED_BEFORE for t in before) or any(t in _HEDGED_AFTER for t in after)
        codes.add("unknown" if hedged and f.code in ("autism", "learning_disability") else f.code)
    return codes


def read_diagnosis(text: str, item: Item) -> Reading:
    """Several diagnoses in one answer are read together: autism and a learning difficulty is
    autism (001 s9: a learning difficulty alone is not a learning disability); a suspected one
    is not known yet."""
    said = reading.normalise(text)
    codes = _diagnoses_said(text, item)
    if re.search(r"\bboth\b", said):
        codes |= {"learning_disability", "autism"}
    if {"learning_disability", "autism"} <= codes:
        return Reading("both")
    for code in ("autism", "learning_disability"):
        if code in codes:
            return Reading(code)
    if "learning_difficulty" in codes:
        return Reading("learning_difficulty_only")
    if "unknown" in codes:
        return Reading("unknown")
    if "none" in codes:
        return Reading("none")
    return Reading(
        message="Is it a learning disability, autism, or both?",
        options=[Option(code=o.code, display=o.display) for o in item.answerOption],
    )


def read_boolean(text: str, item: Item) -> Reading:
    value = reading.read_boolean(text)
    rest = reading.remainder_after_yes_no(text)
    # Details enough to stand for "yes": "letter from Dr Patel, 2019", not a word or two.
    detail = len(reading.words_of(rest)) >= 3 and not reading.is_unsure(rest)
    negated = any(w in reading.NEGATIONS for w in reading.words_of(rest)[:3])
    if value is None and item.captures and detail and not negated:
        value = True  # "letter from Dr Patel, 2019" answers "is it confirmed?" with its evidence
    if value is None:
        return Reading(message="Please answer yes or no.", options=_yes_no_options())
    return Reading(value)


def captured(item: Item, text: str, variant: Variant) -> Answers:
    """What an answer's other words also answer (the item's `captures`): the details after
    "yes", a postcode in an address, a phone beside an email, the same words for a question asked
    together with this one."""
    rest = reading.remainder_after_yes_no(text) if item.type == "boolean" else text.strip()
    if not item.captures or not rest:
        return {}
    found: Answers = {}
    for link_id in item.captures.split():
        target = logic.questionnaire().item(link_id)
        assert target is not None, link_id  # tests/backend check every captures names an item
        got: Any = None
        if target.type in ("phone", "email", "postcode", "nhs_number"):
            got = read_format(target.type, rest).value
        elif target.type == "area":
            councils = reading.chosen(rest, area_choices(variant, outside_words=False))
            got = councils[0] if councils else None
        elif item.type != "boolean" or (
            len(reading.words_of(rest)) >= 2 and not reading.is_unsure(rest)
        ):
            got = rest[:20_000]
        if got is not None:
            found[link_id] = got
    return found


def read_date(text: str, item: Item, today: date) -> Reading:
    birth = item.linkId == "date_of_birth"
    try:
        found = reading.read_date(text, today, year_needed=birth)
    except reading.NotADate as error:
        return Reading(message=str(error))
    if found is None:
        example = "14/03/2011" if birth else "today, or 14/03/2026"
        return Reading(message=f"Please give the date, for example {example}.")
    problem = (
        rules.date_of_birth_problem(found, today)
        if birth
        else ("The date cannot be in the future." if found > today else None)
    )
    return Reading(message=problem) if problem else Reading(found.isoformat())


def read_age(text: str, today: date) -> Reading:
    try:
        birth = reading.read_date(text, today)
    except reading.NotADate:
        birth = None
    if birth is not None:
        problem = rules.date_of_birth_problem(birth, today)
        if problem:
            return Reading(message=problem)
        return Reading(None, {"date_of_birth": birth.isoformat()})
    years = reading.read_age(text)
    if years is None or years > rules.OLDEST_AGE:
        return Reading(message="Please give their age in years, or their date of birth.")
    return Reading(years)


def read_format(kind: str, text: str) -> Reading:
    finders: dict[str, tuple[Callable[[str], str | None], Callable[[str], bool], str]] = {
        "nhs_number": (
            reading.find_nhs_number,
            validation.nhs_number_is_valid,
            "That is not a valid NHS number. It has 10 digits and the last one is a check "
            "digit: please check each digit.",
        ),
        "postcode": (
            reading.find_postcode,
            validation.postcode_is_valid,
            "That does not look like a UK postcode (for example LE1 6TH).",
        ),
        "email": (
            reading.find_email,
            validation.email_is_valid,
            "That does not look like an email address (for example name@nhs.net).",
        ),
        "phone": (
            reading.find_phone,
            validation.phone_is_valid,
            "That does not look like a phone number: a UK number has 10 or 11 digits.",
        ),
    }
    find, valid, message = finders[kind]
    found = find(text)
    if found is None or not valid(found):
        return Reading(message=message)
    normalise = {
        "nhs_number": validation.normalise_nhs_number,
        "postcode": validation.normalise_postcode,
        "phone": validation.normalise_phone,
    }.get(kind, str.strip)
    return Reading(normalise(found))


def read_contact_answer(text: str) -> Reading:
    for kind in ("email", "phone"):
        found = read_format(kind, text)
        if found.value is not None:
            return found
    return Reading(message="Please give a phone number or an email address.")


def read_referrer(text: str, answers: Answers) -> Reading:
    contact = reading.read_contact(text)
    if not contact.name or len(contact.name) > 200:
        return Reading(message="Please give your name.")
    also: Answers = {}
    for link_id, value, kind in (
        ("referrer_role", contact.role, None),
        ("referrer_organisation", contact.organisation, None),
        ("referrer_email", contact.email, "email"),
        ("referrer_phone", contact.phone, "phone"),
    ):
        if value and answers.get(link_id) is None:
            checked = read_format(kind, value).value if kind else value
            if checked:
                also[link_id] = checked
    return Reading(contact.name, also)


# "no", "no that's everyone", "that's all thanks": the list is complete (when no one new is named).
_ENOUGH = re.compile(
    r"^\W*(?:no|none|nope|nobody|no one|no more|that'?s (?:all|everyone|it)|done|finished)\b",
    re.IGNORECASE,
)


def read_invitees(text: str, answers: Answers) -> Reading:
    value = dict(answers.get("invitees") or {"people": [], "complete": False})
    people = list(value.get("people", []))
    if _ENOUGH.match(text) and not reading.find_email(text):
        if not people:
            return Reading(message="Please give at least one person to invite.")
        return Reading({"people": people, "complete": True})
    added, missing = [], []
    labels = {"name": "name", "role": "role", "email": "email", "phone": "phone number"}
    for person in reading.read_people(text):
        record = {
            "name": person.name,
            "role": person.role,
            "email": person.email
            if person.email and validation.email_is_valid(person.email)
            else None,
            "phone": validation.normalise_phone(person.phone)
            if person.phone and validation.phone_is_valid(person.phone)
            else None,
        }
        gaps = [labels[k] for k, v in record.items() if not v]
        if gaps:
            missing.append(f"{person.name or 'one person'}: the {' and '.join(gaps)}")
        else:
            added.append(record)
    if not added:
        return Reading(
            message=f"I need a name, role, email and phone number for each person. Missing: "
            f"{'; '.join(missing) or 'their details'}. Please give them again in full."
        )
    people += added
    complete = bool(re.search(r"that'?s (?:all|everyone|it)|no one else|nobody else", text, re.I))
    names = ", ".join(f"{p['name']} ({p['role']})" for p in added)
    note = f"Added {names}."
    if missing:
        note += f" Still missing: {'; '.join(missing)}."
    return Reading({"people": people, "complete": complete}, message=note)


def read_criteria(text: str, state: logic.State, shown: list[str]) -> Reading:
    """Numbers among those shown, "all"/"yes", "none", or criteria named in words."""
    said = reading.normalise(text)
    group = state.facts["age_group"]
    criteria = logic.criteria_for(state.variant, group)
    if re.fullmatch(
        r"(no|none|nope|neither|none of (these|those|them)|none really|not really)"
        r"( of (these|those|them))?( really)?",
        said,
    ):
        return Reading([])
    numbers = reading.read_numbers(text, len(shown))
    picked = [shown[n - 1] for n in numbers] if numbers else []
    if not picked and shown and reading.read_boolean(text) is True:
        picked = list(shown)
    named = reading.chosen(text, [Choice(c.id, [c.title]) for c in criteria])
    picked += [c for c in named if c not in picked]
    if not picked and re.search(r"\bnone\b|\bno\b|\bnot\b", said):
        return Reading([])
    if not picked:
        return Reading(
            message="Please say the numbers of those that apply (for example 1 and 3), 'all', "
            "or 'none'."
        )
    return Reading(picked)


def read_rating(text: str, state: logic.State) -> Reading:
    suggestion = state.suggestion
    choosable = suggestion.choosable_at_referral if suggestion else []
    words = {
        "amber": ["amber", "orange", "dsr"],
        "red": ["red", "roar", "risk of admission register"],
        "green": ["green"],
    }
    found = reading.chosen(text, [Choice(r, words.get(r, [r])) for r in ("amber", "red", "green")])
    if not found and suggestion and suggestion.rag in choosable:
        agree = reading.read_boolean(text) or re.search(
            r"\b(agree|fine|go with|suggested|sounds right|happy with|that one|ok)\b",
            reading.normalise(text),
        )
        if agree:
            found = [suggestion.rag]
    options = [Option(code=r, display=r.capitalize()) for r in choosable]
    if len(found) != 1:
        return Reading(message="Which rating do you choose?", options=options)
    if found[0] not in choosable:
        problem = rules.rating_problem(_with(state, {"rag": found[0]}))
        return Reading(message=problem, options=options)
    return Reading(found[0])


def _with(state: logic.State, more: Answers) -> logic.State:
    return logic.state_of({**state.answers, **more}, state.source, state.variant, state.today)


def read(item: Item, text: str, state: logic.State, shown: list[str]) -> Reading:
    """One answer to `item`, read by its type."""
    variant, today = state.variant, state.today
    match item.type:
        case "choice":
            codes = reading.chosen(text, item_choices(item))
            if len(codes) == 1:
                return Reading(codes[0])
            options = [Option(code=o.code, display=o.display) for o in item.answerOption]
            if codes:
                options = [o for o in options if o.code in codes]
            return Reading(message="Which of these is it?", options=options)
        case "boolean":
            return read_boolean(text, item)
        case "date":
            return read_date(text, item, today)
        case "age":
            return read_age(text, today)
        case "diagnosis":
            return read_diagnosis(text, item)
        case "area":
            return read_area(text, variant, state.answers)
        case "person_name":
            name = reading.read_name(text)
            if name is None:
                return Reading(message="Please give their first name and family name.")
            return Reading({"given": name[0], "family": name[1]})
        case "name":
            return read_referrer(text, state.answers)
        case "nhs_number" | "postcode" | "email" | "phone":
            return read_format(item.type, text)
        case "contact":
            return read_contact_answer(text)
        case "people":
            return read_invitees(text, state.answers)
        case "criteria":
            return read_criteria(text, state, shown)
        case "rating":
            return read_rating(text, state)
        case _:
            value = text.strip()
            if not value:
                return Reading(message=f"Please tell me {item.label}.")
            return Reading(value[:20_000])


# ---- facts in passing: the opening message, and several facts in one answer ---------------------

_ROLE = re.compile(
    r"\b(?:i'?m|i am|as)\s+(?:a|an|the)\s+([a-z][a-z' -]{2,60}?)(?=\s+(?:and|at|in|with|for|from|"
    r"who|working|based|referring|wanting|looking|hoping|calling|writing|about|regarding|to)\b|"
    r"[,.;!]|$)",
    re.IGNORECASE,
)


_LIVES = re.compile(r"\b(?:lives?|living|based|home is|stays?)\s+(?:in|at)\s+([^,.;]+)", re.I)
_IN_PLACE = re.compile(r"\b(?:in|from)\s+((?:[A-Z][\w'-]+\s?){1,3})")


def _home_in_passing(text: str, variant: Variant) -> Answers:
    """Where the person lives, when a message says so ("lives in Oakham", "a 14 year old in
    Rutland"); a place named after "lives in" that is not the variant's is outside it. A council
    that placed a looked-after child is not their home."""
    rest = _PLACED_BY.sub("", text)
    choices = area_choices(variant, outside_words=False)
    if lives := _LIVES.search(rest):
        area = reading.chosen(lives[1], choices)
        return {"council_area": area[0] if len(area) == 1 else logic.OUTSIDE}
    named = {a for place in _IN_PLACE.findall(rest) for a in reading.chosen(place, choices)}
    return {"council_area": named.pop()} if len(named) == 1 else {}


def facts_in_passing(text: str, state: logic.State, *, opening: bool) -> Answers:
    """What a message says beside its answer: the referrer's role and sector, the person's age
    and where they live, the diagnosis. Only questions not yet answered are filled."""
    answers = state.answers
    found: Answers = {}
    items = {i.linkId: i for i in logic.questionnaire().items}
    if opening and state.source == "professional":
        sector = reading.chosen(text, item_choices(items["referrer_kind"]))
        if len(sector) == 1:
            found["referrer_kind"] = sector[0]
        if role := _ROLE.search(text):
            found["referrer_role"] = role[1].strip()
            # "I'm an LD nurse": the referrer's work, not the person's diagnosis.
            text = text[: role.start()] + text[role.end() :]
    if opening and state.source == "self":
        who = reading.chosen(text, item_choices(items["self_who"]))
        if len(who) == 1:
            found["self_who"] = who[0]
    if answers.get("age") is None and answers.get("date_of_birth") is None:
        age = re.search(
            r"\b(?:(?:he|she|they)(?:'s| is| are)|aged|age)\s+(\d{1,2})\b|\b(\d{1,2})[- ](?:years?|yrs?)"
            r"[- ]old\b|\b(\d{1,2})\s*yo\b",
            text,
            re.IGNORECASE,
        )
        if age:
            found["age"] = int(age[1] or age[2] or age[3])
    if answers.get("council_area") is None:
        found.update(_home_in_passing(text, state.variant))
    if answers.get("diagnosis") is None and (opening or "diagnos" in text.lower()):
        diagnosis = read_diagnosis(text, items["diagnosis"])
        if diagnosis.value not in (None, "none", "unknown"):
            found["diagnosis"] = diagnosis.value
    return found


def interpret(*, question: str, text: str, state: logic.State, shown: list[str]) -> Interpreted:
    """Reads `text` as the answer to `question` and returns the answers as they then stand."""
    answers = dict(state.answers)
    if question == "$opening":
        found = facts_in_passing(text, state, opening=True)
        return Interpreted(understood=bool(found), answers={**answers, **found})
    item = logic.questionnaire().item(question)
    if item is None:
        raise ValueError(
            "question: expected a linkId of the questionnaire, '$opening' or "
            "'$summary'; got one that is not"
        )
    result = read(item, text, state, shown)
    if result.value not in (None, False) and item.type != "name":
        result.also = {**captured(item, text, state.variant), **result.also}
    if result.value is None and not result.also:
        return Interpreted(
            understood=False, answers=answers, message=result.message, options=result.options
        )
    extra = facts_in_passing(text, state, opening=False) if item.section == "eligibility" else {}
    # "She consented herself; she has capacity for this decision" also answers the capacity
    # question, where it is asked (16 and over).
    capacity = reading.read_capacity(text) if item.linkId == "consent_by" else None
    if capacity is not None and answers.get("consent_capacity") is None:
        extra["consent_capacity"] = capacity
    updates = {**extra, **{k: v for k, v in result.also.items() if answers.get(k) is None}}
    if result.value is not None:
        updates[item.linkId] = result.value
    answers.update(updates)
    answers.pop("_council_area_hint", None) if item.linkId == "council_area" and (
        result.value is not None
    ) else None
    if "_council_area_hint" in result.also:
        answers["_council_area_hint"] = result.also["_council_area_hint"]
    after = logic.state_of(answers, state.source, state.variant, state.today)
    capacity_item = logic.questionnaire().item("consent_capacity")
    if "consent_capacity" in extra and capacity_item and not after.enabled(capacity_item):
        answers.pop("consent_capacity")
    consent = consent_problem(
        answers.get("consent_by"),
        answers.get("consent_capacity"),
        after.facts["age_years"],
        state.variant,
    )
    if consent and item.linkId in ("consent_by", "consent_capacity"):
        for link_id in ("consent_by", "consent_capacity"):
            answers.pop(link_id, None)
        return Interpreted(understood=False, answers=answers, message=consent)
    return Interpreted(
        understood=result.value is not None or bool(updates),
        answers=answers,
        message=result.message,
        options=result.options,
    )

"""The referral's rules over its answers: each pure, each naming its source in a comment, each
message plain English that never repeats a value.

`problems()` is what POST /referrals checks: the same functions the conversation uses, on the
answers as stored, with eligibility and the rating recomputed from them.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from dsp_backend import formats as validation
from dsp_backend.eligibility import service as eligibility_service
from dsp_backend.questionnaire import logic
from dsp_backend.questionnaire.schemas import Answers, Item
from dsp_backend.register.consent import consent_problem

# Older than this is a mistyped year, not a person to refer.
OLDEST_AGE = 120


@dataclass(frozen=True)
class Problem:
    link_id: str
    msg: str
    type: str

    def as_error(self) -> dict[str, Any]:
        """The shape FastAPI uses for a 422, without the input it was given."""
        return {"loc": ["body", "answers", self.link_id], "msg": self.msg, "type": self.type}


def date_of_birth_problem(birth: date, today: date) -> str | None:
    """A date of birth someone could have: not in the future, not older than anyone alive."""
    if birth > today:
        return "The date of birth cannot be in the future."
    if eligibility_service.age_on(date_of_birth=birth, today=today).years > OLDEST_AGE:
        return f"That date of birth would make them over {OLDEST_AGE}: please check the year."
    return None


def _text(value: Any) -> bool:
    return isinstance(value, str) and 0 < len(value.strip()) <= 20_000


def _person(value: Any) -> bool:
    fields = ("name", "role", "email", "phone")
    return isinstance(value, dict) and all(_text(value.get(f)) for f in fields)


_SHAPES: dict[str, Callable[[Any], bool]] = {
    "boolean": lambda v: isinstance(v, bool),
    "age": lambda v: isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= OLDEST_AGE,
    "text": _text,
    "name": lambda v: _text(v) and len(v) <= 200,
    "person_name": lambda v: (
        isinstance(v, dict)
        and all(_text(v.get(k)) and len(v[k]) <= 100 for k in ("given", "family"))
    ),
    "nhs_number": lambda v: isinstance(v, str) and validation.nhs_number_is_valid(v),
    "postcode": lambda v: isinstance(v, str) and validation.postcode_is_valid(v),
    "email": lambda v: isinstance(v, str) and len(v) <= 320 and validation.email_is_valid(v),
    "phone": lambda v: isinstance(v, str) and len(v) <= 32 and validation.phone_is_valid(v),
    "contact": lambda v: (
        isinstance(v, str) and (validation.email_is_valid(v) or validation.phone_is_valid(v))
    ),
    "people": lambda v: (
        isinstance(v, dict)
        and isinstance(v.get("people"), list)
        and 0 < len(v["people"]) <= 50
        and all(_person(p) for p in v["people"])
    ),
    "criteria": lambda v: isinstance(v, list) and all(isinstance(c, str) for c in v),
}


def shape_problem(item: Item, value: Any, state: logic.State) -> str | None:
    """Whether a stored answer has its type's shape; choices must be the question's own."""
    if item.type == "date":
        try:
            day = date.fromisoformat(value) if isinstance(value, str) else None
        except ValueError:
            day = None
        if day is None:
            return f"Please give {item.label} as a date (YYYY-MM-DD)."
        if item.linkId == "date_of_birth":
            return date_of_birth_problem(day, state.today)
        return "The date cannot be in the future." if day > state.today else None
    if item.type in ("choice", "diagnosis"):
        codes = {o.code for o in item.answerOption}
        if item.type == "diagnosis":
            codes = {"learning_disability", "autism", "both", "learning_difficulty_only", "none"}
            codes.add("unknown")
        chosen = isinstance(value, str) and value in codes
        return None if chosen else f"Please choose one of the answers for {item.label}."
    if item.type == "area":
        codes = {a.id for a in state.variant.areas} | {logic.OUTSIDE}
        chosen = isinstance(value, str) and value in codes
        return None if chosen else f"Please choose {item.label} from the variant's areas."
    if item.type == "rating":
        return None if isinstance(value, str) else "Please choose a rating."
    check = _SHAPES.get(item.type)
    if check is not None and not check(value):
        return f"Please check {item.label}: it is not in the expected form."
    if item.type == "criteria":
        known = {c.id for c in logic.criteria_for(state.variant, state.facts["age_group"])}
        if set(value) - known:
            return f"These are not {state.variant.name}'s criteria for this person."
    return None


def rating_problem(state: logic.State) -> str | None:
    """001 s10: amber at referral; red only by a direct ROAR route; green only after an inpatient
    discharge. 004: red when a red criterion applies. 003: the DSR meeting rates. Recomputed from
    the answers: a client never posts a suggestion or the ratings it may choose."""
    suggestion = state.suggestion
    if suggestion is None or suggestion.decided_by == "dsr_meeting":
        return None
    chosen = state.answers.get("rag")
    choosable = suggestion.choosable_at_referral
    if chosen is None and len(choosable) == 1:
        return None
    if chosen in choosable:
        return None
    if not choosable:
        return "No rating can be given at referral from these answers: please contact the DSR team."
    allowed = " or ".join(choosable)
    if chosen is None:
        return f"Please choose the rating: {allowed}."
    why = {
        "red": "Red at referral is only for someone at imminent risk of admission when nobody "
        "knew the risk was escalating, for an adult whose admission avoidance is urgent with a "
        "care and treatment review requested, or where an out-of-area exception needs it.",
        "green": "Green at referral is only for someone discharged from an inpatient hospital.",
        "blue": "Nobody is referred as blue: blue is for someone on the register who is admitted.",
    }.get(str(chosen), f"{state.variant.name} does not use that rating.")
    if state.variant.ratings.direct_roar is None and chosen == "red":
        why = "Red is for a young person who meets one of the red criteria."
    required = state.eligibility.rating_required
    if required is not None and chosen != required:
        # 000; 001 appendix 2: the out-of-area exception that applies needs this rating.
        why = f"This out-of-area referral can be made only with a {required} rating."
    green = state.variant.ratings.definition("green")
    if chosen == "green" and green is not None and green.at_referral:
        # 004: a former inpatient with no concerns; 001 s10: discharged from an inpatient hospital.
        why = f"Green at referral: {green.at_referral[:1].lower()}{green.at_referral[1:]}"
    return f"{why} For this referral choose {allowed}."


def shape_problems(answers: Answers, state: logic.State) -> list[Problem]:
    """Every answer given that does not have its question's shape, whether or not the question
    applies: nothing is stored unchecked."""
    found: list[Problem] = []
    for item in logic.questionnaire().items:
        value = answers.get(item.linkId)
        problem = shape_problem(item, value, state) if value is not None else None
        if problem:
            found.append(Problem(item.linkId, problem, "format"))
    return found


def problems(state: logic.State) -> list[Problem]:
    """Everything that stops these answers being stored, each with the question it is about."""
    found: list[Problem] = []
    known = {i.linkId: i for i in logic.questionnaire().items}
    for link_id in sorted(set(state.answers) - set(known)):
        found.append(Problem(link_id, "This is not a question of the referral.", "unknown"))
    # An answer to a question that does not apply is kept with the form, so it is checked too.
    skipped = {
        i.linkId: v
        for i in known.values()
        if not state.enabled(i) and (v := state.answers.get(i.linkId)) is not None
    }
    found += shape_problems(skipped, state)
    for item in logic.questionnaire().items:
        if not state.enabled(item):
            continue
        value = state.answers.get(item.linkId)
        if not logic.answered(item, state.answers):
            if item.required and not (item.linkId == "rag" and state.rag is not None):
                found.append(Problem(item.linkId, f"Please give {item.label}.", "missing"))
            continue
        problem = shape_problem(item, value, state)
        if problem:
            found.append(Problem(item.linkId, problem, "format"))
    if found:
        return found
    stop = logic.stop_reason(state)
    if stop is not None or not state.eligibility.eligible:
        reasons = [r.text for r in state.eligibility.reasons if not r.met]
        return [Problem("eligibility", stop or " ".join(reasons), "eligibility")]
    rating = rating_problem(state)
    if rating:
        found.append(Problem("rag", rating, "rating"))
    consent = consent_problem(
        state.in_force.get("consent_by"),
        state.in_force.get("consent_capacity"),
        state.facts["age_years"],
        state.variant,
    )
    if consent:
        found.append(Problem("consent_by", consent, "consent"))
    return found

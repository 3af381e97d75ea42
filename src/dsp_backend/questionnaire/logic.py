"""Which question comes next, and what the answers so far mean: pure functions over the
questionnaire, the variant and the answers.

The facts a question's enableWhen may name ("$age_group", "$full_form", ...) are derived here from
the answers and the variant, never taken from a client. Eligibility and the rating suggestion are
the eligibility and rating features' own functions, fed from the answers.
"""

import re
from dataclasses import dataclass
from datetime import date
from functools import cache
from importlib import resources
from typing import Any

import yaml

from dsp_backend.eligibility import service as eligibility_service
from dsp_backend.eligibility.schemas import Diagnosis, EligibilityAnswers, EligibilityResult
from dsp_backend.questionnaire.schemas import (
    Answers,
    EnableWhen,
    Item,
    Questionnaire,
)
from dsp_backend.rating import service as rating_service
from dsp_backend.rating.schemas import RatingQuestion, RatingSuggestion
from dsp_backend.register import lifecycle
from dsp_backend.variants.schemas import AgeGroup, Criterion, Rag, ReferralSource, Register, Variant

OUTSIDE = "outside"
# Questions whose answers decide whether someone lives in the area or an exception applies.
AREA_QUESTIONS = (
    "council_area",
    "looked_after_child",
    "placing_council",
    "section_117_placement",
    "urgent_cetr_needed",
)


@cache
def questionnaire() -> Questionnaire:
    text = resources.files("dsp_backend.questionnaire").joinpath("referral.yml").read_text()
    return Questionnaire.model_validate(yaml.safe_load(text))


def answered(item: Item, answers: Answers) -> bool:
    value = answers.get(item.linkId)
    if item.type == "people":
        return isinstance(value, dict) and bool(value.get("complete"))
    return value is not None


def age_of(answers: Answers, today: date) -> eligibility_service.Age | None:
    birth = answers.get("date_of_birth")
    if birth:
        return eligibility_service.age_on(date_of_birth=date.fromisoformat(birth), today=today)
    years = answers.get("age")
    return eligibility_service.Age(years=int(years), months=None) if years is not None else None


def diagnosis_of(answers: Answers) -> Diagnosis:
    value = answers.get("diagnosis")
    return value if value is not None else "unknown"


def eligibility_answers(
    answers: Answers, source: ReferralSource, variant: Variant
) -> EligibilityAnswers:
    """The eligibility check's answers; a value that is not the variant's is read as not given
    (rules.shape_problem names it)."""
    areas = {a.id for a in variant.areas} | {OUTSIDE}
    area = answers.get("council_area") if answers.get("council_area") in areas else None
    placing = answers.get("placing_council") if answers.get("placing_council") in areas else None
    looked_after = bool(answers.get("looked_after_child"))
    s117 = bool(answers.get("section_117_placement"))
    outside = area == OUTSIDE
    kind = answers.get("referrer_kind") if source == "professional" else answers.get("self_who")
    return EligibilityAnswers(
        diagnosis=diagnosis_of(answers),
        diagnosis_confirmed=bool(answers.get("diagnosis_confirmed")),
        confirmation_evidence_available=bool(answers.get("diagnosis_evidence")),
        autism_diagnosis_private=bool(answers.get("autism_private")),
        council_area=None if area in (None, OUTSIDE) else area,
        lives_outside_area=outside,
        date_of_birth=date.fromisoformat(answers["date_of_birth"])
        if answers.get("date_of_birth")
        else None,
        age_years=answers.get("age"),
        looked_after_child=looked_after,
        placing_council=placing if looked_after and placing not in (None, OUTSIDE) else None,
        section_117_funded=s117,
        out_of_area_placement=outside and (s117 or looked_after),
        urgent_cetr_needed=bool(answers.get("urgent_cetr_needed")),
        referrer_kind=kind or ("health" if source == "professional" else "family"),
    )


def eligibility(
    answers: Answers, source: ReferralSource, variant: Variant, today: date
) -> EligibilityResult:
    return eligibility_service.check(
        answers=eligibility_answers(answers, source, variant), variant=variant, today=today
    )


def criteria_for(variant: Variant, group: AgeGroup | None) -> list[Criterion]:
    """The criteria a referrer may tick for this age group: the ratings' that may be chosen at
    referral, or the concerns where the DSR meeting rates (003)."""
    ratings = variant.ratings
    if ratings.rated_by == "dsr_meeting":
        return list(ratings.concerns)
    return [
        c
        for d in ratings.definitions
        if d.choosable_when != "never"
        for c in d.criteria
        if group is None or group in c.applies_to
    ]


def rating_question(
    answers: Answers, variant: Variant, today: date, exception_rag: Rag | None
) -> RatingQuestion:
    age = age_of(answers, today)
    group = eligibility_service.age_group_for(age, variant) if age else None
    known = {c.id for c in criteria_for(variant, group)}
    ticked = [c for c in answers.get("concerns") or [] if c in known]
    status = answers.get("inpatient_status")
    return RatingQuestion(
        criteria_ids=ticked,
        other_concern=not ticked and bool(answers.get("current_situation")),
        # Asked only of someone not in hospital now (referral.yml): an inpatient's answer to it,
        # sent anyway, is no direct ROAR route (001 s10).
        imminent_risk_of_admission=bool(answers.get("imminent_risk")) and status != "now",
        earlier_knowledge_of_escalating_risk=bool(answers.get("escalating_risk_known")),
        inpatient_now=status == "now",
        recently_discharged_from_inpatient=status == "discharged",
        age_group=group,
        out_of_area_rating=exception_rag,
    )


@dataclass(frozen=True)
class State:
    """Everything the answers so far mean, derived once per request."""

    answers: Answers
    source: ReferralSource
    variant: Variant
    today: date
    eligibility: EligibilityResult
    suggestion: RatingSuggestion | None
    facts: dict[str, Any]
    in_force: Answers  # the answers to questions that apply: what decides and what is stored

    @property
    def rag(self) -> Rag | None:
        """The rating the referral goes on with: the referrer's choice where it may be chosen;
        the only one that may be chosen; none where the DSR meeting rates (003)."""
        if self.suggestion is None or self.suggestion.decided_by == "dsr_meeting":
            return None
        choosable = self.suggestion.choosable_at_referral
        chosen = self.in_force.get("rag")
        if chosen in choosable:
            return chosen  # type: ignore[no-any-return]
        return choosable[0] if len(choosable) == 1 else None

    @property
    def register(self) -> Register:
        return lifecycle.register_of(self.rag, self.variant) if self.rag else "DSR"

    def enabled(self, item: Item) -> bool:
        return all(self.holds(condition) for condition in item.enableWhen)

    def holds(self, condition: EnableWhen) -> bool:
        name = condition.question
        value = self.facts.get(name[1:]) if name.startswith("$") else self.answers.get(name)
        expected = condition.answer
        match condition.operator:
            case "exists":
                return (value is not None) == bool(expected)
            case "=":
                return bool(value == expected)
            case "!=":
                return bool(value != expected)
            case "in":
                return value in expected
            case ">=":
                return value is not None and value >= expected
        return False

    def to_ask(self) -> list[Item]:
        items = questionnaire().items
        return [i for i in items if self.enabled(i) and not answered(i, self.answers)]

    def asked(self) -> list[Item]:
        return [i for i in questionnaire().items if self.enabled(i) and answered(i, self.answers)]


def state_of(answers: Answers, source: ReferralSource, variant: Variant, today: date) -> State:
    """What the answers mean. Only answers to questions that apply count: an answer left from a
    question that no longer applies (after an earlier answer changed) is kept, so that it comes
    back if the question does, but decides nothing."""
    items = questionnaire()
    state = _derive(answers, answers, source, variant, today)
    # What applies depends on what is in force, so settle it: a few rounds at most.
    for _ in range(5):
        in_force = {
            k: v for k, v in answers.items() if (i := items.item(k)) is None or state.enabled(i)
        }
        if in_force == state.in_force:
            break
        state = _derive(answers, in_force, source, variant, today)
    return state


def _derive(
    given: Answers, answers: Answers, source: ReferralSource, variant: Variant, today: date
) -> State:
    result = eligibility(answers, source, variant, today)
    age = age_of(answers, today)
    group = eligibility_service.age_group_for(age, variant) if age else None
    exception_rag = result.rating_required
    suggestion = (
        rating_service.suggest(
            question=rating_question(answers, variant, today, exception_rag), variant=variant
        )
        if answers.get("current_situation") is not None
        else None
    )
    looked_after = bool(answers.get("looked_after_child"))
    placing = answers.get("placing_council")
    facts: dict[str, Any] = {
        "source": source,
        "variant": variant.id,
        "age_group": group,
        "age_years": age.years if age else None,
        "rated_by": variant.ratings.rated_by,
        "has_roar": "ROAR" in variant.registers,
        "asks_imminent_risk": variant.ratings.direct_roar is not None
        or variant.ratings.imminent_risk_criterion is not None,
        "after_referral": variant.after_referral.process,
        "out_of_area_exceptions": any(e.age_group == group for e in variant.out_of_area_exceptions),
        "placed_by_area_council": looked_after and placing not in (None, OUTSIDE),
        "private_autism_policy": {True: "accepted", False: "refused", None: "unknown"}[
            variant.diagnosis.private_autism_accepted
        ],
        "good_referral": variant.good_referral_prompts,
    }
    state = State(given, source, variant, today, result, suggestion, facts, answers)
    full = source == "professional" and (
        bool(answers.get("mam_by_admin")) or state.register == "ROAR"
    )
    facts["full_form"] = full
    facts["register"] = state.register
    # Only a real choice is asked: where one rating alone may be given, the summary shows it.
    facts["rating_choice"] = suggestion is not None and len(suggestion.choosable_at_referral) > 1
    facts["full_form_or_good_referral"] = full or variant.good_referral_prompts
    return state


def stop_reason(state: State) -> str | None:
    """Why the referral cannot go on, once the answers that decide it are in; None otherwise."""
    result = state.eligibility
    if not result.referrer_may_refer:
        return " ".join(r.text for r in result.reasons if r.rule == "who_may_refer")
    pending = {i.linkId for i in state.to_ask()}
    if result.outcome == "not_eligible":
        blocking = [
            r.text
            for r in result.reasons
            if not r.met
            and r.rule in _FED_BY
            # An age in years already decides the age group: the date of birth, asked later
            # with the person's details, does not need to be waited for.
            and (
                state.facts["age_years"] is not None
                if r.rule == "age"
                else not pending & set(_FED_BY[r.rule])
            )
        ]
        if blocking:
            # Each reason's own first sentence says what is wrong; the rest restates the rule,
            # which what_to_do_instead says again in the variant's words.
            said = [re.split(r"(?<=[.!?])\s", text, maxsplit=1)[0] for text in blocking]
            return " ".join([*said, result.what_to_do_instead or ""]).strip()
    if result.outcome == "needs_confirmation":
        # What no question can settle: a diagnosis not known yet, or a private autism diagnosis
        # where the local guidance is silent (the DSR team decides).
        unsettled = [
            item
            for item in result.to_confirm
            if ("ask the DSR team" in item and "autism_private" not in pending)
            or ("has a diagnosis" in item and "diagnosis" in state.answers)
        ]
        if unsettled:
            contact = _team_contact(state.variant)
            return " ".join(
                [f"I cannot go on with the referral yet: please confirm {'; '.join(unsettled)}."]
                + ([contact] if contact else [])
            )
    return None


# The questions whose answers decide each eligibility rule.
_FED_BY: dict[str, tuple[str, ...]] = {
    "diagnosis": ("diagnosis", "diagnosis_confirmed", "autism_private"),
    "age": ("age", "date_of_birth"),
    "area": AREA_QUESTIONS,
}


def _team_contact(variant: Variant) -> str | None:
    kinds = ("dsr_admin", "referral_inbox", "coordinator")
    for contact in variant.contacts:
        if contact.kind in kinds:
            reach = contact.email or contact.phone or contact.url
            return f"Contact {contact.name}" + (f": {reach}." if reach else ".")
    return None

"""Eligibility for the pathway: pure functions over the variant and the referrer's answers.

Each rule gives a Check: a Reason (rule, source, met, plain text) and whether it blocks. A rule
that cannot be decided from the answers says what to confirm instead of guessing (000, 001 s9:
a postcode never decides alone).
"""

from dataclasses import dataclass, field
from datetime import date
from typing import Literal

from dsp_backend.eligibility.schemas import (
    EligibilityAnswers,
    EligibilityResult,
    Outcome,
    Reason,
)
from dsp_backend.variants.schemas import (
    AgeGroup,
    ExceptionCondition,
    OutOfAreaException,
    Rag,
    Register,
    Variant,
)

Status = Literal["met", "not_met", "unknown"]


class InvalidAnswers(ValueError):
    """Answers that contradict themselves or the variant; the message never echoes a value."""


@dataclass(frozen=True)
class Age:
    years: int
    months: int | None  # whole months of age; None when only the age in years is known


@dataclass
class Check:
    status: Status
    reason: Reason
    to_confirm: list[str] = field(default_factory=list)
    register: Register | None = None
    rag: Rag | None = None  # the rating an out-of-area exception needs (000: red for s117 CYP)


def age_on(*, date_of_birth: date, today: date) -> Age:
    """Completed years and months of age on `today`."""
    months = (today.year - date_of_birth.year) * 12 + today.month - date_of_birth.month
    if today.day < date_of_birth.day:
        months -= 1
    return Age(years=months // 12, months=months)


def _age(answers: EligibilityAnswers, today: date) -> Age | None:
    if answers.date_of_birth is not None:
        return age_on(date_of_birth=answers.date_of_birth, today=today)
    if answers.age_years is not None:
        return Age(years=answers.age_years, months=None)
    return None


def age_group_for(age: Age, variant: Variant) -> AgeGroup:
    """Under 18 is the CYP register, 18 and over the adult register (001 section 14)."""
    return "cyp" if age.years < variant.ages.adult_from else "adult"


def postcode_district(postcode: str) -> str:
    """The outward code ("LE15" of "LE15 6AB"): the only part of a postcode this service repeats."""
    compact = "".join(postcode.split()).upper()
    return compact[:-3] if len(compact) > 4 else compact


def area_for_postcode(postcode: str, variant: Variant) -> str | None:
    district = postcode_district(postcode)
    return next((a.id for a in variant.areas if district in a.postcode_districts), None)


def validate(*, answers: EligibilityAnswers, variant: Variant, today: date) -> None:
    """Refuses answers that cannot be checked; messages name the field, never its value."""
    area_ids = {area.id for area in variant.areas}
    expected = ", ".join(sorted(area_ids))
    if answers.date_of_birth is not None and answers.date_of_birth > today:
        raise InvalidAnswers("The date of birth is in the future: please check it.")
    if answers.council_area is not None and answers.council_area not in area_ids:
        raise InvalidAnswers(f"council_area must be one of this variant's areas: {expected}.")
    if answers.placing_council is not None and answers.placing_council not in area_ids:
        raise InvalidAnswers(f"placing_council must be one of this variant's areas: {expected}.")
    if answers.council_area is not None and answers.lives_outside_area:
        raise InvalidAnswers(
            "council_area and lives_outside_area cannot both be given: choose one."
        )


def check_referrer(answers: EligibilityAnswers, variant: Variant) -> Check:
    """Who may refer: professionals everywhere; the person or family only where allowed (003)."""
    allowed = answers.referrer_kind in variant.referrers.kinds
    # The advice on who can refer instead goes with the reason: the person may still be eligible.
    text = variant.referrers.text
    if not allowed:
        text = f"{text} {variant.what_to_do_instead.referrer}"
    return Check(
        status="met" if allowed else "not_met",
        reason=Reason(
            rule="who_may_refer", source=variant.referrers.source, met=allowed, text=text
        ),
    )


def check_diagnosis(answers: EligibilityAnswers, variant: Variant) -> Check:
    """A confirmed diagnosis of LD, autism or both; 'learning difficulty' is not LD (001 s9)."""
    rule = variant.diagnosis

    def result(status: Status, text: str, to_confirm: list[str] | None = None) -> Check:
        reason = Reason(rule="diagnosis", source=rule.source, met=status == "met", text=text)
        return Check(status=status, reason=reason, to_confirm=to_confirm or [])

    if answers.diagnosis == "learning_difficulty_only":
        return result(
            "not_met",
            '"Learning difficulty" is not the same as a learning disability, so it does not meet '
            f"the criterion. {rule.text}",
        )
    if answers.diagnosis == "none":
        return result("not_met", f"The pathway needs a diagnosis. {rule.text}")
    if answers.diagnosis == "unknown":
        return result(
            "unknown",
            f"We do not know the diagnosis yet. {rule.text}",
            ["whether the person has a diagnosis of a learning disability, autism or both"],
        )
    if answers.diagnosis not in rule.accepted:
        return result("not_met", rule.text)
    if rule.confirmation_required and not answers.diagnosis_confirmed:
        return result(
            "not_met",
            "The diagnosis must be confirmed before a referral can be accepted; the referrer "
            f"should have the confirmation. {rule.text}",
        )
    private_autism_only = answers.diagnosis == "autism" and answers.autism_diagnosis_private
    if private_autism_only and rule.private_autism_accepted is None:
        return result(
            "unknown",
            "The autism diagnosis was obtained privately, and the local guidance does not say "
            "whether that is accepted.",
            ["whether a privately obtained autism diagnosis is accepted: ask the DSR team"],
        )
    if private_autism_only and not rule.private_autism_accepted:
        return result(
            "not_met", f"A privately obtained autism diagnosis is not accepted here. {rule.text}"
        )
    if private_autism_only:
        return result("met", "A privately obtained autism diagnosis is accepted.")
    return result("met", "The person has a confirmed diagnosis that meets the criterion.")


def check_evidence(answers: EligibilityAnswers, variant: Variant) -> Check | None:
    """Evidence of the confirmed diagnosis goes with the referral (000 inclusion criteria)."""
    if not variant.diagnosis.evidence_required:
        return None
    met = answers.confirmation_evidence_available
    text = (
        "Evidence of the confirmed diagnosis is available to go with the referral."
        if met
        else "Evidence of the confirmed diagnosis needs to go with the referral."
    )
    return Check(
        status="met" if met else "unknown",
        reason=Reason(
            rule="diagnosis_evidence", source=variant.diagnosis.source, met=met, text=text
        ),
        to_confirm=[]
        if met
        else ["evidence of the confirmed diagnosis, to attach to the referral"],
    )


def check_age(age: Age | None, variant: Variant) -> Check:
    ages = variant.ages
    if age is None:
        return Check(
            status="unknown",
            reason=Reason(
                rule="age", source=ages.source, met=False, text=f"We need the age. {ages.text}"
            ),
            to_confirm=["the person's date of birth or age"],
        )
    group = age_group_for(age, variant)
    served = group in ages.serves
    return Check(
        status="met" if served else "not_met",
        reason=Reason(rule="age", source=ages.source, met=served, text=ages.text),
    )


def _holds(condition: ExceptionCondition, answers: EligibilityAnswers) -> bool:
    facts: dict[ExceptionCondition, bool] = {
        "section_117_funded": answers.section_117_funded,
        "out_of_area_placement": answers.out_of_area_placement,
        "urgent_cetr_needed": answers.urgent_cetr_needed,
        "looked_after_child": answers.looked_after_child,
        # validate() has already refused a placing council outside the variant.
        "placed_by_area_council": answers.placing_council is not None,
    }
    return facts[condition]


def matching_exception(
    answers: EligibilityAnswers, variant: Variant, group: AgeGroup
) -> OutOfAreaException | None:
    return next(
        (
            exception
            for exception in variant.out_of_area_exceptions
            if exception.age_group == group
            and all(_holds(condition, answers) for condition in exception.requires)
        ),
        None,
    )


def check_area(answers: EligibilityAnswers, variant: Variant, age: Age | None) -> Check:
    """Home address in a council area, or a GP in the ICB where that counts (001 s9); else the
    out-of-area exceptions (000, 001 appendices). A postcode only suggests (000, 001 s9)."""
    rule = variant.area_rule
    names = {area.id: area.name for area in variant.areas}

    def result(status: Status, text: str, to_confirm: list[str] | None = None) -> Check:
        reason = Reason(rule="area", source=rule.source, met=status == "met", text=text)
        return Check(status=status, reason=reason, to_confirm=to_confirm or [])

    if answers.council_area is not None:
        return result("met", f"The home address is in {names[answers.council_area]}. {rule.text}")
    # DESIGN: lives in the area AND (an area GP or an area council address); a GP in the area
    # does not bring in someone who lives outside it, who needs an out-of-area exception.
    if answers.out_of_area_placement or answers.lives_outside_area:
        return _check_out_of_area(answers, variant, age)
    if answers.gp_in_area and rule.gp_practice_counts:
        return result("met", f"The GP surgery is in a {rule.icb} practice. {rule.text}")
    ask = "which council area the person lives in" + (
        f", or whether their GP is in a {rule.icb} practice" if rule.gp_practice_counts else ""
    )
    if answers.postcode:
        district = postcode_district(answers.postcode)
        suggested = area_for_postcode(answers.postcode, variant)
        hint = (
            f"the postcode {district} suggests {names[suggested]}: please confirm the council area"
            if suggested
            else f"the postcode {district} is not one we know in {variant.name}: please confirm "
            "the council area"
        )
        return result(
            "unknown", f"A postcode can suggest the area but never decide it. {rule.text}", [hint]
        )
    return result("unknown", f"We need to know where the person lives. {rule.text}", [ask])


def _check_out_of_area(answers: EligibilityAnswers, variant: Variant, age: Age | None) -> Check:
    rule = variant.area_rule
    if age is None and variant.out_of_area_exceptions:
        return Check(
            status="unknown",
            reason=Reason(
                rule="area",
                source=rule.source,
                met=False,
                text=f"The person lives out of area; the exceptions depend on their age. {rule.text}",
            ),
            # check_age already asks for the age; asking twice would read oddly.
        )
    group = age_group_for(age, variant) if age is not None else None
    exception = matching_exception(answers, variant, group) if group else None
    if exception is not None:
        return Check(
            status="met",
            reason=Reason(
                rule=f"out_of_area.{exception.id}",
                source=exception.source,
                met=True,
                text=exception.text,
            ),
            register=exception.register,
            rag=exception.rag,
        )
    options = [e for e in variant.out_of_area_exceptions if e.age_group == group]
    sources = _join_sources([rule.source, *(e.source for e in options)])
    text = " ".join(
        [f"The person lives out of area. {rule.text}"]
        + (["None of the out-of-area exceptions applies:"] if options else [])
        + [e.text for e in options]
    )
    return Check(status="not_met", reason=Reason(rule="area", source=sources, met=False, text=text))


def _join_sources(sources: list[str]) -> str:
    """'000; 001 s9' and '000; 001 appendix 1' -> '000; 001 s9; 001 appendix 1'."""
    parts = [part.strip() for source in sources for part in source.split(";")]
    return "; ".join(dict.fromkeys(parts))


def check_transition(age: Age | None, variant: Variant) -> tuple[bool, Reason | None]:
    """17 years 10 months up to 18: may be discussed with the adult DSR admin lead (001 s14)."""
    window = variant.transition
    if window is None or age is None:
        return False, None
    if age.months is None:
        if age.years * 12 + 11 < window.from_age_months or age.years * 12 >= window.to_age_months:
            return False, None
        text = f"Give the date of birth to know whether this applies. {window.text}"
        return False, Reason(rule="transition", source=window.source, met=False, text=text)
    inside = window.from_age_months <= age.months < window.to_age_months
    if not inside:
        return False, None
    return True, Reason(rule="transition", source=window.source, met=True, text=window.text)


def keyworker_note(answers: EligibilityAnswers, variant: Variant, age: Age | None) -> str | None:
    """The keyworker service may also help, when age and diagnosis fit (003; 001 section 2)."""
    keyworker = variant.keyworker
    if keyworker is None or age is None or answers.diagnosis not in variant.diagnosis.accepted:
        return None
    low = keyworker.min_age_years or 0
    if not low <= age.years <= keyworker.max_age_years:
        return None
    contact = next((c for c in variant.contacts if c.id == keyworker.contact_id), None)
    return keyworker.text + (f" Contact: {contact.name}." if contact else "")


def outcome_of(checks: list[Check]) -> Outcome:
    statuses = {c.status for c in checks}
    if "not_met" in statuses:
        return "not_eligible"
    if "unknown" in statuses:
        return "needs_confirmation"
    return "eligible"


def check(*, answers: EligibilityAnswers, variant: Variant, today: date) -> EligibilityResult:
    validate(answers=answers, variant=variant, today=today)
    age = _age(answers, today)
    referrer = check_referrer(answers, variant)
    diagnosis = check_diagnosis(answers, variant)
    evidence = check_evidence(answers, variant) if diagnosis.status == "met" else None
    area = check_area(answers, variant, age)
    person_checks = [c for c in (diagnosis, evidence, check_age(age, variant), area) if c]
    outcome = outcome_of(person_checks)
    transition, transition_reason = check_transition(age, variant)
    reasons = [referrer.reason, *(c.reason for c in person_checks)]
    if transition_reason is not None:
        reasons.append(transition_reason)
    failed = next((c for c in person_checks if c.status == "not_met"), None)
    return EligibilityResult(
        outcome=outcome,
        eligible=outcome == "eligible",
        referrer_may_refer=referrer.status == "met",
        register=(area.register or "DSR") if outcome == "eligible" else None,
        rating_required=area.rag if outcome == "eligible" else None,
        age_group=age_group_for(age, variant) if age is not None else None,
        transition=transition,
        reasons=reasons,
        to_confirm=[item for c in person_checks for item in c.to_confirm],
        keyworker=keyworker_note(answers, variant, age) if outcome != "not_eligible" else None,
        other_services=variant.other_services,
        what_to_do_instead=_instead(failed, variant) if failed else None,
    )


def _instead(failed: Check, variant: Variant) -> str:
    instead = variant.what_to_do_instead
    rule = failed.reason.rule
    if rule == "diagnosis":
        return instead.diagnosis
    if rule == "age":
        return variant.ages.adults_elsewhere or instead.age
    return instead.area

"""The suggested rating: a pure function over the variant and what the referrer describes.

The assistant suggests; the referrer (or, in Tees Valley, the DSR meeting) decides (001 s10, 003).
"""

from dsp_backend.rating.schemas import RatingQuestion, RatingSuggestion, Route
from dsp_backend.variants.schemas import AgeGroup, Criterion, Rag, RatingDefinition, Variant


class InvalidQuestion(ValueError):
    """The question ticks criteria the variant does not have, or not for this age group."""


def criteria_for(*, question: RatingQuestion, variant: Variant) -> list[Criterion]:
    """The ticked criteria, in the variant's order, plus the one imminent risk matches (004)."""
    known = {c.id: c for c in variant.ratings.all_criteria()}
    unknown = sorted(set(question.criteria_ids) - set(known))
    if unknown:
        raise InvalidQuestion(
            f"criteria_ids has ids this variant does not know: {', '.join(unknown)}. "
            f"Expected some of: {', '.join(known)}."
        )
    ticked = set(question.criteria_ids)
    group = question.age_group
    other_age = sorted(i for i in ticked if group and group not in known[i].applies_to)
    if other_age:
        raise InvalidQuestion(
            f"criteria_ids has criteria that are not for the age group '{group}': "
            f"{', '.join(other_age)}."
        )
    imminent = variant.ratings.imminent_risk_criterion
    if question.imminent_risk_of_admission and imminent:
        ticked.add(imminent)
    return [c for c in variant.ratings.all_criteria() if c.id in ticked]


def discharged_from_inpatient(*, question: RatingQuestion, matched: list[Criterion]) -> bool:
    """Discharged from an inpatient hospital: said so, or a green criterion ticked (004 green is a
    former inpatient). Only such a person is added as green (001 s10)."""
    return question.recently_discharged_from_inpatient or any(
        c.id.startswith("green.") for c in matched
    )


def direct_roar_allowed(
    *, question: RatingQuestion, matched: list[Criterion], variant: Variant
) -> bool | None:
    """001 s10: red at referral for imminent risk with no earlier knowledge of escalating risk;
    001 appendix 2: for an adult whose admission avoidance is urgent with a CTR requested; or
    where an out-of-area exception requires red (000). None where the variant has no ROAR."""
    direct = variant.ratings.direct_roar
    if direct is None:
        return None
    if question.out_of_area_rating == "red":
        return True
    imminent = question.imminent_risk_of_admission
    if imminent and not question.earlier_knowledge_of_escalating_risk:
        return True
    return any(c.id in direct.criteria for c in matched)


def choosable_at_referral(
    *,
    question: RatingQuestion,
    matched: list[Criterion],
    direct_roar_allowed: bool | None,
    variant: Variant,
) -> list[Rag]:
    """The ratings the referrer may choose at referral, each by its definition's rule (001 s10;
    004): always, by the direct ROAR rule, when one of its criteria applies, after an inpatient
    discharge, or (004 green) for a former inpatient with no amber or red concern. An
    out-of-area exception that requires a rating allows only that one."""
    if question.out_of_area_rating is not None:
        return [question.out_of_area_rating]
    ticked = {c.id.split(".", 1)[0] for c in matched}
    discharged = discharged_from_inpatient(question=question, matched=matched)
    allowed = {
        "always": True,
        "never": False,
        "direct_roar": bool(direct_roar_allowed),
        "inpatient_discharge": discharged,
        "former_inpatient_no_concerns": discharged and not ticked & {"amber", "red"},
    }
    return [
        d.rag
        for d in variant.ratings.definitions
        if d.at_referral is not None
        and (
            d.rag in ticked if d.choosable_when == "criterion_ticked" else allowed[d.choosable_when]
        )
    ]


def suggested_rag(
    *, question: RatingQuestion, matched: list[Criterion], variant: Variant
) -> tuple[Rag | None, str]:
    """The rating and why, highest need first: an inpatient now (000 blue), red, amber, then
    green only for someone discharged from an inpatient hospital (001 s10; 004 green)."""
    ratings = variant.ratings
    ticked = {c.id.split(".", 1)[0] for c in matched}
    defined = {d.rag for d in ratings.definitions}
    if question.out_of_area_rating is not None:
        return question.out_of_area_rating, "the out-of-area exception requires it"
    if question.inpatient_now:
        if "blue" in defined:
            return "blue", "the person is in an inpatient unit now"
        return None, (
            f"{variant.name} has no rating for someone who is an inpatient now: the DSR team "
            "decides"
        )
    if "red" in defined and "red" in ticked:
        return "red", "red criteria are ticked"
    if "red" in defined and question.imminent_risk_of_admission:
        return "red", "the person is at imminent risk of admission"
    if "amber" in defined and "amber" in ticked:
        return "amber", "amber criteria are ticked"
    if "amber" in defined and question.other_concern:
        return "amber", "there is a significant concern: the criteria are only examples"
    if "green" in defined and discharged_from_inpatient(question=question, matched=matched):
        return "green", "the person was discharged from inpatient care and no concern is ticked"
    return None, (
        "nothing ticked points to a rating yet: tick the concerns that apply, or say there is "
        "another significant concern"
    )


def linked_processes(definition: RatingDefinition, age_group: AgeGroup | None) -> list[str]:
    """What follows the rating (000); CYP or adult wording when the age group is known."""
    return [
        step.text
        for step in definition.linked_processes
        if age_group is None or age_group in step.applies_to
    ]


def route_for(
    *, rag: Rag | None, allowed: bool | None, question: RatingQuestion, variant: Variant
) -> tuple[Route, list[str]]:
    """How the rating is reached. With a ROAR, red at referral only by a direct ROAR route (001
    s10; appendix 2); else by escalation from amber."""
    direct = variant.ratings.direct_roar
    if rag == "blue" or (rag is None and question.inpatient_now):
        return "inpatient", []
    if direct is None or rag != "red":
        return "dsr_referral", []
    if allowed:
        return "direct_roar_referral", [direct.text]
    why = (
        "escalating risk was known before"
        if question.imminent_risk_of_admission
        else "admission is not imminent"
    )
    return (
        "escalation_from_dsr",
        [
            f"A direct referral to the ROAR is not for this person because {why}. "
            f"{direct.text} If they are not on the DSR yet, refer them as amber and ask the DSP "
            "admin lead to escalate at once."
        ],
    )


def suggest(*, question: RatingQuestion, variant: Variant) -> RatingSuggestion:
    ratings = variant.ratings
    matched = criteria_for(question=question, variant=variant)
    if ratings.rated_by == "dsr_meeting":
        return RatingSuggestion(
            rag=None,
            register="DSR",
            route="dsr_meeting_rates",
            direct_roar_allowed=None,
            criteria_matched=matched,
            linked_processes=[],
            reasons=[ratings.text],
            decided_by="dsr_meeting",
        )
    rag, why = suggested_rag(question=question, matched=matched, variant=variant)
    direct_allowed = direct_roar_allowed(question=question, matched=matched, variant=variant)
    route, route_reasons = route_for(
        rag=rag, allowed=direct_allowed, question=question, variant=variant
    )
    definition = ratings.definition(rag) if rag else None
    reason = f"No rating suggested: {why}."
    if definition is not None:
        # Red from imminent risk alone is a referral, not a deterioration after MAMs: say when
        # red can be given at referral rather than what red means on the register.
        red_by_risk_only = rag == "red" and not any(c.id.startswith("red.") for c in matched)
        meaning = (definition.at_referral if red_by_risk_only else None) or definition.text
        reason = f"Suggested {rag} because {why}. {meaning}"
    return RatingSuggestion(
        rag=rag,
        register=definition.register if definition else "DSR",
        route=route,
        direct_roar_allowed=direct_allowed,
        criteria_matched=matched,
        choosable_at_referral=choosable_at_referral(
            question=question, matched=matched, direct_roar_allowed=direct_allowed, variant=variant
        ),
        linked_processes=linked_processes(definition, question.age_group) if definition else [],
        reasons=[
            reason,
            *route_reasons,
            "The referrer decides the rating; this is a suggestion.",
        ],
        decided_by="referrer",
    )

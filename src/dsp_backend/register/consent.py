"""Consent: who may give it and when it falls due again. Pure functions over the variant.

001 section 7: consent is needed before a referral is stored, and the register records by whom
and when. 004: a parent, carer or guardian consents for a child under 16 or a person who lacks
capacity, and consent is renewed every year.
"""

from datetime import date

from dsp_backend.register import deadlines
from dsp_backend.variants.schemas import Variant

_GIVERS = {
    "person": "the person themselves",
    "parent_carer_guardian": "a parent, carer or guardian",
    "best_interests": "a best-interests decision",
}


def consent_problem(
    by: str | None, capacity: bool | None, age_years: int | None, variant: Variant
) -> str | None:
    """001 s7: consent before a referral is stored, recording by whom. 004: a parent, carer or
    guardian for a child under 16 or a person who lacks capacity. Mental Capacity Act: a person
    of 16 or over with capacity for the decision gives it themselves; best interests only where
    they lack it, and only where the variant allows it."""
    if by is None:
        return None
    rule = variant.consent
    if by == "not_given":
        return (
            "Consent is needed before the referral can be stored. Please ask for it, record it "
            "in your own records, and come back to the referral."
        )
    if by not in rule.who_may_consent:
        allowed = " or ".join(_GIVERS[g] for g in rule.who_may_consent)
        return f"In {variant.name} consent is given by {allowed}."
    under_age = age_years is not None and age_years < rule.parent_consents_under_age
    if by == "person" and under_age:
        return (
            f"For a child under {rule.parent_consents_under_age}, a parent, carer or guardian "
            "gives consent."
        )
    if under_age or age_years is None or capacity is None:
        return None
    if capacity and by != "person":
        return (
            "A person of 16 or over who has capacity for this decision gives consent "
            "themselves. Please ask them."
        )
    if not capacity and by == "person":
        others = " or ".join(_GIVERS[g] for g in rule.who_may_consent if g != "person")
        return f"Someone who lacks capacity for this decision cannot consent themselves: {others}."
    return None


def consent_renewal_due(given_on: date, variant: Variant) -> date | None:
    """004: consent is renewed every year where the variant says so."""
    return deadlines.consent_renewal_due(given_on, variant.consent.renewal_months)

"""What a referral must carry before it is stored: each rule is pure and names its source.

`problems()` returns every problem at once, each with the field it is about and a plain-English
message, so the referrer can put everything right in one go.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from pydantic import BaseModel

from dsp_backend.eligibility import service as eligibility_service
from dsp_backend.referrals.schemas import (
    CARER,
    FULL,
    INVITEE,
    MANDATORY,
    SELF_REFERRAL,
    Consent,
    ConsentGiver,
    FormKind,
    ReferralCreate,
    Required,
)
from dsp_backend.register import lifecycle
from dsp_backend.variants.schemas import Rag, Register, Variant

_GIVERS: dict[ConsentGiver, str] = {
    "person": "the person",
    "parent_carer_guardian": "a parent, carer or guardian",
    "best_interests": "a best-interests decision",
}
_SELF_KINDS = frozenset({"self", "family"})
# Older than this is a mistyped year, not a person to refer.
OLDEST_AGE = 120


@dataclass(frozen=True)
class Problem:
    loc: tuple[str | int, ...]
    msg: str
    type: str

    def as_error(self) -> dict[str, Any]:
        """The shape FastAPI uses for a 422, without the input it was given."""
        return {"loc": ["body", *self.loc], "msg": self.msg, "type": self.type}


def register_of(rag: Rag, variant: Variant) -> Register:
    """The register a rating belongs on in this variant: its own definition first (LLR: blue
    stays on the DSR, 000); else red on the ROAR where the variant keeps one (001 s10)."""
    definition = variant.ratings.definition(rag)
    if definition is not None:
        return definition.register
    default = lifecycle.register_for(rag)
    return default if default in variant.registers else "DSR"


def rag_refusal(rag: Rag, variant: Variant) -> str | None:
    """A variant that defines its ratings uses only those (004: red, amber and green)."""
    defined = [d.rag for d in variant.ratings.definitions]
    if defined and rag not in defined:
        return f"{variant.name} does not use the {rag} rating; it uses {', '.join(defined)}."
    return None


def decision_refusal(rag: Rag, variant: Variant) -> str | None:
    """Why a referral cannot be rated `rag` in this variant, or None where it can."""
    refused = rag_refusal(rag, variant)
    if refused is None and rag not in lifecycle.AT_REFERRAL:
        refused = (
            "Nobody is referred as blue: blue is for someone already on the register who is "
            "admitted to hospital (000). Please choose amber, red or green."
        )
    return refused


def form_kind(referral: ReferralCreate, variant: Variant) -> FormKind:
    """001 sections 10 and 11: the full form where the DSP admin lead organises the MAM or the
    referral is to the ROAR; otherwise the mandatory fields. Self-referrals: 003's short form."""
    if referral.referral_source == "self":
        return "self_referral"
    decision = referral.rating.decision if referral.rating else None
    to_roar = decision is not None and register_of(decision.rag, variant) == "ROAR"
    return "full" if referral.mam_organised_by_admin or to_roar else "mandatory"


def _value(model: BaseModel | None, path: Sequence[str]) -> Any:
    value: Any = model
    for name in path:
        value = getattr(value, name, None) if value is not None else None
    return value


def _missing(
    model: BaseModel | None, fields: Sequence[Required], prefix: tuple[str | int, ...], why: str
) -> list[Problem]:
    return [
        Problem((*prefix, *path), f"Please give {label}.{why}", "missing")
        for path, label in fields
        if _value(model, path) is None
    ]


def completeness(referral: ReferralCreate, kind: FormKind) -> list[Problem]:
    """Names each missing field of the set this referral needs (see referrals.schemas)."""
    if kind == "self_referral":
        found = _missing(referral, SELF_REFERRAL, (), "")
        if referral.person.phone is None and referral.person.email is None:
            found.append(
                Problem(
                    ("person", "phone"),
                    "Please give a phone number or an email address, so the DSR coordinator "
                    "can tell you what happens next (003).",
                    "missing",
                )
            )
        return found
    if kind == "mandatory":
        return _missing(referral, MANDATORY, (), "")
    why = (
        " Every section is needed when the DSP admin lead organises the MAM or the referral is "
        "to the ROAR (001 sections 10 and 11)."
    )
    found = _missing(referral, FULL, (), why)
    if referral.carer is not None and not referral.carer.no_carer:
        found += _missing(referral.carer, CARER, ("carer",), why)
    if not referral.invitees:
        found.append(
            Problem(
                ("invitees",),
                "Please list the people to invite to the MAM, with their name, role, email "
                "and phone number (001 section 10).",
                "missing",
            )
        )
    for index, invitee in enumerate(referral.invitees):
        found += _missing(invitee, INVITEE, ("invitees", index), why)
    return found


def date_of_birth_problems(
    birth: date, *, today: date, loc: tuple[str, ...] = ("person", "date_of_birth")
) -> list[Problem]:
    """A date of birth someone could have: not in the future, and not a mistyped year that would
    make them older than anyone alive."""
    if birth > today:
        return [Problem(loc, "The date of birth cannot be in the future.", "date_in_future")]
    if eligibility_service.age_on(date_of_birth=birth, today=today).years > OLDEST_AGE:
        return [
            Problem(
                loc,
                f"That date of birth would make them over {OLDEST_AGE}: please check the year.",
                "date_too_old",
            )
        ]
    return []


def consent_problems(
    consent: Consent | None,
    *,
    age: int | None,
    variant: Variant,
    today: date,
    loc: tuple[str, ...] = ("consent",),
) -> list[Problem]:
    """001 section 7: consent is needed before a referral is stored, and the referral records by
    whom and when. 004: a parent, carer or guardian consents for a child under 16."""
    if consent is None or consent.given is not True:
        return [
            Problem(
                (*loc, "given"),
                "Consent is needed before the referral can be stored. Please gain it, record it "
                "in your own records, and say so here (001 section 7).",
                "consent",
            )
        ]
    found: list[Problem] = []
    rule = variant.consent
    if consent.given_by is None:
        found.append(
            Problem(
                (*loc, "given_by"),
                "Please say who gave consent: the person, a parent, carer or guardian, or a "
                "best-interests decision.",
                "missing",
            )
        )
    elif consent.given_by not in rule.who_may_consent:
        allowed = " or ".join(_GIVERS[giver] for giver in rule.who_may_consent)
        found.append(
            Problem(
                (*loc, "given_by"),
                f"In {variant.name} consent is given by {allowed} ({rule.source}).",
                "consent",
            )
        )
    elif consent.given_by == "person" and age is not None and age < rule.parent_consents_under_age:
        found.append(
            Problem(
                (*loc, "given_by"),
                f"For a child under {rule.parent_consents_under_age}, a parent, carer or "
                "guardian gives consent (004).",
                "consent",
            )
        )
    if consent.given_on is None:
        found.append(
            Problem((*loc, "given_on"), "Please give the date consent was given.", "missing")
        )
    elif consent.given_on > today:
        found.append(
            Problem(
                (*loc, "given_on"),
                "The date consent was given cannot be in the future.",
                "date_in_future",
            )
        )
    return found


def consent_renewal_due(given_on: date, variant: Variant) -> date | None:
    """004: consent is renewed every year where the variant says so."""
    months = variant.consent.renewal_months
    return None if months is None else lifecycle.add_months(given_on, months)


GREEN_NOT_DISCHARGED = (
    "Only someone who has been discharged from an inpatient hospital is added as green "
    "(001 section 10). Please choose amber, or say in the rating questions that they were "
    "discharged."
)


def _rating_problems(referral: ReferralCreate, variant: Variant) -> list[Problem]:
    if referral.rating is None:
        return [
            Problem(
                ("rating",),
                "Please include the suggested rating and your decision (001 section 10).",
                "missing",
            )
        ]
    found: list[Problem] = []
    known = {criterion.id for criterion in variant.ratings.all_criteria()}
    unknown = [c.id for c in referral.rating.suggestion.criteria_matched if c.id not in known]
    if unknown:
        found.append(
            Problem(
                ("rating", "suggestion", "criteria_matched"),
                f"These criteria are not {variant.name}'s: {', '.join(sorted(unknown))}.",
                "criteria",
            )
        )
    decision = referral.rating.decision
    if decision is None:
        if variant.ratings.rated_by == "referrer":
            found.append(
                Problem(
                    ("rating", "decision"),
                    "Please decide the rating: the assistant suggests, the referrer decides "
                    "(001 section 10).",
                    "missing",
                )
            )
        return found
    loc = ("rating", "decision")
    refused = decision_refusal(decision.rag, variant)
    if refused is not None:
        found.append(Problem((*loc, "rag"), refused, "rating"))
    elif (
        decision.rag == "green" and "green" not in referral.rating.suggestion.choosable_at_referral
    ):
        found.append(Problem((*loc, "rag"), GREEN_NOT_DISCHARGED, "rating"))
    elif decision.register != register_of(decision.rag, variant):
        found.append(
            Problem(
                (*loc, "register"),
                f"A {decision.rag} rating goes on the {register_of(decision.rag, variant)} "
                "(001 section 10).",
                "rating",
            )
        )
    return found


def problems(referral: ReferralCreate, *, variant: Variant, today: date) -> list[Problem]:
    """Everything that stops this referral being stored, before eligibility is re-checked."""
    found: list[Problem] = []
    if referral.referral_source == "self" and not variant.self_referral:
        return [
            Problem(
                ("referral_source",),
                f"In {variant.name} people cannot refer themselves. A professional who knows the "
                "person, such as their GP, social worker or teacher, can make the referral.",
                "self_referral",
            )
        ]
    if referral.eligibility is None:
        found.append(
            Problem(
                ("eligibility",),
                "Please include the eligibility answers, so eligibility can be checked again.",
                "missing",
            )
        )
    elif (referral.eligibility.referrer_kind in _SELF_KINDS) != (
        referral.referral_source == "self"
    ):
        found.append(
            Problem(
                ("eligibility", "referrer_kind"),
                "Who is referring does not match the referral source: a self-referral comes "
                "from the person or their family, any other from a professional.",
                "referrer_kind",
            )
        )
    found += _rating_problems(referral, variant)
    found += completeness(referral, form_kind(referral, variant))
    birth = referral.person.date_of_birth
    age = None
    if birth is not None:
        birth_problems = date_of_birth_problems(birth, today=today)
        found += birth_problems
        if not birth_problems:
            age = eligibility_service.age_on(date_of_birth=birth, today=today).years
    found += consent_problems(referral.consent, age=age, variant=variant, today=today)
    return found

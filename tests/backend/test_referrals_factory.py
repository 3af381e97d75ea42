"""Builds referral bodies for the referral, register, audit and report tests.

The suggestion comes from the real rating service and the answers pass the real eligibility
check, so a test changes only the one thing it is about.
"""

import itertools
from datetime import date, timedelta
from typing import Any

from dsp_backend.rating import service as rating_service
from dsp_backend.rating.schemas import RatingQuestion
from dsp_backend.referrals import rules, validation
from dsp_backend.referrals.schemas import ReferralCreate
from dsp_backend.referrals.validation import nhs_check_digit
from dsp_backend.variants import service as variant_service

_serials = itertools.count(100_000_001)


def new_nhs_number() -> str:
    """A valid NHS number nobody else in the run has (modulus 11, skipping unissuable stems)."""
    while True:
        stem = f"{next(_serials):09d}"
        check = nhs_check_digit(stem)
        if check is not None:
            return f"{stem}{check}"


def years_ago(years: int, today: date | None = None) -> date:
    today = today or date.today()
    return today.replace(year=today.year - years) - timedelta(days=10)


def _suggestion(variant_id: str, criteria: tuple[str, ...], **question: Any) -> dict[str, Any]:
    variant = variant_service.load(variant_id)
    asked = RatingQuestion(criteria_ids=list(criteria), **question)
    return rating_service.suggest(question=asked, variant=variant).model_dump(mode="json")


def referral_body(
    *,
    variant_id: str = "llr",
    rag: str = "amber",
    criteria: tuple[str, ...] = ("amber.carer_strain", "amber.behaviours_that_challenge"),
    age: int = 12,
    full: bool = False,
    mam_organised_by_admin: bool = False,
    nhs_number: str | None = None,
    discharged: bool = False,
    **overrides: Any,
) -> dict[str, Any]:
    """A referral that every rule accepts; `full` fills every section and an invitee."""
    register = rules.register_of(rag, variant_service.load(variant_id))  # type: ignore[arg-type]
    body: dict[str, Any] = {
        "referral_source": "professional",
        "eligibility": {
            "diagnosis": "autism",
            "diagnosis_confirmed": True,
            "confirmation_evidence_available": True,
            "council_area": "leicester_city" if variant_id == "llr" else "west_sussex",
            "referrer_kind": "health",
        },
        "rating": {
            "suggestion": _suggestion(
                variant_id, criteria, recently_discharged_from_inpatient=discharged
            ),
            "decision": {"rag": rag, "register": register},
        },
        "consent": {
            "given": True,
            "given_by": "parent_carer_guardian" if age < 16 else "person",
            "given_on": (date.today() - timedelta(days=3)).isoformat(),
        },
        "mam_organised_by_admin": mam_organised_by_admin,
        "person": {
            "given_name": "Alex",
            "family_name": "Example",
            "nhs_number": nhs_number or new_nhs_number(),
            "date_of_birth": years_ago(age).isoformat(),
            "postcode": "le1 6th",
        },
        "referrer": {
            "name": "Sam Referrer",
            "role": "Community nurse",
            "organisation": "LPT",
            "email": "sam.referrer@nhs.net",
        },
        "current_situation": "Not sleeping, more distressed at school; family finding it hard.",
    }
    if full:
        body["referrer"]["phone"] = "0116 496 0000"
        body["person"].update(
            gender="female", address="1 Example Road, Leicester", gp_practice="Example Surgery"
        )
        body.update(
            commissioner="LLR ICB",
            carer={"name": "Jo Example", "relationship": "mother", "phone": "07700 900123"},
            care_team="CAMHS LD team; school SENCo",
            current_location={"kind": "family_home", "details": "Lives with mother and brother"},
            communication_needs="Uses short sentences; visual timetable",
            brief_history="Autism diagnosed at 6.",
            risk_details="Risk of placement breakdown.",
            safeguarding="No current plan.",
            support_in_place="Short breaks fortnightly.",
            invitees=[
                {
                    "name": "Dr Example",
                    "role": "Psychiatrist",
                    "email": "dr.example@nhs.net",
                    "phone": "0116 496 0001",
                }
            ],
        )
    body.update(overrides)
    return body


def self_referral_body(**overrides: Any) -> dict[str, Any]:
    """003 (Tees Valley): about the person, consent, and how to reach them."""
    body: dict[str, Any] = {
        "referral_source": "self",
        "eligibility": {
            "diagnosis": "autism",
            "diagnosis_confirmed": True,
            "council_area": "stockton",
            "referrer_kind": "family",
        },
        "rating": {
            "suggestion": _suggestion(
                "tees_valley", ("concern.placement_breakdown",), age_group="cyp"
            ),
        },
        "consent": {
            "given": True,
            "given_by": "parent_carer_guardian",
            "given_on": date.today().isoformat(),
        },
        "person": {
            "given_name": "Robin",
            "family_name": "Example",
            "date_of_birth": years_ago(13).isoformat(),
            "postcode": "TS18 1AA",
            "phone": "07700 900456",
        },
    }
    body.update(overrides)
    return body


def test_the_example_referrals_pass_every_rule() -> None:
    """The bodies the other tests start from are valid, so each test's failure is its own."""
    today = date.today()
    llr = variant_service.load("llr")
    for body in (referral_body(), referral_body(full=True, mam_organised_by_admin=True)):
        assert rules.problems(ReferralCreate.model_validate(body), variant=llr, today=today) == []
    tees = variant_service.load("tees_valley")
    referral = ReferralCreate.model_validate(self_referral_body())
    assert rules.problems(referral, variant=tees, today=today) == []
    assert validation.nhs_number_is_valid(new_nhs_number())

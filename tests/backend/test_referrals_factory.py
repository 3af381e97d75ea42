"""Builds referral bodies (questionnaire answers by linkId) for the referral, register, audit and
report tests. The answers pass the real questionnaire rules, so a test changes only the one thing
it is about.
"""

import copy
import itertools
from datetime import date, timedelta
from typing import Any

from dsp_backend.formats import nhs_check_digit, nhs_number_is_valid
from dsp_backend.questionnaire import logic, rules
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


FULL_FORM: dict[str, Any] = {
    "address": "1 Example Road, Leicester LE1 6TH",
    "gender": "female, she/her",
    "gp_practice": "Example Surgery",
    "referrer_phone": "0116 496 0000",
    "carer": "Jo Example, mother, 07700 900123",
    "current_location": "Family home, lives with mother and brother",
    "commissioner": "LLR ICB",
    "care_team": "CAMHS LD team; school SENCo",
    "communication_needs": "Uses short sentences; visual timetable",
    "brief_history": "Autism diagnosed at 6.",
    "risk_details": "Risk of placement breakdown.",
    "safeguarding": "No current plan.",
    "support_in_place": "Short breaks fortnightly.",
    "invitees": {
        "people": [
            {
                "name": "Dr Example",
                "role": "Psychiatrist",
                "email": "dr.example@nhs.net",
                "phone": "01164960001",
            }
        ],
        "complete": True,
    },
}
GOOD_REFERRAL: dict[str, Any] = {
    "lac_cin_cpp": "cin",
    "ehcp": True,
    "ehcp_primary_need": "Social, emotional and mental health",
    "lives_with": "Mother and younger brother",
    "school": "Example Academy",
    "who_is_involved": "CAMHS, school SENCo, early help",
    "police_or_crisis": False,
    "outcomes_wanted": "Stays at home and in school; we will know from attendance.",
}
AREAS = {"llr": "leicester_city", "tees_valley": "stockton", "west_sussex": "west_sussex"}
POSTCODES = {"llr": "LE1 6TH", "tees_valley": "TS18 1AA", "west_sussex": "BN11 1AA"}


def referral_body(
    *,
    variant_id: str = "llr",
    rag: str | None = "amber",
    criteria: tuple[str, ...] = ("amber.carer_strain", "amber.behaviours_that_challenge"),
    age: int = 12,
    full: bool = False,
    mam_organised_by_admin: bool = False,
    nhs_number: str | None = None,
    discharged: bool = False,
    imminent: bool = False,
    escalating_known: bool = False,
    **answers: Any,
) -> dict[str, Any]:
    """A referral that every rule accepts; `full` fills every section and an invitee. Keyword
    arguments beyond these replace answers by linkId (None removes one)."""
    variant = variant_service.load(variant_id)
    body: dict[str, Any] = {
        "referrer_kind": "health",
        "diagnosis": "autism",
        "diagnosis_confirmed": True,
        "diagnosis_evidence": "Diagnosis letter from the community paediatrician, 2019",
        "council_area": AREAS[variant_id],
        "current_situation": "Not sleeping, more distressed at school; family finding it hard.",
        "concerns": list(criteria),
        "inpatient_status": "discharged" if discharged else "neither",
        "imminent_risk": imminent,
        "consent_by": "parent_carer_guardian" if age < 16 else "person",
        "consent_date": (date.today() - timedelta(days=3)).isoformat(),
        "person_name": {"given": "Alex", "family": "Example"},
        "date_of_birth": years_ago(age).isoformat(),
        "nhs_number": nhs_number or new_nhs_number(),
        "postcode": POSTCODES[variant_id],
        "referrer_name": "Sam Referrer",
        "referrer_role": "Community nurse",
        "referrer_organisation": "LPT",
        "referrer_email": "sam.referrer@nhs.net",
    }
    if imminent:
        body["escalating_risk_known"] = escalating_known
    if age >= 16:
        body["consent_capacity"] = True
    if rag is not None:
        body["rag"] = rag
    if variant.after_referral.process == "admin_lead_mam":
        body["mam_by_admin"] = mam_organised_by_admin
    if full or mam_organised_by_admin:
        body.update(copy.deepcopy(FULL_FORM))
    if variant.diagnosis.private_autism_accepted is None:
        body["autism_private"] = False
    if variant.good_referral_prompts:
        body.update(copy.deepcopy(GOOD_REFERRAL))
        body["gender"] = "male, he/him"
    for link_id, value in answers.items():
        if value is None:
            body.pop(link_id, None)
        else:
            body[link_id] = value
    return {"referral_source": "professional", "answers": body}


def self_referral_body(**answers: Any) -> dict[str, Any]:
    """003 (Tees Valley): about the person, consent, and how to reach them."""
    body: dict[str, Any] = {
        "self_who": "family",
        "age": 13,
        "diagnosis": "autism",
        "diagnosis_confirmed": True,
        "autism_private": False,
        "council_area": "stockton",
        "current_situation": "He hits out at home and we cannot cope.",
        "concerns": ["concern.placement_breakdown"],
        "consent_by": "parent_carer_guardian",
        "consent_date": date.today().isoformat(),
        "person_name": {"given": "Robin", "family": "Example"},
        "date_of_birth": years_ago(13).isoformat(),
        "postcode": "TS18 1AA",
        "self_contact": "07700900456",
        "outcomes_wanted": "He can stay at home. We will know when he is calm.",
    }
    body.pop("age")
    body.update(answers)
    return {"referral_source": "self", "answers": body}


def problems(body: dict[str, Any], variant_id: str = "llr") -> list[rules.Problem]:
    state = logic.state_of(
        body["answers"], body["referral_source"], variant_service.load(variant_id), date.today()
    )
    return rules.problems(state)


def test_the_example_referrals_pass_every_rule() -> None:
    """The bodies the other tests start from are valid, so each test's failure is its own."""
    assert problems(referral_body()) == []
    assert problems(referral_body(full=True, mam_organised_by_admin=True)) == []
    assert problems(referral_body(age=30)) == []
    tees_valley = referral_body(variant_id="tees_valley", rag=None, criteria=())
    assert problems(tees_valley, "tees_valley") == []
    assert problems(self_referral_body(), "tees_valley") == []
    assert nhs_number_is_valid(new_nhs_number())

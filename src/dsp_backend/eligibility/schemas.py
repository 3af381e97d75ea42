"""What a referrer (or the bot for them) answers to check eligibility, and what comes back.

The referral stores EligibilityAnswers as they were when the check was made, so these names are
part of the referral's record.
"""

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from dsp_backend.variants.schemas import AgeGroup, Rag, ReferrerKind, Register

Diagnosis = Literal[
    "learning_disability", "autism", "both", "learning_difficulty_only", "none", "unknown"
]
Outcome = Literal["eligible", "not_eligible", "needs_confirmation"]


class EligibilityAnswers(BaseModel):
    model_config = ConfigDict(extra="forbid")

    diagnosis: Diagnosis = Field(
        description="'learning_difficulty_only' is not a learning disability (LLR pathway guidance section 9)"
    )
    diagnosis_confirmed: bool = Field(
        default=False,
        description="the referrer has confirmation of the diagnosis (LLR CYP pathway criteria, LLR pathway guidance section 9)",
    )
    confirmation_evidence_available: bool = Field(
        default=False,
        description="evidence of the confirmation can go with the referral (LLR CYP pathway criteria)",
    )
    autism_diagnosis_private: bool = Field(
        default=False,
        description="the autism diagnosis was obtained privately (LLR pathway guidance section 9)",
    )
    council_area: str | None = Field(
        default=None,
        description="id of one of the variant's areas where the person's home address is",
        max_length=64,
    )
    lives_outside_area: bool = Field(
        default=False, description="the home address is known to be outside the variant's areas"
    )
    gp_in_area: bool | None = Field(
        default=None,
        description="GP in a practice of the variant's ICB; None when not known",
    )
    postcode: str | None = Field(
        default=None,
        description="a hint only: it can suggest an area, never decide it (LLR CYP pathway criteria, LLR pathway guidance section 9)",
        max_length=10,
    )
    date_of_birth: date | None = None
    age_years: int | None = Field(default=None, ge=0, le=130)
    looked_after_child: bool = False
    placing_council: str | None = Field(
        default=None,
        description="id of the variant's area whose council placed the looked-after child",
        max_length=64,
    )
    section_117_funded: bool = Field(
        default=False, description="fully or partially health funded (section 117)"
    )
    out_of_area_placement: bool = False
    urgent_cetr_needed: bool = Field(
        default=False,
        description="the risk is thought to need a red rating and an urgent C(E)TR (LLR CYP pathway criteria)",
    )
    referrer_kind: ReferrerKind


class Reason(BaseModel):
    """One rule, where it comes from, whether it was met, and what it means in plain English."""

    rule: str
    source: str
    met: bool
    text: str


class EligibilityResult(BaseModel):
    outcome: Outcome
    eligible: bool = Field(description="the person meets the criteria (outcome 'eligible')")
    referrer_may_refer: bool = Field(
        description="this kind of referrer may make the referral in this variant"
    )
    register: Register | None
    rating_required: Rag | None = Field(
        default=None,
        description="the rating an out-of-area exception needs (LLR CYP pathway criteria: red for s117)",
    )
    age_group: AgeGroup | None
    transition: bool = Field(
        description="in the variant's transition window: may be discussed with the adult DSR"
    )
    reasons: list[Reason]
    to_confirm: list[str] = Field(
        description="what must be settled before the answer can be 'eligible'"
    )
    keyworker: str | None = Field(
        default=None, description="when the variant's keyworker service may also help"
    )
    other_services: str = Field(
        description="the DSP does not replace other referrals (LLR pathway guidance sections 2 and 12)"
    )
    what_to_do_instead: str | None = Field(
        default=None, description="where to turn when the person is not eligible"
    )

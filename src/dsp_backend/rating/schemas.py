"""What the referrer describes, and the rating suggested from it. The referrer decides (001 s10)."""

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from dsp_backend.variants.schemas import AgeGroup, Criterion, Rag, Register

__all__ = [
    "AgeGroup",
    "Criterion",
    "Rag",
    "RatingQuestion",
    "RatingSuggestion",
    "Register",
    "Route",
]

# How the person reaches the rating: a DSR referral, a direct ROAR referral (001 s10), an
# escalation from amber on the DSR, an inpatient stay (000 blue), or the DSR meeting rates (003).
Route = Literal[
    "dsr_referral", "direct_roar_referral", "escalation_from_dsr", "inpatient", "dsr_meeting_rates"
]


class RatingQuestion(BaseModel):
    model_config = ConfigDict(extra="forbid")

    criteria_ids: list[str] = Field(
        default=[],
        description="ids of the variant's criteria the referrer ticked, e.g. amber.carer_strain",
        max_length=50,
    )
    other_concern: bool = Field(
        default=False,
        description="another significant concern: the criteria are examples only (LLR pathway guidance section 9)",
    )
    imminent_risk_of_admission: bool = False
    earlier_knowledge_of_escalating_risk: bool = Field(
        default=False,
        description="escalating risk was known before now (LLR pathway guidance section 10)",
    )
    inpatient_now: bool = Field(
        default=False, description="now in a mental health or learning disability inpatient unit"
    )
    recently_discharged_from_inpatient: bool = False
    age_group: AgeGroup | None = Field(
        default=None, description="chooses the CYP or adult wording where the variant differs"
    )
    out_of_area_rating: Rag | None = Field(
        default=None,
        description="the rating an out-of-area exception requires (LLR CYP pathway criteria: red for a section 117 "
        "child; LLR pathway guidance appendix 2: red on the ROAR for an adult); set by the service from eligibility",
    )

    @model_validator(mode="after")
    def _one_place(self) -> "RatingQuestion":
        if self.inpatient_now and self.recently_discharged_from_inpatient:
            raise ValueError(
                "A person cannot be an inpatient now and recently discharged at the same time: "
                "choose one."
            )
        return self


class RatingSuggestion(BaseModel):
    rag: Rag | None = Field(
        description="None where the variant's DSR meeting rates (Tees Valley DSR and Keyworker programme)"
    )
    register: Register
    route: Route
    direct_roar_allowed: bool | None = Field(
        description="LLR pathway guidance section 10: imminent risk with no earlier knowledge; None without a ROAR"
    )
    criteria_matched: list[Criterion]
    choosable_at_referral: list[Rag] = Field(
        default=[],
        description="the ratings the referrer may choose at referral: the variant's own, red only "
        "where a direct ROAR referral is allowed, green only for someone discharged from an "
        "inpatient hospital (LLR pathway guidance section 10); empty where the DSR meeting rates (Tees Valley DSR and Keyworker programme)",
    )
    linked_processes: list[str]
    reasons: list[str] = Field(description="plain English, each naming its source")
    decided_by: Literal["referrer", "dsr_meeting"] = Field(
        description="who decides the rating: the assistant only suggests"
    )

"""A referral is the questionnaire's answers (questionnaire/referral.yml), keyed by linkId.

Which answers a referral needs, whether the person is eligible, the rating suggested and the
ratings that may be chosen are all recomputed by the service from the answers: a client never
posts a suggestion, an eligibility result or a list of ratings back.
"""

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from dsp_backend.variants.schemas import AgeGroup, Rag, ReferralSource, Register

FormKind = Literal["mandatory", "full", "self_referral"]


class ReferralCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    referral_source: ReferralSource = "professional"
    answers: dict[str, Any] = Field(
        description="the questionnaire's answers by linkId (GET /api/v1/questionnaire)",
        max_length=200,
    )


class ReferralCreated(BaseModel):
    """The answer to a referral: the register facts and the reference, nothing identifying."""

    dsp_id: str
    register: Register
    rag: Rag | None = Field(
        description="None: the DSR meeting rates the referral (Tees Valley DSR and Keyworker programme)"
    )
    age_group: AgeGroup
    referral_source: ReferralSource
    form: FormKind
    created_at: datetime
    step_down_ends_on: date | None
    consent_renewal_due_on: date | None
    follow_ups: list[str] = Field(description="what follows: e.g. mam_requested, tco_notified")
    next_steps: list[str] = Field(description="what happens next, in plain English")


class ReferralReceived(BaseModel):
    """What the chat is told of its referral: received, never whether the person is on a
    register (DESIGN.md, Data protection)."""

    status: Literal["received"] = "received"
    reference: str = Field(description="the held referral's reference, e.g. REF-7K3F-Q9XM")
    confirm_by: Literal["email", "coordinator"] = Field(
        description="email: a link went to the referrer's email; coordinator: the DSR team "
        "confirms it with the person"
    )
    next_steps: list[str]


class PendingRead(BaseModel):
    """A held referral as the DSR admin lead lists it: no personal data."""

    reference: str
    status: str
    referral_source: ReferralSource
    email_domain: str | None
    created_at: datetime
    expires_at: datetime
    confirmed_at: datetime | None
    dsp_id: str | None = Field(description="the entry it is on, or linked to, once confirmed")

"""The shape of a local variant file. A file that does not fit fails at start with its name and field."""

from typing import Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Area(Strict):
    """A council area the variant serves; towns and postcode districts are hints, never proof."""

    id: str
    name: str
    council: str
    towns: list[str] = []
    postcode_districts: list[str] = []


class Contact(Strict):
    id: str
    kind: Literal[
        "parent_carer_forum", "referral_inbox", "coordinator", "keyworker_service", "dsr_admin"
    ]
    name: str
    area_ids: list[str] = Field(
        default=[], description="areas served; empty means the whole variant"
    )
    email: EmailStr | None = None
    phone: str | None = None
    how_to_reach: str = ""


class Consent(Strict):
    """Who may consent, and whether consent falls due again (004: renewed every year)."""

    who_may_consent: list[Literal["person", "parent_carer_guardian", "best_interests"]]
    parent_consents_under_age: int = Field(
        default=16, description="under this age a parent, carer or guardian consents (004)"
    )
    renewal_months: int | None = Field(default=None, description="None: consent is not renewed")


class Variant(Strict):
    id: str
    name: str
    area_summary: str = Field(
        description="one sentence a person can read: where the variant serves"
    )
    source: str = Field(description="the source document(s) in shared/seeds this variant follows")
    areas: list[Area]
    self_referral: bool
    contacts: list[Contact]
    consent: Consent
    green_step_down_months: int | None = Field(
        description="how long a person stays green before removal; None where green is no step-down"
    )
    draft_retention_hours: int = Field(
        default=72, gt=0, description="how long a paused referral draft is kept before deletion"
    )


class VariantPublic(BaseModel):
    """What the bot and the chat page may read without a token: no personal data in here."""

    id: str
    name: str
    area_summary: str
    areas: list[Area]
    self_referral: bool
    contacts: list[Contact]
    consent: Consent

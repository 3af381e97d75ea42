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


class VariantPublic(BaseModel):
    """What the bot and the chat page may read without a token: no personal data in here."""

    id: str
    name: str
    area_summary: str
    areas: list[Area]
    self_referral: bool
    contacts: list[Contact]

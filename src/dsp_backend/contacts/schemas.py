"""A place as a person types it, and the contacts the variant holds for it (002, 003, 004)."""

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from dsp_backend.variants.schemas import Contact

Audience = Literal["family", "professional"]
Status = Literal["found", "ambiguous", "not_found"]
MatchedBy = Literal["council", "area", "town", "postcode_district", "postcode_area", "spelling"]


class ContactLookup(BaseModel):
    model_config = ConfigDict(extra="forbid")

    place: str | None = Field(
        default=None,
        max_length=200,
        description=(
            "what the person said about where they live: a council, an area, a town, a postcode "
            "or its first half; none when they have not said"
        ),
    )
    audience: Audience = Field(
        default="family",
        description="family: forums, information, the DSR team; professional: every contact",
    )


class AreaRef(BaseModel):
    id: str
    name: str


class ContactAnswer(BaseModel):
    """found: `contacts` are the area's own, or the variant-wide ones when it has none.
    ambiguous: ask the person which of `choices` they mean. not_found: `choices` are all the
    variant's areas to offer. A contact is only ever one the variant file holds."""

    status: Status
    variant_id: str = Field(description="the deployment's variant, e.g. for its easy-read content")
    variant_name: str
    area: AreaRef | None = None
    matched_by: MatchedBy | None = None
    hint_only: bool = Field(
        default=False,
        description="the area was suggested by a postcode alone: say so, it is a hint (LLR pathway guidance section 9)",
    )
    choices: list[AreaRef] = []
    contacts: list[Contact] = []

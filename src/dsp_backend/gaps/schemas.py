"""What the gaps in service API accepts and reads. Workers read the free text; commissioners see
themes and counts only, with small counts suppressed."""

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from dsp_backend.variants.schemas import AgeGroup


class GapCreate(BaseModel):
    """001 section 15, the gaps in service form: what is missing, its impact on the person's
    health, well-being and ability to stay in the community, and what was tried to resolve it."""

    model_config = ConfigDict(extra="forbid")

    dsp_id: str | None = Field(
        default=None,
        pattern=r"^DSP-[0-9A-Z]{4}-[0-9A-Z]{4}$",
        description="the person it affected; leave out to record a gap on its own",
    )
    theme: str = Field(min_length=1, max_length=48, description="one of the variant's themes")
    age_group: AgeGroup | None = Field(
        default=None, description="only for a gap on its own; a person's is their entry's"
    )
    what_is_missing: str = Field(min_length=1, max_length=4000)
    impact: str = Field(min_length=1, max_length=4000)
    what_was_tried: str = Field(min_length=1, max_length=4000)


class GapRead(BaseModel):
    id: int
    dsp_id: str | None
    recorded_at: datetime
    recorded_by: str
    theme: str
    age_group: AgeGroup | None
    what_is_missing: str
    impact: str
    what_was_tried: str
    erased: bool = Field(description="the free text was erased with the person's personal data")


class ThemeCount(BaseModel):
    theme: str
    gaps: int | None = Field(description="None: fewer than 5, not shown")


class GapThemes(BaseModel):
    """Counts only (role commissioner): nothing here identifies a person or a service user."""

    since: date
    total: int | None = Field(description="None: fewer than 5, not shown")
    by_theme: list[ThemeCount]
    by_age_group: dict[str, int | None]

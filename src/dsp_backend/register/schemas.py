"""What the register API reads and accepts. The list carries no personal data; the detail does."""

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from dsp_backend.formats import NhsNumberText
from dsp_backend.register.deadlines import Due
from dsp_backend.register.lifecycle import EventKind, RemovalReason, SideEffectKind, State
from dsp_backend.variants.schemas import AgeGroup, ConsentGiver, Rag, ReferralSource, Register


class ConsentRenewal(BaseModel):
    """004: consent given again; by whom, when, and (16 and over) whether they have capacity."""

    model_config = ConfigDict(extra="forbid")

    given_by: ConsentGiver
    given_on: date
    capacity: bool | None = Field(
        default=None, description="the person has capacity for this decision (16 and over)"
    )


class RegisterEntryRead(BaseModel):
    """One person on the register, by dsp_id only (DESIGN.md contract for GET /api/v1/register)."""

    dsp_id: str
    register: Register
    rag: Rag | None = Field(
        description="None: not rated yet; the DSR meeting rates (Tees Valley DSR and Keyworker programme)"
    )
    state: State = Field(description="the rating, or 'removed'")
    age_group: AgeGroup
    referral_source: ReferralSource
    created_at: datetime
    rag_since: datetime
    mam_organised_by_admin: bool
    step_down_ends_on: date | None
    consent_given_by: ConsentGiver
    consent_given_on: date
    consent_renewal_due_on: date | None
    first_mam_on: date | None
    removed_at: datetime | None
    removal_reason: RemovalReason | None
    erased_at: datetime | None = Field(description="when retention erased the personal data")
    next_due_on: date | None = Field(
        description="the soonest of step-down end, consent renewal and open follow-ups"
    )
    next_due: str | None = Field(
        description="what falls due then: a follow-up kind, step_down_end or consent_renewal"
    )
    due: Due | None


class TransitionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    at: datetime
    from_state: State | None
    to_state: State
    reason: str
    removal_reason: RemovalReason | None
    actor: str
    role: str


class TaskRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: SideEffectKind
    created_at: datetime
    due_on: date | None
    closed_at: datetime | None
    closed_because: Literal["done", "no_longer_needed"] | None
    ref: str | None


class EventRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    at: datetime
    on: date
    kind: EventKind
    ref: str | None
    actor: str
    role: str


class PersonalRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    nhs_number: str | None
    given_name: str
    family_name: str
    date_of_birth: date
    postcode: str
    form: dict[str, Any] = Field(description="the referral form as submitted")


class RegisterEntryDetail(RegisterEntryRead):
    transitions: list[TransitionRead]
    tasks: list[TaskRead]
    events: list[EventRead]
    personal: PersonalRead | None = Field(description="None once retention has deleted it")


class TransitionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    to: State
    reason: str = Field(min_length=1, max_length=2000, description="why: recorded with the change")
    removal_reason: RemovalReason | None = None


class NhsNumberSearch(BaseModel):
    """The NHS number goes in the body, never in a URL (DESIGN.md, data protection)."""

    model_config = ConfigDict(extra="forbid")

    nhs_number: NhsNumberText


class MamHeld(BaseModel):
    model_config = ConfigDict(extra="forbid")

    held_on: date


TimelineWhat = Literal["rating", "event", "task", "deadline"]
TimelineStatus = Literal["done", "no_longer_needed", "open", "overdue", "due_soon", "ahead"]


class TimelineItem(BaseModel):
    """One line of a person's timeline: something that happened, or a date still ahead."""

    on: date
    what: TimelineWhat
    kind: str = Field(description="the rating reached, the event, the follow-up or deadline")
    status: TimelineStatus
    task_id: int | None = None
    ref: str | None = Field(default=None, description="another feature's record it is about")
    detail: str = Field(description="plain English")


class Timeline(BaseModel):
    dsp_id: str
    state: State
    items: list[TimelineItem]


# A count a commissioner reads: None where it is under 5 (suppressed, so nobody can be singled out).
Count = int | None


class MonthRatings(BaseModel):
    month: str = Field(description="YYYY-MM; counted at the month's end, or today for this month")
    amber: Count
    red: Count
    blue: Count
    green: Count


class TimeToFirstMam(BaseModel):
    with_first_mam: Count
    awaiting_first_mam: Count
    median_days: float | None = Field(description="None: fewer than 5 people to average")
    mean_days: float | None


class ReportSummary(BaseModel):
    """Counts only, each under 5 suppressed (None): nothing here identifies a person (role
    commissioner)."""

    referrals: Count
    on_register: Count
    by_referral_source: dict[str, Count]
    by_referrer_kind: dict[str, Count]
    by_reason_for_referral: dict[str, Count] = Field(description="criterion id: referrals")
    by_register: dict[str, Count]
    by_rating: dict[str, Count]
    ratings_over_time: list[MonthRatings]
    time_to_first_mam: TimeToFirstMam

"""What the meetings API reads and accepts. MAM notes are health data: only dsr_admin and tco."""

import re
from datetime import date, datetime
from typing import Annotated, Final, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    StringConstraints,
    model_validator,
)

from dsp_backend.database.core import as_utc
from dsp_backend.register.schemas import RegisterEntryRead

MamKind = Literal["first", "subsequent"]
# 001 s13, the key questions at the end of the notes: a follow-up MAM, removal from the DSR (the
# process stood down, 001 s12), or escalation to the ROAR for a C(E)TR.
Decision = Literal["follow_up", "stand_down", "escalate"]
# Stood down: green where the variant has a step-down period (000), or removed.
StandDownTo = Literal["green", "removed"]
ActionStatus = Literal["open", "completed", "no_longer_needed"]
SectionKind = Literal["text", "yes_no"]

DspIdText = Annotated[str, StringConstraints(pattern=r"^DSP-[0-9A-Z]{4}-[0-9A-Z]{4}$")]
Line = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
LongText = Annotated[str, StringConstraints(max_length=20_000)]


_ADDRESS: Final = re.compile(r"\S+@\S+\.\S+")


def holds_address(text: str) -> bool:
    return _ADDRESS.search(text) is not None


def _no_address(role: str) -> str:
    # Roles are what the family is told about the professionals: never an address (001 s10).
    if holds_address(role):
        raise ValueError("a role, not an email address")
    return role


Role = Annotated[Line, AfterValidator(_no_address)]
# A stored time as it is read: always with its zone (SQLite gives back naive UTC).
Utc = Annotated[datetime, AfterValidator(as_utc)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TemplateSection(Strict):
    key: str = Field(pattern=r"^[a-z0-9_]+$")
    title: str
    prompt: str = ""
    kind: SectionKind
    templates: list[MamKind] = Field(min_length=1)


class NotesTemplate(Strict):
    sections: list[TemplateSection]

    def for_kind(self, kind: MamKind) -> list[TemplateSection]:
        return [s for s in self.sections if kind in s.templates]


class Attendee(Strict):
    model_config = ConfigDict(extra="forbid", from_attributes=True)

    name: Line
    role: Role


class Invitee(Attendee):
    """A professional to invite (the referral's invitees, 001 s11, unless others are given)."""

    email: EmailStr | None = None
    phone: Annotated[str, StringConstraints(max_length=40)] | None = None


class FamilyContact(Strict):
    """The person, a parent or a carer who comes to the MAM: invited by an email of their own."""

    name: Line
    relationship: Line = Field(description="e.g. mother, the person, foster carer")
    email: EmailStr


class MamCreate(Strict):
    dsp_id: DspIdText
    scheduled_at: AwareDatetime
    joining_link: Annotated[str, StringConstraints(pattern=r"^https://\S+$", max_length=500)]
    invitees: list[Invitee] | None = Field(
        default=None, description="None: the people the referral asked to invite"
    )
    family: list[FamilyContact] = []


class MamChange(Strict):
    """A change to an arranged MAM; changing anything means everyone is invited again."""

    scheduled_at: AwareDatetime | None = None
    joining_link: (
        Annotated[str, StringConstraints(pattern=r"^https://\S+$", max_length=500)] | None
    ) = None
    invitees: list[Invitee] | None = None
    family: list[FamilyContact] | None = None


class SectionAnswer(Strict):
    """One section: a written answer, a yes or no (yes_no sections), or not applicable."""

    model_config = ConfigDict(extra="forbid", from_attributes=True)

    text: LongText | None = None
    answer: bool | None = None
    not_applicable: bool = False

    @model_validator(mode="after")
    def _applicable_or_not(self) -> "SectionAnswer":
        if self.not_applicable and (self.text or self.answer is not None):
            raise ValueError("a section marked not applicable has no answer")
        return self


class NotesUpdate(Strict):
    """The notes as they stand; sections not given keep their answers."""

    held_at: AwareDatetime | None = None
    chair: Annotated[str, StringConstraints(max_length=200)] | None = None
    note_taker: Annotated[str, StringConstraints(max_length=200)] | None = None
    attendees: list[Attendee] | None = None
    sections: dict[str, SectionAnswer] = {}


class ActionCreate(Strict):
    task: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=5000)]
    responsible: Line = Field(description="who will do it: a name and role")
    timeline: date = Field(description="the date it is due by")
    manager_email: EmailStr | None = Field(
        default=None, description="where it is escalated if not done in time"
    )
    outcome: LongText = ""


class ActionChange(Strict):
    outcome: LongText | None = None
    status: ActionStatus | None = None
    timeline: date | None = None
    manager_email: EmailStr | None = None


class ActionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    mam_id: int
    task: str
    responsible: str
    manager_email: str | None
    timeline: date
    outcome: str
    status: ActionStatus
    overdue: bool = Field(description="open past its timeline")
    created_at: Utc
    closed_at: Utc | None
    escalated_at: Utc | None


class InviteeRead(Invitee):
    family: bool
    invited_at: Utc | None


class NextSteps(Strict):
    decision: Decision
    next_mam_at: AwareDatetime | None = Field(
        default=None,
        description="follow_up only: agreed at the meeting (LLR pathway guidance section 13)",
    )
    stand_down_to: StandDownTo | None = Field(
        default=None, description="stand_down only; default green where the variant has a step-down"
    )
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]

    @model_validator(mode="after")
    def _fits_decision(self) -> "NextSteps":
        if (self.decision == "follow_up") != (self.next_mam_at is not None):
            raise ValueError("a follow-up MAM needs its date, and only a follow-up has one")
        if self.stand_down_to is not None and self.decision != "stand_down":
            raise ValueError("stand_down_to goes only with stand_down")
        return self


class NextStepsRead(BaseModel):
    """The decision, and the template's three yes/no questions as they follow from it."""

    decision: Decision
    next_mam_at: Utc | None
    stand_down_to: StandDownTo | None
    follow_up_required: bool
    removed_from_register: bool
    escalated_to_roar: bool


class MamSummary(BaseModel):
    id: int
    dsp_id: str
    number: int
    kind: MamKind
    scheduled_at: Utc
    held_at: Utc | None
    completed_at: Utc | None
    decision: Decision | None


class MamRead(MamSummary):
    pre_meeting_at: Utc = Field(
        description="with the family, 15 minutes before (LLR pathway guidance section 12)"
    )
    joining_link: str
    chair: str
    note_taker: str
    attendees: list[Attendee]
    invitees: list[InviteeRead]
    sections: dict[str, SectionAnswer] = Field(description="every section of this MAM's template")
    existing_action_plan: list[ActionRead] = Field(
        description="subsequent MAMs: what it opened with"
    )
    action_plan: list[ActionRead] = Field(
        description="the (revised) plan: existing actions still open and the actions raised here"
    )
    next_steps: NextStepsRead | None


class NextStepsResult(BaseModel):
    mam: MamRead
    register: RegisterEntryRead
    next_mam_id: int | None
    notified: list[str] = Field(description="notifications queued: tco_notified, referrer_notified")
    not_notified: list[str] = Field(description="notifications with no address to send to")


class InvitationsResult(BaseModel):
    invited: int = Field(description="invitations queued")
    without_email: int = Field(description="invitees with no email address: invite them yourself")


class EscalationsResult(BaseModel):
    escalated: int
    without_address: int

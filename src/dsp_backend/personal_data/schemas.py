from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from dsp_backend.audit.schemas import AuditEventRead
from dsp_backend.gaps.schemas import GapRead
from dsp_backend.meetings.schemas import ActionRead, MamRead
from dsp_backend.register.schemas import RegisterEntryDetail


class SubjectAccessExport(BaseModel):
    """Everything the register service holds on one person, for a subject access request."""

    dsp_id: str
    exported_at: datetime
    entry: RegisterEntryDetail = Field(
        description="the register entry, its ratings history, follow-ups and the person's details"
    )
    referral: dict[str, Any] | None = Field(description="what was referred and decided")
    held_referrals: list[dict[str, Any]] = Field(
        description="referrals made in the chat and linked to this entry, with their answers"
    )
    meetings: list[MamRead]
    actions: list[ActionRead]
    gaps_in_service: list[GapRead]
    access_log: list[AuditEventRead] = Field(description="who read or changed the entry, and when")


class ErasureRequest(BaseModel):
    """The dsp_id again, so that a slip of the keyboard cannot erase someone else."""

    model_config = ConfigDict(extra="forbid")

    confirm_dsp_id: str = Field(pattern=r"^DSP-[0-9A-Z]{4}-[0-9A-Z]{4}$")


class ErasureDone(BaseModel):
    dsp_id: str
    erased_at: datetime
    erased: dict[str, int] = Field(description="what was erased, and how many records of each")

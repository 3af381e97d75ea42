"""What a draft carries. The resume code travels in the `Resume-Code` header, never in a URL."""

import json
from datetime import datetime
from typing import Any, Final

from pydantic import BaseModel, ConfigDict, Field, field_validator

RESUME_CODE_HEADER: Final = "Resume-Code"
# A paused referral is a few dozen answers; long free text is welcome, so allow generously.
MAX_DRAFT_BYTES: Final = 256_000


class DraftBody(BaseModel):
    """The answers so far, as the assistant keeps them (slot name: value)."""

    model_config = ConfigDict(extra="forbid")

    data: dict[str, Any] = Field(description="the answers so far; personal data")

    @field_validator("data")
    @classmethod
    def _not_too_large(cls, value: dict[str, Any]) -> dict[str, Any]:
        if len(json.dumps(value, default=str).encode()) > MAX_DRAFT_BYTES:
            raise ValueError(f"a draft may hold at most {MAX_DRAFT_BYTES} bytes of answers")
        return value


class DraftCreated(BaseModel):
    resume_code: str = Field(description="the only copy: give it to the referrer, do not log it")
    expires_at: datetime


class DraftRead(BaseModel):
    data: dict[str, Any]
    expires_at: datetime


class DraftSaved(BaseModel):
    expires_at: datetime


class DraftDeleted(BaseModel):
    deleted: bool

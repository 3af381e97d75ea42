"""The outbox report: counts and unsent messages, with no address, subject or body."""

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class UnsentMessage(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: str
    about: str | None = Field(description="a dsp_id or referral reference, never a name")
    created_at: datetime
    attempts: int = Field(description="0: not tried yet")
    next_attempt_at: datetime
    last_error: str | None = Field(description="the error's name only")


class OutboxStatus(BaseModel):
    sent: int
    waiting: int = Field(description="not sent yet, tried or not")
    failing: int = Field(description="tried at least once and not sent: retried with back-off")
    unsent: list[UnsentMessage] = Field(description="the oldest unsent messages")

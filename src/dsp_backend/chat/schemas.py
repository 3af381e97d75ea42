from typing import Literal

from pydantic import BaseModel, Field


class ChatButton(BaseModel):
    title: str
    payload: str


class ChatReply(BaseModel):
    text: str = ""
    buttons: list[ChatButton] = []
    emergency: bool = Field(
        default=False, description="the emergency routes: the page shows them as an emergency"
    )
    multiple: bool = Field(
        default=False, description="several of the buttons may be chosen together"
    )


class ChatRequest(BaseModel):
    message: str = Field(min_length=1)


class ChatResponse(BaseModel):
    messages: list[ChatReply]
    asking: str | None = Field(
        default=None,
        description="the id of the referral question waiting for an answer ('$summary' at the "
        "summary); null outside a referral question",
    )


class TranscriptEntry(ChatReply):
    who: Literal["you", "assistant"]


class ChatHistory(BaseModel):
    """The conversation so far, as the page showed it, for the page to show again."""

    messages: list[TranscriptEntry]
    asking: str | None = Field(
        default=None, description="the referral question asked since the person last wrote"
    )

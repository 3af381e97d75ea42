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


class ChatRequest(BaseModel):
    message: str = Field(min_length=1)


class ChatResponse(BaseModel):
    messages: list[ChatReply]
    asking: str | None = Field(
        default=None,
        description="the id of the referral question waiting for an answer ('$summary' at the "
        "summary); null outside a referral question",
    )

import logging
import re
import time
from functools import lru_cache
from importlib import resources

import httpx
from fastapi import APIRouter, Cookie, HTTPException, Request, Response, status
from fastapi.responses import HTMLResponse

from dsp_backend.chat import service as chat_service
from dsp_backend.chat.schemas import ChatReply, ChatRequest, ChatResponse
from dsp_backend.config import get_settings, secret_key
from dsp_backend.errors import PlainValidationRoute
from dsp_backend.guard import served_over_https

log = logging.getLogger(__name__)
# A 422 never repeats what was typed: it may be personal data.
router = APIRouter(tags=["chat"], route_class=PlainValidationRoute)
COOKIE = "dsp_conversation"
# Every refusal at the door keeps the emergency line: the person may be writing about danger.
SAFETY = "If someone is in danger now, call 999."
UNAVAILABLE = (
    f"Sorry, the assistant is not working just now. Please try again in a few minutes. {SAFETY}"
)
# A button sends "/intent" or "/intent{...}"; any other text starting with "/" would make Rasa
# log it word for word as an intent it cannot parse, so it goes as plain text.
BUTTON_PAYLOAD = re.compile(r"^/[a-z_]+(\{[^{}]*\})?$")


@lru_cache
def _limiter() -> chat_service.RateLimiter:
    return chat_service.RateLimiter(get_settings().chat_rate_per_minute)


@lru_cache
def _address_limiter() -> chat_service.RateLimiter:
    """New conversations cost nothing, so the client address has a limit of its own."""
    return chat_service.RateLimiter(get_settings().chat_rate_per_address_per_minute)


@lru_cache
def _page() -> str:
    return resources.files("dsp_backend.chat").joinpath("static/index.html").read_text("utf-8")


def _conversation(request: Request, response: Response, cookie: str | None) -> str:
    """The visitor's conversation: the one their signed cookie names while it is fresh, else a
    new one. The cookie is signed again on every use, so it expires only after inactivity;
    Secure where the page is served over HTTPS."""
    settings = get_settings()
    key, now = secret_key(settings), time.time()
    max_age = settings.chat_session_minutes * 60
    conversation_id = chat_service.verified(cookie, key, now, max_age)
    if conversation_id is None:
        conversation_id = chat_service.new_conversation_id()
    response.set_cookie(
        COOKIE,
        chat_service.signed(conversation_id, key, now),
        max_age=max_age,
        httponly=True,
        samesite="strict",
        secure=served_over_https(request.scope),
    )
    return conversation_id


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
def chat_page(
    request: Request, dsp_conversation: str | None = Cookie(default=None)
) -> HTMLResponse:
    """The chat page; each visitor gets an opaque conversation id in a cookie, never in the URL."""
    response = HTMLResponse(_page())
    _conversation(request, response, dsp_conversation)
    return response


@router.post(
    "/chat",
    response_model=ChatResponse,
    responses={
        400: {"description": "the body cannot be read as JSON"},
        413: {"description": "the message is too long (the answer says call 999 in danger)"},
        422: {"description": "an empty or unreadable message"},
        429: {"description": "too many messages at once"},
        503: {"description": "the assistant is not working just now"},
    },
)
async def chat(
    body: ChatRequest,
    request: Request,
    response: Response,
    dsp_conversation: str | None = Cookie(default=None),
) -> ChatResponse:
    settings = get_settings()
    conversation_id = _conversation(request, response, dsp_conversation)
    message = body.message.strip()
    if message.startswith("/") and not BUTTON_PAYLOAD.match(message):
        message = message.lstrip("/").strip()
    if not message:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "Please type a message.")
    if len(message) > settings.chat_max_message_chars:
        raise HTTPException(
            status.HTTP_413_CONTENT_TOO_LARGE,
            f"That message is too long: please keep it under {settings.chat_max_message_chars} "
            f"characters, or send it in parts. {SAFETY}",
        )
    address = request.client.host if request.client else "unknown"
    if not _limiter().allow(conversation_id) or not _address_limiter().allow(address):
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS,
            f"Too many messages at once. Please wait a moment. {SAFETY}",
        )
    rasa_url = chat_service.replica_for(conversation_id, settings.rasa_urls)
    client: httpx.AsyncClient = request.app.state.http
    try:
        replies, asking = await chat_service.send_to_rasa(
            client=client, rasa_url=rasa_url, conversation_id=conversation_id, message=message
        )
    except chat_service.RasaUnavailable as error:
        # The reason only, never the message text: it may hold personal data.
        log.warning("Rasa at %s did not answer: %s", rasa_url, error)
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, UNAVAILABLE) from error
    return ChatResponse(
        messages=[ChatReply.model_validate(reply) for reply in replies], asking=asking
    )

import logging
import re
import time
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import httpx
from fastapi import APIRouter, Cookie, HTTPException, Request, Response, status
from fastapi.responses import HTMLResponse, PlainTextResponse

from dsp_backend.chat import history, pages
from dsp_backend.chat import service as chat_service
from dsp_backend.chat.schemas import (
    ChatHistory,
    ChatReply,
    ChatRequest,
    ChatResponse,
    TranscriptEntry,
)
from dsp_backend.config import get_settings, secret_key
from dsp_backend.errors import PlainValidationRoute
from dsp_backend.guard import served_over_https

log = logging.getLogger(__name__)
# A 422 never repeats what was typed: it may be personal data.
router = APIRouter(tags=["chat"], route_class=PlainValidationRoute)
router.include_router(pages.router)
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


# What the person wrote and was told: never kept by a browser's or a proxy's cache.
PRIVATE = {"Cache-Control": "no-store"}


def _conversation(
    request: Request, response: Response, cookie: str | None, *, new: bool = False
) -> str:
    """The visitor's conversation: the one their signed cookie names while it is fresh, else
    (or when `new`) a new one. The cookie is signed again on every use, so it expires only after
    inactivity; Secure where the page is served over HTTPS."""
    settings = get_settings()
    key, now = secret_key(settings), time.time()
    max_age = settings.chat_session_minutes * 60
    conversation_id = None if new else chat_service.verified(cookie, key, now, max_age)
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


async def _send(
    client: httpx.AsyncClient, conversation_id: str, message: str, rasa_urls: list[str]
) -> tuple[list[dict[str, Any]], str | None]:
    """The conversation's replica answers; while it is down, the next one takes the turn (the
    replicas share the tracker and lock stores, so it carries on where the conversation was)."""
    for rasa_url in chat_service.replicas_for(conversation_id, rasa_urls):
        try:
            return await chat_service.send_to_rasa(
                client=client, rasa_url=rasa_url, conversation_id=conversation_id, message=message
            )
        except chat_service.RasaUnavailable as error:
            # The reason only, never the message text: it may hold personal data.
            log.warning("Rasa at %s did not answer: %s", rasa_url, error)
            if not isinstance(error, chat_service.RasaUnreachable):
                raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, UNAVAILABLE) from error
    raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, UNAVAILABLE)


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
def chat_page(
    request: Request, dsp_conversation: str | None = Cookie(default=None)
) -> HTMLResponse:
    """The chat page; each visitor gets an opaque conversation id in a cookie, never in the URL."""
    response = HTMLResponse(
        pages.render("chat.html", max_chars=get_settings().chat_max_message_chars),
        headers=PRIVATE,
    )
    _conversation(request, response, dsp_conversation)
    return response


def _transcript(conversation_id: str) -> tuple[list[dict[str, object]], str | None]:
    engine = history.tracker_engine(get_settings())
    return history.transcript(history.events_of(engine, conversation_id))


@router.get("/chat/history", response_model=ChatHistory)
def chat_history(
    request: Request, response: Response, dsp_conversation: str | None = Cookie(default=None)
) -> ChatHistory:
    """The conversation so far, so a reload shows it again (what Rasa's tracker store keeps)."""
    entries, asking = _transcript(_conversation(request, response, dsp_conversation))
    response.headers.update(PRIVATE)
    return ChatHistory(
        messages=[TranscriptEntry.model_validate(entry) for entry in entries], asking=asking
    )


@router.get("/chat/history.txt", response_class=PlainTextResponse)
def chat_history_file(
    request: Request, response: Response, dsp_conversation: str | None = Cookie(default=None)
) -> PlainTextResponse:
    """A copy of the conversation as a text file for the person to keep."""
    entries, _ = _transcript(_conversation(request, response, dsp_conversation))
    return PlainTextResponse(
        history.as_text(entries, datetime.now(UTC)),
        headers={
            **PRIVATE,
            "Content-Disposition": 'attachment; filename="dsp-assistant-conversation.txt"',
        },
    )


@router.post("/chat/restart", status_code=status.HTTP_204_NO_CONTENT)
def chat_restart(
    request: Request, response: Response, dsp_conversation: str | None = Cookie(default=None)
) -> None:
    """Start again: a new conversation, and what the tracker store kept of the old one deleted."""
    key, settings = secret_key(get_settings()), get_settings()
    old = chat_service.verified(
        dsp_conversation, key, time.time(), settings.chat_session_minutes * 60
    )
    if old is not None:
        history.forget(history.tracker_engine(settings), old)
    _conversation(request, response, None, new=True)


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
    client: httpx.AsyncClient = request.app.state.http
    replies, asking = await _send(client, conversation_id, message, settings.rasa_urls)
    response.headers.update(PRIVATE)
    return ChatResponse(
        messages=[ChatReply.model_validate(reply) for reply in replies], asking=asking
    )

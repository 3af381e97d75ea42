"""The public door to Rasa: opaque conversation ids, per-conversation rate limits, sticky replicas."""

import hashlib
import hmac
import re
import secrets
import time
from collections import defaultdict, deque
from threading import Lock
from typing import Any

import httpx

from dsp_backend.questionnaire import logic

CONVERSATION_ID = re.compile(r"^[A-Za-z0-9_-]{22,64}$")


def new_conversation_id() -> str:
    # Random and opaque: Rasa's REST channel trusts the sender id, so it must not be guessable.
    return secrets.token_urlsafe(18)


def is_conversation_id(value: str | None) -> bool:
    return bool(value and CONVERSATION_ID.match(value))


def _mac(key: bytes, payload: str) -> str:
    return hmac.new(key, payload.encode(), hashlib.sha256).hexdigest()[:43]


def signed(conversation_id: str, key: bytes, now: float) -> str:
    """The cookie's value: the id, when it was last used, and a signature over both. Only the
    server makes one, so an id a client makes up is never accepted."""
    payload = f"{conversation_id}.{int(now)}"
    return f"{payload}.{_mac(key, payload)}"


def verified(cookie: str | None, key: bytes, now: float, max_age: float) -> str | None:
    """The conversation id of a cookie this server signed and that has not gone quiet for
    longer than `max_age` seconds; None for anything else."""
    parts = (cookie or "").split(".")
    if len(parts) != 3 or not is_conversation_id(parts[0]) or not parts[1].isdigit():
        return None
    conversation_id, stamp, mac = parts
    if not hmac.compare_digest(mac, _mac(key, f"{conversation_id}.{stamp}")):
        return None
    return conversation_id if 0 <= now - int(stamp) <= max_age else None


def replicas_for(conversation_id: str, rasa_urls: list[str]) -> list[str]:
    """The Rasa replicas in the order this conversation tries them: every turn goes to the first
    while it answers. Rendezvous hashing: a replica that stops moves only its own conversations,
    each to its next choice (replicas share the tracker and lock stores, so any may continue)."""

    def weight(url: str) -> bytes:
        return hashlib.sha256(f"{conversation_id} {url}".encode()).digest()

    return sorted(rasa_urls, key=weight, reverse=True)


def replica_for(conversation_id: str, rasa_urls: list[str]) -> str:
    return replicas_for(conversation_id, rasa_urls)[0]


class RateLimiter:
    """At most `limit` messages per key in any `window` seconds (one process; enough for /chat)."""

    def __init__(self, limit: int, window: float = 60.0) -> None:
        self.limit = limit
        self.window = window
        self._hits: dict[str, deque[float]] = defaultdict(deque)
        self._lock = Lock()

    def allow(self, key: str) -> bool:
        now = time.monotonic()
        with self._lock:
            hits = self._hits[key]
            while hits and now - hits[0] > self.window:
                hits.popleft()
            if len(hits) >= self.limit:
                return False
            hits.append(now)
            return True


class RasaUnavailable(Exception):
    pass


class RasaUnreachable(RasaUnavailable):
    """The replica is gone (no connection, or its connection dropped with no answer), so another
    replica may take the message: as if the person sent it again. A replica that is only slow
    (a timeout) is not: it may still be working on the turn."""


# The questions whose buttons may be chosen together: the criteria are ticked as a list, and a
# learning disability and autism together are read as both (questionnaire/interpret.py).
SEVERAL_ANSWERS = frozenset({"criteria", "diagnosis"})


def allows_several(link_id: str | None) -> bool:
    items = {item.linkId: item for item in logic.questionnaire().items}
    item = items.get(link_id or "")
    return item is not None and item.type in SEVERAL_ANSWERS


def asked_in(replies: list[dict[str, Any]]) -> str | None:
    """The id of the question these replies ask (the referral's ask action sends it as a custom
    message after the question)."""
    return next(
        (
            str(reply["custom"]["question"])
            for reply in reversed(replies)
            if isinstance(reply.get("custom"), dict) and reply["custom"].get("question")
        ),
        None,
    )


def messages_of(replies: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rasa's replies as the page shows them: text and buttons, a message marked as the
    emergency routes, the question's buttons marked where several may be chosen."""
    messages: list[dict[str, Any]] = []
    for reply in replies:
        custom = reply.get("custom")
        if isinstance(custom, dict) and messages:
            # Rasa sends a message's custom part after its text: it marks that text.
            if custom.get("emergency"):
                messages[-1]["emergency"] = True
            if custom.get("question") and messages[-1]["buttons"]:
                messages[-1]["multiple"] = allows_several(str(custom["question"]))
        if reply.get("text") or reply.get("buttons"):
            messages.append(
                {"text": reply.get("text") or "", "buttons": reply.get("buttons") or []}
            )
    return messages


async def send_to_rasa(
    *, client: httpx.AsyncClient, rasa_url: str, conversation_id: str, message: str
) -> tuple[list[dict[str, Any]], str | None]:
    """Rasa's replies as text and buttons, and the id of the question now asked, if any."""
    try:
        response = await client.post(
            f"{rasa_url}/webhooks/rest/webhook",
            json={"sender": conversation_id, "message": message},
        )
        response.raise_for_status()
    except httpx.TimeoutException as error:
        raise RasaUnavailable(type(error).__name__) from error
    except httpx.TransportError as error:
        raise RasaUnreachable(type(error).__name__) from error
    except httpx.HTTPError as error:
        raise RasaUnavailable(type(error).__name__) from error
    replies = response.json()
    return messages_of(replies), asked_in(replies)

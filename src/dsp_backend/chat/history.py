"""A conversation's transcript, rebuilt from Rasa's SQL tracker store (the `events` table that
scripts/stack.py points Rasa at), so the page shows it again after a reload. Rasa's HTTP API stays
off (DESIGN.md: it can load models), so the store is read directly, as retention does; the id
comes from the signed cookie only."""

import json
from datetime import UTC, datetime
from functools import cache
from typing import Any

from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine

from dsp_backend.chat import retention
from dsp_backend.chat.service import asked_in, messages_of
from dsp_backend.config import Settings
from dsp_backend.database.core import make_engine

SHOWN_EVENTS = ("user", "bot")


@cache
def _engine(url: str) -> Engine:
    return make_engine(url)


def tracker_engine(settings: Settings) -> Engine:
    return _engine(retention.tracker_url(settings))


def events_of(engine: Engine, conversation_id: str) -> list[dict[str, Any]]:
    """The conversation's user and bot events, oldest first; none where Rasa has kept nothing."""
    if not inspect(engine).has_table("events"):
        return []
    query = text(
        "SELECT data FROM events WHERE sender_id = :sender AND type_name IN ('user', 'bot') "
        "ORDER BY id"
    )
    with engine.connect() as connection:
        return [
            json.loads(row[0]) for row in connection.execute(query, {"sender": conversation_id})
        ]


def forget(engine: Engine, conversation_id: str) -> None:
    """Deletes what the tracker store keeps of a conversation the person started again."""
    if inspect(engine).has_table("events"):
        with engine.begin() as connection:
            connection.execute(
                text("DELETE FROM events WHERE sender_id = :sender"), {"sender": conversation_id}
            )


def _replies(event: dict[str, Any]) -> list[dict[str, Any]]:
    """A bot event as Rasa's REST channel answers it: its text and buttons, then its custom
    part as a message of its own."""
    data = event.get("data") or {}
    replies = [{"text": event.get("text"), "buttons": data.get("buttons")}]
    if data.get("custom"):
        replies.append({"custom": data["custom"]})
    return replies


def _said(text: str, offered: list[dict[str, Any]]) -> str:
    """What the person sent, as they saw it: buttons' titles rather than their payloads (several
    choices go as one message, joined with " and ", as the page sends them)."""
    titles = {b.get("payload"): b.get("title") for b in offered}
    parts = text.split(" and ")
    if all(part in titles for part in parts):
        return " and ".join(str(titles[part]) for part in parts)
    return text


def transcript(events: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], str | None]:
    """The messages in order (each with `who`: "you" or "assistant"), and the question asked
    since the person last wrote, if any."""
    entries: list[dict[str, Any]] = []
    replies: list[dict[str, Any]] = []  # the assistant's since the person last wrote

    def flush() -> None:
        entries.extend({"who": "assistant", **m} for m in messages_of(replies))

    for event in events:
        if event.get("event") == "bot":
            replies.extend(_replies(event))
            continue
        said = str(event.get("text") or "").strip()
        if not said:
            continue
        offered = [b for r in replies for b in (r.get("buttons") or [])]
        flush()
        replies = []
        entries.append({"who": "you", "text": _said(said, offered), "buttons": []})
    flush()
    return entries, asked_in(replies)


def as_text(entries: list[dict[str, Any]], now: datetime) -> str:
    """The conversation as a plain text file the person keeps."""
    lines = [
        "DSP Assistant: a copy of your conversation",
        f"Saved {now.astimezone(UTC):%d %B %Y at %H:%M} UTC",
        "If someone is in danger now, call 999.",
        "",
    ]
    for entry in entries:
        who = "You" if entry["who"] == "you" else "Assistant"
        heading = "Assistant (emergency help)" if entry.get("emergency") else who
        lines.append(f"{heading}: {entry['text']}")
        choices = [b["title"] for b in entry.get("buttons", [])]
        if choices:
            lines.append("  Choices: " + "; ".join(choices))
        lines.append("")
    return "\n".join(lines)

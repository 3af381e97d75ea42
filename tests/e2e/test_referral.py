"""End-to-end: what the persona suite (test_personas.py) cannot show in one conversation: a
referral paused in one conversation and resumed in another, as on another day."""

import re
import time
from typing import Any

import httpx

# Not imported from tests.e2e (textstat installs a top-level `tests` package in the backend env):
# the `stack` fixture of conftest.py.
Stack = Any


def say(chat: httpx.Client, message: str) -> dict[str, Any]:
    response = chat.post("/chat", json={"message": message})
    deadline = time.monotonic() + 90
    while response.status_code == 429 and time.monotonic() < deadline:
        # /chat limits messages per minute; a person types more slowly than this test.
        time.sleep(3)
        response = chat.post("/chat", json={"message": message})
    assert response.status_code == 200, response.text
    reply: dict[str, Any] = response.json()
    reply["text"] = "\n".join(m.get("text") or "" for m in reply["messages"])
    return reply


def test_pause_and_resume_in_a_new_conversation(stack: Stack) -> None:
    with stack.chat() as chat:
        say(chat, "Hi, I'm a community LD nurse and want to refer a 15 year old in Loughborough")
        assert say(chat, "learning disability")["asking"] == "diagnosis_confirmed"
        paused = say(chat, "I need to finish this later, save my progress")
    match = re.search(r"resume code is ([A-Z0-9]{4}-[A-Z0-9]{4})", paused["text"])
    assert match, paused["text"]
    with stack.chat() as chat:  # another conversation, as on another day
        resumed = say(chat, f"resume {match[1]}")
        assert "Welcome back" in resumed["text"]
        assert resumed["asking"] == "diagnosis_confirmed"
        why = say(chat, "why do you need this?")
        assert "Only a confirmed diagnosis" in why["text"]
        assert why["asking"] == "diagnosis_confirmed"
        stopped = say(chat, "stop")
        assert "Nothing has been sent" in stopped["text"] and stopped["asking"] is None
        assert "can't find a paused referral" in say(chat, f"resume {match[1]}")["text"]

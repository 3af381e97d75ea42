"""Scaled out (`make run-scaled`): two Rasa replicas share the tracker store on PostgreSQL and a
Redis lock store. Either one killed in the middle of conversations, every conversation carries
on at once on the other, where it was, and again when the stack has started it again: no turn
is lost or taken twice."""

import signal
import subprocess
import time
from typing import Any

import httpx
import pytest

# Not imported from tests.e2e (textstat installs a top-level `tests` package in the backend env).
Stack = Any

OPENING = "Hi, I'm a community nurse and want to refer a 12 year old in Leicester"
# Answers as a nurse gives them, and the referral question each one moves on to.
ANSWERS = [
    ("autism", "diagnosis_confirmed"),
    ("yes, diagnosis letter from the paediatrician", "current_situation"),
]


def answers(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def ask(chat: httpx.Client, message: str) -> dict[str, Any]:
    response = chat.post("/chat", json={"message": message})
    assert response.status_code == 200, response.text
    return dict(response.json())


def user_turns(chat: httpx.Client) -> int:
    history = chat.get("/chat/history")
    assert history.status_code == 200, history.text
    return sum(1 for entry in history.json()["messages"] if entry["who"] == "you")


@pytest.mark.e2e
def test_a_replica_killed_mid_conversation_loses_no_turn(scaled_stack: Stack) -> None:
    first = int(scaled_stack.env["DSP_RASA_PORT"])
    ports = [first, first + 1]
    chats = [httpx.Client(base_url=scaled_stack.url, timeout=60) for _ in range(6)]
    try:
        for chat in chats:
            chat.get("/").raise_for_status()
            assert ask(chat, OPENING)["asking"] == "diagnosis"
        sent = 1
        for victim, (answer, next_question) in zip(ports, ANSWERS, strict=True):
            pid = scaled_stack.pid_listening_on(victim)
            subprocess.run(["kill", f"-{signal.SIGKILL.value}", str(pid)], check=True)
            # The other replica takes every conversation's next turn at once, where it was.
            for chat in chats:
                reply = ask(chat, answer)
                assert reply["asking"] == next_question, reply
            sent += 1
            deadline = time.monotonic() + 240
            while not answers(victim) and time.monotonic() < deadline:
                time.sleep(2)
            assert answers(victim), f"the replica on {victim} was not started again"
            assert scaled_stack.pid_listening_on(victim) != pid
        # Each conversation holds every turn it was sent, once.
        for chat in chats:
            assert user_turns(chat) == sent
        ready = httpx.get(f"{scaled_stack.url}/health/ready", timeout=10)
        assert ready.status_code == 200, ready.text
    finally:
        for chat in chats:
            chat.close()

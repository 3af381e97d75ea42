"""Faults survived on the running stack (security issue, finding 5): Rasa killed in the middle of
a referral is started again by the stack runner, and the conversation carries on where it was
(Rasa's SQL tracker store); readiness says what is down meanwhile."""

import signal
import subprocess
import time
from typing import Any

import httpx
import pytest

# Not imported from tests.e2e (textstat installs a top-level `tests` package in the backend env).
Stack = Any


def ask(chat: httpx.Client, message: str) -> dict[str, Any]:
    response = chat.post("/chat", json={"message": message})
    assert response.status_code == 200, response.text
    return dict(response.json())


@pytest.mark.e2e
def test_rasa_killed_and_restarted_the_conversation_carries_on(stack: Stack) -> None:
    with stack.chat() as chat:
        ask(chat, "Hi, I'm a community nurse and want to refer a 12 year old in Leicester")
        assert ask(chat, "autism")["asking"] == "diagnosis_confirmed"
        port = int(stack.env["DSP_RASA_PORT"])
        pid = stack.pid_listening_on(port)
        subprocess.run(["kill", f"-{signal.SIGKILL.value}", str(pid)], check=True)
        deadline = time.monotonic() + 240
        down_seen = False
        while time.monotonic() < deadline:
            ready = httpx.get(f"{stack.url}/health/ready", timeout=10)
            if ready.status_code == 503:
                down_seen = True
                assert ready.json()["checks"]["rasa"] is False
            elif down_seen:
                break
            time.sleep(2)
        assert down_seen and ready.status_code == 200, ready.text
        assert stack.pid_listening_on(port) != pid
        # The same conversation, the same question: nothing was lost.
        reply = ask(chat, "yes, diagnosis letter from the paediatrician")
        assert reply["asking"] == "current_situation", reply

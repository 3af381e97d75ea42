"""The chat page's transcript after a reload (issue 12): rebuilt from Rasa's SQL tracker store for
the conversation the signed cookie names, never another; a copy as a text file; Start again
deletes it. The events are written as Rasa 3.6 writes them (seen in var/tracker.sqlite3)."""

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from dsp_backend.chat import history
from dsp_backend.chat import service as chat_service
from dsp_backend.config import get_settings, secret_key
from dsp_backend.database.core import make_engine

COOKIE = "dsp_conversation"
MINE, THEIRS = "M" * 24, "T" * 24
GREETING = [
    {"title": "What is the DSP?", "payload": "/ask_what_is_dsp"},
    {"title": "Make a referral (professionals)", "payload": "/refer_someone"},
]
DIAGNOSES = [
    {"title": "Learning disability", "payload": "Learning disability"},
    {"title": "Autism", "payload": "Autism"},
]


def user(said: str) -> dict[str, Any]:
    return {"event": "user", "timestamp": 1.0, "text": said, "parse_data": {"text": said}}


def bot(
    said: str | None, buttons: list[dict[str, str]] | None = None, custom: Any = None
) -> dict[str, Any]:
    data = {"elements": None, "buttons": buttons, "attachment": None, "custom": custom}
    return {"event": "bot", "timestamp": 1.0, "text": said, "data": data}


CONVERSATION = [
    {"event": "session_started", "timestamp": 1.0},
    user("hello"),
    bot("Hello. What would you like to do?", GREETING),
    user("/refer_someone"),
    bot("I'll take you through the referral."),
    bot("What is their diagnosis?", DIAGNOSES),
    bot(None, custom={"question": "diagnosis"}),
    user("Learning disability and Autism"),
    bot("If someone is in danger now, call 999.", custom={"emergency": True}),
    bot("Is the diagnosis confirmed?", [{"title": "Yes", "payload": "Yes"}]),
    bot(None, custom={"question": "diagnosis_confirmed"}),
]


@pytest.fixture
def tracker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Rasa's tracker store where the service looks for it (var/tracker.sqlite3), holding this
    conversation and another visitor's."""
    monkeypatch.setenv("DSP_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("DSP_SECRET_KEY", "transcript-tests-key")
    monkeypatch.delenv("DATABASE_URL", raising=False)
    get_settings.cache_clear()
    engine = make_engine(f"sqlite:///{tmp_path / 'tracker.sqlite3'}")
    with engine.begin() as connection:
        connection.execute(
            text(
                "CREATE TABLE events (id INTEGER PRIMARY KEY, sender_id TEXT, type_name TEXT, "
                "timestamp FLOAT, intent_name TEXT, action_name TEXT, data TEXT)"
            )
        )
        rows = [(MINE, e) for e in CONVERSATION] + [(THEIRS, user("my NHS number is 943"))]
        for sender, event in rows:
            connection.execute(
                text("INSERT INTO events (sender_id, type_name, data) VALUES (:s, :t, :d)"),
                {"s": sender, "t": event["event"], "d": json.dumps(event)},
            )
    engine.dispose()
    yield tmp_path / "tracker.sqlite3"
    get_settings.cache_clear()


def cookie_for(conversation_id: str) -> dict[str, str]:
    return {COOKIE: chat_service.signed(conversation_id, secret_key(get_settings()), time.time())}


def test_the_transcript_comes_back_as_the_page_showed_it(client: TestClient, tracker: Path) -> None:
    response = client.get("/chat/history", cookies=cookie_for(MINE))
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    said = [(m["who"], m["text"]) for m in body["messages"]]
    assert said == [
        ("you", "hello"),
        ("assistant", "Hello. What would you like to do?"),
        ("you", "Make a referral (professionals)"),  # the button's title, not its payload
        ("assistant", "I'll take you through the referral."),
        ("assistant", "What is their diagnosis?"),
        ("you", "Learning disability and Autism"),
        ("assistant", "If someone is in danger now, call 999."),
        ("assistant", "Is the diagnosis confirmed?"),
    ]
    flags = {m["text"]: (m["emergency"], m["multiple"]) for m in body["messages"]}
    assert flags["If someone is in danger now, call 999."] == (True, False)
    assert flags["What is their diagnosis?"] == (False, True)
    assert flags["Is the diagnosis confirmed?"] == (False, False)
    assert body["asking"] == "diagnosis_confirmed"


def test_only_the_cookies_conversation_is_shown(client: TestClient, tracker: Path) -> None:
    """Another visitor's conversation never, and a made-up id starts a new, empty one."""
    made_up = client.get("/chat/history", cookies={COOKIE: f"{THEIRS}.1.x"})
    assert made_up.json() == {"messages": [], "asking": None}
    theirs = client.get("/chat/history", cookies=cookie_for(THEIRS)).json()
    assert [m["text"] for m in theirs["messages"]] == ["my NHS number is 943"]
    assert "943" not in client.get("/chat/history", cookies=cookie_for(MINE)).text


def test_no_tracker_store_yet_is_an_empty_transcript(
    client: TestClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DSP_VAR_DIR", str(tmp_path))
    get_settings.cache_clear()
    try:
        assert client.get("/chat/history").json() == {"messages": [], "asking": None}
    finally:
        get_settings.cache_clear()


def test_a_copy_of_the_conversation_is_a_text_file(client: TestClient, tracker: Path) -> None:
    response = client.get("/chat/history.txt", cookies=cookie_for(MINE))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert response.headers["content-disposition"].startswith("attachment;")
    assert response.headers["cache-control"] == "no-store"
    copy = response.text
    assert "You: Make a referral (professionals)" in copy
    assert "Assistant (emergency help): If someone is in danger now, call 999." in copy
    assert "Choices: Learning disability; Autism" in copy


def test_start_again_is_a_new_conversation_and_forgets_the_old_one(
    client: TestClient, tracker: Path
) -> None:
    response = client.post("/chat/restart", cookies=cookie_for(MINE))
    assert response.status_code == 204
    key = secret_key(get_settings())
    new = chat_service.verified(response.cookies.get(COOKIE), key, time.time(), 3600)
    assert new not in (None, MINE)
    engine = history.tracker_engine(get_settings())
    assert history.events_of(engine, MINE) == []
    assert len(history.events_of(engine, THEIRS)) == 1  # nobody else's


@pytest.mark.parametrize(
    ("question", "several"),
    [("diagnosis", True), ("concerns", True), ("inpatient_status", False), ("$summary", False)],
)
def test_the_buttons_of_a_question_that_allows_several_answers_are_marked(
    question: str, several: bool
) -> None:
    replies = [
        {"text": "Which?", "buttons": [{"title": "A", "payload": "a"}]},
        {"custom": {"question": question}},
    ]
    (message,) = chat_service.messages_of(replies)
    assert message.get("multiple", False) is several
    assert chat_service.asked_in(replies) == question


@pytest.mark.parametrize("path", ["/privacy", "/accessibility"])
def test_the_privacy_notice_and_accessibility_statement_use_the_variants_own_words(
    client: TestClient, path: str
) -> None:
    page = client.get(path)
    assert page.status_code == 200
    assert "lpt.adult-lda-dsp@nhs.net" in page.text  # LLR's DSP admin lead, from the variant
    assert 'href="/privacy"' in page.text and 'href="/accessibility"' in page.text
    if path == "/privacy":
        assert "deleted 72 hours after your last" in page.text  # draft_retention_hours

"""At the door (guard.py and /chat): text no person types is refused with a clear 422 before any
route, never a 500; the chat's own refusals (too long, too many, assistant down) keep the 999
line, since the person may be writing about danger. No Rasa is needed: what the door refuses
never reaches it, and where a message would, a fake stands in and records what it was sent."""

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from test_referrals_factory import referral_body

from dsp_backend.auth.schemas import Role
from dsp_backend.chat import routes as chat_routes
from dsp_backend.chat import service as chat_service
from dsp_backend.config import get_settings

JSON = {"content-type": "application/json"}
Headers = dict[str, str]
TokenFor = Callable[[Role], Headers]


@pytest.fixture
def rasa(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Stands in for Rasa: the messages it was sent, and one reply to each."""
    sent: list[str] = []

    async def fake(**kwargs: Any) -> tuple[list[dict[str, Any]], str | None]:
        sent.append(kwargs["message"])
        return [{"text": "Hello.", "buttons": []}], None

    monkeypatch.setattr(chat_service, "send_to_rasa", fake)
    monkeypatch.setenv("DSP_SECRET_KEY", "door-tests-key")
    get_settings.cache_clear()
    chat_routes._limiter.cache_clear()
    yield sent
    get_settings.cache_clear()
    chat_routes._limiter.cache_clear()


def refused_at_the_door(response: Any) -> None:
    assert response.status_code == 422, response.text
    detail = response.json()["detail"]
    assert isinstance(detail, str) and "call 999" in detail
    assert "cannot be read" in detail


# --- untypable text: NUL, other control characters, lone surrogates ---


@pytest.mark.parametrize(
    "escaped", ["\\u0000", "\\ud800", "\\udfff", "\\u0007", "\\u001b", "\\u007f", "\\u0085"]
)
def test_chat_refuses_untypable_characters_with_a_422_that_says_call_999_guard(
    client: TestClient, rasa: list[str], escaped: str
) -> None:
    """guard.py: a NUL or control character cannot be stored or logged safely, and a lone
    surrogate cannot even be encoded: each would have been a 500. Sent as raw JSON text with the
    escape, as a client would."""
    response = client.post("/chat", content=f'{{"message": "hi {escaped} there"}}', headers=JSON)
    refused_at_the_door(response)
    assert escaped.encode().decode("unicode_escape") not in response.text  # never repeated
    assert rasa == []


def test_tabs_and_new_lines_are_typed_text_and_pass_the_door_guard(
    client: TestClient, rasa: list[str]
) -> None:
    response = client.post("/chat", json={"message": "line one\n\tline two"})
    assert response.status_code == 200, response.text
    assert rasa == ["line one\n\tline two"]


def test_a_body_that_is_not_utf_8_is_refused_never_a_500(
    client: TestClient, rasa: list[str]
) -> None:
    response = client.post("/chat", content=b'{"message": "hi \xff"}', headers=JSON)
    assert response.status_code in (400, 422)
    assert rasa == []


def test_a_referral_with_a_control_character_inside_an_answer_is_refused_guard(
    client: TestClient, token_for: TokenFor
) -> None:
    """The referral's free text goes into the database; PostgreSQL refuses a NUL outright."""
    headers = {**token_for(Role.referrer), **JSON}
    for bad in ("\x00", "\x01", "\ud800"):
        body = referral_body(current_situation=f"Not sleeping{bad} at all.")
        refused_at_the_door(
            client.post("/api/v1/referrals", content=json.dumps(body), headers=headers)
        )
        named = referral_body(person_name={"given": f"Al{bad}ex", "family": "Example"})
        refused_at_the_door(
            client.post("/api/v1/referrals", content=json.dumps(named), headers=headers)
        )
    # The chat's token is refused the same way, before anything is held.
    chat = {**token_for(Role.action_server), **JSON}
    body = referral_body(referrer_name="Sam\x00 Referrer")
    refused_at_the_door(client.post("/api/v1/referrals", content=json.dumps(body), headers=chat))


def test_interpret_refuses_a_control_character_in_the_text_or_an_answer_guard(
    client: TestClient, token_for: TokenFor
) -> None:
    headers = {**token_for(Role.action_server), **JSON}
    url = "/api/v1/questionnaire/interpret"
    in_text = {"question": "current_situation", "text": "He is not\x00 sleeping", "answers": {}}
    refused_at_the_door(client.post(url, content=json.dumps(in_text), headers=headers))
    in_answer = {
        "question": "postcode",
        "text": "LE1 6TH",
        "answers": {"current_situation": "Not sleeping\x1b[31m"},
    }
    refused_at_the_door(client.post(url, content=json.dumps(in_answer), headers=headers))
    surrogate = '{"question": "postcode", "text": "LE1 6TH \\ud83d", "answers": {}}'
    refused_at_the_door(client.post(url, content=surrogate, headers=headers))
    fine = {"question": "postcode", "text": "LE1 6TH", "answers": {}}
    assert client.post(url, json=fine, headers=headers).status_code == 200


def test_a_query_string_with_a_nul_is_refused_guard(
    client: TestClient, token_for: TokenFor
) -> None:
    admin = token_for(Role.dsr_admin)
    refused_at_the_door(client.get("/health?q=%00"))
    refused_at_the_door(client.get("/api/v1/register?search=Alex%00", headers=admin))
    refused_at_the_door(client.get("/api/v1/register?search=%ED%A0%80%01", headers=admin))
    assert client.get("/health?q=plain").status_code == 200


# --- the chat's own refusals ---


def test_a_slash_message_that_is_not_a_button_goes_as_plain_text_not_refused(
    client: TestClient, rasa: list[str]
) -> None:
    """chat/routes.py: "/" followed by anything but a button payload would make Rasa log it word
    for word as an intent it cannot parse; it goes as plain text, and is not refused."""
    typed = client.post("/chat", json={"message": "/my son needs help"})
    assert typed.status_code == 200, typed.text
    button = client.post("/chat", json={"message": '/choose{"answer": "yes"}'})
    assert button.status_code == 200
    assert rasa == ["my son needs help", '/choose{"answer": "yes"}']
    only_slashes = client.post("/chat", json={"message": "///"})
    assert only_slashes.status_code == 422
    assert len(rasa) == 2


def test_a_message_over_the_limit_is_413_and_says_call_999(
    client: TestClient, rasa: list[str]
) -> None:
    limit = get_settings().chat_max_message_chars
    assert client.post("/chat", json={"message": "a" * limit}).status_code == 200
    response = client.post("/chat", json={"message": "a" * (limit + 1)})
    assert response.status_code == 413
    assert "call 999" in response.json()["detail"]
    assert len(rasa) == 1  # the long one never reached Rasa


def test_too_many_messages_is_429_and_says_call_999(
    client: TestClient, rasa: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DSP_CHAT_RATE_PER_MINUTE", "2")
    get_settings.cache_clear()
    chat_routes._limiter.cache_clear()
    statuses = [client.post("/chat", json={"message": f"hello {i}"}).status_code for i in range(2)]
    assert statuses == [200, 200]
    response = client.post("/chat", json={"message": "hello again"})
    assert response.status_code == 429
    assert "call 999" in response.json()["detail"]
    assert rasa == ["hello 0", "hello 1"]


def test_when_the_assistant_is_down_the_503_says_call_999(
    client: TestClient, rasa: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    async def down(**_: Any) -> None:
        raise chat_service.RasaUnavailable("ConnectError")

    monkeypatch.setattr(chat_service, "send_to_rasa", down)
    response = client.post("/chat", json={"message": "my name is Alex Example"})
    assert response.status_code == 503
    assert "call 999" in response.json()["detail"]
    assert "Alex" not in response.text


def test_one_client_address_is_limited_across_new_conversations(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A new conversation costs nothing, so the address has a limit of its own (security
    issue, finding 1: limits per conversation and per client address)."""
    monkeypatch.setenv("DSP_CHAT_RATE_PER_ADDRESS_PER_MINUTE", "2")
    monkeypatch.setenv("DSP_RASA_URLS", '["http://127.0.0.1:9"]')  # nothing listens: a quick 503
    get_settings.cache_clear()
    chat_routes._address_limiter.cache_clear()
    try:
        answers = []
        for _ in range(3):
            client.cookies.clear()  # a fresh conversation each time
            answers.append(client.post("/chat", json={"message": "hello"}).status_code)
        assert answers[-1] == 429 and 429 not in answers[:2], answers
    finally:
        get_settings.cache_clear()
        chat_routes._address_limiter.cache_clear()

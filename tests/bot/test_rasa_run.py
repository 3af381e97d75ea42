"""Rasa started through bot/rasa_run.py checks action server responses as Rasa does, once the
schema has been checked: valid responses pass, invalid ones fail with Rasa's own error."""

from __future__ import annotations

import jsonschema
import pytest
from rasa.core.actions.action import RemoteAction
from rasa.utils.endpoints import EndpointConfig

from bot import rasa_run

VALID = {
    "events": [
        {"event": "slot", "name": "audience", "value": "family", "timestamp": None},
        {"event": "active_loop", "name": None},
    ],
    "responses": [{"text": "Hello.", "buttons": [{"title": "Yes", "payload": "/affirm"}]}],
}


@pytest.fixture
def action() -> RemoteAction:
    return RemoteAction("action_answer_question", EndpointConfig("http://127.0.0.1:1/webhook"))


def test_a_valid_response_passes_without_checking_the_schema_again(
    action: RemoteAction, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_schema_check(*args: object, **kwargs: object) -> None:
        raise AssertionError("the schema was checked again")

    monkeypatch.setattr(type(rasa_run._VALIDATOR), "check_schema", no_schema_check)
    assert rasa_run.validate_action_result(action, VALID) is True


@pytest.mark.parametrize(
    "response",
    [
        {"events": [{"name": "no event type"}], "responses": []},
        {"events": "not a list", "responses": []},
        {"events": [], "responses": ["not an object"]},
    ],
)
def test_an_invalid_response_fails_with_rasas_own_error(
    action: RemoteAction, response: dict[str, object]
) -> None:
    with pytest.raises(jsonschema.ValidationError) as failed:
        rasa_run.validate_action_result(action, response)
    assert "Failed to validate Action server response" in failed.value.message
    # Rasa's own check agrees on every case.
    with pytest.raises(jsonschema.ValidationError):
        RemoteAction._validate_action_result(action, response)


def test_rasa_is_started_with_the_check(monkeypatch: pytest.MonkeyPatch) -> None:
    started: list[object] = []
    monkeypatch.setattr("rasa.__main__.main", lambda: started.append(True))
    monkeypatch.setattr(RemoteAction, "_validate_action_result", rasa_run._rasa_validate)
    rasa_run.main()
    assert started == [True]
    assert RemoteAction._validate_action_result is rasa_run.validate_action_result

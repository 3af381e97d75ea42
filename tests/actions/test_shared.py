"""The walking skeleton's action: the area comes from the register service's variant."""

import socket

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.shared import SERVICE_UNAVAILABLE, ActionTellArea
from tests.actions.conftest import RegisterService, tracker

pytestmark = pytest.mark.anyio


async def test_tell_area_answers_from_the_register_service(
    service_env: RegisterService, dispatcher: CollectingDispatcher
) -> None:
    events = await ActionTellArea().run(dispatcher, tracker(), domain={})
    assert events == []
    [message] = dispatcher.messages
    assert "Leicester, Leicestershire and Rutland" in message["text"]


async def test_tell_area_says_so_when_the_service_is_down(
    monkeypatch: pytest.MonkeyPatch, dispatcher: CollectingDispatcher
) -> None:
    with socket.socket() as probe:  # a port that nothing listens on
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    monkeypatch.setenv("DSP_SERVICE_URL", f"http://127.0.0.1:{closed_port}")
    await ActionTellArea().run(dispatcher, tracker(), domain={})
    assert [m["text"] for m in dispatcher.messages] == [SERVICE_UNAVAILABLE]

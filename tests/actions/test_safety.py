"""The crisis safety net: emergency routes at once, with no register service, in any state
(DESIGN.md Safety). Inside the referral the form itself gives them (tests/actions/
test_referral.py)."""

import socket
from pathlib import Path
from typing import Any

import pytest
import yaml
from rasa_sdk.executor import CollectingDispatcher

import easy_read
from actions.safety import ActionCrisisRoutes
from tests.actions.conftest import tracker

pytestmark = pytest.mark.anyio

ROOT = Path(__file__).resolve().parents[2]


def load_all(folder: str) -> list[dict[str, Any]]:
    return [yaml.safe_load(p.read_text("utf-8")) for p in sorted((ROOT / folder).glob("*.yml"))]


@pytest.fixture
def no_service(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        monkeypatch.setenv("DSP_SERVICE_URL", f"http://127.0.0.1:{probe.getsockname()[1]}")


async def test_emergency_routes_then_the_offer_to_carry_on_without_the_service(
    no_service: None, dispatcher: CollectingDispatcher
) -> None:
    message = {"intent": {"name": "crisis"}, "entities": [], "text": "I want to end my life"}
    events = await ActionCrisisRoutes().run(dispatcher, tracker(latest_message=message), {})
    assert events == []
    routes, offer = dispatcher.messages
    assert routes["text"].split("\n") == easy_read.answer("emergency", None)
    for route in ("999", "NHS 111", "option 2", "Samaritans", "116 123"):
        assert route in routes["text"]
    assert offer["text"] == "\n".join(easy_read.answer("carry_on", None))
    assert [b["payload"] for b in offer["buttons"]] == ["/affirm", "/deny"]


async def test_inside_a_form_the_form_asks_again_instead_of_the_offer(
    no_service: None, dispatcher: CollectingDispatcher
) -> None:
    for form in ("referral_form",):
        dispatcher.messages.clear()
        await ActionCrisisRoutes().run(dispatcher, tracker(active_loop=form), {})
        [routes] = dispatcher.messages
        assert "999" in routes["text"] and not routes["buttons"]


def test_the_referral_form_reads_every_message_itself() -> None:
    """A crisis inside the referral is answered by validate_referral_form (tests/actions/
    test_referral.py): its one slot takes every message, so no rule can skip the form."""
    [slot] = [
        slot
        for domain in load_all("bot/domain")
        for name, slot in (domain.get("slots") or {}).items()
        if name == "referral_answer"
    ]
    [mapping] = slot["mappings"]
    assert mapping["type"] == "from_text" and "not_intent" not in mapping


def test_the_rule_based_check_runs_beside_the_classifier() -> None:
    config = yaml.safe_load((ROOT / "bot" / "config.yml").read_text("utf-8"))
    names = [component["name"] for component in config["pipeline"]]
    detector = names.index("bot.components.crisis_detector.CrisisDetector")
    # After the fallback too: an ambiguous classifier score must not hide a crisis.
    assert names.index("DIETClassifier") < names.index("FallbackClassifier") < detector

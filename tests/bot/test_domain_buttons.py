"""Every button of the domain's responses comes out of Rasa's own response filling as a payload
Rasa can read (`/intent`, `/intent{json}` or words), without an error logged for it."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from rasa.core.nlg.interpolator import interpolate
from structlog.testing import capture_logs

ROOT = Path(__file__).resolve().parents[2]
PAYLOAD = re.compile(r"^/(?P<intent>[a-z_]+)(?P<entities>\{.*\})?$")
# Never said as a response: actions/questions.py sends its buttons as they are written.
READ_BY_ACTIONS = {"utter_ask_audience"}


def _buttons() -> list[tuple[str, dict[str, Any]]]:
    found = []
    for path in sorted((ROOT / "bot" / "domain").glob("*.yml")):
        responses = (yaml.safe_load(path.read_text("utf-8")) or {}).get("responses") or {}
        for name, variations in responses.items():
            if name in READ_BY_ACTIONS:
                continue
            for variation in variations:
                found += [(name, variation) for _ in [0] if variation.get("buttons")]
    return found


BUTTONS = _buttons()


def filled(response: Any) -> tuple[Any, list[dict[str, Any]]]:
    """The response as Rasa fills it with no slot values, and the errors Rasa logged."""
    with capture_logs() as logs:
        out = interpolate(copy.deepcopy(response), {})
    return out, [log for log in logs if log.get("log_level") in ("error", "exception")]


def test_there_are_buttons_with_entities_to_check() -> None:
    payloads = [b["payload"] for _, v in BUTTONS for b in v["buttons"]]
    assert any("{" in p for p in payloads)


@pytest.mark.parametrize(("name", "variation"), BUTTONS, ids=[n for n, _ in BUTTONS])
def test_each_button_comes_out_as_a_payload_rasa_reads(name: str, variation: dict) -> None:
    # The buttons alone: the text's own placeholders are filled from slots when it is said.
    buttons, errors = filled(variation["buttons"])
    assert errors == [], name
    for button in buttons:
        if not button["payload"].startswith("/"):  # words, read as if typed
            assert "{" not in button["payload"], name
            continue
        match = PAYLOAD.match(button["payload"])
        assert match, (name, button["payload"])
        if match["entities"]:
            assert isinstance(json.loads(match["entities"]), dict)


def test_an_undoubled_entity_is_caught() -> None:
    # What the check above guards against: Rasa takes {"question": ...} for a slot placeholder.
    _, errors = filled({"buttons": [{"title": "x", "payload": '/faq{"question": "mam"}'}]})
    assert errors


def test_the_responses_read_by_actions_are_never_said_by_the_stories_or_rules() -> None:
    said = " ".join(p.read_text("utf-8") for p in (ROOT / "data").rglob("*.yml"))
    assert not [name for name in READ_BY_ACTIONS if name in said]

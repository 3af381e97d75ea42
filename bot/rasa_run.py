"""Rasa's command line (`python -m bot.rasa_run run ...` takes what `rasa run ...` takes), with
the action server's responses checked against a schema that is checked once.

Rasa 3.6 checks every response of the action server with `jsonschema.validate`, which first
checks Rasa's own constant response schema against the JSON Schema metaschema: 30 ms a call on
this machine, half of Rasa's CPU time for a turn (py-spy, reports/bench.md), where the response
itself takes under 1 ms. Here the schema is checked once; a valid response passes at once and an
invalid one goes through Rasa's own check, so it fails exactly as it did.
"""

from __future__ import annotations

import sys
from typing import Any

from jsonschema import validators
from rasa.core.actions.action import RemoteAction

_SCHEMA = RemoteAction.action_response_format_spec()
_VALIDATOR_CLASS = validators.validator_for(_SCHEMA)
_VALIDATOR_CLASS.check_schema(_SCHEMA)
_VALIDATOR = _VALIDATOR_CLASS(_SCHEMA)
_rasa_validate = RemoteAction._validate_action_result


def validate_action_result(action: RemoteAction, result: dict[str, Any]) -> bool:
    """Rasa's check of an action server response, without checking the schema every time."""
    if _VALIDATOR.is_valid(result):
        return True
    return bool(_rasa_validate(action, result))  # raises Rasa's own ValidationError


def main() -> None:
    from rasa.__main__ import main as rasa_main

    RemoteAction._validate_action_result = validate_action_result  # type: ignore[method-assign]
    sys.argv[0] = "rasa"
    rasa_main()


if __name__ == "__main__":
    main()

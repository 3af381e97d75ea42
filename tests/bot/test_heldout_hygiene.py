"""The held-out sets stay held out: none of their messages is in the training data, in any case or
punctuation, and every held-out question is a question of the bank."""

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]


def _normal(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", text.lower()).strip()


def _examples(path: Path) -> list[tuple[str, str]]:
    found = []
    for block in (yaml.safe_load(path.read_text("utf-8")) or {}).get("nlu") or []:
        for line in str(block.get("examples") or "").splitlines():
            text = line.strip().removeprefix("- ").strip()
            if text:
                found.append(
                    (str(block.get("intent")), re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text))
                )
    return found


TRAINING = {
    _normal(text) for path in (ROOT / "data" / "nlu").glob("*.yml") for _, text in _examples(path)
}


QUESTION_SETS = ["questions.yml", "questions_second.yml"]


@pytest.mark.parametrize("name", QUESTION_SETS)
def test_no_held_out_question_is_trained_on(name: str) -> None:
    held = _examples(ROOT / "tests" / "heldout" / name)
    assert len(held) >= 800
    assert [text for _, text in held if _normal(text) in TRAINING] == []


# The crisis classifier also learns the development sets in data/crisis/.
CRISIS_TRAINING = TRAINING | {
    _normal(text)
    for path in (ROOT / "data" / "crisis").glob("*.yml")
    for texts in yaml.safe_load(path.read_text("utf-8")).values()
    for text in texts
}


@pytest.mark.parametrize("name", ["crisis_eighth.yml"])
def test_no_held_out_crisis_message_is_trained_on(name: str) -> None:
    crisis = yaml.safe_load((ROOT / "tests" / "heldout" / name).read_text("utf-8"))
    messages = [text for key in crisis for text in crisis[key]]
    assert len(messages) >= 300
    assert [text for text in messages if _normal(text) in CRISIS_TRAINING] == []


@pytest.mark.parametrize("name", QUESTION_SETS)
def test_every_held_out_question_is_a_question_of_the_bank(name: str) -> None:
    trained = {
        intent for path in (ROOT / "data" / "nlu").glob("*.yml") for intent, _ in _examples(path)
    }
    held = {intent for intent, _ in _examples(ROOT / "tests" / "heldout" / name)}
    assert held - trained == set()

"""The crisis net measured on each set once written blind (data/crisis/blind_*.yml) by leaving it
out: the crisis classifier is trained as the pipeline trains it (bot/config.yml), on everything
but that set, and the set is decided as the assistant decides (CrisisDetector.verdict for first
messages, actions/referral.py for free-text answers in a referral). Several sets of about 150
crisis messages and 150 look-alikes each, from different writers, estimate what a fresh set would
show with less chance in it than one set alone.

Used by scripts/evaluate.py --cross-validate (bot environment).
"""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
_DETECTOR = "bot.components.crisis_detector.CrisisDetector"
_BLIND = "blind_"


def detector_config() -> dict[str, Any]:
    config = yaml.safe_load((ROOT / "bot" / "config.yml").read_text(encoding="utf-8"))
    return next(c for c in config["pipeline"] if c["name"] == _DETECTOR)


def _intent_examples() -> list[tuple[str, str]]:
    """(text, intent) of every NLU example, loaded as `rasa train` loads them."""
    from rasa.shared.importers.importer import TrainingDataImporter
    from rasa.shared.nlu.constants import INTENT, TEXT

    importer = TrainingDataImporter.load_from_dict(
        config_path=str(ROOT / "bot" / "config.yml"),
        domain_path=str(ROOT / "bot" / "domain"),
        training_data_paths=[str(ROOT / "data")],
    )
    return [
        (str(m.get(TEXT) or ""), str(m.get(INTENT)))
        for m in importer.get_nlu_data().intent_examples
    ]


def cross_validate() -> dict[str, Any]:
    from rasa.engine.storage.local_model_storage import LocalModelStorage
    from rasa.engine.storage.resource import Resource

    from bot.components.crisis_detector import CrisisDetector, fit_classifier

    config = {**CrisisDetector.get_default_config(), **detector_config()}
    paths = [ROOT / p for p in config["examples"]]
    sets = {p: yaml.safe_load(p.read_text(encoding="utf-8")) for p in paths}
    labelled = [(text, intent == config["intent"]) for text, intent in _intent_examples()]
    rules = CrisisDetector.rules_for(config)
    folds = []
    with tempfile.TemporaryDirectory() as directory:
        storage = LocalModelStorage(Path(directory))
        for left_out in (p for p in paths if p.name.startswith(_BLIND)):
            kept = [examples for p, examples in sets.items() if p != left_out]
            classifier = fit_classifier(labelled, kept, C=float(config["C"]))
            detector = CrisisDetector(config, rules, storage, Resource("cv"), classifier)
            folds.append(measure(detector, left_out.name, sets[left_out]))
    return {"folds": folds, "total": _total(folds)}


def measure(detector: Any, name: str, crisis_set: dict[str, list[str]]) -> dict[str, Any]:
    """One set, each message parsed by `detector` (a CrisisDetector) as the pipeline parses it and
    decided as the assistant decides (scripts/evaluate.py)."""
    from rasa.shared.nlu.constants import TEXT
    from rasa.shared.nlu.training_data.message import Message

    from scripts.evaluate import crisis_measures

    async def parse(text: str) -> dict[str, Any]:
        message = Message(data={TEXT: text})
        detector.process([message])
        return dict(message.as_dict())

    return asyncio.run(crisis_measures(parse, name, crisis_set))


def _total(folds: list[dict[str, Any]]) -> dict[str, Any]:
    def count(key: str) -> int:
        return sum(len(f[key]) if isinstance(f[key], list) else f[key] for f in folds)

    return {
        "crisis_messages": count("crisis_messages"),
        "look_alikes": count("look_alikes"),
        "recall": 1 - count("missed") / count("crisis_messages"),
        "false_alarm_rate": count("false_alarms") / count("look_alikes"),
        "referral_record_only": count("referral_record_only"),
        "referral_interrupted": count("referral_interrupted"),
        "referral_danger_now": count("referral_danger_now"),
        "referral_unwarned": count("referral_unwarned"),
    }

"""Rasa NLU component: the crisis safety net, run after the intent classifier.

Two checks: the rules in crisis.py, and a crisis classifier of its own (TF-IDF logistic
regression, text_classifier.py) trained on the `crisis` examples against every other example and
on the development sets named in `examples` (including referral answers: danger happening now
against risk told as background, data/crisis/referral_answers.yml). The classifier's alarm is
enough; a rule's match is enough where the classifier does not find the message plainly calm
(`rule_min_confidence`). When either finds immediate danger, the intent becomes `crisis`
(confidence 1.0 for the rules, the classifier's probability otherwise), with the intent
classifier's ranking below it, so the conversation gives the emergency routes at once in any
state, inside any form. The intent classifier's own `crisis` guess alone gives way to its next
guess: its false alarms varied from one training to the next (reports/eval.md).

The rules generalise less than the classifier (held-out recall 78% and 67% on the two blind sets)
and the classifier misses what the rules were written for; together they catch the most for the
fewest false alarms (measured in reports/eval.md).

In bot/config.yml, after the classifier (and after FallbackClassifier, if used):

    - name: bot.components.crisis_detector.CrisisDetector

Rasa loads it by that path when run from the repo root with PYTHONPATH=.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import (
    INTENT,
    INTENT_NAME_KEY,
    INTENT_RANKING_KEY,
    PREDICTED_CONFIDENCE_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.components.crisis import PATTERNS_FILE, CrisisMatch, CrisisRules
from bot.components.text_classifier import TextClassifier

CRISIS_INTENT = "crisis"
# Parse data key saying which rule fired, e.g. {"category": "overdose", "pattern": "took_pills"}.
# It names the rule only: the message text stays out of it.
CRISIS_KEY = "crisis_rule"
# Parse data key with the crisis classifier's verdict on every message, {"confidence", "alarm"}:
# inside a referral's free-text answers, where the rules' match is no alarm (professionals
# describe past violence as a matter of course), its alarm says danger is happening now.
CLASSIFIER_KEY = "crisis_classifier"
_FILE = "crisis_classifier"
_CRISIS, _CALM = "crisis", "calm"
_CRISIS_KEYS = frozenset({"crisis", "danger_now"})


def fit_classifier(
    labelled: list[tuple[str, bool]], example_sets: list[dict[str, list[str]]], *, C: float
) -> TextClassifier | None:
    """The crisis classifier: the intent examples (`True` for the crisis intent) and the example
    sets' messages, `crisis` and `danger_now` as crisis and every other key as calm; None where
    one side is empty. A message given both labels counts as crisis."""
    crisis: dict[str, None] = {}
    calm: dict[str, None] = {}
    for text, is_crisis in labelled:
        if text:
            (crisis if is_crisis else calm)[text] = None
    for examples in example_sets:
        for key, texts in examples.items():
            (crisis if key in _CRISIS_KEYS else calm).update(dict.fromkeys(texts))
    calm = {text: None for text in calm if text not in crisis}
    if not crisis or not calm:
        return None
    return TextClassifier.fit(
        [*crisis, *calm],
        [_CRISIS] * len(crisis) + [_CALM] * len(calm),
        C=C,
        balanced=True,  # far fewer crisis messages than others
    )


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True)
class CrisisDetector(GraphComponent):
    """Sets the intent to `crisis` when the crisis rules match or the crisis classifier is sure."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        # patterns_file: None means the patterns shipped beside this module.
        # examples: YAML files of messages the classifier also learns: `crisis` and `danger_now`
        # as crisis, `not_crisis` and `record_only` as calm.
        # classifier_min_confidence: the crisis classifier raises the alarm from this probability
        # (None: only the rules raise it). rule_min_confidence: a rule's match counts only where
        # the classifier gives at least this (None: always); a game, a film or a scare long past
        # matches a rule in words the classifier has learnt to read as calm. C: its
        # regularisation.
        return {
            "intent": CRISIS_INTENT,
            "patterns_file": None,
            "examples": [],
            "classifier_min_confidence": None,
            "rule_min_confidence": None,
            "C": 4.0,
        }

    def __init__(
        self,
        config: dict[str, Any],
        rules: CrisisRules,
        model_storage: ModelStorage,
        resource: Resource,
        classifier: TextClassifier | None = None,
    ) -> None:
        self._config = config
        self._intent = str(config["intent"])
        self._rules = rules
        self._storage = model_storage
        self._resource = resource
        self._classifier = classifier
        floor = config.get("classifier_min_confidence")
        self._classifier_min_confidence = None if floor is None else float(floor)
        rule_floor = config.get("rule_min_confidence")
        self._rule_min_confidence = None if rule_floor is None else float(rule_floor)

    @staticmethod
    def rules_for(config: dict[str, Any]) -> CrisisRules:
        path = Path(config["patterns_file"]) if config.get("patterns_file") else PATTERNS_FILE
        return CrisisRules.from_file(path)

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> CrisisDetector:
        return cls(config, cls.rules_for(config), model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        labelled = [
            (str(message.get(TEXT) or ""), message.get(INTENT) == self._intent)
            for message in training_data.intent_examples
        ]
        sets = [
            yaml.safe_load(Path(p).read_text(encoding="utf-8")) for p in self._config["examples"]
        ]
        self._classifier = fit_classifier(labelled, sets, C=float(self._config["C"]))
        if self._classifier is not None:
            self._classifier.write(self._storage, self._resource, _FILE)
        return self._resource

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> CrisisDetector:
        classifier = TextClassifier.read(model_storage, resource, _FILE)  # None: the rules alone
        return cls(config, cls.rules_for(config), model_storage, resource, classifier)

    def _classifier_confidence(self, text: str) -> float:
        if self._classifier is None or self._classifier_min_confidence is None:
            return 0.0
        probabilities = self._classifier.probabilities(text)
        return float(probabilities[self._classifier.classes.index(_CRISIS)])

    def verdict(self, text: str) -> tuple[float, CrisisMatch | None, bool]:
        """The crisis classifier's probability, the rule that matched (where a rule's match
        counts) and whether the classifier raises the alarm."""
        classified = self._classifier_confidence(text)
        rule_floor, floor = self._rule_min_confidence, self._classifier_min_confidence
        counts = rule_floor is None or floor is None or classified >= rule_floor
        match = self._rules.detect(text) if counts else None
        return classified, match, floor is not None and classified >= floor

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            text = message.get(TEXT)
            if not text:
                continue
            ranking = [
                entry
                for entry in message.get(INTENT_RANKING_KEY) or []
                if entry.get(INTENT_NAME_KEY) != self._intent
            ]
            classified, match, alarm = self.verdict(str(text))
            if self._classifier_min_confidence is not None:
                verdict = {"confidence": round(classified, 3), "alarm": alarm}
                message.set(CLASSIFIER_KEY, verdict, add_to_output=True)
            confidence = 1.0 if match else classified
            if match is None and not alarm:
                self._demote_the_intent_classifier(message, ranking)
                continue
            intent = {INTENT_NAME_KEY: self._intent, PREDICTED_CONFIDENCE_KEY: confidence}
            message.set(INTENT, intent, add_to_output=True)
            message.set(INTENT_RANKING_KEY, [intent, *ranking], add_to_output=True)
            if match is not None:
                rule = {"category": match.category, "pattern": match.pattern}
                message.set(CRISIS_KEY, rule, add_to_output=True)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data

    def _demote_the_intent_classifier(self, message: Message, others: list[dict[str, Any]]) -> None:
        """The intent classifier's `crisis`, which neither check confirmed, gives way to its next
        guess."""
        intent = message.get(INTENT) or {}
        if intent.get(INTENT_NAME_KEY) != self._intent or not others:
            return
        message.set(INTENT, others[0], add_to_output=True)
        message.set(INTENT_RANKING_KEY, [*others, intent], add_to_output=True)

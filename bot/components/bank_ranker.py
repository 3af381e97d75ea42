"""Rasa NLU component: which question of the bank a message asks.

A logistic regression over TF-IDF word and character n-grams and the message's sentence embedding
(scikit-learn, text_classifier.py), trained on the `faq/<id>` examples, ranks the bank's questions
for every message and adds `bank_ranking` to the parse data. actions/questions.py answers its
first question when it is sure enough, and offers the nearest ones ("Did you mean ...?") when not.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT_RESPONSE_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.components.text_classifier import TextClassifier

BANK_RANKING = "bank_ranking"
_FILE = "bank_ranker"


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True)
class BankRanker(GraphComponent):
    """Ranks the question bank's questions for each message (`bank_ranking`: id, confidence)."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        # embedding_weight: how much the sentence embedding counts beside the n-grams (0: not read).
        return {"retrieval_intent": "faq", "ranking_length": 10, "C": 20.0, "embedding_weight": 0.0}

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        classifier: TextClassifier | None = None,
    ) -> None:
        self._config = config
        self._storage = model_storage
        self._resource = resource
        self._classifier = classifier

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> BankRanker:
        return cls(config, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        prefix = f"{self._config['retrieval_intent']}/"
        pairs = [
            (str(m.get(TEXT)), str(m.get(INTENT_RESPONSE_KEY))[len(prefix) :])
            for m in training_data.intent_examples
            if str(m.get(INTENT_RESPONSE_KEY) or "").startswith(prefix) and m.get(TEXT)
        ]
        if len({label for _, label in pairs}) < 2:
            return self._resource
        self._classifier = TextClassifier.fit(
            [text for text, _ in pairs],
            [label for _, label in pairs],
            C=float(self._config["C"]),
            embedding_weight=float(self._config["embedding_weight"]),
        )
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
    ) -> BankRanker:
        classifier = TextClassifier.read(model_storage, resource, _FILE)  # None: no questions
        return cls(config, model_storage, resource, classifier)

    def process(self, messages: list[Message]) -> list[Message]:
        if self._classifier is None:
            return messages
        for message in messages:
            text = message.get(TEXT)
            if not text:
                continue
            probabilities = self._classifier.probabilities(str(text))
            classes = self._classifier.classes
            best = np.argsort(probabilities)[::-1][: int(self._config["ranking_length"])]
            ranking = [{"id": classes[i], "confidence": float(probabilities[i])} for i in best]
            message.set(BANK_RANKING, ranking, add_to_output=True)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data

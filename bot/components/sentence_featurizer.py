"""Rasa NLU component: the message's sentence embedding (sentence_encoder.py) as a dense sentence
feature of its text, read by the intent classifier beside the word and character counts.

In bot/config.yml, after the tokenizer:

    - name: bot.components.sentence_featurizer.SentenceFeaturizer
"""

from __future__ import annotations

from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.components import sentence_encoder


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False)
class SentenceFeaturizer(DenseFeaturizer, GraphComponent):
    """Adds the sentence embedding of each message's text as its sentence feature."""

    @classmethod
    def validate_config(cls, config: dict[str, Any]) -> None:
        """Nothing to configure: the model is the one installed."""

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> SentenceFeaturizer:
        return cls(execution_context.node_name, config)

    def process(self, messages: list[Message]) -> list[Message]:
        with_text = [m for m in messages if m.get(TEXT)]
        embeddings = sentence_encoder.bundled().encode([str(m.get(TEXT)) for m in with_text])
        for message, embedding in zip(with_text, embeddings, strict=True):
            # No sequence features: the embedding describes the whole message.
            self.add_features_to_message(None, embedding[None, :], TEXT, message)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        self.process(training_data.training_examples)
        return training_data

"""Rasa NLU component: a second opinion on which question of the bank a message asks.

A logistic regression over TF-IDF word and character n-grams (scikit-learn), trained on the
`faq/<id>` examples, ranks the bank's questions for every message and adds `bank_ranking` to the
parse data. actions/questions.py reads it beside the ResponseSelector's ranking: the two disagree
on different messages, and together they choose more often right than either alone (measured on
the development sets, tests/bot/questions_dev*.yml). The same ranking gives the nearest questions
for "Did you mean ...?" when neither is sure.

Persisted as plain arrays (vocabularies, IDF weights, coefficients), never as pickles.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT_RESPONSE_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

BANK_RANKING = "bank_ranking"
_ANALYZERS: dict[str, dict[str, Any]] = {
    "char": {"analyzer": "char_wb", "ngram_range": (2, 5)},
    "word": {"analyzer": "word", "ngram_range": (1, 2), "token_pattern": r"(?u)\b\w+\b"},
}


def _vectorizer(kind: str, **fitted: Any) -> TfidfVectorizer:
    return TfidfVectorizer(sublinear_tf=True, lowercase=True, **_ANALYZERS[kind], **fitted)


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True)
class BankRanker(GraphComponent):
    """Ranks the question bank's questions for each message (`bank_ranking`: id, confidence)."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {"retrieval_intent": "faq", "ranking_length": 10, "C": 20.0}

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        vectorizers: dict[str, TfidfVectorizer] | None = None,
        classifier: LogisticRegression | None = None,
    ) -> None:
        self._config = config
        self._storage = model_storage
        self._resource = resource
        self._vectorizers = vectorizers or {}
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

    def _features(self, texts: list[str]) -> sparse.csr_matrix:
        return sparse.hstack([v.transform(texts) for v in self._vectorizers.values()]).tocsr()

    def train(self, training_data: TrainingData) -> Resource:
        prefix = f"{self._config['retrieval_intent']}/"
        pairs = [
            (str(m.get(TEXT)), str(m.get(INTENT_RESPONSE_KEY))[len(prefix) :])
            for m in training_data.intent_examples
            if str(m.get(INTENT_RESPONSE_KEY) or "").startswith(prefix) and m.get(TEXT)
        ]
        if len({label for _, label in pairs}) < 2:
            return self._resource
        texts = [text for text, _ in pairs]
        self._vectorizers = {kind: _vectorizer(kind).fit(texts) for kind in _ANALYZERS}
        self._classifier = LogisticRegression(C=float(self._config["C"]), max_iter=3000)
        self._classifier.fit(self._features(texts), [label for _, label in pairs])
        self.persist()
        return self._resource

    def persist(self) -> None:
        if self._classifier is None:
            return
        with self._storage.write_to(self._resource) as directory:
            arrays = {f"{k}_idf": v.idf_ for k, v in self._vectorizers.items()}
            arrays |= {"coef": self._classifier.coef_, "intercept": self._classifier.intercept_}
            np.savez(directory / "bank_ranker.npz", **arrays)
            vocabularies = {
                k: {term: int(i) for term, i in v.vocabulary_.items()}
                for k, v in self._vectorizers.items()
            }
            meta = {"classes": [str(c) for c in self._classifier.classes_], "vocab": vocabularies}
            (directory / "bank_ranker.json").write_text(json.dumps(meta), encoding="utf-8")

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> BankRanker:
        try:
            with model_storage.read_from(resource) as directory:
                arrays = np.load(directory / "bank_ranker.npz")
                meta = json.loads((directory / "bank_ranker.json").read_text(encoding="utf-8"))
                vectorizers = {}
                for kind in _ANALYZERS:
                    vectorizer = _vectorizer(kind, vocabulary=meta["vocab"][kind])
                    vectorizer.idf_ = arrays[f"{kind}_idf"]
                    vectorizers[kind] = vectorizer
                classifier = LogisticRegression()
                classifier.coef_ = arrays["coef"]
                classifier.intercept_ = arrays["intercept"]
                classifier.classes_ = np.array(meta["classes"])
        except ValueError:  # nothing was persisted: no bank questions to rank
            return cls(config, model_storage, resource)
        return cls(config, model_storage, resource, vectorizers, classifier)

    def process(self, messages: list[Message]) -> list[Message]:
        if self._classifier is None:
            return messages
        for message in messages:
            text = message.get(TEXT)
            if not text:
                continue
            probabilities = self._classifier.predict_proba(self._features([str(text)]))[0]
            best = np.argsort(probabilities)[::-1][: int(self._config["ranking_length"])]
            ranking = [
                {"id": str(self._classifier.classes_[i]), "confidence": float(probabilities[i])}
                for i in best
            ]
            message.set(BANK_RANKING, ranking, add_to_output=True)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data

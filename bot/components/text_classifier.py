"""A logistic regression over TF-IDF word and character n-grams (scikit-learn), shared by the
bank's second opinion (bank_ranker.py) and the crisis net's classifier (crisis_detector.py).

With an `embedding_weight`, the message's sentence embedding (sentence_encoder.py), scaled by that
weight, is read beside the n-grams: it carries meaning that shares no words with the examples.

Persisted as plain arrays (vocabularies, IDF weights, coefficients), never as pickles.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from bot.components import sentence_encoder

_ANALYZERS: dict[str, dict[str, Any]] = {
    # Character n-grams carry typos ("sucidal", "meetin"); words carry the rest.
    "char": {"analyzer": "char_wb", "ngram_range": (2, 5)},
    "word": {"analyzer": "word", "ngram_range": (1, 2), "token_pattern": r"(?u)\b\w+\b"},
}


def _vectorizer(kind: str, **fitted: Any) -> TfidfVectorizer:
    return TfidfVectorizer(sublinear_tf=True, lowercase=True, **_ANALYZERS[kind], **fitted)


def _for_products(coef: np.ndarray) -> np.ndarray:
    """The coefficients in column-major order: scikit-learn multiplies a message by their
    transpose, which scipy would otherwise copy whole (classes x n-grams) for every message."""
    return np.asfortranarray(coef)


class TextClassifier:
    """Fitted on labelled texts; `probabilities` gives each class's probability for one text."""

    def __init__(
        self,
        vectorizers: dict[str, TfidfVectorizer],
        classifier: LogisticRegression,
        embedding_weight: float = 0.0,
    ) -> None:
        self._vectorizers = vectorizers
        self._classifier = classifier
        self._embedding_weight = embedding_weight

    @property
    def classes(self) -> list[str]:
        return [str(c) for c in self._classifier.classes_]

    @classmethod
    def fit(
        cls,
        texts: list[str],
        labels: list[str],
        *,
        C: float,
        balanced: bool = False,
        embedding_weight: float = 0.0,
    ) -> TextClassifier:
        vectorizers = {kind: _vectorizer(kind).fit(texts) for kind in _ANALYZERS}
        classifier = LogisticRegression(
            C=C, max_iter=3000, class_weight="balanced" if balanced else None
        )
        fitted = cls(vectorizers, classifier, embedding_weight)
        classifier.fit(fitted._features(texts), labels)
        classifier.coef_ = _for_products(classifier.coef_)
        return fitted

    def _features(self, texts: list[str]) -> sparse.csr_matrix:
        parts = [v.transform(texts) for v in self._vectorizers.values()]
        if self._embedding_weight:
            embeddings = sentence_encoder.bundled().encode(texts) * self._embedding_weight
            parts.append(sparse.csr_matrix(embeddings))
        return sparse.hstack(parts).tocsr()

    def probabilities(self, text: str) -> np.ndarray:
        """One probability per class, in the order of `classes`."""
        return np.asarray(self._classifier.predict_proba(self._features([text]))[0])

    def write(self, storage: ModelStorage, resource: Resource, name: str) -> None:
        """Persisted as a Rasa component's resource."""
        arrays = {f"{k}_idf": v.idf_ for k, v in self._vectorizers.items()}
        arrays |= {"coef": self._classifier.coef_, "intercept": self._classifier.intercept_}
        vocabularies = {
            k: {term: int(i) for term, i in v.vocabulary_.items()}
            for k, v in self._vectorizers.items()
        }
        meta = {
            "classes": self.classes,
            "vocab": vocabularies,
            "embedding_weight": self._embedding_weight,
        }
        with storage.write_to(resource) as directory:
            np.savez(directory / f"{name}.npz", **arrays)
            (directory / f"{name}.json").write_text(json.dumps(meta), encoding="utf-8")

    @classmethod
    def read(cls, storage: ModelStorage, resource: Resource, name: str) -> TextClassifier | None:
        """A Rasa component's persisted classifier; None where there was nothing to learn."""
        try:
            with storage.read_from(resource) as directory:
                arrays = np.load(directory / f"{name}.npz")
                meta = json.loads((directory / f"{name}.json").read_text(encoding="utf-8"))
        except ValueError:  # the component persisted nothing
            return None
        vectorizers = {}
        for kind in _ANALYZERS:
            vectorizer = _vectorizer(kind, vocabulary=meta["vocab"][kind])
            vectorizer.idf_ = arrays[f"{kind}_idf"]
            vectorizers[kind] = vectorizer
        classifier = LogisticRegression()
        classifier.coef_ = _for_products(arrays["coef"])
        classifier.intercept_ = arrays["intercept"]
        classifier.classes_ = np.array(meta["classes"])
        return cls(vectorizers, classifier, float(meta.get("embedding_weight", 0.0)))

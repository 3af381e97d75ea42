"""The numpy sentence encoder gives what sentence-transformers gives, the featurizer hands it to the
classifiers, and a classifier that reads it persists and loads with it."""

import json
from pathlib import Path

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.components import sentence_encoder
from bot.components.sentence_featurizer import SentenceFeaturizer
from bot.components.text_classifier import TextClassifier

# Made once with sentence-transformers and PyTorch (neither is a dependency); the file says how.
REFERENCE = json.loads(
    (Path(__file__).parent / "fixtures" / "minilm_reference.json").read_text("utf-8")
)


def test_the_embeddings_are_sentence_transformers_own() -> None:
    ours = sentence_encoder.bundled().encode(REFERENCE["texts"])
    theirs = np.array(REFERENCE["vectors"], dtype=np.float32)
    assert ours.shape == (len(REFERENCE["texts"]), sentence_encoder.DIMENSION)
    assert np.abs(ours - theirs).max() < 1e-5


def test_a_paraphrase_is_nearer_than_a_message_sharing_its_words() -> None:
    said, paraphrase, same_words = sentence_encoder.bundled().encode(
        [
            "can I come to the meeting",
            "am I allowed to attend the multi agency meeting",
            "can I come off my medication",
        ]
    )
    assert said @ paraphrase > said @ same_words


def test_a_text_seen_again_is_the_same_row_and_nothing_gives_no_rows() -> None:
    encoder = sentence_encoder.bundled()
    first = encoder.encode(["what is a mam", "who comes to it"])
    again = encoder.encode(["who comes to it", "what is a mam", "what is a mam"])
    assert np.array_equal(first[0], again[1]) and np.array_equal(first[0], again[2])
    assert np.array_equal(first[1], again[0])
    assert encoder.encode([]).shape == (0, sentence_encoder.DIMENSION)


def test_the_featurizer_adds_one_sentence_feature_and_no_sequence() -> None:
    featurizer = SentenceFeaturizer.create(
        SentenceFeaturizer.get_default_config(),
        None,  # type: ignore[arg-type]  # not trainable: it stores nothing
        Resource("sentence_featurizer"),
        ExecutionContext(GraphSchema({}), "test"),
    )
    message, empty = Message(data={TEXT: "can i come to the meeting"}), Message(data={})
    featurizer.process_training_data(TrainingData(training_examples=[message, empty]))
    sequence, sentence = message.get_dense_features(TEXT)
    assert sequence is None
    assert sentence is not None and sentence.features.shape == (1, sentence_encoder.DIMENSION)
    expected = sentence_encoder.bundled().encode(["can i come to the meeting"])[0]
    assert np.allclose(sentence.features[0], expected)
    assert empty.features == []


def test_a_classifier_reading_embeddings_persists_with_them(tmp_path: Path) -> None:
    texts = ["what is a mam", "whats a multi agency meeting", "do i have to agree", "consent?"]
    labels = ["mam", "mam", "consent", "consent"]
    fitted = TextClassifier.fit(texts, labels, C=10.0, embedding_weight=1.0)
    storage, resource = LocalModelStorage(tmp_path), Resource("classifier")
    fitted.write(storage, resource, "classifier")
    loaded = TextClassifier.read(storage, resource, "classifier")
    assert loaded is not None
    # Shares no word with the examples: only the embedding can place it.
    text = "a gathering of professionals round a table"
    assert np.allclose(fitted.probabilities(text), loaded.probabilities(text))
    without = TextClassifier.fit(texts, labels, C=10.0)
    assert not np.allclose(fitted.probabilities(text), without.probabilities(text))
    assert fitted.classes[int(np.argmax(fitted.probabilities(text)))] == "mam"

"""The bank ranker trains on faq examples, persists as arrays, loads and ranks the same way."""

from pathlib import Path

from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.components.bank_ranker import BANK_RANKING, BankRanker

EXAMPLES = {
    "mam": ["what is a mam", "whats a multi agency meeting", "mam meaning", "what's the MAM"],
    "consent": [
        "do you need my permission",
        "do i have to agree",
        "is consent needed",
        "permission?",
    ],
}


def _training_data() -> TrainingData:
    messages = [
        Message(data={"text": text, "intent": "faq", "intent_response_key": f"faq/{label}"})
        for label, texts in EXAMPLES.items()
        for text in texts
    ]
    messages.append(Message(data={"text": "hello there", "intent": "greet"}))
    return TrainingData(training_examples=messages)


def test_trained_persisted_and_loaded_it_ranks_the_bank(tmp_path: Path) -> None:
    storage = LocalModelStorage(tmp_path)
    resource = Resource("bank_ranker")
    context = ExecutionContext(GraphSchema({}), "test")
    config = BankRanker.get_default_config()
    trained = BankRanker.create(config, storage, resource, context)
    trained.train(_training_data())
    loaded = BankRanker.load(config, storage, resource, context)
    for ranker in (trained, loaded):
        [message] = ranker.process([Message(data={"text": "wat is a mam meeting"})])
        ranking = message.get(BANK_RANKING)
        assert ranking[0]["id"] == "mam"
        assert {r["id"] for r in ranking} == {"mam", "consent"}
        assert abs(sum(r["confidence"] for r in ranking) - 1.0) < 1e-6
    first = trained.process([Message(data={"text": "is my permission needed"})])[0]
    second = loaded.process([Message(data={"text": "is my permission needed"})])[0]
    assert first.get(BANK_RANKING) == second.get(BANK_RANKING)
    assert first.get(BANK_RANKING)[0]["id"] == "consent"

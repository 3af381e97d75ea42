"""Rasa NLU component: a request to refer someone starts a referral, not a question of the bank.

The question bank holds thousands of professionals' phrasings ("my patient...", "I'm a nurse..."),
and the classifier learnt to call any message in a professional's voice a question: "I'd like to
refer a 14 year old" came out as `faq`; a long opening full of facts ("he's 28, lives in
Oakham...") comes out as `inform`. A message that asks to refer, put forward or add someone
(not how to, or who can) is `refer_someone`, or `start_self_referral` when the person refers
themselves or their own child. Placed after the classifier and before the crisis check.

The other way round, the classifier took for a request some questions about referring in one
particular case ("can I still refer if consent was refused?", "can I change a referral after
submitting it?"). A message put as a question that the bank ranker matches with confidence to a
question other than the general ones about referring (`general_questions`) is the bank's: on the
development sets that answered 14 more of 1,561 paraphrases and turned no training example or
persona's opening away from the referral.
"""

from __future__ import annotations

import re
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT, INTENT_NAME_KEY, PREDICTED_CONFIDENCE_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.components.bank_ranker import BANK_RANKING

# "I'd like to refer", "I need to put her forward for the ROAR", "can I refer him to the DSP",
# "want to get him on the DSR", "add a man to the DSR".
_REQUEST = re.compile(
    r"\b(i'?d like|i would like|i want|i wanna|i need|i have to|i'?m (looking|hoping|wanting)|"
    r"need|want|wanting|hoping|looking|can i|could i|may i|please)\b[^.?!]{0,60}?"
    r"\b(to )?(refer|make a referral|do a referral|put (\w+ ){0,4}forward|"
    r"(add|get|put) (\w+ ){0,6}(on|onto|to) (the|a) (dsr|roar|register|dsp|pathway|list))",
    re.I,
)
# "how do I refer", "who can refer", "do they need my permission to put him on the list": a
# question about referring is the bank's.
_ABOUT_REFERRING = re.compile(
    r"\b(how|who|when|where|what|which|why)\b[^.?!]{0,30}\b(refer|referral|put forward)|"
    r"^\W*(do|does|did|is|are|will|would|should|has|have)\b",
    re.I,
)
_OWN = re.compile(
    r"\b(myself|my (son|daughter|child|boy|girl|lad)|i'?m (his|her) (mum|dad|mother|father))\b",
    re.I,
)
_PROFESSIONAL = re.compile(
    r"\b(nurse|social worker|gp|doctor|teacher|senco|practitioner|clinician|worker|lpt|"
    r"council|team|service|caseload|patient|client)\b",
    re.I,
)


# The intents a request to refer is taken from; a choice like `stop_referral` is never overridden.
_OVERRIDDEN = frozenset({"faq", "nlu_fallback", "inform"})
_REFERRAL_INTENTS = frozenset({"refer_someone", "start_self_referral"})
# "...can I refer?", "if I refer do I also need...", "can I withdraw a referral".
_ASKED = re.compile(
    r"\?|^\W*(what|what's|whats|how|who|when|why|where|which|can|could|does|do|is|are|am|will|"
    r"would|should|shall|has|have|if)\b",
    re.I,
)


def referral_requested(text: str) -> str | None:
    """The referral intent a message asks for, or None when it asks no referral."""
    if not _REQUEST.search(text) or _ABOUT_REFERRING.search(text):
        return None
    if _OWN.search(text) and not _PROFESSIONAL.search(text):
        # "can I refer myself?" asks whether: the bank answers, and offers the form where allowed.
        return None if text.rstrip().endswith("?") else "start_self_referral"
    return "refer_someone"


def asked_of_the_bank(
    text: str, ranking: list[dict[str, Any]], min_confidence: float, general: frozenset[str]
) -> bool:
    """Whether a message the classifier took for a request to refer asks the bank a question
    about one particular case."""
    if not ranking or not _ASKED.search(text):
        return False
    top = ranking[0]
    return float(top["confidence"]) >= min_confidence and str(top["id"]) not in general


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class ReferralRequest(GraphComponent):
    """Turns a `faq`, an unclear or an `inform` message that asks to refer someone into the
    referral intent, and a request to refer that asks the bank about one case into `faq`."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        # bank_min_confidence: from it, the bank ranker's match to a particular question wins over
        # the classifier's request to refer; chosen on the development sets (0.6 turned a
        # request away).
        return {
            "bank_min_confidence": 0.8,
            "general_questions": ["how_to_refer", "who_can_refer", "self_referral"],
        }

    def __init__(self, config: dict[str, Any]) -> None:
        self._min_confidence = float(config["bank_min_confidence"])
        self._general = frozenset(str(q) for q in config["general_questions"])

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> ReferralRequest:
        return cls({**cls.get_default_config(), **config})

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            name = (message.get(INTENT) or {}).get(INTENT_NAME_KEY)
            text = str(message.get(TEXT) or "")
            if not text:
                continue
            chosen = (referral_requested(text) if name in _OVERRIDDEN else None) or name
            # Whether the classifier or the request's words made it a referral.
            if chosen in _REFERRAL_INTENTS and asked_of_the_bank(
                text, message.get(BANK_RANKING) or [], self._min_confidence, self._general
            ):
                chosen = "faq"
            if chosen != name:
                intent = {INTENT_NAME_KEY: chosen, PREDICTED_CONFIDENCE_KEY: 1.0}
                message.set(INTENT, intent, add_to_output=True)
        return messages

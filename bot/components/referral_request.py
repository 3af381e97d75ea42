"""Rasa NLU component: a request to refer someone starts a referral, not a question of the bank.

The question bank holds thousands of professionals' phrasings ("my patient...", "I'm a nurse..."),
and the classifier learnt to call any message in a professional's voice a question: "I'd like to
refer a 14 year old" came out as `faq`; a long opening full of facts ("he's 28, lives in
Oakham...") comes out as `inform`. A message that asks to refer, put forward or add someone
(not how to, or who can) is `refer_someone`, or `start_self_referral` when the person refers
themselves or their own child. Placed after the classifier; the other way round, a question about
referring that the classifier took for a request is the bank's (bank_question.py).
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


def referral_requested(text: str) -> str | None:
    """The referral intent a message asks for, or None when it asks no referral."""
    if not _REQUEST.search(text) or _ABOUT_REFERRING.search(text):
        return None
    if _OWN.search(text) and not _PROFESSIONAL.search(text):
        # "can I refer myself?" asks whether: the bank answers, and offers the form where allowed.
        return None if text.rstrip().endswith("?") else "start_self_referral"
    return "refer_someone"


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class ReferralRequest(GraphComponent):
    """Turns a `faq`, an unclear or an `inform` message that asks to refer someone into the
    referral intent."""

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> ReferralRequest:
        return cls()

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            name = (message.get(INTENT) or {}).get(INTENT_NAME_KEY)
            text = str(message.get(TEXT) or "")
            if name not in _OVERRIDDEN or not text:
                continue
            chosen = referral_requested(text)
            if chosen is not None:
                intent = {INTENT_NAME_KEY: chosen, PREDICTED_CONFIDENCE_KEY: 1.0}
                message.set(INTENT, intent, add_to_output=True)
        return messages

"""A request to refer is the referral's, a question about referring is not."""

import pytest
from rasa.shared.nlu.constants import INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.components.referral_request import ReferralRequest, referral_requested


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        (
            "I'm a learning disability nurse with LPT. I'd like to add a man to the DSR as green",
            "refer_someone",
        ),
        (
            "social worker here, I've got a 13yo autistic lad in foster care, can I refer him to the DSP?",
            "refer_someone",
        ),
        ("a man on the ward is not coping at home, I want to get him on the DSR", "refer_someone"),
        ("I have a lady I need to put forward for the ROAR", "refer_someone"),
        ("I'd like to make a referral", "refer_someone"),
        ("I want to put my son on the register myself", "start_self_referral"),
        ("how do I refer", None),
        ("who can refer my child", None),
        ("do they need my permission to put my son on the list", None),
        ("does referring here replace my referral to the specialist autism team", None),
        ("what happens after I refer?", None),
        ("can i refer myself?", None),
    ],
)
def test_a_request_to_refer_is_told_from_a_question(text: str, intent: str | None) -> None:
    assert referral_requested(text) == intent


def _component() -> ReferralRequest:
    return ReferralRequest()


@pytest.mark.parametrize(
    ("classified", "text", "expected"),
    [
        # A long opening full of facts reads as `inform` to the classifier.
        (
            "inform",
            "I'd like to add a man to the DSR as green - he's 28 and lives in Oakham",
            "refer_someone",
        ),
        ("faq", "I have a lady I need to put forward for the ROAR", "refer_someone"),
        ("inform", "he is 28 and lives in Oakham", "inform"),
        ("stop_referral", "I want to stop the referral", "stop_referral"),
        ("faq", "how do I refer", "faq"),
    ],
)
def test_the_component_turns_a_request_into_the_referral_intent(
    classified: str, text: str, expected: str
) -> None:
    message = Message(data={TEXT: text, INTENT: {"name": classified, "confidence": 0.8}})
    [processed] = _component().process([message])
    assert processed.get(INTENT)["name"] == expected

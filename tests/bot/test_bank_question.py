"""A question the bank answers with confidence is the bank's, though the classifier took it for a
request to refer or for someone telling their situation."""

import pytest
from rasa.shared.nlu.constants import INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.components.bank_question import BankQuestion
from bot.components.bank_ranker import BANK_RANKING
from bot.components.referral_request import ReferralRequest


def _parsed(text: str, classified: str, top: str, confidence: float) -> str:
    """The intent after the two components, in the pipeline's order."""
    message = Message(
        data={
            TEXT: text,
            INTENT: {"name": classified, "confidence": 0.9},
            BANK_RANKING: [{"id": top, "confidence": confidence}],
        }
    )
    [requested] = ReferralRequest().process([message])
    [processed] = BankQuestion(BankQuestion.get_default_config()).process([requested])
    return str(processed.get(INTENT)["name"])


@pytest.mark.parametrize(
    ("text", "top", "confidence", "expected"),
    [
        # Asked about one particular case, which the bank answers with confidence.
        ("client declined consent, can i still refer?", "consent_refused", 0.9, "faq"),
        ("can i withdraw a referral", "edit_referral", 0.95, "faq"),
        ("if i refer to the dsr do i also need to refer to camhs", "other_referrals", 0.9, "faq"),
        # Whether families may refer: the bank answers, and offers the form where allowed.
        ("can i refer my own son", "self_referral", 0.9, "faq"),
        # A request, though the bank ranker finds a question in it.
        (
            "Please can I refer an adult with learning disabilities and autism to the DSR",
            "autism_no_ld",
            0.94,
            "refer_someone",
        ),
        # The general questions about referring: the referral is what is wanted.
        ("can I refer him to the DSP?", "how_to_refer", 0.95, "refer_someone"),
        # The bank ranker is not sure enough.
        ("can i refer if the gp is in another ICB", "gp_and_address", 0.65, "refer_someone"),
    ],
)
def test_a_question_about_one_case_is_the_banks_though_taken_for_a_request(
    text: str, top: str, confidence: float, expected: str
) -> None:
    # Taken for a request by the classifier, or by the request's own words ("can i ... refer").
    for classified in ("refer_someone", "faq"):
        assert _parsed(text, classified, top, confidence) == expected


@pytest.mark.parametrize(
    ("text", "top", "confidence", "expected"),
    [
        ("can i bring a friend to the meeting", "mam_can_i_come", 0.98, "faq"),
        ("how do i raise concerns when risk is rising", "escalation", 0.96, "faq"),
        # Telling, not asking: the situation is heard.
        (
            "he has stopped going to school and is not sleeping",
            "risk_indicators",
            0.9,
            "tell_situation",
        ),
        # Asking, but not of anything the bank is sure of.
        ("what do i do, he is not sleeping", "things_get_worse", 0.5, "tell_situation"),
    ],
)
def test_a_question_is_the_banks_though_taken_for_telling_a_situation(
    text: str, top: str, confidence: float, expected: str
) -> None:
    assert _parsed(text, "tell_situation", top, confidence) == expected


def test_other_intents_are_left_to_the_classifier() -> None:
    assert _parsed("what does LAC mean?", "ask_definition", "colours", 0.9) == "ask_definition"
    assert _parsed("stop the referral?", "stop_referral", "edit_referral", 0.9) == "stop_referral"

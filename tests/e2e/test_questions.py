"""End-to-end: questions asked as people ask them, through /chat on the running stack.

Families get the easy-read answer, professionals the plain-English one; who is asking is read from
the words or asked once; a question in the middle of a referral is answered and the referral goes
on; what the assistant cannot help with gets a kind answer; the emergency answer is marked as one.
The questions were written from the issue and the documents before the bank was tuned.
"""

import time
from pathlib import Path
from typing import Any

import httpx
import yaml

import easy_read

Stack = Any  # conftest.Stack (see test_family.py: nothing is imported from conftest)
ROOT = Path(__file__).resolve().parents[2]
PROFESSIONAL = yaml.safe_load((ROOT / "bot/domain/questions.yml").read_text("utf-8"))["responses"]


def reply_to(chat: httpx.Client, message: str) -> dict[str, Any]:
    response = chat.post("/chat", json={"message": message})
    deadline = time.monotonic() + 90
    while response.status_code == 429 and time.monotonic() < deadline:
        time.sleep(3)
        response = chat.post("/chat", json={"message": message})
    assert response.status_code == 200, response.text
    return dict(response.json())


def text_of(reply: dict[str, Any]) -> str:
    return "\n".join(m["text"] for m in reply["messages"])


def plain(question_id: str, variant: str) -> str:
    """The professional answer for the variant, as bot/domain/questions.yml holds it."""
    variations = PROFESSIONAL[f"utter_faq/{question_id}"]
    for variation in variations:
        if any(c["value"] == variant for c in variation.get("condition") or []):
            return str(variation["text"])
    return str(next(v for v in variations if not v.get("condition"))["text"])


def easy(question_id: str, variant: str) -> str:
    return "\n".join(easy_read.answer(question_id, variant))


def is_easy(text: str, question_id: str, variant: str) -> bool:
    """The topic's own lines, in order; the variant's contacts come from the service."""
    placeholder = easy_read.answer("who_to_contact", variant)[-1]
    lines = [line for line in easy_read.answer(question_id, variant) if line != placeholder]
    said = text.split("\n")
    return all(line in said for line in lines) and sorted(lines, key=said.index) == lines


FAMILY_QUESTIONS = {
    "do they need my permission to put my son on the list": "consent",
    "will my child have to go to hospital": "hospital_will_they_go",
    "how long will he stay on the register": "how_long_on_list",
    "what actually happens at one of these meetings?": "mam_topics",
    "my daughter is 15, can my wife and i come to the meeting about her": "mam_can_i_come",
    "my son has autism but no learning disability, can he still be on it": "autism_no_ld",
    "how do i get him on that register thing": "how_to_refer",
}

PROFESSIONAL_QUESTIONS = {
    "my patient has a private autism diagnosis, is that accepted": "private_diagnosis",
    "I'm a social worker. does referring here replace my referral to the specialist autism team": "other_referrals",
    "up to what age is someone a CYP for the pathway, asking for a young person I support": "cyp_age",
    "as a nurse, who actually decides the rag rating for my patient": "who_decides_colour",
}


def test_a_family_gets_easy_read_answers_to_their_questions(stack: Stack) -> None:
    with stack.chat() as chat:
        for question, expected in FAMILY_QUESTIONS.items():
            reply = reply_to(chat, question)
            assert is_easy(text_of(reply), expected, "llr"), question
            assert all(not m.get("emergency") for m in reply["messages"])


def test_a_professional_gets_plain_english_answers(stack: Stack) -> None:
    with stack.chat() as chat:
        for question, expected in PROFESSIONAL_QUESTIONS.items():
            assert text_of(reply_to(chat, question)) == plain(expected, "llr"), question


def test_west_sussex_answers_in_easy_read_and_offers_the_detailed_answer_once(
    west_sussex_stack: Stack,
) -> None:
    with west_sussex_stack.chat() as chat:
        answer = reply_to(chat, "does consent need to be given again")
        assert text_of(answer) == easy("consent_renewal", "west_sussex")
        assert "each year" in text_of(answer)
        buttons = {b["title"]: b["payload"] for m in answer["messages"] for b in m["buttons"]}
        detailed = reply_to(chat, buttons["I am a professional: the detailed answer"])
        assert text_of(detailed) == plain("consent_renewal", "west_sussex")
        # Known now: the next question gets the plain-English answer straight away.
        again = reply_to(chat, "how long does someone stay on the register")
        assert text_of(again) == plain("how_long_on_list", "west_sussex")


def test_a_question_in_the_middle_of_a_referral_is_answered_and_the_referral_goes_on(
    stack: Stack,
) -> None:
    with stack.chat() as chat:
        started = reply_to(
            chat, "I'm a school nurse and I'd like to refer a 14 year old in Rutland"
        )
        asking = started["asking"]
        assert asking
        reply = reply_to(chat, "what happens after I refer?")
        assert plain("after_referral", "llr") in text_of(reply)
        assert reply["asking"] == asking
        reply = reply_to(chat, "does referring here replace my referral to the autism team?")
        assert plain("other_referrals", "llr") in text_of(reply)
        assert reply["asking"] == asking


def test_what_the_assistant_cannot_help_with_gets_a_kind_answer(stack: Stack) -> None:
    with stack.chat() as chat:
        for message in ("what's the weather going to be like tomorrow", "tell me a joke"):
            answer = text_of(reply_to(chat, message))
            assert "I can only help with the Dynamic Support Pathway" in answer, message


def test_a_yes_or_a_no_with_nothing_asked_gets_one_kind_answer(stack: Stack) -> None:
    """Not ten "Did you mean" (the fallback predicted again after itself), not silence."""
    with stack.chat() as chat:
        reply_to(chat, "hi")
        for message in ("no", "yes", "nope", "yes please", "no thanks"):
            reply = reply_to(chat, message)
            assert len(reply["messages"]) == 1, (message, reply["messages"])
            assert "I can only help with the Dynamic Support Pathway" in text_of(reply), message


def test_the_emergency_answer_is_marked_as_one(stack: Stack) -> None:
    with stack.chat() as chat:
        reply = reply_to(chat, "my brother says nobody would miss him if he was gone")
        marked = [m for m in reply["messages"] if m.get("emergency")]
        assert len(marked) == 1
        assert marked[0]["text"].split("\n") == easy_read.answer("emergency", None)

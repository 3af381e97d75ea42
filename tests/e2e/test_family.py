"""End-to-end: a family's conversation through the chat door, every tier running.

LLR (the default variant): questions in people's own words, the follow-up buttons, a contact for
the place they live, "can I refer myself?" and the crisis safety net. Tees Valley: a parent refers
their child through the self-referral form and the register shows `referral_source: self`.
"""

import re
import time
from datetime import date
from typing import Any

import httpx

import easy_read

# A `tests` package in the backend environment shadows this one, so nothing is imported from
# conftest.py: `stack` and `tees_valley_stack` come as fixtures.
Stack = Any  # conftest.Stack: .url, .env, .token(role), .chat()


def reply_to(chat: httpx.Client, message: str) -> dict[str, Any]:
    """The whole answer to a message; /chat limits messages a minute, and people type slower."""
    response = chat.post("/chat", json={"message": message})
    deadline = time.monotonic() + 90
    while response.status_code == 429 and time.monotonic() < deadline:
        time.sleep(3)
        response = chat.post("/chat", json={"message": message})
    assert response.status_code == 200, response.text
    return dict(response.json())


def say(chat: httpx.Client, message: str) -> list[dict[str, Any]]:
    return list(reply_to(chat, message)["messages"])


def text_of(messages: list[dict[str, Any]]) -> str:
    return "\n".join(m["text"] for m in messages)


def buttons_of(messages: list[dict[str, Any]]) -> dict[str, str]:
    return {b["title"]: b["payload"] for m in messages for b in m.get("buttons", [])}


def test_a_family_asks_in_their_own_words(stack: Stack) -> None:
    with stack.chat() as chat:
        meeting = say(chat, "meeting?")
        assert text_of(meeting).split("\n") == easy_read.answer("mam", "llr")
        buttons = buttons_of(meeting)
        assert {"Who will be there?", "Can I come?"} <= set(buttons)

        # Nobody has to know what to type: the button sends the next question.
        who = say(chat, buttons["Who will be there?"])
        assert text_of(who).split("\n") == easy_read.answer("mam_who", "llr")
        can_i_come = say(chat, buttons_of(who)["Can I come?"])
        assert "Yes, the person and their family can come to the MAM." in text_of(can_i_come)

        # Typos understood; what happens at the meeting is what is talked about there.
        happens = say(chat, "wat happens at the meetin")
        assert text_of(happens).split("\n") == easy_read.answer("mam_topics", "llr")
        assert text_of(say(chat, "who comes")) == text_of(who)


def test_speak_to_someone_asks_where_and_never_guesses(stack: Stack) -> None:
    with stack.chat() as chat:
        ask = say(chat, "can I speak to someone")
        assert "@" not in text_of(ask)
        areas = buttons_of(ask)
        assert set(areas) == {"Leicester City", "Leicestershire County", "Rutland"}
        answer = text_of(say(chat, areas["Rutland"]))
        assert "This chat is a computer program, not a person." in answer
        assert "rutlandpcv@gmail.com" in answer
        assert "info@lcpcf.net" not in answer

        town = text_of(say(chat, "is there a parent carer forum in Loughborough"))
        assert "admin@leicestershiresendhub.org.uk" in town


def test_can_i_refer_myself_in_llr(stack: Stack) -> None:
    with stack.chat() as chat:
        answer = text_of(say(chat, "can I refer myself?"))
        assert "Here, you cannot refer yourself." in answer
        assert "Ask a worker you know to help." in answer


def test_crisis_gets_emergency_routes_at_once_then_carries_on(stack: Stack) -> None:
    with stack.chat() as chat:
        say(chat, "meeting?")
        crisis = say(chat, "my son says he is going to jump off the bridge right now")
        assert crisis[0]["text"].split("\n") == easy_read.answer("emergency", None)
        carry_on = buttons_of(crisis)
        assert set(carry_on) == {"Yes, carry on", "No, stop here"}
        assert "What would you like to know?" in text_of(say(chat, carry_on["Yes, carry on"]))


# ---- Tees Valley: self-referral ----------------------------------------------------------------


def test_a_parent_refers_their_child_themselves_in_tees_valley(tees_valley_stack: Stack) -> None:
    born = date(date.today().year - 12, 3, 14).strftime("%d %B %Y")
    answers = {
        "self_who": "for my son",
        "age": "he's 12",
        "diagnosis": "autism",
        "diagnosis_confirmed": "yes, the paediatrician told us",
        "autism_private": "no",
        "council_area": "we live in Stockton",
        "current_situation": "He has stopped going to school and is not sleeping.",
        "concerns": "yes",
        "consent_by": "me, I'm his mum",
        "consent_date": "today",
        "person_name": "Sam Example",
        "date_of_birth": born,
        "postcode": "TS18 1AB",
        "self_contact": "07700 900123",
        "outcomes_wanted": "He goes back to school.",
    }
    with tees_valley_stack.chat() as chat:
        offer = say(chat, "can I refer my son myself?")
        assert "Yes, in Tees Valley you can refer yourself to the DSR." in text_of(offer)
        first = reply_to(chat, buttons_of(offer)["Start my referral"])
        assert "I will ask you some short questions." in text_of(first["messages"])
        asking = first["asking"]
        assert asking == "self_who"

        # Inside the form, a crisis gets the routes at once and the form asks again.
        crisis = reply_to(chat, "he is trying to hang himself right now")
        assert "999" in crisis["messages"][0]["text"]
        assert crisis["asking"] == "self_who"

        for _ in range(30):
            reply = reply_to(chat, answers.get(asking, "yes, send it"))
            asking = reply["asking"]
            if asking is None:
                break
        sent = text_of(reply["messages"])
        assert "The team has got your answers." in sent
        assert "The DSR coordinator will tell you what happens next." in sent
        assert "Someone from the team will phone you." in sent

    # The DSR coordinator checks the answers with the family by phone, then accepts them.
    reference = re.search(r"REF-[A-Z0-9]{4}-[A-Z0-9]{4}", sent)
    assert reference, sent
    tees_valley_stack.accept(reference[0])
    token = tees_valley_stack.token("dsr_admin")
    register = httpx.get(
        f"{tees_valley_stack.url}/api/v1/register", headers={"Authorization": f"Bearer {token}"}
    ).json()
    [entry] = [e for e in register if e["referral_source"] == "self"]
    assert entry["age_group"] == "cyp" and entry["rag"] is None
    assert entry["dsp_id"] not in sent

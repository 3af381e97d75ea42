"""End-to-end: a family's conversation through the chat door, every tier running.

LLR (the default variant): questions in people's own words, the follow-up buttons, a contact for
the place they live, "can I refer myself?" and the crisis safety net. Tees Valley: a parent refers
their child through the self-referral form and the register shows `referral_source: self`.
"""

from datetime import date
from typing import Any

import httpx

import easy_read

# A `tests` package in the backend environment shadows this one, so nothing is imported from
# conftest.py: `stack` and `tees_valley_stack` come as fixtures.
Stack = Any  # conftest.Stack: .url, .env, .token(role), .chat()


def say(chat: httpx.Client, message: str) -> list[dict[str, Any]]:
    response = chat.post("/chat", json={"message": message})
    assert response.status_code == 200, response.text
    return list(response.json()["messages"])


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

        assert text_of(say(chat, "wat happens at the meetin")) == text_of(meeting)
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
        assert "GP" in answer and "social worker" in answer


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
    with tees_valley_stack.chat() as chat:
        offer = say(chat, "can I refer my son myself?")
        assert "Yes, in Tees Valley you can refer yourself to the DSR." in text_of(offer)
        first = say(chat, buttons_of(offer)["Start my referral"])
        assert "Who is the referral for?" in text_of(first)

        # Inside the form, a crisis gets the routes at once and the form asks again.
        crisis = say(chat, "he is trying to hang himself right now")
        assert "999" in crisis[0]["text"]
        assert "Who is the referral for?" in text_of(crisis)

        say(chat, buttons_of(first)["My child, or someone I care for"])
        say(chat, "Sam")
        say(chat, "Example")
        say(chat, born)
        area = say(chat, "TS18 1AB")
        assert "Their postcode is usually in Stockton-on-Tees." in text_of(area)
        diagnosis = say(chat, buttons_of(area)["Stockton-on-Tees"])
        say(chat, buttons_of(diagnosis)["Yes, autism"])
        consent = say(chat, "He has stopped going to school and is not sleeping.")
        assert "Do you agree?" in text_of(consent)
        say(chat, buttons_of(consent)["Yes, I agree"])
        sent = text_of(say(chat, "07700 900123"))
        assert "Your referral has been sent." in sent
        assert "The DSR coordinator tells people who referred themselves the outcome" in sent

    token = tees_valley_stack.token("dsr_admin")
    register = httpx.get(
        f"{tees_valley_stack.url}/api/v1/register", headers={"Authorization": f"Bearer {token}"}
    ).json()
    [entry] = register
    assert entry["referral_source"] == "self" and entry["age_group"] == "cyp"
    assert f"Your reference is {entry['dsp_id']}." in sent

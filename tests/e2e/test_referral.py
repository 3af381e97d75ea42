"""End-to-end: a professional refers through the chat door, every tier running, and the referral is
on the register (GET /api/v1/register) with the right register, rating and age group.

Each step is what the referrer types (or the button they press) and words the assistant's answer
must contain, so a conversation that goes astray fails where it does. The number of messages a
referral takes is part of the design: a mandatory-only referral is short, a full one is long.
"""

import re
import time
from datetime import date
from typing import Any

import httpx

# Not imported from tests.e2e (textstat installs a top-level `tests` package in the backend env):
# the `stack` fixture of conftest.py.
Stack = Any

Step = tuple[str, str]

# The measured length of each referral, in messages from the referrer (see the report).
MANDATORY_ONLY_TURNS = 23
FULL_TURNS = 52


def say(chat: httpx.Client, message: str) -> str:
    response = chat.post("/chat", json={"message": message})
    deadline = time.monotonic() + 90
    while response.status_code == 429 and time.monotonic() < deadline:
        # /chat limits messages per minute; a person types more slowly than this test.
        time.sleep(3)
        response = chat.post("/chat", json={"message": message})
    assert response.status_code == 200, response.text
    return "\n".join(m.get("text") or "" for m in response.json()["messages"])


def converse(chat: httpx.Client, steps: list[Step]) -> str:
    """Says each message; the answer must contain the expected words. Returns the last answer."""
    answer = ""
    for message, expected in steps:
        answer = say(chat, message)
        assert expected.lower() in answer.lower(), f"after {message!r}: {answer}"
    return answer


def on_register(stack: Stack, answer: str) -> dict[str, Any]:
    match = re.search(r"DSP-[A-Z0-9]{4}-[A-Z0-9]{4}", answer)
    assert match, answer
    headers = {"Authorization": f"Bearer {stack.token('dsr_admin')}"}
    entries = httpx.get(f"{stack.url}/api/v1/register", headers=headers, timeout=30).json()
    [entry] = [e for e in entries if e["dsp_id"] == match[0]]
    return dict(entry)


def born(years: int) -> str:
    today = date.today()
    return f"{today.day:02d}/{today.month:02d}/{today.year - years - 1}"


ELIGIBLE_CHILD: list[Step] = [
    ("I'd like to put a young person on the DSR", "which sector do you work in"),
    ("health", "What diagnosis"),
    ("autism", "Is the diagnosis confirmed"),
    ("confirmed with evidence", "Which council area"),
    ("Leicester City", "date of birth"),
    (born(12), "meets the criteria"),
]
AMBER_CHILD: list[Step] = [
    ("1 3", "imminent risk of admission"),
    ("no", "inpatient unit now"),
    ("neither", "Suggested rating: amber, on the DSR"),
    ("yes", "Has consent been given"),
    ("yes", "Who gave consent"),
    ("A parent, carer or guardian", "When was consent given"),
    ("today", "organise the multi-agency meeting"),
]


def test_a_mandatory_only_referral_lands_on_the_register(stack: Stack) -> None:
    steps = [
        *ELIGIBLE_CHILD,
        *AMBER_CHILD,
        ("no", "full name"),
        ("Sam Taylor", "NHS number"),
        ("943 476 5919", "postcode"),
        ("LE1 6TH", "What is your name"),
        ("Jo Bloggs", "role"),
        ("Community nurse", "organisation"),
        ("Leicestershire Partnership NHS Trust", "email"),
        ("jo.bloggs@nhs.net", "What is happening now"),
        (
            "Over the last three months he has stopped going to school and hits his mum when "
            "asked to do things; the family say they cannot cope.",
            "Here is the referral",
        ),
        ("yes", "The referral has been sent"),
    ]
    assert len(steps) == MANDATORY_ONLY_TURNS
    with stack.chat() as chat:
        sent = converse(chat, steps)
    assert "you organise and chair the multi-agency meeting" in sent
    entry = on_register(stack, sent)
    assert (entry["register"], entry["rag"], entry["age_group"]) == ("DSR", "amber", "cyp")
    assert entry["referral_source"] == "professional"
    assert entry["mam_organised_by_admin"] is False


def test_a_full_referral_to_the_roar_lands_on_the_register(stack: Stack) -> None:
    steps = [
        ("need to refer to the ROAR", "which sector do you work in"),
        ("social care", "What diagnosis"),
        ("learning disability", "Is the diagnosis confirmed"),
        ("confirmed with evidence", "Which council area"),
        ("Rutland", "date of birth"),
        (born(30), "adults' register"),
        # Adult criteria: 8 is "Red: urgent admission avoidance" (001 appendix 2).
        ("8", "imminent risk of admission"),
        ("yes", "known before now"),
        ("no", "inpatient unit now"),
        ("neither", "Suggested rating: red, on the ROAR"),
        ("yes", "Has consent been given"),
        ("yes", "Who gave consent"),
        ("The person", "When was consent given"),
        ("today", "A referral to the ROAR needs the whole form"),
        ("yes", "Who should be invited"),
        ("Jo Bloggs, social worker, jo.bloggs@council.gov.uk, 0116 454 1000", "someone else"),
        ("yes", "Who else should be invited"),
        ("Dr Amy Patel, consultant psychiatrist, amy.patel@nhs.net, 0116 225 5000", "someone else"),
        ("no", "full name"),
        ("Alex Morgan", "NHS number"),
        ("450 557 7104", "postcode"),
        ("LE15 6AB", "gender"),
        ("non-binary", "pronouns"),
        ("they/them", "ethnicity"),
        ("skip", "home address"),
        ("4 Station Road, Oakham", "GP practice"),
        ("Oakham Medical Practice", "What is your name"),
        ("Sam Patel", "role"),
        ("Social worker", "organisation"),
        ("Rutland County Council adult social care", "email"),
        ("sam.patel@rutland.gov.uk", "phone number"),
        ("01572 722577", "commissioner"),
        ("LLR ICB learning disability commissioning team", "parent or main carer"),
        ("Chris Morgan, father, 07700 900456", "Who do they live with"),
        ("lives alone with daily support", "current care team"),
        ("Community LD nurse, psychiatrist and the supported living provider", "Who else"),
        ("skip", "Where do they live now"),
        ("Supported living", "details of the home or provider"),
        ("a supported living flat run by a local provider, 24 hour support", "EHCP"),
        ("no", "communication needs"),
        ("speaks in short sentences and uses pictures; needs a quiet space", "brief history"),
        ("stable for years until a change of staff team in the spring", "What is happening now"),
        (
            "They have stopped eating and sleeping, are hitting staff daily and the provider has "
            "given notice; the psychiatrist thinks admission is likely within days.",
            "risk details",
        ),
        ("daily assaults on staff and self-injury to the head", "police or a crisis team"),
        ("yes, police were called twice this month", "safeguarding"),
        ("a safeguarding concern was raised by the provider last week", "support is already"),
        ("2:1 staffing at times, weekly nurse visits", "outcomes"),
        ("to stay in their own home with the right support", "How will we know"),
        ("no admission, and the provider keeps the placement", "Here is the referral"),
        ("change the postcode", "postcode"),
        ("LE15 6AD", "Shall I send the referral"),
        ("send it", "The referral has been sent"),
    ]
    with stack.chat() as chat:
        sent = converse(chat, steps)
        assert "Transforming Care Officers" in sent
    assert len(steps) == FULL_TURNS
    entry = on_register(stack, sent)
    assert (entry["register"], entry["rag"], entry["age_group"]) == ("ROAR", "red", "adult")
    assert entry["consent_given_by"] == "person"


def test_pause_and_resume_in_a_new_conversation(stack: Stack) -> None:
    with stack.chat() as chat:
        converse(chat, ELIGIBLE_CHILD)
        paused = say(chat, "I need to finish this later, save my progress")
    match = re.search(r"resume code is ([A-Z0-9]{4}-[A-Z0-9]{4})", paused)
    assert match, paused
    with stack.chat() as chat:  # another conversation, as on another day
        resumed = say(chat, f"resume {match[1]}")
        assert "Welcome back" in resumed and "Which of these describe" in resumed
        assert "About the concerns" in say(chat, "why do you need this?")
        assert "imminent risk" in say(chat, "2")
        stopped = say(chat, "stop")
        assert "Nothing has been sent or stored" in stopped
        assert "could not find a draft" in say(chat, f"resume {match[1]}")

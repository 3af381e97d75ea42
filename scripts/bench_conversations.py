"""What the simulated people of scripts/bench.py say: the stock bot's conversation (from its own
training examples), a family member's questions and a professional's referral. Every person and
detail is made up; none of it is written to the report.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import yaml

TURNS = 14

# The stock bot's stories and rules: greet, mood, the bot's answer, affirm or deny, goodbye.
STOCK_INTENTS = [
    "greet",
    "mood_unhappy",
    "affirm",
    "bot_challenge",
    "greet",
    "mood_unhappy",
    "deny",
    "greet",
    "mood_great",
    "bot_challenge",
    "goodbye",
    "greet",
    "mood_great",
    "goodbye",
]

# A parent whose son may go on the register, asking what people ask, in their own words.
FAMILY = [
    "hi",
    "my son's school said he might go on the dynamic support register, what is that?",
    "what happens at the meeting",
    "can I come to the meeting?",
    "who will be there",
    "what does red mean",
    "do they need my permission to put him on it",
    "who can see the list",
    "how long will he be on it",
    "what if things get worse at home",
    "where is my parent carer forum",
    "we live in Leicester",
    "thanks, that's really helpful",
    "bye",
]

# A community nurse referring a made-up 14-year-old, answering the questionnaire in the order
# the service asks (linkId -> what they type), as the persona suite does.
REFERRAL_OPENING = (
    "Hi, I'm a community learning disability nurse and I'd like to refer a 14 year old boy to "
    "the dynamic support register, he lives in Leicester"
)
START_AGAIN = "yes, I'd like to make a referral please"
DONT_KNOW = "I'm not sure"


def referral_answers(today: date, nhs_number: str) -> dict[str, str]:
    born = today.replace(year=today.year - 14) - timedelta(days=40)
    return {
        "referrer_kind": "health, I'm a community learning disability nurse",
        "age": "he's 14",
        "diagnosis": "autism",
        "diagnosis_confirmed": "yes, the community paediatrician diagnosed him when he was 7",
        "diagnosis_evidence": "the paediatrician's diagnosis letter",
        "autism_private": "no, it was on the NHS",
        "council_area": "Leicester City",
        "looked_after_child": "no",
        "placing_council": "not applicable",
        "section_117_placement": "no",
        "urgent_cetr_needed": "no",
        "current_situation": (
            "Since the summer he has stopped going to school and stays in his room most of the "
            "day. He hits out at his mum when she asks him to do things and broke a door last "
            "week. His mum is worn out and says she can't cope much longer."
        ),
        "concerns": "yes, those are right",
        "inpatient_status": "no, he's never been in hospital",
        "imminent_risk": "no, not at the moment",
        "escalating_risk_known": "yes, we've been worried for a few months",
        "rag": "amber is right",
        "consent_by": "his mum",
        "consent_capacity": "he's 14, his mum consented for him",
        "consent_given": "yes",
        "consent_date": "yesterday",
        "mam_by_admin": "no, I'll arrange the meeting myself",
        "person_name": "Jordan Example",
        "date_of_birth": born.strftime("%d/%m/%Y"),
        "nhs_number": nhs_number,
        "postcode": "LE1 6TH",
        "address": "1 Example Road, Leicester LE1 6TH",
        "gender": "male, he/him",
        "gp_practice": "Example Surgery",
        "referrer_name": "Sam Example",
        "referrer_role": "community learning disability nurse",
        "referrer_organisation": "Example NHS Trust",
        "referrer_email": "sam.example@nhs.net",
        "referrer_phone": "0116 496 0000",
    }


def stock_messages(nlu_file: Path) -> list[str]:
    """14 messages from the stock bot's own data/nlu.yml: one example per turn of the intents
    above, each intent's examples taken in turn."""
    data = yaml.safe_load(nlu_file.read_text())
    examples: dict[str, list[str]] = {}
    for block in data.get("nlu", []):
        if "intent" in block:
            lines = str(block.get("examples", "")).splitlines()
            examples[block["intent"]] = [
                line.strip()[2:].strip() for line in lines if line.strip().startswith("- ")
            ]
    used: dict[str, int] = defaultdict(int)
    messages = []
    for intent in STOCK_INTENTS:
        choices = examples.get(intent)
        if not choices:
            raise ValueError(f"the stock bot's data/nlu.yml has no examples of {intent!r}")
        messages.append(choices[used[intent] % len(choices)])
        used[intent] += 1
    return messages


class Script:
    """One simulated conversation: `next(reply)` is the next message to send (None: done),
    given the reply to the last one."""

    def __init__(self, messages: list[str]) -> None:
        self._messages: Iterator[str] = iter(messages)

    def next(self, reply: dict[str, Any] | None) -> str | None:
        return next(self._messages, None)


class Referral(Script):
    """A referral answered question by question: the service names the question waiting for an
    answer (`asking`), and the referrer answers it; at most TURNS messages, the opening included.
    `asked` keeps the ids of the questions asked (never an answer)."""

    def __init__(self, answers: dict[str, str], turns: int = TURNS) -> None:
        super().__init__([])
        self.answers = answers
        self.turns = turns
        self.sent = 0
        self.asked: list[str | None] = []

    def next(self, reply: dict[str, Any] | None) -> str | None:
        if self.sent >= self.turns:
            return None
        self.sent += 1
        if reply is None:
            return REFERRAL_OPENING
        asking = reply.get("asking")
        self.asked.append(asking)
        if asking is None:
            return START_AGAIN
        if asking == "$summary":
            return "yes, that's all correct"
        return self.answers.get(asking, DONT_KNOW)

"""End-to-end personas: held-out referrers talk to the assistant the way people do, and the outcome
(stored on the register with the right register and rating, or refused with nothing stored) is
checked. Each persona is a YAML file in tests/e2e/personas/:

    name: llr_school_nurse_mandatory_amber   # informative; the file name is the test id
    variant: llr                  # llr | tees_valley | west_sussex: picks the stack fixture
    about: one line: who refers whom, and why this persona exists
    born: 2014-06-14              # the person's date of birth, as written in the answers
    age: 12                       # their age on that date; the test fails if it has drifted
    opening: "hi im the school nurse ..."   # the first message; it may answer several questions
    answers:                      # linkId -> what the persona types when the assistant asks it
      referrer_kind: health - I'm a school nurse
      consent_date: [last thursday, 26/11/2026]   # a list: used in turn if asked again
    at_summary:                   # optional; sent in turn from the first time `asking` is
      - actually the date of birth is wrong       # "$summary", whatever is asked meanwhile
      - 03/04/2012                # (default: ["yes, send it"])
      - that's all correct, send it
    expect:
      outcome: stored             # stored | refused
      register: DSR               # stored: DSR | ROAR
      rag: amber                  # stored: amber | red | green | blue | null (unrated)
      age_group: cyp              # stored: cyp | adult
      referral_source: professional   # stored: professional | self
      max_messages: 20            # stored: most messages the referrer may send, opening included
      says: [learning difficult, [LLR, Leicester]]   # the final reply must contain each entry
                                  # (case-insensitive; a list entry means any one of them);
                                  # refused: nothing new on the register and no reference
    A stored referral is confirmed from the link emailed to the referrer, as they would; where
    it then waits for the DSR admin lead, the test accepts it as the admin lead would.

A question the persona has no answer for fails the test with the transcript, so does a question
asked more than 3 times in a row (more if the persona's answer is a longer list, as for invitees),
a reply that shows a source document's code (001, 003 ...) and a conversation over 80 messages.
"""

import json
import os
import re
import time
from datetime import date
from pathlib import Path
from typing import Any, NoReturn

import httpx
import pytest
import yaml

# Not imported from tests.e2e (textstat installs a top-level `tests` package in the backend env):
# the stack fixtures of conftest.py.
Stack = Any

PERSONAS = sorted((Path(__file__).parent / "personas").glob("*.yml"))
FIXTURES = {"llr": "stack", "tees_valley": "tees_valley_stack", "west_sussex": "west_sussex_stack"}
REFERENCE = re.compile(r"REF-[A-Z0-9]{4}-[A-Z0-9]{4}")
# The chat never names a register entry: it would tell anyone who is on the register.
DSP_ID = re.compile(r"DSP-[A-Z0-9]{4}-[A-Z0-9]{4}")
DOCUMENT_CODE = re.compile(r"\b00[0-4]\b")
MAX_MESSAGES = 80
MAX_REPEATS = 3
SUMMARY = "$summary"


def age_on(born: date, day: date) -> int:
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def moved_on(persona: dict[str, Any], born: date, years: int) -> dict[str, Any]:
    """The persona as written on 2026-11-29, with its year of birth moved on by `years`, so that
    each person keeps the age they were written with (4-digit and dd/mm/yy years)."""
    if years <= 0:
        return persona
    year = born.year

    def move(text: Any) -> Any:
        if isinstance(text, list):
            return [move(t) for t in text]
        if not isinstance(text, str):
            return text
        text = re.sub(rf"\b{year}\b", str(year + years), text)
        return re.sub(
            rf"(\d{{1,2}}[/.-]\d{{1,2}}[/.-]){year % 100:02d}\b",
            lambda m: f"{m[1]}{(year + years) % 100:02d}",
            text,
        )

    answers = {k: move(v) for k, v in (persona.get("answers") or {}).items()}
    return {**persona, "answers": answers, "at_summary": move(persona.get("at_summary") or [])}


class Conversation:
    """One persona's chat: what each side said, and how many messages the referrer sent."""

    def __init__(self, chat: httpx.Client, name: str) -> None:
        self.chat = chat
        self.name = name
        self.transcript: list[str] = []
        self.sent = 0

    def fail(self, why: str) -> NoReturn:
        transcript = "\n".join(self.transcript)
        pytest.fail(f"persona {self.name} {why}\n--- transcript ---\n{transcript}")

    def say(self, message: str) -> dict[str, Any]:
        if self.sent >= MAX_MESSAGES:
            self.fail(f"is still talking after {MAX_MESSAGES} messages")
        self.sent += 1
        self.transcript.append(f"> {message}")
        response = self.chat.post("/chat", json={"message": message})
        deadline = time.monotonic() + 90
        while response.status_code == 429 and time.monotonic() < deadline:
            time.sleep(3)  # /chat limits messages per minute; people type more slowly
            response = self.chat.post("/chat", json={"message": message})
        if response.status_code != 200:
            self.fail(f"got {response.status_code} from /chat: {response.text}")
        reply = dict(response.json())
        text = "\n".join(m.get("text") or "" for m in reply.get("messages", []))
        buttons = [
            b.get("title", "") for m in reply.get("messages", []) for b in m.get("buttons") or []
        ]
        reply["text"] = text
        self.transcript.append(f"< [{reply.get('asking')}] {text}")
        if buttons:
            self.transcript.append(f"  buttons: {buttons}")
        if code := DOCUMENT_CODE.search(" ".join([text, *buttons])):
            self.fail(f"was shown the source document code {code[0]!r}")
        if DSP_ID.search(text):
            self.fail("was shown a register entry's dsp_id in the chat")
        return reply


def converse(conversation: Conversation, persona: dict[str, Any]) -> dict[str, Any]:
    """Plays the persona until the referral is received (a reference) or the assistant stops."""
    answers: dict[str, Any] = persona.get("answers") or {}
    at_summary = list(persona.get("at_summary") or ["yes, send it"])
    times_used: dict[str, int] = {}
    at_the_summary = False
    previous, in_a_row = None, 0
    reply = conversation.say(persona["opening"])
    while not REFERENCE.search(reply["text"]) and reply.get("asking") is not None:
        asking = reply["asking"]
        in_a_row = in_a_row + 1 if asking == previous else 1
        previous = asking
        at_the_summary = at_the_summary or asking == SUMMARY
        if at_the_summary and at_summary:
            message = at_summary.pop(0)
        elif asking == SUMMARY:
            conversation.fail("is shown the summary again and has nothing more to say")
        elif asking not in answers:
            conversation.fail(f"has no answer for question {asking!r}")
        else:
            given = answers[asking]
            turns = given if isinstance(given, list) else [given]
            if in_a_row > max(MAX_REPEATS, len(turns)):
                conversation.fail(f"was asked {asking!r} {in_a_row} times in a row: not understood")
            message = turns[min(times_used.get(asking, 0), len(turns) - 1)]
            times_used[asking] = times_used.get(asking, 0) + 1
        reply = conversation.say(message)
    return reply


# What a person types that identifies someone: never in any log line of any process.
IDENTIFYING = (
    "person_name",
    "nhs_number",
    "date_of_birth",
    "postcode",
    "referrer_email",
    "referrer_phone",
    "self_contact",
)


def nothing_typed_in_the_logs(
    conversation: Conversation, stack: Stack, persona: dict[str, Any]
) -> None:
    answers = persona.get("answers") or {}
    needles: set[str] = set()
    for link_id in IDENTIFYING:
        given = answers.get(link_id) or []
        for text in given if isinstance(given, list) else [given]:
            digits = re.sub(r"\D", "", text)
            if len(digits) >= 10:
                needles.add(digits)  # an NHS or phone number, however it was grouped
            # Emails, postcodes, dates: tokens with a digit or an @ in them.
            needles |= {t for t in re.findall(r"[\w@.'-]{5,}", text) if not t.isalpha()}
            if link_id == "person_name":
                needles |= set(re.findall(r"\b[A-Z][a-z]{3,}\b", text))
            for outward, inward in re.findall(
                r"\b([A-Za-z]{1,2}\d[A-Za-z\d]?)\s*(\d[A-Za-z]{2})\b", text
            ):
                needles |= {f"{outward} {inward}".upper(), f"{outward}{inward}".upper()}
    born = date.fromisoformat(str(persona["born"]))
    needles |= {born.isoformat(), born.strftime("%d/%m/%Y")}
    logs = sorted((Path(stack.env["DSP_VAR_DIR"]) / "log").glob("*.log"))
    for log in logs:
        content = log.read_text(errors="replace")
        # Digits squeezed line by line: a number however it was grouped, never a run of digits
        # that timestamps on different lines happen to make together.
        squeezed = [re.sub(r"\D", "", line) for line in content.splitlines()]
        for needle in needles:
            if needle.isdigit() and len(needle) >= 10:
                found = any(needle in line for line in squeezed)
            elif needle.isdigit():  # a part of a number ("01572"): as a number of its own
                found = re.search(rf"(?<!\d){needle}(?!\d)", content) is not None
            elif any(c.isdigit() for c in needle):  # postcodes and the like, in any case
                found = needle.upper() in content.upper()
            else:
                found = needle in content
            if found:
                conversation.fail(f"typed {needle!r} and it is in {log.name}")


def register(stack: Stack) -> list[dict[str, Any]]:
    headers = {"Authorization": f"Bearer {stack.token('dsr_admin')}"}
    response = httpx.get(f"{stack.url}/api/v1/register", headers=headers, timeout=30)
    response.raise_for_status()
    return list(response.json())


def check_says(conversation: Conversation, text: str, says: list[Any]) -> None:
    for needle in says:
        options = needle if isinstance(needle, list) else [needle]
        if not any(str(option).lower() in text.lower() for option in options):
            conversation.fail(f"was not told {' or '.join(map(repr, options))}")


def play(path: Path, request: pytest.FixtureRequest, played: list[Conversation]) -> None:
    persona = yaml.safe_load(path.read_text())
    name, expect = persona.get("name", path.stem), persona["expect"]
    born, age = date.fromisoformat(str(persona["born"])), persona["age"]
    persona = moved_on(persona, born, age_on(born, date.today()) - age)
    said = [persona["opening"], *(persona.get("at_summary") or [])]
    for given in (persona.get("answers") or {}).values():
        said += given if isinstance(given, list) else [given]
    for text in said:  # YAML reads a bare no, yes or 4505577104 as a boolean or a number
        assert isinstance(text, str), f"{path.name}: quote {text!r}, people type text"
    stack = request.getfixturevalue(FIXTURES[persona["variant"]])
    before = register(stack)
    with stack.chat() as chat:
        conversation = Conversation(chat, name)
        played.append(conversation)
        reply = converse(conversation, persona)
    reference = REFERENCE.search(reply["text"])
    nothing_typed_in_the_logs(conversation, stack, persona)

    if expect["outcome"] == "refused":
        if reference:
            conversation.fail(f"expected a refusal, but the referral was sent as {reference[0]}")
        check_says(conversation, reply["text"], expect.get("says") or [])
        if len(register(stack)) != len(before):
            conversation.fail("expected a refusal, but the register has a new entry")
        return

    assert expect["outcome"] == "stored", f"{path.name}: unknown outcome {expect['outcome']!r}"
    if not reference:
        conversation.fail("expected a stored referral, but was given no REF-XXXX-XXXX reference")
    check_says(conversation, reply["text"], expect.get("says") or [])
    # The referral counts once it is confirmed: from the email, as the referrer would; where
    # that cannot settle it (an address not accepted at once, or only a phone number given), the
    # DSR admin lead accepts it.
    emailed = any(reference[0] in str(m["Subject"]) for m in stack.mailbox.messages) or (
        "email" in reply["text"].lower()
    )
    page = stack.confirm(reference[0]) if emailed else ""
    if not emailed or "DSR admin lead will check" in page:
        stack.accept(reference[0])
    known = {e["dsp_id"] for e in before}
    entries = [e for e in register(stack) if e["dsp_id"] not in known]
    if len(entries) != 1:
        conversation.fail(f"confirmed {reference[0]}, and {len(entries)} new register entries")
    entry = entries[0]
    for field in ("register", "rag", "age_group", "referral_source"):
        if field not in expect:
            continue
        wanted, got = expect[field], entry.get(field)
        unrated = wanted is None and got in (None, "unrated")
        if not unrated and got != wanted:
            conversation.fail(
                f"expected {field} {wanted!r} on the register, found {got!r}: {entry}"
            )
    if conversation.sent > expect["max_messages"]:
        conversation.fail(
            f"took {conversation.sent} messages to refer, expected at most {expect['max_messages']}"
        )


@pytest.mark.e2e
@pytest.mark.parametrize("path", PERSONAS, ids=[path.stem for path in PERSONAS])
def test_persona(path: Path, request: pytest.FixtureRequest) -> None:
    """Plays one persona; with DSP_PERSONA_REPORT set, adds its outcome to that JSON-lines file
    (`make eval` turns it into reports/personas.md)."""
    played: list[Conversation] = []
    completed = False
    try:
        play(path, request, played)
        completed = True
    finally:
        report = os.environ.get("DSP_PERSONA_REPORT")
        if report:
            persona = yaml.safe_load(path.read_text())
            line = {
                "persona": path.stem,
                "variant": persona["variant"],
                "expected": persona["expect"]["outcome"],
                "completed": completed,
                "messages": played[0].sent if played else None,
                "max_messages": persona["expect"].get("max_messages"),
            }
            with open(report, "a", encoding="utf-8") as out:
                out.write(json.dumps(line) + "\n")

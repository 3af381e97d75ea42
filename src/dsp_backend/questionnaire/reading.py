"""Reading answers as people type them: pure functions, no rules of the pathway.

"no, he has never been in hospital", "his mum", "she's 14", "Derby (placed there by
Leicestershire County Council)", "Jo Bloggs, social worker, jo@x.gov.uk": each reader finds what
was said, knows a negation from an answer, tolerates a typo, and says None where it cannot tell
rather than guess.
"""

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from difflib import SequenceMatcher
from typing import Final

# Words that turn the phrase after them around ("not autism", "hasn't been in hospital").
NEGATIONS: Final = frozenset(
    [
        "not",
        "no",
        "never",
        "isnt",
        "isn't",
        "hasnt",
        "hasn't",
        "doesnt",
        "doesn't",
        "dont",
        "don't",
        "didnt",
        "didn't",
        "arent",
        "aren't",
        "wasnt",
        "wasn't",
        "without",
        "nor",
        "neither",
        "cannot",
        "cant",
        "can't",
        "wont",
        "won't",
    ]
)
# Words that carry an option only when they are (nearly) the whole answer.
WEAK: Final = frozenset({"no", "none", "never", "nope", "nothing", "neither", "him", "her", "me"})
_UNSURE: Final = (
    "not sure",
    "dont know",
    "do not know",
    "no idea",
    "unsure",
    "not certain",
    "cant say",
    "cannot say",
    "not known",
)
_YES_START: Final = frozenset(
    [
        "yes",
        "y",
        "yeah",
        "yea",
        "yep",
        "yup",
        "ye",
        "yes,",
        "yess",
        "ys",
        "aye",
        "correct",
        "right",
        "sure",
        "ok",
        "okay",
        "true",
        "definitely",
        "absolutely",
        "indeed",
        "confirmed",
        "affirmative",
        "agreed",
    ]
)
_YES_PHRASES: Final = (
    "of course",
    "i think so",
    "that's right",
    "thats right",
    "he is",
    "she is",
    "they are",
    "it is",
    "he does",
    "she does",
    "they do",
    "he has",
    "she has",
    "they have",
    "we have",
    "i have",
    "there is",
    "go ahead",
    "please do",
)
_NO_START: Final = frozenset(["no", "n", "nope", "nah", "na", "not", "never", "none", "negative"])
_NO_PHRASES: Final = (
    "i don't think so",
    "i dont think so",
    "not at the moment",
    "not at all",
    "not really",
    "isnt",
    "isn't",
    "is not",
    "arent",
    "aren't",
    "are not",
    "hasnt",
    "hasn't",
    "has not",
    "doesnt",
    "doesn't",
    "does not",
    "havent",
    "haven't",
    "have not",
    "wasnt",
    "wasn't",
    "was not",
    "never",
    "lack",
    "lacks",
    "lacking",
)


def normalise(text: str) -> str:
    """Lower case, apostrophes kept, other punctuation as spaces, single spaces."""
    lowered = text.lower().replace("\u2019", "'")
    return " ".join(re.sub(r"[^\w'@.+-]+", " ", lowered).replace(".", " ").split())


def words_of(text: str) -> list[str]:
    return normalise(text).split()


def _similar(a: str, b: str) -> bool:
    """A typo of the same word: long words only, so short words are never confused."""
    return len(a) >= 5 and len(b) >= 5 and SequenceMatcher(None, a, b).ratio() >= 0.85


def _same_word(token: str, word: str) -> bool:
    """The same word, or its longer form ("sleep" in "sleeping", "aggress" in "aggressive")."""
    return token == word or (
        len(word) >= 4 and token.startswith(word) and len(token) - len(word) <= 4
    )


def is_unsure(text: str) -> bool:
    said = normalise(text).replace("'", "")
    return any(phrase in said for phrase in _UNSURE)


def read_boolean(text: str) -> bool | None:
    """Yes, no, or None when the answer is neither or unsure (never a guess)."""
    said = normalise(text)
    if not said or is_unsure(said):
        return None
    tokens = said.split()
    if tokens[0] in _YES_START:
        return True
    if tokens[0] in _NO_START:
        return False
    padded = f" {said} "
    if any(f" {phrase} " in padded for phrase in _NO_PHRASES):
        return False
    if any(f" {phrase} " in padded for phrase in _YES_PHRASES):
        return True
    return None


_LACK: Final = frozenset({"lack", "lacks", "lacking", "lacked"})
_HAVE: Final = frozenset({"has", "have", "had", "got", "with", "does", "do", "did", "shows"})


def read_capacity(text: str) -> bool | None:
    """Whether the text says the person has capacity for the decision ("she has capacity",
    "he lacks capacity", "doesn't have capacity"); None where it says neither. A "capacity
    assessment" on its own says nothing either way."""
    tokens = [t.replace("'", "") for t in words_of(text)]
    said: bool | None = None
    for index, token in enumerate(tokens):
        if token != "capacity" or tokens[index + 1 : index + 2] == ["assessment"]:
            continue
        before = tokens[max(0, index - 4) : index]
        if any(t in NEGATIONS or t in _LACK for t in before):
            return False
        if any(t in _HAVE for t in before):
            said = True
    return said


def remainder_after_yes_no(text: str) -> str:
    """What follows "yes," or "no -" in an answer: the details it gives."""
    return re.sub(
        r"^\s*(yes|yeah|yep|yup|no|nope|correct|confirmed|they do|he does|she does|they have|"
        r"he has|she has|it is)\b[\s,.:;!-]*",
        "",
        text.strip(),
        flags=re.IGNORECASE,
    ).strip()


@dataclass(frozen=True)
class Choice:
    """An option and the phrases that name it."""

    code: str
    phrases: Sequence[str]


@dataclass(frozen=True)
class Found:
    code: str
    start: int
    length: int
    weak: bool


def find_choices(text: str, choices: Iterable[Choice]) -> list[Found]:
    """Every option named in the text, longest phrase first, each word used once; an option after
    a negation ("not autism") is left out unless its phrase is itself negative ("never been in
    hospital"). A typo of a long word still counts."""
    tokens = [t.replace("'", "") for t in words_of(text)]
    taken = [False] * len(tokens)
    candidates = sorted(
        ((c.code, [w.replace("'", "") for w in words_of(p)]) for c in choices for p in c.phrases),
        key=lambda item: -len(item[1]),
    )
    found: list[Found] = []
    for code, phrase in candidates:
        size = len(phrase)
        for start in range(len(tokens) - size + 1):
            window = tokens[start : start + size]
            if any(taken[start : start + size]):
                continue
            if not all(_same_word(t, w) for t, w in zip(window, phrase, strict=True)) and not (
                size == 1 and _similar(window[0], phrase[0]) and window[0] not in NEGATIONS
            ):
                continue
            negative_phrase = phrase[0] in NEGATIONS or phrase[0] in WEAK
            before = tokens[max(0, start - 3) : start]
            if not negative_phrase and any(t in NEGATIONS for t in before):
                continue
            for index in range(start, start + size):
                taken[index] = True
            found.append(Found(code, start, size, size == 1 and phrase[0] in WEAK))
    return sorted(found, key=lambda f: f.start)


def chosen(text: str, choices: Iterable[Choice]) -> list[str]:
    """The options named, in order, without repeats; weak words ("no", "none") count only when
    nothing stronger was said, and a decisive phrase (written "!years ago" in the options'
    words) settles a conflict ("discharged three years ago" is not a recent discharge)."""
    choices = list(choices)
    decisive = [Choice(c.code, [p[1:] for p in c.phrases if p.startswith("!")]) for c in choices]
    plain = [Choice(c.code, [p.lstrip("!") for p in c.phrases]) for c in choices]
    found = find_choices(text, plain)
    strong = [f for f in found if not f.weak]
    kept = list(dict.fromkeys(f.code for f in (strong or found)))
    if len(kept) > 1:
        settled = list(dict.fromkeys(f.code for f in find_choices(text, decisive)))
        if len(settled) == 1:
            return settled
    return kept


_MONTHS: Final = {
    name: number
    for number, names in enumerate(
        [
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ],
        start=1,
    )
    for name in names
}
_WEEKDAYS: Final = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_NUMBER_WORDS: Final = {
    word: number
    for number, word in enumerate(
        [
            "zero",
            "one",
            "two",
            "three",
            "four",
            "five",
            "six",
            "seven",
            "eight",
            "nine",
            "ten",
            "eleven",
            "twelve",
            "thirteen",
            "fourteen",
            "fifteen",
            "sixteen",
            "seventeen",
            "eighteen",
            "nineteen",
            "twenty",
        ]
    )
}


class NotADate(ValueError):
    """str(error) says in plain English what to type instead."""


_DAY_MONTH = re.compile(r"\b(\d{1,2})(?:st|nd|rd|th)?(?: of)? ([a-z]+)(?:,? (\d{4}))?\b")
_MONTH_DAY = re.compile(r"\b([a-z]+) (\d{1,2})(?:st|nd|rd|th)?(?:,? (\d{4}))?\b")


def _words_date(said: str) -> tuple[int | None, int, int] | None:
    """ "3rd october 2017", "october 3 2017": the first day and month named in words."""
    for match in _DAY_MONTH.finditer(said):
        if month := _MONTHS.get(match[2]):
            return (int(match[3]) if match[3] else None, month, int(match[1]))
    for match in _MONTH_DAY.finditer(said):
        if month := _MONTHS.get(match[1]):
            return (int(match[3]) if match[3] else None, month, int(match[2]))
    return None


def read_date(text: str, today: date, *, year_needed: bool = True) -> date | None:
    """A date as people type it, or None where there is none; raises NotADate for one that
    cannot exist or lacks what is needed."""
    said = " ".join(re.sub(r"[^\w/.'-]+", " ", text.lower()).split())
    said = re.sub(r"\s*([/-])\s*", r"\1", said).rstrip(".")
    relative = {"today": 0, "this morning": 0, "this afternoon": 0, "yesterday": 1}
    for phrase, days in relative.items():
        if re.search(rf"\b{phrase}\b", said):
            return today - timedelta(days=days)
    if match := re.search(r"\b(\d{1,2}|a|one|two|three|four|five|six) (day|week)s? ago\b", said):
        count = 1 if match[1] in ("a", "one") else _NUMBER_WORDS.get(match[1]) or int(match[1])
        return today - timedelta(days=count * (7 if match[2] == "week" else 1))
    if match := re.search(rf"\b(?:last|on) ({'|'.join(_WEEKDAYS)})\b", said):
        back = (today.weekday() - _WEEKDAYS.index(match[1])) % 7 or 7
        return today - timedelta(days=back)
    if "last week" in said:
        return today - timedelta(days=7)
    parts: tuple[int | None, int, int] | None = None
    if match := re.search(r"\b(\d{4})-(\d{1,2})-(\d{1,2})\b", said):
        parts = (int(match[1]), int(match[2]), int(match[3]))
    elif match := re.search(r"\b(\d{1,2})[/.-](\d{1,2})(?:[/.-](\d{2,4}))?\b", said):
        year = match[3]
        if year is not None and len(year) == 2:
            # "03/04/12": a two-digit year is read as the most recent such year, never the future.
            full = 2000 + int(year)
            year = str(full if full <= today.year else full - 100)
        parts = (int(year) if year else None, int(match[2]), int(match[1]))
    else:
        parts = _words_date(said)
    if parts is None:
        return None
    year, month, day = parts
    if year is None:
        if year_needed:
            raise NotADate("Please give the year too, for example 14/03/2011.")
        year = today.year
    try:
        found = date(year, month, day)
    except ValueError as error:
        raise NotADate("That date does not exist: please check the day and the month.") from error
    if parts[0] is None and found > today:
        found = found.replace(year=year - 1)
    return found


def read_age(text: str) -> int | None:
    """ "14", "she's 14", "aged 17 and a half", "fourteen years old"; None when no age is given."""
    said = normalise(text)
    match = re.search(
        r"(?:^|\b(?:is|s|aged|age|turned|turning)\s)(\d{1,3})\b|\b(\d{1,3})\s*(?:years?|yrs?|yo)\b",
        said.replace("'", " "),
    )
    if match:
        return int(match[1] or match[2])
    if re.fullmatch(r"\d{1,3}", said):
        return int(said)
    for word, number in _NUMBER_WORDS.items():
        if re.search(rf"\b{word}\b(?: years?| yrs?)?", said) and (
            said == word or re.search(rf"\b(?:is|s|aged|age) {word}\b|\b{word} years?\b", said)
        ):
            return number
    return None


# Shapes to find an answer inside a sentence ("it's LE1 6TH I think").
_DIGITS: Final = re.compile(r"\d(?:[\d\s-]*\d)?")
_POSTCODE: Final = re.compile(r"\b([A-Za-z]{1,2}\d[A-Za-z\d]?)\s*(\d[A-Za-z]{2})\b")
_EMAIL: Final = re.compile(r"[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
_PHONE: Final = re.compile(r"(?:\+\d[\d\s().-]{7,18}\d|\b0[\d\s().-]{8,14}\d)")


def find_nhs_number(text: str) -> str | None:
    runs = [re.sub(r"[\s-]", "", run) for run in _DIGITS.findall(text)]
    runs = [run for run in runs if len(run) >= 6]
    return max(runs, key=len) if runs else None


def find_postcode(text: str) -> str | None:
    match = _POSTCODE.search(text)
    return f"{match[1]} {match[2]}".upper() if match else None


def find_email(text: str) -> str | None:
    match = _EMAIL.search(text)
    return match[0] if match else None


def find_phone(text: str) -> str | None:
    match = _PHONE.search(text)
    return match[0].strip() if match else None


_NAME_LEADS: Final = re.compile(
    r"^\s*(?:(?:his|her|their|my|the)\s+(?:full\s+)?name\s+is|(?:he|she|they)(?:'s| is| are)"
    r"\s+called|(?:it's|its|it is|i'm|im|i am|this is|name:?|called)\b)\s*",
    re.IGNORECASE,
)
_TITLES: Final = frozenset(["mr", "mrs", "ms", "miss", "mx", "master"])


def read_name(text: str) -> tuple[str, str] | None:
    """Given and family name from "her name is amy jones" or "Amy Jones, 14"; None unless both."""
    first_part = re.split(r"[,;(\n]| - ", _NAME_LEADS.sub("", text.strip()), maxsplit=1)[0]
    tokens = [t for t in first_part.split() if re.fullmatch(r"[A-Za-z][A-Za-z'.-]*", t)]
    tokens = [t for t in tokens if t.lower().strip(".") not in _TITLES]
    if len(tokens) < 2 or len(tokens) > 5:
        return None
    if all(t == t.lower() for t in tokens):
        tokens = [t[:1].upper() + t[1:] for t in tokens]
    return " ".join(tokens[:-1]), tokens[-1]


@dataclass(frozen=True)
class Contact:
    """A person as people write one: "Dr Ann Lee, psychiatrist, ann.lee@nhs.net, 0116 225 5000"."""

    name: str | None
    role: str | None
    organisation: str | None
    email: str | None
    phone: str | None


def read_contact(text: str) -> Contact:
    email, phone = find_email(text), find_phone(text)
    rest = text
    if email:
        rest = rest.replace(email, ",")
    if phone:
        rest = rest.replace(phone, ",")
    rest = _NAME_LEADS.sub("", remainder_after_yes_no(rest.strip()))
    rest = re.sub(r"^(?:and|also|plus)\b\s*", "", rest, flags=re.I)
    parts = [p.strip(" -.:") for p in re.split(r"[,;\n(]|\)|\s+-\s+", rest)]
    parts = [re.sub(r"^(?:a|an|the|i'm|i am|and)\s+", "", p, flags=re.I) for p in parts]
    parts = [p for p in parts if p and not re.fullmatch(r"(?:email|phone|tel|mobile)\W*", p, re.I)]
    name = parts[0] if parts else None
    role = parts[1] if len(parts) > 1 else None
    if role is None and name:
        # "Amy Briggs from early help": the name, then what they do.
        split = re.split(r"\s+(?:from|of|with)\s+", name, maxsplit=1)
        if len(split) == 2:
            name, role = split
    organisation = parts[2] if len(parts) > 2 else None
    if role and organisation is None:
        at = re.split(r"\s+(?:at|with|for|from)\s+", role, maxsplit=1)
        if len(at) == 2:
            role, organisation = at
    return Contact(name, role, organisation, email, phone)


def read_people(text: str) -> list[Contact]:
    """Several people in one message: one per line or ';', or one per email address."""
    pieces = [p for p in re.split(r"[;\n]", text) if p.strip()]
    people: list[Contact] = []
    for piece in pieces:
        emails = list(_EMAIL.finditer(piece))
        if len(emails) <= 1:
            people.append(read_contact(piece))
            continue
        # Each person ends after their email and the phone that follows it, if any.
        start = 0
        for index, match in enumerate(emails):
            end = emails[index + 1].start() if index + 1 < len(emails) else len(piece)
            chunk = piece[start:end]
            tail = _PHONE.search(piece, match.end(), end)
            cut = tail.end() if tail and index + 1 < len(emails) else end
            if index + 1 < len(emails):
                chunk = piece[start:cut]
                # Whatever lies between this person's end and the next email is the next name.
                start = cut
            people.append(read_contact(re.sub(r"^\s*(?:and|,)\s*", "", chunk)))
    return [p for p in people if p.name or p.email]


def read_numbers(text: str, count: int) -> list[int] | None:
    """ "1 and 3", "2,3", "the first one", "both", "all of them": 1-based positions among
    `count` shown; None where the text names no position."""
    said = normalise(text)
    if re.search(r"\b(all|both|every|each|those are right|all of them|all three)\b", said):
        return list(range(1, count + 1))
    ordinals = {"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "last": count}
    picked = [ordinals[w] for w in said.split() if w in ordinals]
    picked += [int(n) for n in re.findall(r"\b(\d{1,2})\b", said)]
    picked = [n for n in picked if 1 <= n <= count]
    return sorted(set(picked)) or None

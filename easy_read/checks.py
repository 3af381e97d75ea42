"""Easy-read checks: each returns what breaks the rule, so an empty result means it holds.

Rules (the issue's part 2): sentences of at most 15 words and at most 10 on average over a
topic; one idea per sentence; digits for numbers; every glossary term explained in the answer
that uses it, before or where it is first used; a Flesch reading ease of at least 80 a topic.

Needs textstat, so it runs in the backend environment (tests/easy_read), not in the bot's.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from functools import cache

import pyphen
import textstat

from easy_read.content import Term

MAX_WORDS = 15
MAX_MEAN_WORDS = 10
MIN_READING_EASE = 80

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_WORD = re.compile(r"[^\s.,!?]+")

# One idea per sentence, by a stated heuristic: a sentence may join two parts with one
# of these words ("It is for children and adults."), but two of them make a third part.
JOINERS = frozenset(
    [
        "and",
        "but",
        "or",
        "because",
        "so",
        "although",
        "though",
        "while",
        "whilst",
        "whereas",
        "unless",
        "however",
        "which",
    ]
)
# Punctuation that starts a second idea inside a sentence.
SECOND_IDEA_MARKS = (";", ":", "(", " - ", "–", "—")

# Numbers are written in digits ("2 lists", "116 123"). Ordinals past "first" count too;
# "first" stays because it is mostly an adverb ("will talk to you first").
NUMBER_WORDS = re.compile(
    r"\b(zero|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|"
    r"fourteen|fifteen|sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|"
    r"seventy|eighty|ninety|hundred|thousand|million|dozen|twice|second|third|fourth|fifth|"
    r"sixth|seventh|eighth|ninth|tenth)\b",
    re.IGNORECASE,
)


def sentences(message: str) -> list[str]:
    return [s for s in _SENTENCE_END.split(message.strip()) if s]


def words(sentence: str) -> list[str]:
    return _WORD.findall(sentence)


def _all_sentences(messages: Sequence[str]) -> list[str]:
    return [s for message in messages for s in sentences(message)]


def long_sentences(messages: Sequence[str], limit: int = MAX_WORDS) -> list[str]:
    return [s for s in _all_sentences(messages) if len(words(s)) > limit]


def mean_words(messages: Sequence[str]) -> float:
    found = _all_sentences(messages)
    return sum(len(words(s)) for s in found) / len(found) if found else 0.0


def second_ideas(messages: Sequence[str]) -> list[str]:
    """Sentences that seem to hold more than one idea, each with the reason."""
    found = []
    for sentence in _all_sentences(messages):
        joiners = [w for w in words(sentence.lower()) if w in JOINERS]
        marks = [m for m in SECOND_IDEA_MARKS if m in sentence]
        if len(joiners) > 1 or marks:
            found.append(f"{sentence} ({', '.join(joiners + marks)})")
    return found


def number_words(messages: Sequence[str]) -> list[str]:
    return [m.group(0) for message in messages for m in NUMBER_WORDS.finditer(message)]


def unexplained_terms(messages: Sequence[str], glossary: Mapping[str, Term]) -> list[str]:
    """Terms used in an answer whose explanation is missing or comes after the first use."""
    found = []
    for term in glossary.values():
        uses = [i for i, message in enumerate(messages) if term.pattern.search(message)]
        if not uses:
            continue
        size = len(term.explanation)
        starts = [
            i
            for i in range(len(messages) - size + 1)
            if tuple(messages[i : i + size]) == term.explanation
        ]
        if not starts or starts[0] > uses[0]:
            found.append(term.term)
    return found


@cache
def _hyphenator() -> pyphen.Pyphen:
    return pyphen.Pyphen(lang="en_GB")


_VOWEL_GROUPS = re.compile(r"[aeiouy]+")
_SILENT_ENDING = re.compile(r"(?<=[^aeiouy])(?:(?<!l)e|(?<![lst])es|(?<![td])ed)$")


def syllables(word: str) -> int:
    """Syllables the way textstat counts them with the CMU pronouncing dictionary.

    Ordinary words: their spoken syllables, estimated as vowel groups less a silent ending
    (or pyphen's British hyphenation if that finds more). Tokens the dictionary lacks, such as
    initialisms ("ICB") and numbers ("999"), go to pyphen as textstat's own fallback does.
    """
    token = re.sub(r"[^A-Za-z0-9]", "", word)
    if not token:
        return 0
    hyphenated = len(_hyphenator().positions(token.lower())) + 1
    if not token.isalpha() or (len(token) > 1 and token.isupper()):
        return hyphenated
    # A final "e", "es" or "ed" after a consonant is mostly silent ("lives", "asked"), but
    # not in "-le", "-ted" or "-ded" ("people", "created").
    spoken = _SILENT_ENDING.sub("", token.lower())
    return max(1, len(_VOWEL_GROUPS.findall(spoken)), hyphenated)


def reading_ease(messages: Sequence[str]) -> float:
    """Flesch reading ease: 206.835 - 1.015 words/sentence - 84.6 syllables/word.

    Words and sentences are counted by textstat. Syllables are counted here: the installed
    textstat (0.7.13) looks English words up in NLTK's CMU dictionary, which it downloads at
    run time, and this project's machines and CI have no network for that.
    """
    text = " ".join(messages)
    word_count = textstat.lexicon_count(text)
    sentence_count = max(1, textstat.sentence_count(text))
    syllable_count = sum(syllables(word) for word in words(text))
    return 206.835 - 1.015 * word_count / sentence_count - 84.6 * syllable_count / word_count


def problems(messages: Sequence[str], glossary: Mapping[str, Term]) -> list[str]:
    """Every way the messages break the easy-read rules above, named (empty when they pass)."""
    found = [f"long sentence: {s}" for s in long_sentences(messages)]
    if mean_words(messages) > MAX_MEAN_WORDS:
        found.append(f"mean sentence length {mean_words(messages):.1f} words")
    found += [f"second idea: {s}" for s in second_ideas(messages)]
    found += [f"number in words: {s}" for s in number_words(messages)]
    found += [f"unexplained term: {t}" for t in unexplained_terms(messages, glossary)]
    if reading_ease(messages) < MIN_READING_EASE:
        found.append(f"reading ease {reading_ease(messages):.0f}")
    return found

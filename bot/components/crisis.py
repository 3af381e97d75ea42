"""Rule-based crisis safety net: does a message tell of immediate danger to someone, now?

It runs beside the intent classifier (see crisis_detector.py), so that emergency routes never
depend on a trained model alone. Standard library and PyYAML only; the words, phrases and
contexts live in crisis_patterns.yml (the patterns in the files it names), and this module only
applies them:

1. Normalise: names become "xname", text is lower-cased, contractions are spelt out
   ("she's" -> "she s", "won't" -> "will not"), punctuation goes, known misspellings are
   corrected, a dropped g is put back ("chokin") and long distinctive words are matched with
   typo tolerance.
2. Split into clauses (sentences, and around "but"), so that a past event in one clause does
   not hide a present danger in the next.
3. A pattern match counts unless a negator comes just before it ("denies suicidal thoughts"),
   an idiom covers it, or (for patterns that do not speak in the present) the clause places
   it in the past ("overdose in 2019") or in a question or worry ("what happens if he
   overdoses", "he might hurt someone one day") with nothing that brings it back to now
   ("again tonight").
4. Some wordings are a danger only beside another sign anywhere in the message: "ran off" with
   "the railway line" or "he can't swim" (a pattern's `with`).

A miss costs more than a false alarm: where in doubt the patterns match.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

PATTERNS_FILE = Path(__file__).with_name("crisis_patterns.yml")

_MACRO = re.compile(r"\{([a-z_]+)\}")
_CLAUSE_BREAK = re.compile(r"[.!?;\n]+|\bbut\b|\bhowever\b")
_NOT_WORD = re.compile(r"[^a-z0-9]+")
_CAPITALISED = re.compile(r"\b[A-Z][a-z]+\b")


@dataclass(frozen=True)
class CrisisMatch:
    """Why a message was taken as a crisis: the pattern's category and id, and what matched."""

    category: str
    pattern: str
    matched: str


@dataclass(frozen=True)
class _Pattern:
    id: str
    category: str
    regex: re.Pattern[str]
    negatable: bool
    past_can_veto: bool
    needs_now: bool
    with_any: tuple[re.Pattern[str], ...]


def edit_distance(a: str, b: str) -> int:
    """Optimal string alignment distance: insertions, deletions, substitutions, swaps."""
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, 1):
        current = [i]
        for j, char_b in enumerate(b, 1):
            cost = min(
                previous[j] + 1,
                current[j - 1] + 1,
                previous[j - 1] + (char_a != char_b),
            )
            if i > 1 and j > 1 and char_a == b[j - 2] and a[i - 2] == char_b:
                cost = min(cost, previous2[j - 2] + 1)
            current.append(cost)
        previous2, previous = previous, current
    return previous[-1]


def _source(value: Any) -> str:
    """A regex from the YAML: a string, or a list of alternatives."""
    values = value if isinstance(value, list) else [value]
    if not values or not all(isinstance(v, str) for v in values):
        # An unquoted ": " in the YAML turns a regex into a mapping.
        raise ValueError(f"a crisis pattern must be text or a list of text: {value!r}")
    source = values[0] if len(values) == 1 else "|".join(f"(?:{v})" for v in values)
    if "  " in source or source != source.strip():
        # Folding a YAML line next to a space gives two spaces, which never match.
        raise ValueError(f"stray space in crisis pattern: {source!r}")
    return source


def _words(values: list[Any]) -> list[str]:
    """A list of plain words from the YAML, which reads a bare no, yes, on or off as true/false."""
    if not all(isinstance(v, str) for v in values):
        raise ValueError(f"quote every word in a crisis word list: {values!r}")
    return values


def _expand(source: str, macros: Mapping[str, str]) -> str:
    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        return f"(?:{macros[name]})" if name in macros else match.group(0)

    return _MACRO.sub(replace, source)


def _word_regex(source: str, macros: Mapping[str, str]) -> re.Pattern[str]:
    # Whole words only: "kill" must not match inside "skill".
    return re.compile(rf"(?<![a-z0-9])(?:{_expand(source, macros)})(?![a-z0-9])")


class CrisisRules:
    """Patterns from one YAML file, compiled once; `detect` is safe to call from any thread."""

    def __init__(self, config: Mapping[str, Any]) -> None:
        macros: dict[str, str] = {}
        for name, value in config["macros"].items():
            macros[name] = _expand(_source(value), macros)  # a macro may use earlier ones
        self._not_names = set(str(config["names"]["not_names"]).lower().split())
        self._contractions = [
            (re.compile(pattern), replacement)
            for pattern, replacement in config["contractions"].items()
        ]
        spelling = {str(k): str(v) for k, v in config["spelling"].items()}
        self._phrase_spelling = [
            (_word_regex(re.escape(k), {}), v) for k, v in spelling.items() if " " in k
        ]
        self._word_spelling = {k: v for k, v in spelling.items() if " " not in k}
        fuzzy = config["fuzzy"]
        self._fuzzy_targets = tuple(fuzzy["targets"])
        self._not_typos = frozenset(fuzzy["not_typos"])
        self._min_fuzzy_length = int(fuzzy["min_length"])
        self._long_word = int(fuzzy["two_edits_from_length"])
        contexts = config["contexts"]
        # A question about services or a worry about some day is, like the past, not now.
        self._past = [
            _word_regex(_source(p), macros) for p in [*contexts["past"], *contexts["hypothetical"]]
        ]
        self._now = [_word_regex(_source(p), macros) for p in contexts["now"]]
        self._idioms = [_word_regex(_source(p), macros) for p in contexts["idioms"]]
        self._negators = frozenset(_words(contexts["negators"]))
        self._negation_ends = frozenset(_words(contexts["negation_ends_at"]))
        self._negation_window = int(contexts["negation_window"])
        self._patterns = [self._pattern(p, macros) for p in config["patterns"]]
        # Words the patterns spell out are real words: never "correct" one into another
        # ("beating" is not a typo of "breathing").
        self._known_words = frozenset(
            word
            for regex in [
                *self._past,
                *self._now,
                *self._idioms,
                *(p.regex for p in self._patterns),
                *(sign for p in self._patterns for sign in p.with_any),
            ]
            for word in re.findall(r"(?<!\\)[a-z]{3,}", regex.pattern)
        )
        # Corrections are cached per detector: chat words repeat a lot.
        self._correct = lru_cache(maxsize=8192)(self._correct_word)

    @staticmethod
    def _pattern(config: Mapping[str, Any], macros: Mapping[str, str]) -> _Pattern:
        try:
            regex = _word_regex(_source(config["regex"]), macros)
        except (re.error, ValueError) as error:
            raise ValueError(f"crisis pattern {config['id']!r}: {error}") from error
        return _Pattern(
            id=str(config["id"]),
            category=str(config["category"]),
            regex=regex,
            negatable=bool(config.get("negatable", True)),
            past_can_veto=bool(config.get("past_can_veto", True)),
            needs_now=bool(config.get("needs_now", False)),
            with_any=tuple(_word_regex(_source(w), macros) for w in config.get("with", [])),
        )

    @classmethod
    def from_file(cls, path: Path = PATTERNS_FILE) -> CrisisRules:
        """The words and contexts in `path`, and the patterns of its `pattern_files` beside it."""
        config = yaml.safe_load(path.read_text("utf-8"))
        patterns = list(config.get("patterns") or [])
        for name in config.get("pattern_files", []):
            patterns += yaml.safe_load((path.parent / name).read_text("utf-8"))["patterns"]
        return cls({**config, "patterns": patterns})

    def _correct_word(self, word: str) -> str:
        if word in self._word_spelling:
            return self._word_spelling[word]
        if len(word) > 4 and word.endswith("in") and word + "g" in self._known_words:
            return word + "g"  # chat drops the g: "chokin", "missin"
        if (
            len(word) < self._min_fuzzy_length
            or word in self._not_typos
            or word in self._known_words
        ):
            return word
        best, best_distance = word, 3
        for target in self._fuzzy_targets:
            allowed = 2 if len(target) >= self._long_word else 1
            if abs(len(word) - len(target)) > allowed:
                continue
            distance = edit_distance(word, target)
            if distance <= allowed and distance < best_distance:
                best, best_distance = target, distance
        return best

    def _mark_names(self, text: str) -> str:
        # A capitalised word that is not a known ordinary word is taken for a person's name,
        # so that "Jake's on the bridge" reads like "he's on the bridge". Words the patterns
        # use ("Last", "Help") and spellings they correct ("Im") are ordinary words.
        def mark(match: re.Match[str]) -> str:
            word = match.group(0).lower()
            ordinary = word in self._not_names or word in self._known_words
            return match.group(0) if ordinary or word in self._word_spelling else "xname"

        return _CAPITALISED.sub(mark, text)

    def clauses(self, text: str) -> list[str]:
        """The message normalised and cut into clauses (exposed for tests and debugging)."""
        text = self._mark_names(text.replace("\u2019", "'").replace("\u2018", "'")).lower()
        for pattern, replacement in self._contractions:
            text = pattern.sub(replacement, text)
        found = []
        for raw in _CLAUSE_BREAK.split(text):
            words = [self._correct(w) for w in _NOT_WORD.sub(" ", raw).split()]
            clause = " ".join(words)
            for pattern, replacement in self._phrase_spelling:
                clause = pattern.sub(replacement, clause)
            if clause:
                found.append(clause)
        return found

    def _vetoed(self, pattern: _Pattern, clause: str, match: re.Match[str]) -> bool:
        now = any(n.search(clause) for n in self._now)
        if pattern.needs_now and not now:
            return True
        if pattern.negatable:
            before = clause[: match.start()].split()
            # "he has no meds and he is suicidal": a negation does not reach past "and".
            ends = [i for i, word in enumerate(before) if word in self._negation_ends]
            scope = before[ends[-1] + 1 :] if ends else before
            inside = match.group(0).split()
            if self._negators.intersection(scope[-self._negation_window :] + inside):
                return True
        span = range(match.start(), match.end())
        for idiom in self._idioms:
            for found in idiom.finditer(clause):
                if found.start() in span or match.start() in range(found.start(), found.end()):
                    return True
        return pattern.past_can_veto and not now and any(p.search(clause) for p in self._past)

    def detect(self, text: str) -> CrisisMatch | None:
        clauses = self.clauses(text)
        for index, clause in enumerate(clauses):
            for pattern in self._patterns:
                for match in pattern.regex.finditer(clause):
                    if self._vetoed(pattern, clause, match):
                        continue
                    if pattern.with_any and not self._has_sign(pattern, clauses, index, match):
                        continue
                    return CrisisMatch(pattern.category, pattern.id, match.group(0))
        return None

    @staticmethod
    def _has_sign(pattern: _Pattern, clauses: list[str], index: int, match: re.Match[str]) -> bool:
        # The sign is something else the message says: "out all night" is not its own sign
        # of danger ("night"), though "out all night and only 13" is.
        rest = clauses[index][: match.start()] + " . " + clauses[index][match.end() :]
        others = [rest, *clauses[:index], *clauses[index + 1 :]]
        return any(sign.search(other) for sign in pattern.with_any for other in others)

    def categories(self) -> set[str]:
        return {p.category for p in self._patterns}


@lru_cache(maxsize=1)
def default_rules() -> CrisisRules:
    return CrisisRules.from_file()


def detect(text: str) -> CrisisMatch | None:
    """A CrisisMatch when `text` tells of immediate danger, else None."""
    return default_rules().detect(text)

"""The easy-read content: topics, glossary and shared templates, read from YAML under content/.

Every string that is said to a person is a `Text`: a `str` that remembers the line it was
written on, so the same parse serves the answers and the Babel extractor (one definition of
what is a message). The shape is checked on load and a bad file fails with its name.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import yaml

CONTENT_DIR = Path(__file__).parent / "content"
ALL_VARIANTS = "all"


class ContentError(ValueError):
    """A content file does not fit the shape described in this module."""


class Text(str):
    """A message id from a content file, with the line it was written on."""

    line: int

    def __new__(cls, value: str, line: int = 0) -> Text:
        text = super().__new__(cls, value)
        text.line = line
        return text


class _Loader(yaml.SafeLoader):
    """Safe YAML whose strings carry their line numbers (for the message catalog)."""


def _construct_text(loader: _Loader, node: yaml.ScalarNode) -> Text:
    return Text(loader.construct_scalar(node), node.start_mark.line + 1)


_Loader.add_constructor("tag:yaml.org,2002:str", _construct_text)


def parse_yaml(text: str | bytes) -> Any:
    return yaml.load(text, Loader=_Loader)  # noqa: S506 - a SafeLoader subclass


@dataclass(frozen=True)
class GlossaryRef:
    """Say the glossary's explanation of `term` here."""

    term: str


@dataclass(frozen=True)
class ContactsRef:
    """Say the variant's contacts of these kinds here (all kinds when empty)."""

    kinds: tuple[str, ...]


Item = Text | GlossaryRef | ContactsRef


@dataclass(frozen=True)
class FollowUpSpec:
    """A button after an answer: another topic, or a choice that the conversation handles."""

    topic: str | None = None
    title: Text | None = None
    intent: str | None = None


@dataclass(frozen=True)
class Version:
    variants: frozenset[str]
    items: tuple[Item, ...]
    follow_ups: tuple[FollowUpSpec, ...]
    title: Text | None = None
    same_as: str | None = None


@dataclass(frozen=True)
class Topic:
    id: str
    title: Text
    versions: tuple[Version, ...]

    def version(self, variant_id: str) -> Version:
        for version in self.versions:
            if variant_id in version.variants:
                return version
        raise LookupError(f"topic {self.id!r} has nothing for variant {variant_id!r}")

    def texts(self) -> Iterator[Text]:
        yield self.title
        for version in self.versions:
            if version.title is not None:
                yield version.title
            yield from (item for item in version.items if isinstance(item, Text))
            yield from (f.title for f in version.follow_ups if f.title is not None)


@dataclass(frozen=True)
class Term:
    """A word a reader may not know, and the messages that explain it."""

    term: str
    explanation: tuple[Text, ...]

    @cached_property
    def pattern(self) -> re.Pattern[str]:
        # Initialisms match in capitals only ("MAM", "CETRs"); plain words in any case.
        if self.term.isupper():
            return re.compile(rf"\b{re.escape(self.term)}s?\b")
        return re.compile(rf"\b{re.escape(self.term)}s?\b", re.IGNORECASE)


# Shared templates for the variant's contacts; each is a message id in the catalog.
TEMPLATE_KEYS = ("contact_email", "contact_phone", "contact_url", "contact_name", "no_contacts")


@dataclass(frozen=True)
class Content:
    variants: tuple[str, ...]
    topics: Mapping[str, Topic]
    glossary: Mapping[str, Term]
    templates: Mapping[str, Text]

    def msgids(self) -> Iterator[tuple[Text, str]]:
        """Every message id with a note for translators, in file order."""
        for term in self.glossary.values():
            for text in term.explanation:
                yield text, f"glossary: {term.term}"
        for key, text in self.templates.items():
            yield text, f"shared: {key}"
        for topic in self.topics.values():
            for text in topic.texts():
                yield text, f"topic: {topic.id}"


def _fail(where: str, what: str) -> ContentError:
    return ContentError(f"{where}: {what}")


def _mapping(value: Any, where: str, allowed: set[str], required: set[str]) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _fail(where, "expected a mapping")
    unknown = set(value) - allowed
    if unknown:
        raise _fail(where, f"unknown keys {sorted(unknown)}")
    missing = required - set(value)
    if missing:
        raise _fail(where, f"missing keys {sorted(missing)}")
    return value


def _text(value: Any, where: str) -> Text:
    if not isinstance(value, Text) or not value.strip():
        raise _fail(where, "expected a non-empty string")
    return value


def _item(value: Any, where: str) -> Item:
    if isinstance(value, Text):
        return _text(value, where)
    data = _mapping(value, where, {"glossary", "contacts"}, set())
    if len(data) != 1:
        raise _fail(where, "an item is a message, `glossary: TERM` or `contacts: [KIND...]`")
    if "glossary" in data:
        return GlossaryRef(str(_text(data["glossary"], where)))
    kinds = data["contacts"]
    if kinds == ALL_VARIANTS:
        return ContactsRef(())
    if not isinstance(kinds, list) or not kinds:
        raise _fail(where, "contacts: a list of contact kinds, or `all`")
    return ContactsRef(tuple(str(_text(k, where)) for k in kinds))


def _follow_up(value: Any, where: str) -> FollowUpSpec:
    if isinstance(value, Text):
        return FollowUpSpec(topic=str(value))
    data = _mapping(value, where, {"title", "intent"}, {"title", "intent"})
    return FollowUpSpec(title=_text(data["title"], where), intent=str(_text(data["intent"], where)))


def _version(value: Any, where: str, known: tuple[str, ...]) -> Version:
    data = _mapping(
        value, where, {"variants", "title", "messages", "follow_ups", "same_as"}, {"variants"}
    )
    variants = data["variants"]
    if variants == ALL_VARIANTS:
        variants = list(known)
    if not isinstance(variants, list) or not variants or not set(variants) <= set(known):
        raise _fail(where, f"variants: `all` or a list drawn from {list(known)}")
    if ("same_as" in data) == ("messages" in data):
        raise _fail(where, "a version has either messages or same_as")
    if "same_as" in data and ("follow_ups" in data or "title" in data):
        raise _fail(where, "same_as takes the other topic's title and follow-ups too")
    messages = data.get("messages", [])
    if not isinstance(messages, list):
        raise _fail(where, "messages: a list")
    follow_ups = data.get("follow_ups", [])
    if not isinstance(follow_ups, list):
        raise _fail(where, "follow_ups: a list")
    return Version(
        variants=frozenset(str(v) for v in variants),
        items=tuple(_item(m, f"{where} message {i + 1}") for i, m in enumerate(messages)),
        follow_ups=tuple(
            _follow_up(f, f"{where} follow-up {i + 1}") for i, f in enumerate(follow_ups)
        ),
        title=_text(data["title"], where) if "title" in data else None,
        same_as=str(data["same_as"]) if "same_as" in data else None,
    )


def parse_topic(topic_id: str, data: Any, known: tuple[str, ...]) -> Topic:
    where = f"topics/{topic_id}.yml"
    data = _mapping(data, where, {"title", "versions"}, {"title", "versions"})
    if not isinstance(data["versions"], list) or not data["versions"]:
        raise _fail(where, "versions: a non-empty list")
    versions = tuple(
        _version(v, f"{where} version {i + 1}", known) for i, v in enumerate(data["versions"])
    )
    covered = [variant for version in versions for variant in version.variants]
    if sorted(covered) != sorted(known):
        raise _fail(
            where, f"each of {list(known)} needs exactly one version, got {sorted(covered)}"
        )
    return Topic(id=topic_id, title=_text(data["title"], where), versions=versions)


def parse_glossary(data: Any) -> dict[str, Term]:
    data = _mapping(data, "glossary.yml", {"terms"}, {"terms"})
    if not isinstance(data["terms"], dict):
        raise _fail("glossary.yml", "terms: a mapping of term to explanation")
    terms: dict[str, Term] = {}
    for name, explanation in data["terms"].items():
        where = f"glossary.yml {name}"
        if not isinstance(explanation, list) or not explanation:
            raise _fail(where, "a list of messages that explain the term")
        terms[str(name)] = Term(str(name), tuple(_text(t, where) for t in explanation))
    return terms


def parse_templates(data: Any) -> dict[str, Text]:
    keys = set(TEMPLATE_KEYS)
    data = _mapping(data, "shared.yml", keys, keys)
    return {key: _text(data[key], f"shared.yml {key}") for key in TEMPLATE_KEYS}


def parse_variants(data: Any) -> tuple[str, ...]:
    data = _mapping(data, "variants.yml", {"variants"}, {"variants"})
    variants = data["variants"]
    if not isinstance(variants, list) or not variants or ALL_VARIANTS in variants:
        raise _fail("variants.yml", "variants: a non-empty list of variant ids")
    return tuple(str(v) for v in variants)


def file_texts(path: Path, data: Any, known: tuple[str, ...]) -> Iterator[tuple[Text, str]]:
    """The messages of one content file, for the extractor, which sees one file at a time."""
    if path.name == "variants.yml":
        return
    if path.name == "glossary.yml":
        for term in parse_glossary(data).values():
            yield from ((t, f"glossary: {term.term}") for t in term.explanation)
    elif path.name == "shared.yml":
        yield from ((t, f"shared: {k}") for k, t in parse_templates(data).items())
    else:
        topic = parse_topic(path.stem, data, known)
        yield from ((t, f"topic: {topic.id}") for t in topic.texts())


def _check_references(content: Content) -> None:
    for topic in content.topics.values():
        where = f"topics/{topic.id}.yml"
        for version in topic.versions:
            for item in version.items:
                if isinstance(item, GlossaryRef) and item.term not in content.glossary:
                    raise _fail(where, f"glossary term {item.term!r} is not in glossary.yml")
            for follow_up in version.follow_ups:
                if follow_up.topic is not None and follow_up.topic not in content.topics:
                    raise _fail(where, f"follow-up topic {follow_up.topic!r} does not exist")
            if version.same_as is not None:
                target = content.topics.get(version.same_as)
                if target is None:
                    raise _fail(where, f"same_as topic {version.same_as!r} does not exist")
                if any(target.version(v).same_as is not None for v in version.variants):
                    raise _fail(where, f"same_as {version.same_as!r} points at another same_as")


def load_content(root: Path = CONTENT_DIR) -> Content:
    variants = parse_variants(parse_yaml((root / "variants.yml").read_text("utf-8")))
    topics = {
        path.stem: parse_topic(path.stem, parse_yaml(path.read_text("utf-8")), variants)
        for path in sorted((root / "topics").glob("*.yml"))
    }
    content = Content(
        variants=variants,
        topics=topics,
        glossary=parse_glossary(parse_yaml((root / "glossary.yml").read_text("utf-8"))),
        templates=parse_templates(parse_yaml((root / "shared.yml").read_text("utf-8"))),
    )
    _check_references(content)
    return content

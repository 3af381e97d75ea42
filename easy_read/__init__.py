"""Easy-read answers for families, supporters and the person: what the DSP is, MAMs, consent...

Content lives in YAML under content/ (English, en_GB, is the source and the message ids) and is
said through the gettext catalogs under locales/, so a translation changes what is said.
Contacts are never in the content: the caller passes the variant's contacts, as the register
service's GET /api/v1/variant returns them, and they are said where a topic asks for them.

Runtime needs only the standard library, PyYAML and Babel, so the Rasa action server (Python
3.10) and the register service's environment (3.11) can both import it.
"""

from __future__ import annotations

import datetime
import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from babel.dates import format_date as _babel_format_date

from easy_read.catalog import LOCALE_DIR, SOURCE_LOCALE, Catalogs, normalise_locale
from easy_read.content import (
    CONTENT_DIR,
    ContactsRef,
    Content,
    GlossaryRef,
    Text,
    Topic,
    Version,
    load_content,
)

__all__ = [
    "CARRY_ON_TOPIC",
    "EMERGENCY_TOPIC",
    "SOURCE_LOCALE",
    "EasyRead",
    "FollowUp",
    "answer",
    "follow_ups",
    "format_date",
    "locales",
    "title",
    "topics",
    "variants",
]

# Said at once when the crisis safety net fires, then CARRY_ON_TOPIC with its two buttons.
EMERGENCY_TOPIC = "emergency"
CARRY_ON_TOPIC = "carry_on"


# The ways a contact can be reached, in the order they are said; each has a template.
_CONTACT_ROUTES = ("email", "phone", "url")


@dataclass(frozen=True)
class FollowUp:
    """A button to offer after an answer: either another topic or a choice (an intent name)."""

    title: str
    topic: str | None = None
    intent: str | None = None


def format_date(day: datetime.date, locale: str = SOURCE_LOCALE, *, with_year: bool = False) -> str:
    """'Tuesday 3 December' (with_year: 'Tuesday 3 December 2024'), in the locale's words."""
    pattern = "EEEE d MMMM y" if with_year else "EEEE d MMMM"
    return _babel_format_date(day, pattern, locale=normalise_locale(locale))


def _fields(message: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(message) if name}


def _fill(message: str, values: Mapping[str, Any], where: str) -> str:
    missing = _fields(message) - set(values)
    if missing:
        raise KeyError(f"{where} needs placeholder(s) {sorted(missing)}")
    return message.format_map(values) if _fields(message) else message


class EasyRead:
    """One content tree and one locale directory; the module functions use the package's own."""

    def __init__(self, content_dir: Path = CONTENT_DIR, locale_dir: Path = LOCALE_DIR) -> None:
        self.content_dir = content_dir
        self.catalogs = Catalogs(locale_dir)

    @cached_property
    def content(self) -> Content:
        return load_content(self.content_dir)

    def topics(self) -> list[str]:
        return list(self.content.topics)

    def variants(self) -> list[str]:
        return list(self.content.variants)

    def _topic(self, topic: str) -> Topic:
        try:
            return self.content.topics[topic]
        except KeyError:
            raise LookupError(f"no easy-read topic {topic!r}") from None

    def _version(self, topic: str, variant_id: str | None) -> tuple[Topic, Version]:
        found = self._topic(topic)
        if variant_id is None:
            # Allowed only where every variant hears the same (the emergency routes): they must
            # work even when the register service, which names the variant, cannot be reached.
            if len(found.versions) != 1:
                raise LookupError(f"topic {topic!r} differs by variant: give variant_id")
            variant_id = self.content.variants[0]
        version = found.version(variant_id)
        if version.same_as is not None:
            found = self._topic(version.same_as)
            version = found.version(variant_id)
        return found, version

    def answer(
        self,
        topic: str,
        variant_id: str | None,
        locale: str = SOURCE_LOCALE,
        *,
        contacts: Iterable[Mapping[str, Any]] = (),
        **placeholders: Any,
    ) -> list[str]:
        """The topic's messages for the variant, one sentence or short paragraph each.

        `contacts` are the variant's contacts as GET /api/v1/variant returns them
        (kind, name, email, phone, url, how_to_reach); `placeholders` fill named fields.
        """
        _, version = self._version(topic, variant_id)
        gettext = self.catalogs.translations(locale).gettext
        contacts = list(contacts)
        said: list[str] = []
        for item in version.items:
            if isinstance(item, Text):
                said.append(_fill(gettext(item), placeholders, f"topic {topic!r}"))
            elif isinstance(item, GlossaryRef):
                said.extend(gettext(t) for t in self.content.glossary[item.term].explanation)
            elif isinstance(item, ContactsRef):
                said.extend(self._contact_lines(item, contacts, gettext))
        return said

    def _contact_lines(
        self, item: ContactsRef, contacts: list[Mapping[str, Any]], gettext: Any
    ) -> list[str]:
        templates = self.content.templates
        chosen = [c for c in contacts if not item.kinds or c.get("kind") in item.kinds]
        if not chosen:
            return [gettext(templates["no_contacts"])]
        lines: list[str] = []
        for contact in chosen:
            values = {key: contact.get(key) or "" for key in ("name", *_CONTACT_ROUTES)}
            routes = [route for route in _CONTACT_ROUTES if values[route]]
            for route in routes:
                lines.append(gettext(templates[f"contact_{route}"]).format_map(values))
            if not routes:
                lines.append(gettext(templates["contact_name"]).format_map(values))
            # How to reach them is the variant's own wording, from the register service.
            if contact.get("how_to_reach"):
                lines.append(str(contact["how_to_reach"]))
        return lines

    def title(self, topic: str, variant_id: str | None, locale: str = SOURCE_LOCALE) -> str:
        """The topic's question as a reader would ask it ("Can I come?")."""
        found, version = self._version(topic, variant_id)
        text = version.title if version.title is not None else found.title
        return self.catalogs.translations(locale).gettext(text)

    def follow_ups(
        self, topic: str, variant_id: str | None, locale: str = SOURCE_LOCALE
    ) -> list[FollowUp]:
        """Buttons to offer after the answer: follow-up topics by their titles, or choices."""
        _, version = self._version(topic, variant_id)
        gettext = self.catalogs.translations(locale).gettext
        buttons: list[FollowUp] = []
        for spec in version.follow_ups:
            if spec.topic is not None:
                buttons.append(
                    FollowUp(title=self.title(spec.topic, variant_id, locale), topic=spec.topic)
                )
            elif spec.title is not None:
                buttons.append(FollowUp(title=gettext(spec.title), intent=spec.intent))
        return buttons

    def locales(self) -> list[str]:
        return self.catalogs.available()


_default: EasyRead | None = None


def _instance() -> EasyRead:
    # Built on first use, not at import: importing the package does no file work.
    global _default
    if _default is None:
        _default = EasyRead()
    return _default


def topics() -> list[str]:
    """Every topic id; every topic has an answer for every variant."""
    return _instance().topics()


def variants() -> list[str]:
    """The variant ids the content is written for (the register service's variant ids)."""
    return _instance().variants()


def locales() -> list[str]:
    """Locales that have a catalog (en_GB, the source, always)."""
    return _instance().locales()


def answer(
    topic: str,
    variant_id: str | None,
    locale: str = SOURCE_LOCALE,
    *,
    contacts: Iterable[Mapping[str, Any]] = (),
    **placeholders: Any,
) -> list[str]:
    """The topic's messages for the variant: see EasyRead.answer."""
    return _instance().answer(topic, variant_id, locale, contacts=contacts, **placeholders)


def title(topic: str, variant_id: str | None, locale: str = SOURCE_LOCALE) -> str:
    """The topic's question as a reader would ask it."""
    return _instance().title(topic, variant_id, locale)


def follow_ups(topic: str, variant_id: str | None, locale: str = SOURCE_LOCALE) -> list[FollowUp]:
    """Buttons to offer after the topic's answer."""
    return _instance().follow_ups(topic, variant_id, locale)

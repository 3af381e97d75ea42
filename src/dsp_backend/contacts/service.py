"""Place -> area -> contacts: small pure functions over the variant. Nothing here invents an email.

The rule: a council name, area name, town or postcode district points to an area, and the answer
is that area's contacts, or the variant-wide ones when the area has none of its own. Several
areas -> ambiguous, with the choices to ask about. Nothing -> not found. A postcode is a hint,
never proof (000, 001 section 9), and a near spelling is asked about, never assumed.
"""

import difflib
import re
from collections.abc import Iterable
from typing import Any

from dsp_backend.contacts.schemas import AreaRef, Audience, ContactAnswer, MatchedBy
from dsp_backend.variants.schemas import Area, Contact, Variant

# Contacts a family member or the person can use; the referral portal and the DSP admin lead's
# inbox are for professionals (001 section 11).
FAMILY_KINDS = frozenset(
    {"parent_carer_forum", "information", "coordinator", "keyworker_service", "referral_inbox"}
)

# A full postcode or its outward code ("LE15 6AB", "le15"); or the postcode area alone ("LE").
_POSTCODE = re.compile(r"\b([a-z]{1,2}\d[a-z\d]?)(?:\s*\d[a-z]{2})?\b")
_POSTCODE_AREA = re.compile(r"\b([a-z]{1,2})\b")
_SPELLING_CUTOFF = 0.84
# Words that are never a place, so a short word like "in" does not become a postcode area.
_NOT_PLACES = frozenset({"a", "i", "in", "is", "it", "me", "my", "of", "on", "or", "to", "we"})


def normalise(text: str) -> str:
    """Lower case, hyphens and punctuation as spaces, single spaces: "Redcar-and-Cleveland!" ->
    "redcar and cleveland"."""
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text.lower()).split())


def _contains_phrase(text: str, phrase: str) -> bool:
    return f" {normalise(phrase)} " in f" {text} "


def _names(area: Area) -> list[tuple[MatchedBy, str]]:
    names: list[tuple[MatchedBy, str]] = [
        ("council", area.council),
        ("area", area.name),
        ("area", area.id.replace("_", " ")),
    ]
    return names + [("town", town) for town in area.towns]


def by_name(text: str, variant: Variant) -> dict[str, MatchedBy]:
    """Areas whose council, name or a town appears in the text as whole words."""
    found: dict[str, MatchedBy] = {}
    for area in variant.areas:
        for how, name in _names(area):
            if _contains_phrase(text, name):
                found.setdefault(area.id, how)
                break
    return found


def by_postcode(text: str, variant: Variant) -> dict[str, MatchedBy]:
    """Areas whose postcode districts include one in the text ("LE15" or "LE15 6AB"); failing
    that, areas with districts in a postcode area named alone ("LE")."""
    districts = {match.upper() for match in _POSTCODE.findall(text)}
    found: dict[str, MatchedBy] = {
        area.id: "postcode_district"
        for area in variant.areas
        if districts & set(area.postcode_districts)
    }
    if found or districts:
        return found
    prefixes = {m.upper() for m in _POSTCODE_AREA.findall(text) if m not in _NOT_PLACES}
    return {
        area.id: "postcode_area"
        for area in variant.areas
        if any(re.sub(r"\d.*", "", d) in prefixes for d in area.postcode_districts)
    }


def by_spelling(text: str, variant: Variant) -> dict[str, MatchedBy]:
    """Areas with a name spelt nearly like a word (or two) of the text: only ever to ask about."""
    words = text.split()
    candidates = set(words) | {" ".join(pair) for pair in zip(words, words[1:], strict=False)}
    found: dict[str, MatchedBy] = {}
    for area in variant.areas:
        names = [normalise(name) for _how, name in _names(area)]
        if any(
            difflib.get_close_matches(word, names, n=1, cutoff=_SPELLING_CUTOFF)
            for word in candidates
            if len(word) >= 4
        ):
            found[area.id] = "spelling"
    return found


def for_audience(contacts: Iterable[Contact], audience: Audience) -> list[Contact]:
    return [c for c in contacts if audience == "professional" or c.kind in FAMILY_KINDS]


def contacts_for_area(area_id: str | None, variant: Variant, audience: Audience) -> list[Contact]:
    """The area's own contacts, or the variant-wide ones when it has none (002: a forum per
    council area in LLR; 003, 004: one team for the whole variant)."""
    usable = for_audience(variant.contacts, audience)
    own = [c for c in usable if area_id is not None and area_id in c.area_ids]
    return own or [c for c in usable if not c.area_ids]


def _ref(area: Area) -> AreaRef:
    return AreaRef(id=area.id, name=area.name)


def _areas(ids: Iterable[str], variant: Variant) -> list[AreaRef]:
    wanted = set(ids)
    return [_ref(area) for area in variant.areas if area.id in wanted]


def _answer(variant: Variant, **fields: Any) -> ContactAnswer:
    return ContactAnswer(variant_id=variant.id, variant_name=variant.name, **fields)


def without_place(variant: Variant, audience: Audience) -> ContactAnswer:
    """Nobody has said where yet: the variant-wide contacts, unless some are area by area, in
    which case ask which area."""
    usable = for_audience(variant.contacts, audience)
    by_area = {area_id for c in usable for area_id in c.area_ids}
    if by_area:
        return _answer(variant, status="ambiguous", choices=_areas(by_area, variant))
    return _answer(variant, status="found", contacts=usable)


def lookup(*, place: str | None, variant: Variant, audience: Audience = "family") -> ContactAnswer:
    text = normalise(place or "")
    if not text:
        return without_place(variant, audience)
    matches = by_name(text, variant)
    hint_only = False
    if not matches:
        matches = by_postcode(text, variant)
        hint_only = bool(matches)
    if not matches:
        matches = by_spelling(text, variant)
    if not matches:
        return _answer(variant, status="not_found", choices=[_ref(a) for a in variant.areas])
    if len(matches) > 1 or "spelling" in matches.values() or "postcode_area" in matches.values():
        return _answer(
            variant,
            status="ambiguous",
            matched_by=next(iter(matches.values())),
            choices=_areas(matches, variant),
        )
    [(area_id, how)] = matches.items()
    [area] = _areas([area_id], variant)
    return _answer(
        variant,
        status="found",
        area=area,
        matched_by=how,
        hint_only=hint_only,
        contacts=contacts_for_area(area_id, variant, audience),
    )

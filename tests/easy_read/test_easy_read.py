"""Easy-read content: the readability rules over every message, the catalogs, the API.

Run in the backend environment: `.venv/backend/bin/pytest tests/easy_read`.
"""

from __future__ import annotations

import datetime
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from babel.messages.pofile import read_po, write_po

import easy_read
from easy_read import EasyRead, FollowUp, checks
from easy_read.catalog import LOCALE_DIR
from easy_read.content import CONTENT_DIR, ContentError, Term, load_content

REPO_ROOT = Path(__file__).resolve().parents[2]
VARIANT_FILES = REPO_ROOT / "src" / "dsp_backend" / "variants"
PYBABEL = Path(sys.executable).parent / "pybabel"

CONTENT = load_content()
PAIRS = [(topic, variant) for topic in CONTENT.topics for variant in CONTENT.variants]

# The issue's list of what families must be able to ask about, by topic id.
REQUIRED_TOPICS = {
    "what_is_dsp",
    "support_lists",
    "colours",
    "after_referral",
    "mam",
    "mam_who",
    "mam_topics",
    "mam_can_i_come",
    "mam_before",
    "consent",
    "consent_who",
    "consent_change",
    "cetr",
    "keyworkers",
    "adult_services",
    "information_safe",
    "who_to_contact",
    "talk_to_someone",
    "self_referral",
    "emergency",
    "carry_on",
}


def _topic_messages(topic: str, variant: str) -> list[str]:
    return easy_read.answer(topic, variant)


def _button_titles() -> list[str]:
    titles = {easy_read.title(t, v) for t, v in PAIRS}
    titles |= {f.title for t, v in PAIRS for f in easy_read.follow_ups(t, v)}
    return sorted(titles)


def _shared_templates() -> list[str]:
    return list(CONTENT.templates.values())


# --- the content as a whole -------------------------------------------------------------


def test_every_required_topic_exists() -> None:
    assert set(easy_read.topics()) >= REQUIRED_TOPICS


def test_content_variants_are_the_register_services_variants() -> None:
    assert sorted(easy_read.variants()) == sorted(p.stem for p in VARIANT_FILES.glob("*.yml"))


@pytest.mark.parametrize(("topic", "variant"), PAIRS)
def test_every_topic_answers_every_variant(topic: str, variant: str) -> None:
    said = _topic_messages(topic, variant)
    assert said and all(message.strip() for message in said)


# --- the easy-read rules over every message ---------------------------------------------


@pytest.mark.parametrize(("topic", "variant"), PAIRS)
def test_sentences_are_short(topic: str, variant: str) -> None:
    messages = _topic_messages(topic, variant)
    assert checks.long_sentences(messages) == []
    assert checks.mean_words(messages) <= checks.MAX_MEAN_WORDS


@pytest.mark.parametrize(("topic", "variant"), PAIRS)
def test_one_idea_per_sentence(topic: str, variant: str) -> None:
    assert checks.second_ideas(_topic_messages(topic, variant)) == []


@pytest.mark.parametrize(("topic", "variant"), PAIRS)
def test_numbers_are_digits(topic: str, variant: str) -> None:
    assert checks.number_words(_topic_messages(topic, variant)) == []


@pytest.mark.parametrize(("topic", "variant"), PAIRS)
def test_glossary_terms_are_explained_where_used(topic: str, variant: str) -> None:
    assert checks.unexplained_terms(_topic_messages(topic, variant), CONTENT.glossary) == []


@pytest.mark.parametrize(("topic", "variant"), PAIRS)
def test_reading_ease_is_at_least_80(topic: str, variant: str) -> None:
    assert checks.reading_ease(_topic_messages(topic, variant)) >= checks.MIN_READING_EASE


@pytest.mark.parametrize(
    "messages", [_button_titles(), _shared_templates()], ids=["buttons", "shared"]
)
def test_buttons_and_templates_follow_the_sentence_rules(messages: list[str]) -> None:
    assert checks.long_sentences(messages) == []
    assert checks.second_ideas(messages) == []
    assert checks.number_words(messages) == []


def test_glossary_covers_the_issues_terms() -> None:
    assert {"DSP", "DSR", "ROAR", "MAM", "CETR", "RAG", "ICB", "LAC", "EHCP"} <= set(
        CONTENT.glossary
    )


def test_register_is_offered_a_gentler_word() -> None:
    # Young people find "register" frightening: the lists are "support lists" (issue, part 1).
    said = " ".join(_topic_messages("support_lists", "llr"))
    assert "support list" in said
    assert "2 support lists" in said


# --- each checker catches a bad sample ----------------------------------------------------


def test_long_sentence_is_caught() -> None:
    bad = [
        "The referrer and the admin lead will agree who is best to chair this meeting today."
        " It is short."
    ]
    assert checks.long_sentences(bad) == [bad[0].split(" It")[0]]


def test_high_mean_sentence_length_is_caught() -> None:
    bad = ["The person who made the referral will tell you who will come."] * 3
    assert checks.long_sentences(bad) == []
    assert checks.mean_words(bad) > checks.MAX_MEAN_WORDS


@pytest.mark.parametrize(
    "sentence",
    [
        "It is for children and adults but not for babies or pets.",
        "The plan is shared; everyone gets it.",
        "Bring these: a pen and a note.",
        "The meeting (online) is short.",
    ],
)
def test_second_idea_is_caught(sentence: str) -> None:
    assert checks.second_ideas([sentence]) != []


def test_one_joiner_is_allowed() -> None:
    assert checks.second_ideas(["It is for children and adults."]) == []


@pytest.mark.parametrize(
    "message", ["The DSP has two lists.", "It takes fifteen minutes.", "The second list."]
)
def test_number_words_are_caught(message: str) -> None:
    assert checks.number_words([message]) != []


def test_unexplained_term_is_caught() -> None:
    glossary = {"MAM": CONTENT.glossary["MAM"]}
    explanation = list(CONTENT.glossary["MAM"].explanation)
    assert checks.unexplained_terms(["A MAM is set up."], glossary) == ["MAM"]
    # Explained, but only after it was first used.
    assert checks.unexplained_terms(["A MAM is set up.", *explanation], glossary) == ["MAM"]
    assert checks.unexplained_terms([*explanation, "A MAM is set up."], glossary) == []


def test_term_matching_respects_case_for_initialisms_only() -> None:
    glossary = {
        "MAM": CONTENT.glossary["MAM"],
        "consent": Term("consent", ("Consent means saying yes.",)),
    }
    assert checks.unexplained_terms(["My mam will come."], glossary) == []
    assert checks.unexplained_terms(["Give CONSENT here."], glossary) == ["consent"]


def test_hard_text_is_caught_by_reading_ease() -> None:
    # 001 section 12, as the professionals' guidance words it.
    hard = [
        "If it has not been possible to identify and agree other appropriate teams to be"
        " invited then this will be an action for the first multi-agency meeting group."
    ]
    assert checks.reading_ease(hard) < checks.MIN_READING_EASE
    assert checks.reading_ease(["We meet. You can come. We talk."]) > checks.MIN_READING_EASE


@pytest.mark.parametrize(
    ("word", "count"),
    [("people", 2), ("themselves", 2), ("hospital", 3), ("ICB", 1), ("999", 1), ("yes", 1)],
)
def test_syllable_counts(word: str, count: int) -> None:
    assert checks.syllables(word) == count


# --- the API --------------------------------------------------------------------------


def test_emergency_routes_need_no_variant() -> None:
    said = " ".join(easy_read.answer(easy_read.EMERGENCY_TOPIC, None))
    for route in ("999", "NHS 111", "option 2", "Samaritans", "116 123"):
        assert route in said
    assert easy_read.follow_ups(easy_read.CARRY_ON_TOPIC, None) == [
        FollowUp(title="Yes, carry on", intent="affirm"),
        FollowUp(title="No, stop here", intent="deny"),
    ]


def test_a_topic_that_differs_by_variant_needs_the_variant() -> None:
    with pytest.raises(LookupError):
        easy_read.answer("consent", None)


@pytest.mark.parametrize(("topic", "variant"), [("no_such_topic", "llr"), ("consent", "mars")])
def test_unknown_topic_or_variant_is_refused(topic: str, variant: str) -> None:
    with pytest.raises(LookupError):
        easy_read.answer(topic, variant)


def test_variants_differ_where_the_sources_differ() -> None:
    # 004 renews consent every year; LLR (001 section 7) does not.
    assert any("each year" in m for m in easy_read.answer("consent", "west_sussex"))
    assert not any("year" in m for m in easy_read.answer("consent", "llr"))
    # Self-referral only in Tees Valley (003).
    assert easy_read.answer("self_referral", "tees_valley")[-2].startswith("You can also ask")
    assert any("cannot refer yourself" in m for m in easy_read.answer("self_referral", "llr"))


def test_mam_topics_list_what_002_says_is_discussed() -> None:
    said = " ".join(easy_read.answer("mam_topics", "llr")).lower()
    for subject in (
        "physical health",
        "rights",
        "covid",
        "safe",
        "freedom",
        "action plan",
        "hopes",
    ):
        assert subject in said


def test_follow_ups_are_titled_by_their_topics() -> None:
    buttons = easy_read.follow_ups("mam", "llr")
    assert [b.topic for b in buttons] == ["mam_who", "mam_topics", "mam_can_i_come", "mam_before"]
    assert buttons[2].title == "Can I come?"
    assert all(b.title == easy_read.title(b.topic, "llr") for b in buttons if b.topic)


def test_same_as_answers_with_the_other_topic() -> None:
    assert easy_read.answer("mam_who", "tees_valley") == easy_read.answer("mam", "tees_valley")
    assert easy_read.title("mam_who", "tees_valley") == easy_read.title("mam", "tees_valley")


def test_contacts_are_said_with_how_to_reach_them() -> None:
    contacts = [
        {"kind": "parent_carer_forum", "name": "Rutland Parent Carer Voice", "email": "a@b.org"},
        {"kind": "coordinator", "name": "Hub", "phone": "0116 000 0000", "how_to_reach": "Ring."},
        {"kind": "referral_portal", "name": "Portal", "url": "https://example.org/p"},
    ]
    said = easy_read.answer("talk_to_someone", "llr", contacts=contacts)
    assert "Email Rutland Parent Carer Voice at a@b.org." in said
    assert said[said.index("Phone Hub on 0116 000 0000.") + 1] == "Ring."
    assert not any("Portal" in m for m in said)  # a portal does not reach a person
    assert "Ask a worker you know who to contact." in easy_read.answer("talk_to_someone", "llr")


@pytest.mark.parametrize("variant", CONTENT.variants)
def test_every_topic_takes_the_variants_real_contacts(variant: str) -> None:
    contacts = yaml.safe_load((VARIANT_FILES / f"{variant}.yml").read_text("utf-8"))["contacts"]
    for topic in CONTENT.topics:
        assert easy_read.answer(topic, variant, contacts=contacts)
    said = " ".join(easy_read.answer("talk_to_someone", variant, contacts=contacts))
    assert any(c["name"] in said for c in contacts)


def test_format_date() -> None:
    day = datetime.date(2024, 12, 3)
    assert easy_read.format_date(day) == "Tuesday 3 December"
    assert easy_read.format_date(day, "en-GB", with_year=True) == "Tuesday 3 December 2024"
    assert easy_read.format_date(day, "cy") == "Dydd Mawrth 3 Rhagfyr"


# --- content files are checked on load ------------------------------------------------


@pytest.fixture
def content_copy(tmp_path: Path) -> Path:
    return Path(shutil.copytree(CONTENT_DIR, tmp_path / "content"))


def test_a_topic_missing_a_variant_is_refused(content_copy: Path) -> None:
    path = content_copy / "topics" / "consent_change.yml"
    path.write_text(path.read_text("utf-8").replace("variants: all", "variants: [llr]"), "utf-8")
    with pytest.raises(ContentError, match="consent_change"):
        load_content(content_copy)


def test_an_unknown_glossary_term_is_refused(content_copy: Path) -> None:
    path = content_copy / "topics" / "cetr.yml"
    path.write_text(path.read_text("utf-8").replace("glossary: CTR", "glossary: XYZ"), "utf-8")
    with pytest.raises(ContentError, match="XYZ"):
        load_content(content_copy)


def test_placeholders_are_filled_and_required(content_copy: Path) -> None:
    path = content_copy / "topics" / "carry_on.yml"
    path.write_text(
        path.read_text("utf-8").replace(
            "- Do you want to carry on with our chat?", "- Your meeting is on {meeting_date}."
        ),
        "utf-8",
    )
    reader = EasyRead(content_dir=content_copy)
    assert reader.answer("carry_on", None, meeting_date="Tuesday 3 December") == [
        "Your meeting is on Tuesday 3 December."
    ]
    with pytest.raises(KeyError, match="meeting_date"):
        reader.answer("carry_on", None)


# --- the catalogs ---------------------------------------------------------------------


def _catalog_ids(path: Path) -> set[str]:
    with path.open("rb") as handle:
        return {message.id for message in read_po(handle) if message.id}


def _pybabel(*args: str) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    subprocess.run([str(PYBABEL), *args], cwd=REPO_ROOT, env=env, check=True, capture_output=True)


def test_extraction_gives_exactly_the_content_messages(tmp_path: Path) -> None:
    pot = tmp_path / "messages.pot"
    _pybabel("extract", "-F", "easy_read/babel.cfg", "-o", str(pot), "easy_read")
    content_ids = {str(text) for text, _ in CONTENT.msgids()}
    assert _catalog_ids(pot) == content_ids


def test_committed_catalogs_are_in_step_with_the_content() -> None:
    content_ids = {str(text) for text, _ in CONTENT.msgids()}
    assert _catalog_ids(LOCALE_DIR / "messages.pot") == content_ids
    assert content_ids <= _catalog_ids(LOCALE_DIR / "en_GB" / "LC_MESSAGES" / "messages.po")


def test_catalogs_compile(tmp_path: Path) -> None:
    locales = Path(shutil.copytree(LOCALE_DIR, tmp_path / "locales"))
    for mo in locales.rglob("*.mo"):
        mo.unlink()
    _pybabel("compile", "-d", str(locales))
    assert (locales / "en_GB" / "LC_MESSAGES" / "messages.mo").stat().st_size > 0


def _translate(po_path: Path, translations: dict[str, str]) -> None:
    with po_path.open("rb") as handle:
        catalog = read_po(handle)
    for msgid, msgstr in translations.items():
        catalog[msgid].string = msgstr
    with po_path.open("wb") as handle:
        write_po(handle, catalog)


def test_a_translation_in_the_po_changes_what_is_said(tmp_path: Path) -> None:
    locales = Path(shutil.copytree(LOCALE_DIR, tmp_path / "locales"))
    po_path = locales / "en_GB" / "LC_MESSAGES" / "messages.po"
    mo_path = po_path.with_suffix(".mo")
    mo_path.unlink(missing_ok=True)
    _translate(po_path, {"Can I come?": "Can I join?", "Supporters can come too.": "Helpers too."})
    reader = EasyRead(locale_dir=locales)

    assert "Helpers too." in reader.answer("mam_can_i_come", "llr")
    assert "Can I join?" in [b.title for b in reader.follow_ups("mam", "llr")]
    assert mo_path.exists()  # compiled because it was missing

    # An edit to the .po after compiling is picked up: the .mo is older, so it is rebuilt.
    os.utime(mo_path, ns=(0, 0))
    _translate(po_path, {"Supporters can come too.": "Supporters are welcome."})
    assert "Supporters are welcome." in reader.answer("mam_can_i_come", "llr")


def test_a_locale_without_a_catalog_hears_the_source() -> None:
    assert easy_read.answer("cetr", "llr", "cy") == easy_read.answer("cetr", "llr")
    assert "en_GB" in easy_read.locales()

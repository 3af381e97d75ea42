"""The rule-based crisis safety net and its Rasa component.

Run in the bot environment, from the repo root:
    PYTHONPATH=. .venv/bot/bin/python -m pytest tests/bot/test_crisis.py
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
import yaml
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.components.crisis import PATTERNS_FILE, CrisisRules, detect, edit_distance
from bot.components.crisis_detector import (
    CLASSIFIER_KEY,
    CRISIS_INTENT,
    CRISIS_KEY,
    CrisisDetector,
)

CRISIS_SETS = Path(__file__).resolve().parents[2] / "data" / "crisis"
# crisis_set.yml: the older evaluation set; crisis_dev.yml: the set the patterns are tuned on.
SETS = {
    name: yaml.safe_load((CRISIS_SETS / f"{name}.yml").read_text("utf-8"))
    for name in ("crisis_set", "crisis_dev")
}
MIN_SIZE = {"crisis_set": 70, "crisis_dev": 150}
MAX_FALSE_ALARM_RATE = 0.02


# --- the sets: recall 100%, false alarms at most 2% ----------------------------------------


@pytest.mark.parametrize("name", SETS)
def test_the_set_is_big_enough_and_has_no_repeats(name: str) -> None:
    for kind in ("crisis", "not_crisis"):
        messages = SETS[name][kind]
        assert len(messages) >= MIN_SIZE[name]
        assert len(set(messages)) == len(messages)
    assert not set(SETS[name]["crisis"]) & set(SETS[name]["not_crisis"])


@pytest.mark.parametrize("name", SETS)
def test_every_crisis_message_is_caught(name: str) -> None:
    crisis = SETS[name]["crisis"]
    missed = [text for text in crisis if detect(text) is None]
    assert missed == [], f"recall {1 - len(missed) / len(crisis):.1%}"


@pytest.mark.parametrize("name", SETS)
def test_false_alarms_are_at_most_2_percent(name: str) -> None:
    calm = SETS[name]["not_crisis"]
    alarms = [text for text in calm if detect(text) is not None]
    rate = len(alarms) / len(calm)
    assert rate <= MAX_FALSE_ALARM_RATE, f"false alarms {rate:.1%}: {alarms}"


# --- how the rules read a message ----------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b", "distance"),
    [
        ("suicide", "suicide", 0),
        ("sucide", "suicide", 1),
        ("overdoes", "overdose", 1),
        ("", "ab", 2),
    ],
)
def test_edit_distance(a: str, b: str, distance: int) -> None:
    assert edit_distance(a, b) == distance


def test_normalising_spells_out_contractions_names_and_typos() -> None:
    rules = CrisisRules.from_file()
    assert rules.clauses("Jake's on the brige. He won't come down") == [
        "xname s on the bridge",
        "he will not come down",
    ]
    assert rules.clauses("im thretening to kil my self") == ["i am threatening to kill myself"]


def test_a_real_word_is_not_taken_for_a_typo() -> None:
    # "beating" is one word the patterns use, two edits from "breathing".
    assert CrisisRules.from_file().clauses("dad is beating mum") == ["dad is beating mum"]


@pytest.mark.parametrize(
    ("text", "crisis"),
    [
        ("she is suicidal", True),
        ("she is not suicidal", False),
        ("he says he will hurt himself", True),
        ("he says he would never hurt himself", False),
        ("he has no meds and he is suicidal", True),  # the "no" does not reach past "and"
    ],
)
def test_negation(text: str, crisis: bool) -> None:
    assert (detect(text) is not None) is crisis


@pytest.mark.parametrize(
    ("text", "crisis"),
    [
        ("he took an overdose", True),
        ("he took an overdose in 2019", False),
        ("he took an overdose in 2019 and again tonight", True),
        ("He self-harmed last year. Tonight he is cutting himself.", True),
        ("When she was 12 she tried to hang herself", False),
    ],
)
def test_the_past_is_not_a_crisis_unless_brought_back_to_now(text: str, crisis: bool) -> None:
    assert (detect(text) is not None) is crisis


def test_present_dangers_are_not_cancelled_by_the_past() -> None:
    assert detect("He has a knife, like he did last year") is not None


@pytest.mark.parametrize(
    "text",
    ["I'm going to jump on the call", "my back is killing me", "he cut himself shaving"],
)
def test_idioms_and_accidents_are_not_crises(text: str) -> None:
    assert detect(text) is None


def test_some_wording_is_a_crisis_only_when_it_is_now() -> None:
    assert detect("we are going to the pier") is None
    assert detect("i am going to the pier now") is not None


@pytest.mark.parametrize(
    ("text", "category"),
    [
        # passive ideation
        ("my brother says nobody would miss him if he was gone", "suicide"),
        ("the kids would be happier if i wasnt around", "suicide"),
        ("what is even the point of me being here", "suicide"),
        ("i wish i could disappear", "suicide"),
        ("he says he can't see a way out", "suicide"),
        # plans and means
        ("she's had her tablets saved up for a month", "suicide"),
        ("he's gone and bought a rope", "suicide"),
        ("i've written a note for my mum for when i'm gone", "suicide"),
        ("I'm near the railway line", "suicide"),
        # self-harm now, serious injury
        ("she's cut deep and it won't stop bleeding", "self_harm"),
        ("my sister is upstairs cutting again", "self_harm"),
        ("i've just self harmed and there's blood everywhere", "self_harm"),
        ("im cutting rite now", "self_harm"),
        ("I'm frightened of what I might do", "self_harm"),
        # danger to or from others now
        ("he's got a knife and says he'll use it on his sister", "violence"),
        ("hes smashing the house up and the kids are here", "violence"),
        ("he has his hands round her throat", "violence"),
        # missing and in danger
        ("my autistic son ran off and is near the road", "danger"),
        ("she has not come home and her phone is off", "danger"),
        ("he went missing overnight and he is very vulnerable", "danger"),
        # medical
        ("she's fitting and it won't stop", "medical"),
        ("my toddler has swallowed a button battery", "overdose"),
        ("he banged his head and now he's drowsy", "medical"),
        ("he's unresponsive", "medical"),
        ("sorry to go off topic but she's just collapsed in the hall", "medical"),
        ("never mind the form, he's just collapsed", "medical"),
        ("ok thanks. my brother's just overdosed on mum's tablets", "overdose"),
        # abuse now
        ("my carer is hurting me now", "violence"),
        ("someone is touching me", "abuse"),
        ("he's going to hurt me when he gets home", "violence"),
        # not safe now
        ("I'm not safe", "danger"),
    ],
)
def test_each_kind_of_danger_now_is_caught(text: str, category: str) -> None:
    match = detect(text)
    assert match is not None
    assert match.category == category


@pytest.mark.parametrize(
    "text",
    [
        "this form is killing me",
        "I could murder a pizza",
        "my phone's dead",
        "history of overdose in 2021",
        "sectioned last year after a suicide attempt",
        "self-harmed by cutting, none in 6 months",
        "what happens if he needs hospital",
        "can police come to a MAM",
        "no he has never hurt anyone",
        "she isn't suicidal",
        "knife and fork skills",
        "killer whales",
        "he's been missing school",
        "heart attack in family history",
        "placement at risk of breaking down",
        "gets aggressive when routines change",
        "worried he might end up in hospital",
        "hanging on by a thread but coping",
        "he ran off in the shop but we found him",
        "she's on the bridge watching the boats",
        "I'm scared of what he will do when school finishes for summer",
        "never mind, he has calmed down now",
        "he has never collapsed",
        "write it down right now please",
    ],
)
def test_look_alikes_are_not_crises(text: str) -> None:
    assert detect(text) is None


def test_some_wording_needs_a_sign_of_danger_elsewhere_in_the_message() -> None:
    # "with": running off is a danger beside a risk named anywhere in the message.
    assert detect("he ran off after tea") is None
    assert detect("he ran off after tea. He can't swim and we live by the canal") is not None


def test_a_question_or_a_worry_about_some_day_is_not_now() -> None:
    assert detect("what happens if she takes an overdose") is None
    assert detect("I'm worried he will hurt someone one day") is None
    assert detect("she has taken an overdose") is not None


def test_a_dropped_g_is_put_back() -> None:
    assert CrisisRules.from_file().clauses("hes chokin his brother") == ["he s choking his brother"]


def test_a_match_says_what_fired() -> None:
    match = detect("she took all her tablets")
    assert match is not None
    assert (match.category, match.pattern) == ("overdose", "took_pills")


# --- a broken pattern file fails loudly ------------------------------------------------------


def _patterns_with(tmp_path: Path, old: str, new: str) -> Path:
    """A copy of the pattern files with `old` replaced once, in whichever file holds it."""
    found = 0
    for source in PATTERNS_FILE.parent.glob("crisis_patterns*.yml"):
        text = source.read_text("utf-8")
        found += text.count(old)
        (tmp_path / source.name).write_text(text.replace(old, new, 1), "utf-8")
    assert found == 1
    return tmp_path / PATTERNS_FILE.name


def test_the_patterns_come_from_every_file_the_main_file_names() -> None:
    categories = CrisisRules.from_file().categories()
    assert {
        "suicide",
        "self_harm",
        "overdose",
        "medical",
        "violence",
        "abuse",
        "danger",
    } <= categories


def test_an_unquoted_colon_in_a_pattern_is_refused(tmp_path: Path) -> None:
    line = "regex: 'better off (?:dead|without (?:me|him|her|them|us|xname))'"
    path = _patterns_with(tmp_path, line, "regex:\n      - better off(?: dead)")
    with pytest.raises(ValueError, match="better_off_dead"):
        CrisisRules.from_file(path)


def test_a_bare_no_among_the_negators_is_refused(tmp_path: Path) -> None:
    # YAML reads a bare no as false, and "no risk now" would stop being a negation.
    path = _patterns_with(tmp_path, "negators: [not, 'no',", "negators: [not, no,")
    with pytest.raises(ValueError, match="quote every word"):
        CrisisRules.from_file(path)


def test_a_stray_space_from_folding_is_refused(tmp_path: Path) -> None:
    path = _patterns_with(tmp_path, "regex: 'better off (?:dead", "regex: 'better off  (?:dead")
    with pytest.raises(ValueError, match="stray space"):
        CrisisRules.from_file(path)


# --- the Rasa component on real Message objects ---------------------------------------------


@pytest.fixture
def component(tmp_path: Path) -> CrisisDetector:
    return CrisisDetector.create(
        {**CrisisDetector.get_default_config()},
        LocalModelStorage(tmp_path),
        Resource("crisis_detector"),
        ExecutionContext(GraphSchema({}), "test"),
    )


def _classified(text: str, ranking: list[tuple[str, float]]) -> Message:
    entries = [{"name": name, "confidence": confidence} for name, confidence in ranking]
    return Message(data={TEXT: text, INTENT: entries[0], INTENT_RANKING_KEY: entries})


def test_a_crisis_message_gets_the_crisis_intent_above_the_classifiers_ranking(
    component: CrisisDetector,
) -> None:
    message = _classified("my son has taken 20 paracetamol", [("inform", 0.7), ("greet", 0.2)])
    [processed] = component.process([message])
    assert processed.get(INTENT) == {"name": CRISIS_INTENT, "confidence": 1.0}
    assert [e["name"] for e in processed.get(INTENT_RANKING_KEY)] == ["crisis", "inform", "greet"]
    assert processed.get(CRISIS_KEY) == {"category": "overdose", "pattern": "took_pills"}
    assert INTENT in processed.output_properties


def test_the_classifiers_own_crisis_guess_is_not_repeated(component: CrisisDetector) -> None:
    message = _classified("she's on the bridge", [("greet", 0.5), ("crisis", 0.4)])
    [processed] = component.process([message])
    assert [e["name"] for e in processed.get(INTENT_RANKING_KEY)] == ["crisis", "greet"]


def test_other_messages_are_left_as_the_classifier_left_them(component: CrisisDetector) -> None:
    message = _classified("the meeting killed me", [("chitchat", 0.9)])
    [processed] = component.process([message])
    assert processed.get(INTENT) == {"name": "chitchat", "confidence": 0.9}
    assert processed.get(CRISIS_KEY) is None


def test_an_unsure_classifier_alone_does_not_raise_the_alarm(component: CrisisDetector) -> None:
    message = _classified("my son killed it at the match", [("crisis", 0.55), ("chitchat", 0.3)])
    [processed] = component.process([message])
    assert processed.get(INTENT) == {"name": "chitchat", "confidence": 0.3}
    assert [e["name"] for e in processed.get(INTENT_RANKING_KEY)] == ["chitchat", "crisis"]


def test_by_default_even_a_sure_classifier_alone_does_not_raise_the_alarm(
    component: CrisisDetector,
) -> None:
    # Measured: the classifier's own sure `crisis` was mostly everyday talk the rules let pass.
    message = _classified("i feel unsure about the new school", [("crisis", 0.99), ("faq", 0.01)])
    [processed] = component.process([message])
    assert processed.get(INTENT) == {"name": "faq", "confidence": 0.01}
    assert [e["name"] for e in processed.get(INTENT_RANKING_KEY)] == ["faq", "crisis"]


def _trained_detector(tmp_path: Path, floor: float | None) -> CrisisDetector:
    crisis = [
        "i want to be a ghost for good",
        "i want to turn into a ghost forever and not come back",
        "he wants to be a ghost for ever",
        "she keeps saying she will become a ghost for good",
        "a ghost forever, that is what i want to be",
        "i am going to be a ghost for good",
    ]
    calm = [
        "what is a mam",
        "who comes to the meeting",
        "my son likes trains",
        "she is doing well at school",
        "can i bring my mum to the meeting",
        "how do i refer someone",
        "we dressed up as a ghost for halloween",
        "hello",
    ]
    training = TrainingData(
        training_examples=[
            *(Message(data={TEXT: t, INTENT: CRISIS_INTENT}) for t in crisis),
            *(Message(data={TEXT: t, INTENT: "other"}) for t in calm),
        ]
    )
    config = {**CrisisDetector.get_default_config(), "classifier_min_confidence": floor}
    storage, resource = LocalModelStorage(tmp_path), Resource("crisis_detector")
    context = ExecutionContext(GraphSchema({}), "test")
    CrisisDetector.create(config, storage, resource, context).train(training)
    return CrisisDetector.load(config, storage, resource, context)


def test_the_crisis_classifier_catches_what_the_rules_were_not_written_for(tmp_path: Path) -> None:
    text = "honestly i just want to turn into a ghost for good"
    assert detect(text) is None
    detector = _trained_detector(tmp_path, floor=0.5)
    sure = _classified(text, [("greet", 0.6), ("crisis", 0.2)])
    calm = _classified("can i bring my nan to the meeting", [("crisis", 0.7), ("faq", 0.2)])
    [raised, demoted] = detector.process([sure, calm])
    assert raised.get(INTENT)["name"] == CRISIS_INTENT
    assert 0.5 <= raised.get(INTENT)["confidence"] < 1.0
    assert [e["name"] for e in raised.get(INTENT_RANKING_KEY)] == ["crisis", "greet"]
    assert raised.get(CLASSIFIER_KEY) == {
        "confidence": round(raised.get(INTENT)["confidence"], 3),
        "alarm": True,
    }
    assert demoted.get(CLASSIFIER_KEY)["alarm"] is False
    assert raised.get(CRISIS_KEY) is None  # the rules did not fire: answers in a form can tell
    # The intent classifier's own `crisis` that neither check confirms gives way.
    assert demoted.get(INTENT) == {"name": "faq", "confidence": 0.2}


def test_without_a_floor_the_crisis_classifier_stays_silent(tmp_path: Path) -> None:
    detector = _trained_detector(tmp_path, floor=None)
    [message] = detector.process(
        [_classified("i just want to be a ghost for good", [("greet", 0.6)])]
    )
    assert message.get(INTENT) == {"name": "greet", "confidence": 0.6}


def _trained_on_example_file(
    tmp_path: Path, examples: dict[str, list[str]], **config_changes: Any
) -> CrisisDetector:
    """A detector whose classifier learnt one greeting and an example file, alarm from 0.5 unless
    the config changes say otherwise."""
    tmp_path.mkdir(exist_ok=True)
    path = tmp_path / "examples.yml"
    path.write_text(yaml.safe_dump(examples), "utf-8")
    config = {
        **CrisisDetector.get_default_config(),
        "classifier_min_confidence": 0.5,
        "examples": [str(path)],
        **config_changes,
    }
    storage, resource = LocalModelStorage(tmp_path), Resource("crisis_detector")
    context = ExecutionContext(GraphSchema({}), "test")
    training = TrainingData(training_examples=[Message(data={TEXT: "hello", INTENT: "greet"})])
    CrisisDetector.create(config, storage, resource, context).train(training)
    return CrisisDetector.load(config, storage, resource, context)


def test_the_crisis_classifier_learns_the_example_files_too(tmp_path: Path) -> None:
    detector = _trained_on_example_file(
        tmp_path,
        {
            "crisis": ["grandad is grey and will not wake up", "mum is grey and cold, no waking"],
            "not_crisis": ["grey skies today", "we woke up early", "mum likes the colour grey"],
        },
    )
    text = "dad is grey and cold, no waking him"
    assert detect(text) is None
    [message] = detector.process([_classified(text, [("greet", 0.9)])])
    assert message.get(INTENT)["name"] == CRISIS_INTENT


_GAME_AND_DANGER = {
    "crisis": [
        "he has a knife to his brother's throat",
        "she took all her tablets an hour ago",
        "he is on the bridge and says he will jump",
    ],
    "not_crisis": [
        "he shouts at fortnite all night, it's just the game",
        "fortnite again, he shouts at his mates on the headset",
        "they play fortnite together and shout at the screen, it's just the game",
        "the game makes him shout at his mates",
    ],
}


def _detector_with_rule_floor(tmp_path: Path, rule_floor: float | None) -> CrisisDetector:
    return _trained_on_example_file(
        tmp_path,
        _GAME_AND_DANGER,
        classifier_min_confidence=0.9,
        rule_min_confidence=rule_floor,
    )


def test_a_rule_counts_only_where_the_classifier_does_not_find_the_message_calm(
    tmp_path: Path,
) -> None:
    game = "he shouts 'I'm going to kill you' at his mates on fortnite, it's just the game"
    threat = "he says he is going to kill you, he has a knife to his brother's throat"
    assert detect(game) is not None and detect(threat) is not None
    without = _detector_with_rule_floor(tmp_path / "without", None)
    assert without.process([_classified(game, [("greet", 0.9)])])[0].get(INTENT)["name"] == (
        CRISIS_INTENT
    )
    detector = _detector_with_rule_floor(tmp_path / "with", 0.2)
    [calm, danger] = detector.process(
        [_classified(game, [("greet", 0.9)]), _classified(threat, [("greet", 0.9)])]
    )
    assert calm.get(CLASSIFIER_KEY)["confidence"] < 0.2
    assert calm.get(INTENT)["name"] == "greet" and calm.get(CRISIS_KEY) is None
    assert danger.get(INTENT)["name"] == CRISIS_INTENT and danger.get(CRISIS_KEY) is not None


def test_a_message_without_text_is_passed_over(component: CrisisDetector) -> None:
    assert component.process([Message(data={})])[0].get(INTENT) is None


def test_the_intent_name_is_configurable(tmp_path: Path) -> None:
    detector = CrisisDetector.create(
        {**CrisisDetector.get_default_config(), "intent": "emergency"},
        LocalModelStorage(tmp_path),
        Resource("crisis_detector"),
        ExecutionContext(GraphSchema({}), "test"),
    )
    [processed] = detector.process([Message(data={TEXT: "he has a gun"})])
    assert processed.get(INTENT)["name"] == "emergency"


def test_rasa_trains_and_parses_with_the_component_after_the_classifier(tmp_path: Path) -> None:
    # A whole NLU pipeline as bot/config.yml will hold it: Rasa finds the component by its
    # module path, places it after the classifier, and its answer survives to the parse data.
    from rasa.core.agent import Agent
    from rasa.model_training import train_nlu

    (tmp_path / "config.yml").write_text(
        yaml.safe_dump(
            {
                "recipe": "default.v1",
                "language": "en",
                "assistant_id": "crisis-test",
                "pipeline": [
                    {"name": "WhitespaceTokenizer"},
                    {"name": "KeywordIntentClassifier"},
                    {"name": "bot.components.crisis_detector.CrisisDetector"},
                ],
                "policies": [],
            }
        ),
        "utf-8",
    )
    (tmp_path / "nlu.yml").write_text(
        'version: "3.1"\nnlu:\n- intent: greet\n  examples: |\n    - hello\n    - hi\n'
        "- intent: ask_mam\n  examples: |\n    - meeting\n    - mam\n",
        "utf-8",
    )
    model = train_nlu(
        str(tmp_path / "config.yml"),
        str(tmp_path / "nlu.yml"),
        str(tmp_path / "models"),
        fixed_model_name="crisis",
    )
    agent = Agent.load(model)

    parsed = asyncio.run(agent.parse_message("hello, he has a knife and says he'll use it"))
    assert parsed["intent"] == {"name": "crisis", "confidence": 1.0}
    assert parsed[CRISIS_KEY]["category"] == "violence"
    assert asyncio.run(agent.parse_message("hello"))["intent"]["name"] == "greet"


def test_referral_answers_teach_danger_now_from_background(tmp_path: Path) -> None:
    detector = _trained_on_example_file(
        tmp_path,
        {
            "danger_now": [
                "he is on the roof of the flats now and staff cannot reach him",
                "she is on the roof and says she will jump, police on the way",
            ],
            "record_only": [
                "climbed onto the roof in 2023, brought down safely, roof access locked",
                "went up on the garage roof last summer, no injury, now supervised",
            ],
        },
    )
    now, background = detector.process(
        [
            _classified("he is on the roof now and staff cannot get to him", [("inform", 0.9)]),
            _classified("was on the roof in 2023, roof access now locked", [("inform", 0.9)]),
        ]
    )
    assert now.get(CLASSIFIER_KEY)["alarm"] is True
    assert now.get(INTENT)["name"] == CRISIS_INTENT
    assert background.get(CLASSIFIER_KEY)["alarm"] is False
    assert background.get(INTENT)["name"] == "inform"


def test_a_left_out_set_is_decided_as_the_assistant_decides(tmp_path: Path) -> None:
    # scripts/crisis_cross_validation.py measures each set left out of the classifier's training
    # with the detector's own verdict and the referral's own rule for free-text answers.
    from scripts.crisis_cross_validation import measure

    detector = _detector_with_rule_floor(tmp_path, 0.2)
    left_out = {
        "crisis": ["she took all her tablets an hour ago", "we are fine thanks"],
        "not_crisis": ["they shout at fortnite, it's just the game", "he has a knife to my throat"],
        "record_only": ["he took all his tablets in 2019, none since"],
        "danger_now": ["right now he has a knife to his brother's throat", "lovely weather"],
    }
    measured = measure(detector, "left_out.yml", left_out)
    assert measured["missed"] == ["we are fine thanks"]
    assert measured["false_alarms"] == ["he has a knife to my throat"]
    assert measured["referral_interrupted"] == []
    assert measured["referral_unwarned"] == ["lovely weather"]
    assert (measured["crisis_messages"], measured["look_alikes"]) == (2, 2)

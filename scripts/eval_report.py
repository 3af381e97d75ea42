"""Writes reports/eval.md and reports/eval.json: the held-out measurements of scripts/evaluate.py
(bot environment) with the easy-read checks of every family answer, for every variant.

Run in the backend environment: python scripts/eval_report.py RESULTS_JSON OUT_DIR
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import easy_read  # noqa: E402
from easy_read import checks  # noqa: E402
from easy_read.content import load_content  # noqa: E402

TARGET_ACCURACY = 0.95
TARGET_FALSE_ALARMS = 0.03


def easy_read_compliance() -> dict[str, Any]:
    content = load_content()
    failing = []
    answers = 0
    for topic in content.topics:
        for variant in content.variants:
            answers += 1
            found = checks.problems(easy_read.answer(topic, variant), content.glossary)
            if found:
                failing.append({"topic": topic, "variant": variant, "problems": found})
    return {"answers": answers, "passing": answers - len(failing), "failing": failing}


CRISIS_LISTS = (
    ("Crisis messages missed", "missed"),
    ("False alarms", "false_alarms"),
    ("Referral answers interrupted by the emergency answer", "referral_interrupted"),
    ("Danger now in a referral answer, not warned", "referral_unwarned"),
)


def _mark(ok: bool) -> str:
    return "met" if ok else "**missed**"


def crisis_rows(c: dict[str, Any], gates: dict[str, float]) -> list[str]:
    """The table rows of one held-out crisis set."""
    name = f"`{c['set']}`"
    return [
        f"| Crisis recall, {name} ({c['crisis_messages']} messages) | {c['recall']:.1%} | 100% "
        f"({_mark(c['recall'] >= 1.0)}; `make test` fails under {gates['crisis_recall']:.0%}) |",
        f"| Crisis false alarms, {name} ({c['look_alikes']} look-alikes) | "
        f"{c['false_alarm_rate']:.1%} | ≤ {TARGET_FALSE_ALARMS:.0%} "
        f"({_mark(c['false_alarm_rate'] <= TARGET_FALSE_ALARMS)}) |",
        f"| Referral answers recorded without the emergency answer, {name} "
        f"({c['referral_record_only']}) | "
        f"{c['referral_record_only'] - len(c['referral_interrupted'])} | all |",
        f"| Danger now in a referral answer warned, {name} ({c['referral_danger_now']}) | "
        f"{c['referral_danger_now_recall']:.1%} | 100% |",
    ]


def cross_validation_rows(cv: dict[str, Any]) -> list[str]:
    """The table rows of the crisis net measured on each development set left out in turn."""
    t = cv["total"]
    sets = f"{len(cv['folds'])} sets once written blind, each left out in turn"
    return [
        f"| Crisis recall, {sets} ({t['crisis_messages']} messages) | {t['recall']:.1%} | "
        f"100% ({_mark(t['recall'] >= 1.0)}) |",
        f"| Crisis false alarms, the same ({t['look_alikes']} look-alikes) | "
        f"{t['false_alarm_rate']:.1%} | ≤ {TARGET_FALSE_ALARMS:.0%} "
        f"({_mark(t['false_alarm_rate'] <= TARGET_FALSE_ALARMS)}) |",
        f"| Referral answers recorded without the emergency answer, the same "
        f"({t['referral_record_only']}) | {t['referral_record_only'] - t['referral_interrupted']} "
        "| all |",
        f"| Danger now in a referral answer warned, the same ({t['referral_danger_now']}) | "
        f"{1 - t['referral_unwarned'] / max(1, t['referral_danger_now']):.1%} | 100% |",
    ]


def cross_validation_section(cv: dict[str, Any]) -> list[str]:
    lines = [
        "",
        "## Crisis sets left out in turn",
        "",
        "Each set in `data/crisis/blind_*.yml` was written blind and measured once as a held-out",
        "set; each is now trained on. Here the crisis classifier is trained as the pipeline trains",
        "it on everything but one of them, which is then measured (scripts/crisis_cross_validation.py).",
        "",
        "| Set | Missed | False alarms | Referral answers interrupted | Danger now not warned |",
        "| --- | --- | --- | --- | --- |",
    ]
    lines += [
        f"| `{f['set']}` | {len(f['missed'])} of {f['crisis_messages']} | "
        f"{len(f['false_alarms'])} of {f['look_alikes']} | "
        f"{len(f['referral_interrupted'])} of {f['referral_record_only']} | "
        f"{len(f['referral_unwarned'])} of {f['referral_danger_now']} |"
        for f in cv["folds"]
    ]
    for title, key in CRISIS_LISTS:
        lines += ["", f"### {title}, sets left out", ""]
        lines += [f"- {t} (`{f['set']}`)" for f in cv["folds"] for t in f[key]] or ["none"]
    return lines


def question_rows(q: dict[str, Any], gates: dict[str, float]) -> list[str]:
    """The table rows of one held-out set of question paraphrases."""
    return [
        f"| Answer accuracy, top 1, `{q['set']}` ({q['heldout_paraphrases']} paraphrases of "
        f"{q['heldout_questions']} questions) | {q['answer_accuracy']:.1%} | "
        f"≥ {TARGET_ACCURACY:.0%} ({_mark(q['answer_accuracy'] >= TARGET_ACCURACY)}; "
        f"`make test` fails under {gates['answer_accuracy']:.0%}) |",
        f'| Right question offered when unsure ("Did you mean"), `{q["set"]}` | '
        f"+{q['offered_when_unsure']:.1%} (answered or offered {q['answered_or_offered']:.1%}) | |",
    ]


def markdown(report: dict[str, Any]) -> str:
    e = report["easy_read"]
    cv = report.get("crisis_cross_validation")
    net = report["crisis_net"]

    lines = [
        "# Held-out evaluation",
        "",
        "Regenerated by `make eval` (scripts/evaluate.py, scripts/eval_report.py) from the sets in",
        "`tests/heldout/`, written blind and never trained on. The model: "
        f"`{report['model']}`; {report['seconds']} s.",
        "",
        "| Measure | Result | Target |",
        "| --- | --- | --- |",
        *(row for q in report["questions"] for row in question_rows(q, report["gates"])),
        *(row for c in report["crisis"] for row in crisis_rows(c, report["gates"])),
        *(cross_validation_rows(cv) if cv else []),
        f"| Family answers passing the easy-read checks ({e['answers']} topic × variant) | "
        f"{e['passing']} | all |",
        "",
        f"The bank has {report['questions'][0]['bank_questions']} questions. The bank ranker",
        "(logistic regression over TF-IDF and the sentence embedding) chooses the question; a",
        "question that the intent classifier took for a request to refer or for someone telling",
        "their situation goes to the bank when the ranker is sure of it (0.8, chosen on the",
        "development sets), unless it is one of the general questions about referring.",
        "",
        "The crisis net raises the alarm when its own classifier (TF-IDF logistic regression over",
        f"the crisis examples and development sets, C {net['C']}) gives "
        f"{net['classifier_min_confidence']} or more, or when its",
        f"rules match and the classifier gives {net['rule_min_confidence']} or more (a game, a "
        "film or a scare long past",
        "matches a rule in words the classifier reads as calm). Inside a referral's free-text",
        "answers the rules' match is no alarm: the classifier's is, having learnt danger happening",
        'now from risk told as background, or a crisis said with a word like "now" or',
        '"tonight". The intent classifier\'s `crisis` alone does not raise it: its false alarms',
        "varied from one training to the next.",
        "",
        "Each crisis set was written blind and is a development set once looked at. The sets",
        "measured before this one are now trained on (`data/crisis/blind_*.yml`); the three",
        "numbers above were chosen by leaving each out in turn (the last section). The crisis set",
        "above (`tests/heldout/`) was written blind and first measured after those choices.",
    ]
    for q in report["questions"]:
        lines += ["", f"## Confusions, {q['set']} (expected → what the assistant did)", ""]
        lines += [f"- {x['expected']} → {x['got']}: {x['count']}" for x in q["confusion"]]
        lines += [] if q["confusion"] else ["none"]
    for c in report["crisis"]:
        for title, key in CRISIS_LISTS:
            lines += ["", f"## {title} ({c['set']})", ""]
            lines += [f"- {t}" for t in c[key]] or ["none"]
    lines += cross_validation_section(cv) if cv else []
    lines += ["", "## Easy-read problems", ""]
    lines += [f"- {f['topic']} ({f['variant']}): {'; '.join(f['problems'])}" for f in e["failing"]]
    if not e["failing"]:
        lines.append("none")
    return "\n".join(lines) + "\n"


def main() -> int:
    results, out = Path(sys.argv[1]), Path(sys.argv[2])
    report = json.loads(results.read_text(encoding="utf-8"))
    report["easy_read"] = easy_read_compliance()
    out.mkdir(parents=True, exist_ok=True)
    (out / "eval.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    (out / "eval.md").write_text(markdown(report), encoding="utf-8")
    print(f"report: {out / 'eval.md'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

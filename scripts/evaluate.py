"""Measures the trained assistant on held-out sets it never trained on (tests/heldout/): the question
bank (does a paraphrase get the right answer?) and the crisis net (first messages, and free-text
answers inside a referral), deciding exactly as the actions decide (actions/questions.py,
actions/referral.py).

Run in the bot environment: python scripts/evaluate.py MODEL OUT_JSON [--gate]
With --gate it exits non-zero when answer accuracy or crisis recall on any set is under its gate.
scripts/eval_report.py (backend environment) adds the easy-read checks and writes the report.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import platform
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
HELDOUT = ROOT / "tests" / "heldout"
MIN_ANSWER_ACCURACY = 0.90
# Every crisis message of the held-out set is caught (reports/eval.md); none may be missed again.
MIN_CRISIS_RECALL = 1.0


def heldout_questions(path: Path) -> list[tuple[str, str]]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    pairs = []
    for block in data["nlu"]:
        question_id = str(block["intent"]).split("/", 1)[1]
        for line in str(block["examples"]).splitlines():
            text = line.strip().removeprefix("- ").strip()
            if text:
                pairs.append((question_id, text))
    return pairs


async def crisis_measures(
    parse: Callable[[str], Awaitable[dict[str, Any]]], name: str, crisis_set: dict[str, list[str]]
) -> dict[str, Any]:
    """One crisis set, each message parsed by `parse` and decided as the assistant decides: first
    messages, and free-text answers inside a referral."""
    from actions import referral

    async def is_crisis(text: str) -> bool:
        return bool(((await parse(text)).get("intent") or {}).get("name") == "crisis")

    missed = [t for t in crisis_set["crisis"] if not await is_crisis(t)]
    false_alarms = [t for t in crisis_set["not_crisis"] if await is_crisis(t)]
    record_only = crisis_set.get("record_only") or []
    danger_now = crisis_set.get("danger_now") or []
    interrupted = [
        t for t in record_only if referral.emergency_in_answer(await parse(t), free_text=True)
    ]
    unwarned = [
        t for t in danger_now if not referral.emergency_in_answer(await parse(t), free_text=True)
    ]
    return {
        "set": name,
        "crisis_messages": len(crisis_set["crisis"]),
        "look_alikes": len(crisis_set["not_crisis"]),
        "recall": 1 - len(missed) / len(crisis_set["crisis"]),
        "false_alarm_rate": len(false_alarms) / len(crisis_set["not_crisis"]),
        "missed": missed,
        "false_alarms": false_alarms,
        "referral_record_only": len(record_only),
        "referral_interrupted": interrupted,
        "referral_danger_now": len(danger_now),
        "referral_danger_now_recall": 1 - len(unwarned) / max(1, len(danger_now)),
        "referral_unwarned": unwarned,
    }


def _tracker(parsed: dict[str, Any]) -> Any:
    from rasa_sdk import Tracker

    return Tracker("eval", {}, parsed, [], False, None, {}, "action_listen")


async def _question_measures(agent: Any, bank: Any, path: Path) -> dict[str, Any]:
    """One held-out set of question paraphrases: is each answered with its own question?"""
    from actions import questions

    answered: list[dict[str, Any]] = []
    for expected, text in heldout_questions(path):
        parsed = await agent.parse_message(text)
        chosen = questions.chosen_question(_tracker(parsed))
        offered = [] if chosen else questions.nearest_questions(dict(parsed))
        answered.append(
            {
                "expected": expected,
                "text": text,
                "chosen": chosen,
                "offered": offered,
                "intent": parsed["intent"]["name"],
            }
        )
    right = sum(a["chosen"] == a["expected"] for a in answered)
    offered_right = sum(not a["chosen"] and a["expected"] in a["offered"] for a in answered)
    confusion = Counter(
        (a["expected"], a["chosen"] or f"(unsure: {a['intent']})")
        for a in answered
        if a["chosen"] != a["expected"]
    )
    per_question: dict[str, list[int]] = {}
    for a in answered:
        counts = per_question.setdefault(a["expected"], [0, 0])
        counts[0] += a["chosen"] == a["expected"]
        counts[1] += 1
    total = len(answered)
    return {
        "set": path.name,
        "bank_questions": len(bank.ids),
        "heldout_questions": len(per_question),
        "heldout_paraphrases": total,
        "answer_accuracy": right / total,
        "offered_when_unsure": offered_right / total,
        "answered_or_offered": (right + offered_right) / total,
        "confusion": [
            {"expected": e, "got": g, "count": n} for (e, g), n in confusion.most_common()
        ],
        "per_question": {q: {"right": r, "of": n} for q, (r, n) in sorted(per_question.items())},
        "wrong": [a for a in answered if a["chosen"] != a["expected"]],
    }


async def evaluate(
    model: Path, question_files: list[Path], crisis_files: list[Path]
) -> dict[str, Any]:
    from rasa.core.agent import Agent
    from rasa.utils.log_utils import configure_structlog

    from actions import questions
    from scripts.crisis_cross_validation import detector_config

    configure_structlog(logging.WARNING)  # Rasa's debug lines would print every message's text
    agent = Agent.load(str(model))
    net = detector_config()
    assert agent.domain is not None
    bank = questions.Bank(agent.domain.as_dict())

    async def parse(text: str) -> dict[str, Any]:
        return dict(await agent.parse_message(text))

    return {
        "model": str(model.relative_to(ROOT) if model.is_relative_to(ROOT) else model),
        "machine": {"python": platform.python_version(), "platform": platform.platform()},
        "questions": [await _question_measures(agent, bank, path) for path in question_files],
        "crisis": [
            await crisis_measures(
                parse, path.name, yaml.safe_load(path.read_text(encoding="utf-8"))
            )
            for path in crisis_files
        ],
        "crisis_net": {
            key: net[key] for key in ("classifier_min_confidence", "rule_min_confidence", "C")
        },
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("model", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--gate", action="store_true", help="fail under the thresholds")
    parser.add_argument(
        "--cross-validate",
        action="store_true",
        help="also measure each set once written blind, left out of the crisis classifier",
    )
    parser.add_argument(
        "--questions",
        type=Path,
        nargs="+",
        default=[HELDOUT / "questions.yml", HELDOUT / "questions_second.yml"],
    )
    parser.add_argument(
        "--crisis",
        type=Path,
        nargs="+",
        default=[HELDOUT / "crisis_eighth.yml"],
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    started = time.monotonic()
    report = asyncio.run(evaluate(args.model.resolve(), args.questions, args.crisis))
    if args.cross_validate:
        from scripts.crisis_cross_validation import cross_validate

        report["crisis_cross_validation"] = cross_validate()
    report["seconds"] = round(time.monotonic() - started, 1)
    report["gates"] = {"answer_accuracy": MIN_ANSWER_ACCURACY, "crisis_recall": MIN_CRISIS_RECALL}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    for q in report["questions"]:
        print(
            f"held-out questions {q['set']}: answer accuracy {q['answer_accuracy']:.1%} over "
            f"{q['heldout_paraphrases']} paraphrases of {q['heldout_questions']} questions "
            f"(offered when unsure: {q['offered_when_unsure']:.1%} more)"
        )
    for c in report["crisis"]:
        print(
            f"held-out crisis set {c['set']}: recall {c['recall']:.1%} over {c['crisis_messages']}, "
            f"false alarms {c['false_alarm_rate']:.1%} over {c['look_alikes']}; inside a referral: "
            f"{len(c['referral_interrupted'])} of {c['referral_record_only']} records interrupted, "
            f"danger now warned {c['referral_danger_now_recall']:.1%}"
        )
        for text in c["missed"]:
            print(f"  crisis missed: {text}")
    failed = any(q["answer_accuracy"] < MIN_ANSWER_ACCURACY for q in report["questions"]) or any(
        c["recall"] < MIN_CRISIS_RECALL for c in report["crisis"]
    )
    if args.gate and failed:
        print(
            f"FAILED: answer accuracy must be at least {MIN_ANSWER_ACCURACY:.0%} and crisis "
            f"recall {MIN_CRISIS_RECALL:.0%}"
        )
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Turns the persona suite's outcomes (JSON lines written by tests/e2e/test_personas.py) into
reports/personas.json and reports/personas.md: how many personas completed, and the mean number of
messages a referrer sent, by kind of referral."""

import json
import sys
from pathlib import Path
from statistics import mean


def main(source: Path, out: Path) -> int:
    rows = [json.loads(line) for line in source.read_text().splitlines() if line.strip()]
    stored = [r for r in rows if r["expected"] == "stored" and r["messages"] is not None]
    by_limit: dict[str, list[int]] = {}
    for row in stored:
        kind = "mandatory-only" if row["max_messages"] == 20 else "full or Tees Valley"
        by_limit.setdefault(kind, []).append(row["messages"])
    summary = {
        "personas": len(rows),
        "completed": sum(r["completed"] for r in rows),
        "mean_messages": {k: round(mean(v), 1) for k, v in by_limit.items()},
        "max_messages": {k: max(v) for k, v in by_limit.items()},
        "rows": rows,
    }
    out.mkdir(parents=True, exist_ok=True)
    (out / "personas.json").write_text(json.dumps(summary, indent=2) + "\n")
    lines = [
        "# Persona suite",
        "",
        f"{summary['completed']} of {summary['personas']} personas completed "
        "(stored with the right register entry, or refused with nothing stored).",
        "",
        "| kind of referral | mean messages | most messages |",
        "| --- | --- | --- |",
        *(
            f"| {k} | {summary['mean_messages'][k]} | {summary['max_messages'][k]} |"
            for k in sorted(by_limit)
        ),
        "",
        "| persona | variant | expected | completed | messages | limit |",
        "| --- | --- | --- | --- | --- | --- |",
        *(
            f"| {r['persona']} | {r['variant']} | {r['expected']} | "
            f"{'yes' if r['completed'] else 'NO'} | {r['messages']} | {r['max_messages'] or ''} |"
            for r in rows
        ),
        "",
    ]
    (out / "personas.md").write_text("\n".join(lines))
    print(lines[2])
    return 0 if summary["completed"] == summary["personas"] else 1


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]), Path(sys.argv[2])))

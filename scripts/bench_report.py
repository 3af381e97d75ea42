"""reports/bench.md from the result dict of scripts/bench.py: short tables, stock beside ours."""

from __future__ import annotations

from typing import Any

from bench_stats import (
    BUSY_PERCENT,
    SCENARIOS,
    STOCK,
    busiest_other_work,
    busiest_process,
    level_figure,
    ratio,
    targets,
)

OURS = [s for s in SCENARIOS if s != STOCK]


def _num(value: Any, digits: int = 0, unit: str = "") -> str:
    if value is None:
        return "-"
    if isinstance(value, int | float):
        return f"{value:,.{digits}f}{unit}"
    return str(value)


def _x(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}x"


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines + [""]


def _levels(result: dict[str, Any]) -> list[int]:
    found = {int(n) for levels in result.get("load", {}).values() for n in levels}
    return sorted(found)


def _level_table(
    result: dict[str, Any], title: str, path: tuple[str, ...], digits: int, ratios: bool = True
) -> list[str]:
    """One measure by level (N): stock, then each of ours with ours/stock beside it."""
    load = result.get("load", {})

    def figure(scenario: str, n: int) -> Any:
        value: Any = load.get(scenario, {}).get(str(n))
        for key in path:
            value = value.get(key) if isinstance(value, dict) else None
        return value

    header = ["N", "stock"]
    for scenario in OURS:
        header += [SCENARIOS[scenario].removeprefix("ours, ")] + (["/stock"] if ratios else [])
    rows = []
    for n in _levels(result):
        stock = figure(STOCK, n)
        row = [str(n), _num(stock, digits)]
        for scenario in OURS:
            ours = figure(scenario, n)
            row += [_num(ours, digits)] + ([_x(ratio(ours, stock))] if ratios else [])
        rows.append(row)
    return [f"### {title}", ""] + _table(header, rows)


def _other_work(result: dict[str, Any]) -> str:
    busiest = busiest_other_work(result)
    if busiest is None:
        return "not measured"
    return (
        f"at most {busiest[0]:.0f}% of the CPU (during {busiest[1]}): processes the bench did "
        "not start; each phase and level in bench.json"
    )


def _warning(result: dict[str, Any]) -> list[str]:
    busiest = busiest_other_work(result)
    if busiest is None or busiest[0] <= BUSY_PERCENT:
        return []
    return [
        f"**Other work was running on this machine: it used up to {busiest[0]:.0f}% of the CPU "
        f"(during {busiest[1]}). The figures below are skewed by it; run `make bench` again on a quiet "
        "machine before quoting them.**",
        "",
    ]


def _machine(result: dict[str, Any]) -> list[str]:
    machine = result.get("machine", {})
    rows = [
        ["cores", f"{machine.get('cores')} ({machine.get('cpu', 'unknown CPU')})"],
        ["memory", _num(machine.get("memory_gb"), 1, " GB")],
        ["OS", str(machine.get("os"))],
        ["Python, .venv/backend", str(machine.get("python_backend"))],
        ["Python, .venv/bot", str(machine.get("python_bot"))],
        ["Rasa", str(machine.get("rasa"))],
        ["date", str(machine.get("date"))],
        ["git commit", str(machine.get("commit"))],
        ["other work during the run", _other_work(result)],
    ]
    return ["## Machine", ""] + _table(["", ""], rows)


def _settings(settings: dict[str, Any]) -> list[str]:
    if not settings:
        return []
    return [
        f"Ours ran as `make run` starts it: variant {settings.get('variant')}, "
        f"{settings.get('rasa_replicas')} Rasa replica(s), {settings.get('service_workers')} "
        f"register service worker(s), {settings.get('database')}, chat rate limits raised. The "
        "stock bot ran with its defaults (`rasa run`, in-memory tracker store). "
        '"Ours, Rasa REST" goes to the first replica\'s REST channel.',
        "",
    ]


def _training(result: dict[str, Any]) -> list[str]:
    training = result.get("training_seconds", {})
    stock, ours = training.get("stock"), training.get("ours")
    stock_note = (
        "measured in this run"
        if training.get("stock_measured_now")
        else f"recorded when it was trained, on {training.get('stock_trained_on', 'an earlier run')}"
    )
    rows = [
        [
            _num(stock, 0, " s") + f" ({stock_note})",
            _num(ours, 0, " s") + " (var/train.seconds)" if ours is not None else "not measured",
            _x(ratio(ours, stock)),
        ]
    ]
    return ["## Training", ""] + _table(["stock", "ours", "ours/stock"], rows)


def _ready(result: dict[str, Any]) -> list[str]:
    ready = result.get("ready_seconds", {})
    stock, ours = ready.get("stock"), ready.get("ours")
    rows = [[_num(stock, 1, " s"), _num(ours, 1, " s"), _x(ratio(ours, stock))]]
    return [
        "## Ready: from start to the first answer",
        "",
        "Stock: `rasa run` spawned until GET / answers and a first message gets a reply. Ours:",
        "scripts/stack.py spawned until /chat answers a first message.",
        "",
    ] + _table(["stock", "ours", "ours/stock"], rows)


def _error_kinds(result: dict[str, Any]) -> list[str]:
    """What the errors were, where there were any (kinds and turns, never a message)."""
    lines = []
    for scenario, levels in result.get("load", {}).items():
        for n, level in levels.items():
            kinds = level.get("error_kinds") or {}
            if kinds:
                listed = ", ".join(f"{count} x {kind}" for kind, count in sorted(kinds.items()))
                lines.append(f"- {SCENARIOS.get(scenario, scenario)}, N={n}: {listed}")
    asked = result.get("referral_questions_asked")
    if asked is not None:
        answered = len([a for a in asked if a])
        lines.append(
            f"- The first referral conversation answered {answered} questionnaire questions "
            f"({', '.join(str(a) for a in asked)})."
        )
    return lines + [""] if lines else []


def _saturation(result: dict[str, Any]) -> list[str]:
    sat = result.get("saturation", {})
    stock = (sat.get(STOCK) or {}).get("per_second")
    rows = []
    for scenario, label in SCENARIOS.items():
        found = sat.get(scenario) or {}
        rows.append(
            [
                label,
                _num(found.get("n")),
                _num(found.get("per_second"), 1),
                _x(ratio(found.get("per_second"), stock)),
            ]
        )
    return ["## Saturation: the most messages per second", ""] + _table(
        ["", "at N", "messages/s", "ours/stock"], rows
    )


def _saturation_level(result: dict[str, Any], scenario: str) -> tuple[Any, dict[str, Any]]:
    """The N at which a scenario saturated, and its load level there."""
    n = ((result.get("saturation") or {}).get(scenario) or {}).get("n")
    return n, (result.get("load", {}).get(scenario) or {}).get(str(n)) or {}


def _cpu(result: dict[str, Any]) -> list[str]:
    """Where the CPU went at each scenario's saturation level, by process."""
    rows = []
    for scenario, label in SCENARIOS.items():
        n, level = _saturation_level(result, scenario)
        for process, percent in sorted((level.get("cpu_percent_of_a_core") or {}).items()):
            rows.append([label, _num(n), process, _num(percent, 0, "%")])
    if not rows:
        return []
    lines = ["## CPU at saturation, by process (percent of one core)", ""]
    lines += _table(["", "at N", "process", "CPU"], rows)
    busiest = busiest_process(_saturation_level(result, "ours_chat_family")[1])
    if busiest is not None:
        cores = (result.get("machine") or {}).get("cores")
        lines += [
            f"At saturation through /chat (family) the busiest process was {busiest[0]} at "
            f"{busiest[1]:.0f}% of one core, on a machine of {cores} cores. A Rasa process "
            "serves one turn at a time on one core (Python, TensorFlow held to one thread), so "
            "one replica tops out near one core whatever the machine has; the second core goes "
            "to more replicas (`DSP_RASA_REPLICAS`), each with its own copy of the model in "
            "memory.",
            "",
        ]
    return lines


def _why(result: dict[str, Any]) -> list[str]:
    """Why each missed latency and throughput target is missed, from this run's own figures."""
    sat = result.get("saturation") or {}
    stock_sat = (sat.get(STOCK) or {}).get("per_second")
    ours_sat = (sat.get("ours_chat_family") or {}).get("per_second")
    missed = {t["kind"] for t in targets(result) if t["met"] is False}
    if not stock_sat or not ours_sat or not missed & {"saturation", "p50", "p95", "fifty"}:
        return []

    def stock_at(n: int, stat: str) -> Any:
        return level_figure(result, STOCK, n, "latency_ms", stat)

    lines = ["## Why the speed targets are missed", ""]
    if "saturation" in missed:
        lines.append(
            f"- **Throughput.** Each bot is one Rasa process, and at saturation that process "
            f"used one core (the CPU table above), so the ratio of messages per second is the "
            f"ratio of CPU per message: ours spends {stock_sat / ours_sat:.2f}x the stock bot's. "
            "A turn of ours does more: a spaCy pipeline, a sentence embedding, two TF-IDF "
            "classifiers (the question bank's and the crisis net's) beside DIET, one or two "
            "calls to the action server that carry the whole conversation as JSON, and the SQL "
            "tracker store read and written each turn (the stock bot keeps conversations in "
            "memory). 1.6x the stock bot would need a turn at 0.6 of its CPU while doing all "
            "that; more Rasa replicas use more cores (README, Measured), each with its own copy "
            "of the model in memory."
        )
    stock_one = stock_at(1, "p50")
    if stock_one is not None:
        lines.append(
            f"- **One conversation.** The stock bot's own p50 in this run was {stock_one:.0f} ms, "
            "near the 40 ms target; ours answers in the times above for the same reasons, and a "
            "referral turn also asks the register service to read the answer and choose the next "
            "question."
        )
    stock_ten, stock_fifty = stock_at(10, "p95"), stock_at(50, "p95")
    if stock_ten is not None and stock_fifty is not None:
        lines.append(
            f"- **Many conversations.** In a closed loop a turn waits for the turns ahead of it, "
            f"so latency grows with N over throughput: p95 under 250 ms at 10 conversations needs "
            f"about 40 messages a second and under 1 s at 50 about 50. The stock bot itself, at "
            f"{stock_sat:.1f} messages a second, had p95 {stock_ten:,.0f} ms at 10 and "
            f"{stock_fifty:,.0f} ms at 50 in this run."
        )
    return lines + [""]


def _memory(result: dict[str, Any]) -> list[str]:
    memory = result.get("memory", {})
    rows = []
    for side in ("stock", "ours"):
        for process in memory.get(side, {}).get("processes", []):
            rows.append([side, process["name"], _num(process.get("rss_mb"), 0)])
        rows.append([side, "**total**", _num(memory.get(side, {}).get("total_mb"), 0)])
    total = ratio(memory.get("ours", {}).get("total_mb"), memory.get("stock", {}).get("total_mb"))
    return (
        ["## Memory after the load (resident, MB)", ""]
        + _table(["", "process", "RSS MB"], rows)[:-1]
        + ["", f"Total, ours/stock: {_x(total)}.", ""]
    )


def _register(result: dict[str, Any]) -> list[str]:
    register = result.get("register")
    if not register:
        return ["## The register service alone", "", "Not measured.", ""]
    create = register.get("create", {})
    listing = register.get("list", {})
    rows = [
        [
            "entries seeded in-process (referrals.service.submit)",
            f"{_num(register.get('seeded'))} in {_num(register.get('seed_seconds'), 0, ' s')}",
        ],
        [
            f"POST /api/v1/referrals, {_num(create.get('concurrency'))} at a time",
            f"{_num(create.get('per_second'), 1)} referrals/s ({_num(create.get('count'))} made, "
            f"p95 {_num(create.get('latency_ms', {}).get('p95'), 0, ' ms')}, "
            f"{_num(create.get('errors'))} errors)",
        ],
        [
            f"GET /api/v1/register over {_num(listing.get('rows'))} entries",
            f"p50 {_num(listing.get('latency_ms', {}).get('p50'), 0, ' ms')}, "
            f"p95 {_num(listing.get('latency_ms', {}).get('p95'), 0, ' ms')} "
            f"({_num(listing.get('count'))} requests, {_num(listing.get('errors'))} errors)",
        ],
    ]
    return ["## The register service alone", ""] + _table(["", ""], rows)


def render(result: dict[str, Any]) -> str:
    """The whole report as Markdown."""
    met = {True: "yes", False: "**no**", None: "not measured"}
    quick = " (`--quick`: fewer messages per level; for trying, not for quoting)"
    sizes = result.get("sizes", {})
    lines = [
        "# Benchmark: the stock `rasa init` bot beside the DSP Assistant",
        "",
        f"Command: `{result.get('command', 'make bench')}`{quick if result.get('quick') else ''}. "
        f"Took {_num(result.get('seconds'), 0, ' s')}; written by scripts/bench.py "
        f"(all figures in reports/{result.get('report', 'bench')}.json).",
        "",
        "Load is a closed loop: N simulated conversations at once, each sending its next message "
        "when the reply arrives and starting a new conversation (new sender id or cookie) when "
        f"one ends, until {sizes.get('describe', 'the level budget')} is reached. A turn is one "
        "request and its response; errors are exceptions, non-2xx answers and empty replies. "
        "Ratios are ours/stock from this same run (latency: lower is better; throughput: "
        "higher is better).",
        "",
    ]
    lines += _warning(result) + ["## Targets", ""]
    lines += _table(
        ["target", "figure", "met"],
        [[t["target"], t["shown"], met[t["met"]]] for t in targets(result)],
    )
    lines += _machine(result) + _settings(result.get("settings", {}))
    lines += _ready(result) + _training(result)
    lines += ["## Turn latency and throughput by level", ""]
    lines += _level_table(result, "p50 latency (ms)", ("latency_ms", "p50"), 0)
    lines += _level_table(result, "p95 latency (ms)", ("latency_ms", "p95"), 0)
    lines += _level_table(result, "p99 latency (ms)", ("latency_ms", "p99"), 0)
    lines += _level_table(result, "messages per second", ("per_second",), 1)
    lines += _level_table(result, "errors", ("errors",), 0, ratios=False)
    lines += _error_kinds(result)
    lines += _saturation(result) + _cpu(result) + _why(result)
    lines += _memory(result) + _register(result)
    return "\n".join(lines).rstrip() + "\n"

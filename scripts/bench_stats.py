"""The pure parts of scripts/bench.py: percentiles, ratios and the targets. No I/O."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

# The scenarios of the load, in the order the report shows them; "stock" is the reference.
STOCK = "stock"
SCENARIOS = {
    STOCK: "stock rasa init bot (Rasa REST)",
    "ours_rest_family": "ours, Rasa REST (family)",
    "ours_chat_family": "ours, /chat (family)",
    "ours_chat_referral": "ours, /chat (referral)",
}
CHAT = ("ours_chat_family", "ours_chat_referral")

# The targets: (name, how it is judged), all read from a result dict by `targets`.
SATURATION_RATIO = 1.6
P50_ONE_MS = 40.0
P95_TEN_MS = 250.0
P95_FIFTY_MS = 1000.0
READY_SECONDS = 30.0
RSS_LIMIT_MB = 2048.0
# Other work using more of the CPU than this (percent) during a phase skews its figures.
BUSY_PERCENT = 10.0


def percentile(values: Sequence[float], p: float) -> float | None:
    """The p-th percentile (0-100) by linear interpolation between the nearest ranks, as numpy's
    default; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = (len(ordered) - 1) * min(max(p, 0.0), 100.0) / 100.0
    low, high = math.floor(rank), math.ceil(rank)
    if low == high:
        return float(ordered[low])
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def summary(latencies_ms: Sequence[float]) -> dict[str, float | None]:
    """p50, p95, p99, mean and max of latencies in milliseconds, rounded to 0.1 ms."""

    def rounded(value: float | None) -> float | None:
        return None if value is None else round(value, 1)

    return {
        "p50": rounded(percentile(latencies_ms, 50)),
        "p95": rounded(percentile(latencies_ms, 95)),
        "p99": rounded(percentile(latencies_ms, 99)),
        "mean": rounded(sum(latencies_ms) / len(latencies_ms)) if latencies_ms else None,
        "max": rounded(max(latencies_ms)) if latencies_ms else None,
    }


def ratio(ours: float | None, stock: float | None) -> float | None:
    """ours / stock, to 2 places; None when either is missing or stock is 0."""
    if ours is None or stock is None or stock == 0:
        return None
    return round(ours / stock, 2)


def per_second(messages: int, seconds: float) -> float | None:
    return round(messages / seconds, 2) if seconds > 0 else None


def saturation(levels: dict[str, dict[str, Any]]) -> dict[str, Any] | None:
    """The level (N) that gave the most messages per second, and that rate."""
    best = max(
        (level for level in levels.values() if level.get("per_second") is not None),
        key=lambda level: level["per_second"],
        default=None,
    )
    return None if best is None else {"n": best["n"], "per_second": best["per_second"]}


def level_figure(result: dict[str, Any], scenario: str, n: int, *path: str) -> Any:
    """A figure of one load level, e.g. ("latency_ms", "p95"); None where it was not run."""
    value: Any = result.get("load", {}).get(scenario, {}).get(str(n))
    for key in path:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def _target(kind: str, what: str, figure: Any, shown: str, met: bool | None) -> dict[str, Any]:
    # kind: saturation, p50, p95, fifty, ready or memory (what the report's reasons key on)
    return {"kind": kind, "target": what, "figure": figure, "shown": shown, "met": met}


def _ms(value: float | None) -> str:
    return "not measured" if value is None else f"{value:,.0f} ms"


def targets(result: dict[str, Any]) -> list[dict[str, Any]]:
    """Each target, the figure it is judged on, and whether it was met (None: not measured)."""
    found: list[dict[str, Any]] = []
    sat = result.get("saturation", {})
    ours, stock = sat.get("ours_chat_family"), sat.get(STOCK)
    times = ratio(ours and ours["per_second"], stock and stock["per_second"])
    found.append(
        _target(
            "saturation",
            f"saturation through /chat (family) at least {SATURATION_RATIO}x the stock bot's",
            times,
            "not measured" if times is None else f"{times:.2f}x",
            None if times is None else times >= SATURATION_RATIO,
        )
    )
    latency_targets = [
        ("p50, one conversation", 1, "p50", P50_ONE_MS),
        ("p95, 10 conversations", 10, "p95", P95_TEN_MS),
    ]
    for name, level, stat, limit in latency_targets:
        for scenario in CHAT:
            figure = level_figure(result, scenario, level, "latency_ms", stat)
            found.append(
                _target(
                    stat,
                    f"{name}, {SCENARIOS[scenario]}: at most {limit:.0f} ms",
                    figure,
                    _ms(figure),
                    None if figure is None else figure <= limit,
                )
            )
    for scenario in CHAT:
        label = SCENARIOS[scenario]
        p95 = level_figure(result, scenario, 50, "latency_ms", "p95")
        errors = level_figure(result, scenario, 50, "errors")
        measured = p95 is not None and errors is not None
        found.append(
            _target(
                "fifty",
                f"50 conversations, {label}: 0 errors and p95 under 1 s",
                {"errors": errors, "p95_ms": p95},
                f"{errors} errors, p95 {_ms(p95)}" if measured else "not measured",
                (errors == 0 and p95 < P95_FIFTY_MS) if measured else None,
            )
        )
    ready = result.get("ready_seconds", {}).get("ours")
    found.append(
        _target(
            "ready",
            f"ours ready (spawn to the first answer through /chat) within {READY_SECONDS:.0f} s",
            ready,
            "not measured" if ready is None else f"{ready:.1f} s",
            None if ready is None else ready <= READY_SECONDS,
        )
    )
    total = result.get("memory", {}).get("ours", {}).get("total_mb")
    found.append(
        _target(
            "memory",
            "all processes of ours together under 2 GB resident memory",
            total,
            "not measured" if total is None else f"{total:,.0f} MB",
            None if total is None else total < RSS_LIMIT_MB,
        )
    )
    return found


def busiest_process(level: dict[str, Any]) -> tuple[str, float] | None:
    """The process that used the most CPU during a load level (percent of one core)."""
    cpu = level.get("cpu_percent_of_a_core") or {}
    return max(cpu.items(), key=lambda item: item[1], default=None)


def busiest_other_work(result: dict[str, Any]) -> tuple[float, str] | None:
    """The most of the CPU that other work (processes the bench did not start) used during any
    phase or load level, and where; None where it was not measured."""
    found = [
        (percent, phase)
        for phase, percent in result.get("other_cpu_percent", {}).items()
        if percent is not None
    ]
    for scenario, levels in result.get("load", {}).items():
        for n, level in levels.items():
            if level.get("other_cpu_percent") is not None:
                found.append((level["other_cpu_percent"], f"{SCENARIOS.get(scenario)}, N={n}"))
    return max(found, default=None)

"""`make bench`: the stock `rasa init` bot beside the DSP Assistant, in one run, on this machine.

Writes reports/bench.json (every figure) and reports/bench.md (short tables, stock beside ours with
ours/stock). Phases, one after another so that none skews another:

1. the machine: cores, memory, OS, both environments' Python, Rasa, date, git commit;
2. the stock bot: `rasa init --no-prompt` in var/bench/stock/bot (trains it; timed, and the time
   kept in var/bench/stock/train.json so a later run that reuses the model reports it), then
   `rasa run`: time to ready, then the load levels through its REST channel;
3. ours: scripts/stack.py on spare ports with DSP_VAR_DIR=var/bench/ours (fresh, migrated), as
   `make run` starts it with the chat rate limits raised (the bench sends from one address):
   time to ready, then the load levels straight to our Rasa (family) and through /chat (family
   and referral); resident memory of every process after the load;
4. the register service alone on its own port: the register seeded in-process, GET
   /api/v1/register over it, and referrals created through POST /api/v1/referrals.

Load is a closed loop: N simulated conversations at once, each sending its next message when the
reply arrives, each starting a new conversation (new sender id, new cookie, new client) when one
ends, until the level's message count or duration is reached. `--quick` uses small sizes for
trying; `--retrain-stock` trains the stock bot again. Everything started is stopped at the end,
on error and on Ctrl-C (process groups).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_register  # noqa: E402
from bench_conversations import (  # noqa: E402
    FAMILY,
    Referral,
    Script,
    referral_answers,
    stock_messages,
)
from bench_report import render  # noqa: E402
from bench_stats import BUSY_PERCENT, SCENARIOS, per_second, saturation, summary  # noqa: E402
from bench_system import (  # noqa: E402
    BACKEND_BIN,
    BOT_BIN,
    ROOT,
    CpuWatch,
    Processes,
    cpu_seconds,
    free_port,
    machine,
    memory,
    run,
    tail,
)

BENCH_VAR = ROOT / "var" / "bench"
STOCK_DIR = BENCH_VAR / "stock" / "bot"
STOCK_TRAINING = BENCH_VAR / "stock" / "train.json"
OURS_VAR = BENCH_VAR / "ours"
MODEL = ROOT / "models" / "dsp.tar.gz"
REPORTS = ROOT / "reports"
TURN_TIMEOUT = 60.0
READY_TIMEOUT = 300.0
QUIET = {"RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "2"}


@dataclass(frozen=True)
class Sizes:
    levels: tuple[int, ...]
    messages: dict[int, int]  # at most this many messages per level...
    seconds: dict[int, float]  # ...or this long, whichever comes first
    seed: int
    create: int
    create_concurrency: int
    listings: int

    def describe(self) -> str:
        parts = [f"{self.messages[n]} messages or {self.seconds[n]:.0f} s" for n in self.levels]
        return (
            "the level's budget ("
            + "; ".join(f"N={n}: {part}" for n, part in zip(self.levels, parts, strict=True))
            + ")"
        )


# The whole default run takes about 8 to 11 minutes on 2 cores (the first adds the stock bot's
# training, about 2 to 3 minutes).
DEFAULT = Sizes(
    levels=(1, 10, 20, 50),
    messages={1: 42, 10: 300, 20: 400, 50: 600},
    seconds={1: 15, 10: 18, 20: 18, 50: 22},
    seed=10_000,
    create=300,
    create_concurrency=4,
    listings=10,
)
QUICK = Sizes(
    levels=(1, 10, 50),
    messages={1: 14, 10: 60, 50: 100},
    seconds={1: 8, 10: 8, 50: 10},
    seed=1_000,
    create=40,
    create_concurrency=4,
    listings=5,
)


def say(message: str) -> None:
    print(f"[bench] {message}", flush=True)


def busy_note(others: float) -> str:
    return f" (other work used {others:.0f}% of the CPU: skewed)" if others > BUSY_PERCENT else ""


# ---- talking to a bot -------------------------------------------------------------------------


@dataclass
class Target:
    """Where a scenario's messages go: Rasa's REST channel or /chat, and what is said."""

    kind: str  # "rest" | "chat"
    base: str
    script: Callable[[], Script]
    scripts: list[Script] = field(default_factory=list)

    def new_script(self) -> Script:
        script = self.script()
        if not self.scripts:
            self.scripts.append(script)  # the first, for what the report says it was asked
        return script


def client(base: str) -> httpx.AsyncClient:
    # Plain HTTP on loopback: without verify=False each client loads the CA bundle (~50 ms).
    return httpx.AsyncClient(base_url=base, timeout=TURN_TIMEOUT, verify=False)


async def turn(
    http: httpx.AsyncClient, target: Target, sender: str, message: str
) -> tuple[dict[str, Any] | None, str | None]:
    """One request and its response: (the reply, None) or (None, the kind of error)."""
    if target.kind == "rest":
        response = await http.post(
            "/webhooks/rest/webhook", json={"sender": sender, "message": message}
        )
    else:
        response = await http.post("/chat", json={"message": message})
    if not response.is_success:
        return None, f"HTTP {response.status_code}"
    body = response.json()
    replies = body if target.kind == "rest" else body.get("messages")
    if not replies:
        return None, "empty reply"
    return (body if isinstance(body, dict) else {"replies": body}), None


async def run_level(target: Target, n: int, messages: int, seconds: float) -> dict[str, Any]:
    """N conversations at once in a closed loop until `messages` were sent or `seconds` passed."""
    latencies: list[float] = []
    errors: Counter[str] = Counter()
    sent = conversations = 0
    started = time.perf_counter()
    deadline = started + seconds

    def more() -> bool:
        return sent < messages and time.perf_counter() < deadline

    async def person() -> None:
        nonlocal sent, conversations
        while more():
            script, sender, reply = target.new_script(), uuid.uuid4().hex, None
            conversations += 1
            async with client(target.base) as http:
                for number in itertools.count(1):
                    if not more() or (message := script.next(reply)) is None:
                        break
                    sent += 1
                    began = time.perf_counter()
                    try:
                        reply, error = await turn(http, target, sender, message)
                    except (httpx.HTTPError, ValueError) as failure:
                        reply, error = None, type(failure).__name__
                    if error is not None:
                        errors[f"{error} (turn {number})"] += 1
                        break  # this conversation cannot go on; a new one starts
                    latencies.append((time.perf_counter() - began) * 1000)

    await asyncio.gather(*(person() for _ in range(n)))
    elapsed = time.perf_counter() - started
    return {
        "n": n,
        "messages": len(latencies),
        "conversations": conversations,
        "seconds": round(elapsed, 2),
        "per_second": per_second(len(latencies), elapsed),
        "errors": sum(errors.values()),
        "error_kinds": dict(errors),
        "latency_ms": summary(latencies),
    }


async def run_levels(name: str, target: Target, sizes: Sizes, pid: int) -> dict[str, Any]:
    """Each load level in turn, with the CPU each process under `pid` used during it (percent
    of one core)."""
    levels: dict[str, Any] = {}
    for n in sizes.levels:
        say(f"{SCENARIOS[name]}: N={n} ...")
        watch, before, began = CpuWatch(), cpu_seconds(pid), time.monotonic()
        level = await run_level(target, n, sizes.messages[n], sizes.seconds[n])
        level["other_cpu_percent"] = watch.others_percent()
        elapsed = time.monotonic() - began
        level["cpu_percent_of_a_core"] = {
            process: round((seconds - before.get(process, 0.0)) / elapsed * 100, 1)
            for process, seconds in cpu_seconds(pid).items()
        }
        levels[str(n)] = level
        say(
            f"{SCENARIOS[name]}: N={n}: {level['messages']} messages, "
            f"{level['per_second']} msg/s, p50 {level['latency_ms']['p50']} ms, "
            f"p95 {level['latency_ms']['p95']} ms, {level['errors']} errors"
            + busy_note(level["other_cpu_percent"])
        )
    return levels


async def wait_ready(
    target: Target, process: subprocess.Popen[bytes], log: Path, started: float
) -> float:
    """Seconds from `started` until a first message gets a reply (for REST, after GET / is 200)."""
    root_ok = target.kind != "rest"
    while time.monotonic() - started < READY_TIMEOUT:
        if process.poll() is not None:
            raise RuntimeError(f"it stopped at start. The end of its log:\n{tail(log)}")
        async with client(target.base) as http:
            try:
                if not root_ok:
                    root_ok = (await http.get("/")).status_code == 200
                if root_ok:
                    reply, _error = await turn(http, target, uuid.uuid4().hex, "hello")
                    if reply is not None:
                        return round(time.monotonic() - started, 2)
            except httpx.HTTPError:
                pass
        await asyncio.sleep(0.25)
    raise RuntimeError(f"not ready after {READY_TIMEOUT:.0f} s. The end of its log:\n{tail(log)}")


# ---- the stock bot ----------------------------------------------------------------------------


def bot_env() -> dict[str, str]:
    return {**os.environ, **QUIET, "RASA_CACHE_DIRECTORY": str(STOCK_DIR / ".rasa" / "cache")}


def stock_model(retrain: bool) -> dict[str, Any]:
    """The stock bot trained by `rasa init --no-prompt` (timed), or the one trained before with
    the time recorded then."""
    trained = sorted((STOCK_DIR / "models").glob("*.tar.gz"))
    if trained and STOCK_TRAINING.exists() and not retrain:
        recorded = json.loads(STOCK_TRAINING.read_text())
        say(f"stock bot: reusing its model (trained in {recorded['seconds']:.0f} s)")
        return {**recorded, "measured_now": False}
    shutil.rmtree(STOCK_DIR, ignore_errors=True)
    STOCK_DIR.mkdir(parents=True)
    say("stock bot: rasa init --no-prompt (creates and trains it; a few minutes) ...")
    log = STOCK_DIR.parent / "init.log"
    log.unlink(missing_ok=True)
    started, watch = time.monotonic(), CpuWatch()
    process = PROCESSES.spawn(
        [str(BOT_BIN / "rasa"), "init", "--no-prompt", "--init-dir", str(STOCK_DIR)],
        env=bot_env(),
        cwd=STOCK_DIR,
        log=log,
    )
    code = process.wait()
    PROCESSES.running.remove(process)
    seconds = round(time.monotonic() - started, 1)
    if code != 0 or not list((STOCK_DIR / "models").glob("*.tar.gz")):
        raise RuntimeError(f"rasa init failed (exit {code}):\n{tail(log)}")
    others = watch.others_percent()
    trained_now = {"seconds": seconds, "on": date.today().isoformat(), "other_cpu_percent": others}
    STOCK_TRAINING.write_text(json.dumps(trained_now) + "\n")
    say(f"stock bot: trained in {seconds:.0f} s" + busy_note(others))
    return {**trained_now, "measured_now": True}


async def stock_phase(result: dict[str, Any], sizes: Sizes, retrain: bool) -> None:
    training = stock_model(retrain)
    result["training_seconds"].update(
        stock=training["seconds"],
        stock_measured_now=training["measured_now"],
        stock_trained_on=training["on"],
    )
    result["other_cpu_percent"]["stock training"] = training.get("other_cpu_percent")
    port = free_port()
    messages = stock_messages(STOCK_DIR / "data" / "nlu.yml")
    target = Target("rest", f"http://127.0.0.1:{port}", lambda: Script(messages))
    log = STOCK_DIR.parent / "rasa.log"
    log.unlink(missing_ok=True)
    say(f"stock bot: rasa run on 127.0.0.1:{port} ...")
    started, watch = time.monotonic(), CpuWatch()
    process = PROCESSES.spawn(
        [str(BOT_BIN / "rasa"), "run", "--port", str(port), "--interface", "127.0.0.1"],
        env=bot_env(),
        cwd=STOCK_DIR,
        log=log,
    )
    try:
        result["ready_seconds"]["stock"] = await wait_ready(target, process, log, started)
    except RuntimeError as error:
        raise RuntimeError(f"the stock bot did not start: {error}") from None
    others = result["other_cpu_percent"]["stock start"] = watch.others_percent()
    say(f"stock bot: ready in {result['ready_seconds']['stock']:.1f} s" + busy_note(others))
    result["load"]["stock"] = await run_levels("stock", target, sizes, process.pid)
    result["memory"]["stock"] = memory(process.pid)
    PROCESSES.stop(process)


# ---- ours -------------------------------------------------------------------------------------


def ours_env(port: int, actions_port: int, rasa_port: int) -> dict[str, str]:
    """The environment `make run` gives the stack (passed through, so settings such as
    DSP_RASA_REPLICAS reach it), on spare ports, in var/bench/ours, chat limits raised."""
    env = {
        **os.environ,
        **QUIET,
        "PYTHONPATH": str(ROOT),
        "DSP_VAR_DIR": str(OURS_VAR),
        "DSP_PORT": str(port),
        "DSP_ACTIONS_PORT": str(actions_port),
        "DSP_RASA_PORT": str(rasa_port),
        "DSP_HOST": "127.0.0.1",
        "DSP_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "DSP_CHAT_RATE_PER_MINUTE": "1000000",
        "DSP_CHAT_RATE_PER_ADDRESS_PER_MINUTE": "1000000",
    }
    env.pop("DATABASE_URL", None)  # the bench's own SQLite database, never another one
    return env


async def ours_phase(result: dict[str, Any], sizes: Sizes) -> dict[str, str]:
    shutil.rmtree(OURS_VAR, ignore_errors=True)
    OURS_VAR.mkdir(parents=True)
    port, actions_port, rasa_port = free_port(), free_port(), free_port(span=8)
    env = ours_env(port, actions_port, rasa_port)
    say("ours: migrating var/bench/ours ...")
    run([str(BACKEND_BIN / "dsp-backend"), "migrate"], env=env, cwd=ROOT)
    log = OURS_VAR / "stack.out"
    say(f"ours: scripts/stack.py (register service on 127.0.0.1:{port}) ...")
    started, watch = time.monotonic(), CpuWatch()
    process = PROCESSES.spawn(
        [str(BACKEND_BIN / "python"), str(ROOT / "scripts" / "stack.py")],
        env=env,
        cwd=ROOT,
        log=log,
    )
    chat_base, rest_base = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{rasa_port}"
    numbers = bench_register.nhs_numbers(500_000_001)
    targets = {
        "ours_rest_family": Target("rest", rest_base, lambda: Script(FAMILY)),
        "ours_chat_family": Target("chat", chat_base, lambda: Script(FAMILY)),
        "ours_chat_referral": Target(
            "chat", chat_base, lambda: Referral(referral_answers(date.today(), next(numbers)))
        ),
    }
    try:
        ready = await wait_ready(targets["ours_chat_family"], process, log, started)
    except RuntimeError as error:
        raise RuntimeError(f"our stack did not start: {error}") from None
    result["ready_seconds"]["ours"] = ready
    others = result["other_cpu_percent"]["ours start"] = watch.others_percent()
    say(
        f"ours: ready in {ready:.1f} s (spawn to the first answer through /chat)"
        + busy_note(others)
    )
    for name, target in targets.items():
        result["load"][name] = await run_levels(name, target, sizes, process.pid)
    first = targets["ours_chat_referral"].scripts[0]
    if isinstance(first, Referral):
        result["referral_questions_asked"] = first.asked
    result["memory"]["ours"] = memory(process.pid)
    say("ours: stopping the stack ...")
    PROCESSES.stop(process, signal.SIGINT)
    return env


# ---- the register service alone ---------------------------------------------------------------


def token(env: dict[str, str], role: str) -> str:
    return run([str(BACKEND_BIN / "dsp-backend"), "token", "create", "--role", role], env=env)


async def register_phase(result: dict[str, Any], sizes: Sizes, env: dict[str, str]) -> None:
    say(f"register: seeding {sizes.seed:,} referrals in-process (about 1 s per 100) ...")
    watch = CpuWatch()
    seeded = json.loads(
        run(
            [str(BACKEND_BIN / "python"), str(ROOT / "scripts" / "bench_register.py"), "seed"]
            + [str(sizes.seed)],
            env=env,
            cwd=ROOT,
        ).splitlines()[-1]
    )
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = OURS_VAR / "log" / "register_alone.log"
    process = PROCESSES.spawn(
        [str(BACKEND_BIN / "dsp-backend"), "serve", "--host", "127.0.0.1", "--port", str(port)]
        + ["--no-migrate"],
        env=env,
        cwd=ROOT,
        log=log,
    )
    started = time.monotonic()
    async with client(base) as http:
        while True:
            try:
                if (await http.get("/health")).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None or time.monotonic() - started > 60:
                raise RuntimeError(f"the register service did not start:\n{tail(log)}")
            await asyncio.sleep(0.2)
    say(f"register: GET /api/v1/register x{sizes.listings} ...")
    listing = await bench_register.list_register(base, token(env, "dsr_admin"), sizes.listings)
    say(f"register: POST /api/v1/referrals x{sizes.create} ...")
    variant = env.get("DSP_VARIANT", "llr")
    create = await bench_register.create_referrals(
        base, token(env, "referrer"), variant, sizes.create, sizes.create_concurrency
    )
    PROCESSES.stop(process)
    result["other_cpu_percent"]["the register service alone"] = watch.others_percent()
    result["register"] = {
        "seeded": seeded["seeded"],
        "seed_seconds": seeded["seconds"],
        "list": listing,
        "create": create,
    }
    say(
        f"register: {create['per_second']} referrals/s; GET /api/v1/register over "
        f"{listing['rows']} entries p95 {listing['latency_ms']['p95']} ms"
    )


# ---- the run ----------------------------------------------------------------------------------

PROCESSES = Processes()


def ours_training() -> float | None:
    try:
        return round(float((ROOT / "var" / "train.seconds").read_text().strip()), 1)
    except (OSError, ValueError):
        return None


def command(args: argparse.Namespace) -> str:
    """The command that makes this report, as a person would type it."""
    settings = " ".join(
        f"{name}={os.environ[name]}"
        for name in ("DSP_RASA_REPLICAS", "DSP_SERVICE_WORKERS", "DSP_VARIANT")
        if os.environ.get(name)
    )
    options = " ".join(
        ["--quick"] * args.quick + ([f"--report {args.report}"] if args.report != "bench" else [])
    )
    made = f".venv/backend/bin/python scripts/bench.py {options}" if options else "make bench"
    return f"{settings} {made}".strip()


async def bench(args: argparse.Namespace) -> dict[str, Any]:
    sizes = QUICK if args.quick else DEFAULT
    started = time.monotonic()
    result: dict[str, Any] = {
        "command": command(args),
        "report": args.report,
        "quick": args.quick,
        "sizes": {
            "levels": list(sizes.levels),
            "messages": {str(n): m for n, m in sizes.messages.items()},
            "seconds": {str(n): s for n, s in sizes.seconds.items()},
            "describe": sizes.describe(),
        },
        "settings": {
            "variant": os.environ.get("DSP_VARIANT", "llr"),
            "rasa_replicas": int(os.environ.get("DSP_RASA_REPLICAS", "1")),
            "service_workers": int(os.environ.get("DSP_SERVICE_WORKERS", "1")),
            "database": "SQLite in var/bench/ours",
        },
        "training_seconds": {"ours": ours_training()},
        "ready_seconds": {},
        "other_cpu_percent": {},
        "load": {},
        "memory": {},
    }
    say("the machine ...")
    watch = CpuWatch()
    result["machine"] = machine()
    await asyncio.sleep(max(0.0, 3 - (time.monotonic() - started)))
    others = result["other_cpu_percent"]["before the run"] = watch.others_percent()
    if others > BUSY_PERCENT:
        say(f"warning: other work is using {others:.0f}% of the CPU: the figures will be skewed")
    for needed in (BOT_BIN / "rasa", BACKEND_BIN / "dsp-backend", MODEL):
        if not needed.exists():
            raise RuntimeError(f"{needed.relative_to(ROOT)} is missing: run `make setup` first")
    await stock_phase(result, sizes, args.retrain_stock)
    env = await ours_phase(result, sizes)
    await register_phase(result, sizes, env)
    result["saturation"] = {name: saturation(levels) for name, levels in result["load"].items()}
    result["seconds"] = round(time.monotonic() - started, 1)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="few messages per level, to try it")
    parser.add_argument(
        "--retrain-stock", action="store_true", help="train the stock bot again (timed)"
    )
    parser.add_argument(
        "--report",
        default="bench",
        help="the report's name under reports/ (default bench: reports/bench.md and .json)",
    )
    args = parser.parse_args(argv)

    def on_signal(_signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        result = asyncio.run(bench(args))
    except KeyboardInterrupt:
        say("interrupted: stopping everything started ...")
        return 130
    except (RuntimeError, subprocess.CalledProcessError) as error:
        detail = getattr(error, "stderr", None) or ""
        say(f"error: {error}\n{detail}".rstrip())
        return 1
    finally:
        PROCESSES.stop_all()
    REPORTS.mkdir(exist_ok=True)
    (REPORTS / f"{args.report}.json").write_text(json.dumps(result, indent=2) + "\n")
    report = render(result)
    (REPORTS / f"{args.report}.md").write_text(report)
    say(f"done in {result['seconds']:.0f} s: reports/{args.report}.md and .json")
    print(report, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The processes and the machine, for scripts/bench.py: spare ports, process groups started and
stopped, resident memory of a process tree, and what the machine is."""

from __future__ import annotations

import contextlib
import os
import platform
import signal
import socket
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil

ROOT = Path(__file__).resolve().parents[1]
BACKEND_BIN = ROOT / ".venv" / "backend" / "bin"
BOT_BIN = ROOT / ".venv" / "bot" / "bin"


def run(command: list[str], **kwargs: Any) -> str:
    return subprocess.run(
        command, capture_output=True, text=True, check=True, **kwargs
    ).stdout.strip()


def free_port(span: int = 1) -> int:
    """A port nothing listens on, with the `span - 1` ports after it free too (for replicas)."""
    while True:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = int(probe.getsockname()[1])
        if all(_free(port + i) for i in range(1, span)):
            return port


def _free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


# ---- processes --------------------------------------------------------------------------------


class Processes:
    """Everything the bench started, each in a process group of its own, stopped on any exit."""

    def __init__(self) -> None:
        self.running: list[subprocess.Popen[bytes]] = []

    def spawn(self, command: list[str], *, env: dict[str, str], cwd: Path, log: Path) -> Any:
        log.parent.mkdir(parents=True, exist_ok=True)
        with log.open("ab") as out:
            process = subprocess.Popen(
                command, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
        self.running.append(process)
        return process

    def stop(self, process: subprocess.Popen[bytes], first: int = signal.SIGTERM) -> None:
        """`first` to the process (stack.py stops its own children on SIGINT), then SIGKILL to
        its group and to the group of every process below it that is still there."""
        try:
            below = psutil.Process(process.pid).children(recursive=True)
        except psutil.Error:
            below = []
        if process.poll() is None:
            if first == signal.SIGINT:
                process.send_signal(first)
            else:
                _signal_group(process.pid, first)
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(30)
        for pid in [process.pid, *(p.pid for p in below)]:
            _signal_group(pid, signal.SIGKILL)
        if process.poll() is None:
            process.wait(10)
        if process in self.running:
            self.running.remove(process)

    def stop_all(self) -> None:
        for process in list(reversed(self.running)):
            self.stop(process, signal.SIGINT if _is_stack(process) else signal.SIGTERM)


def _signal_group(pid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signum)


def _is_stack(process: subprocess.Popen[bytes]) -> bool:
    return "stack.py" in str(process.args)


def process_name(process: psutil.Process) -> str | None:
    """What a process of ours is, from its command line (never its arguments' values); None
    for a process started by one of them (a uvicorn worker, a multiprocessing helper). Raises
    psutil.Error for a process that has ended."""
    command = process.cmdline()
    joined = " ".join(command)
    if "multiprocessing" in joined:
        return None
    if "stack.py" in joined:
        return "stack.py (supervisor)"
    if "dsp-backend" in joined:
        return "register service" if "serve" in command else f"dsp-backend {command[-1]}"
    if "run" in command and "actions" in command:
        return "action server"
    if "rasa" in joined and "run" in command:
        port = command[command.index("--port") + 1] if "--port" in command else "?"
        return f"rasa (port {port})"
    return None


def _named_tree(pid: int) -> list[tuple[str, psutil.Process]]:
    """A process and every process below it, each with what it is (a process started by one of
    ours that has no name of its own is its parent's child); empty when it has ended."""
    try:
        root = psutil.Process(pid)
        tree = [root, *root.children(recursive=True)]
    except psutil.Error:
        return []
    names: dict[int, str] = {}
    found = []
    for process in tree:  # parents before their children
        try:
            parent = names.get(process.ppid())
            name = process_name(process) or (f"{parent}: child" if parent else process.name())
        except psutil.Error:
            continue  # it ended meanwhile (housekeeping, say)
        names[process.pid] = name
        found.append((name, process))
    return found


def cpu_seconds(pid: int) -> dict[str, float]:
    """CPU seconds so far of a process and every process below it, by what each is."""
    found: dict[str, float] = {}
    for name, process in _named_tree(pid):
        try:
            times = process.cpu_times()
        except psutil.Error:
            continue
        found[name] = found.get(name, 0.0) + times.user + times.system
    return found


def memory(pid: int) -> dict[str, Any]:
    """Resident memory (MB) of a process and every process below it, and their total."""
    tree = _named_tree(pid)
    if not tree:
        return {"processes": [], "total_mb": None}
    processes = []
    for name, process in tree:
        try:
            rss = process.memory_info().rss / 2**20
        except psutil.Error:
            continue
        processes.append({"name": name, "rss_mb": round(rss, 1)})
    return {"processes": processes, "total_mb": round(sum(p["rss_mb"] for p in processes), 1)}


def tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


# ---- the machine ------------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    def version(python: Path, code: str) -> str:
        try:
            return run([str(python), "-c", code])
        except (OSError, subprocess.CalledProcessError):
            return "not found"

    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor() or "unknown CPU",
    )
    os_name = platform.platform()
    release = Path("/etc/os-release")
    if release.exists():
        names = dict(line.split("=", 1) for line in release.read_text().splitlines() if "=" in line)
        os_name = f"{names.get('PRETTY_NAME', '').strip(chr(34))} ({os_name})"
    commit = run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT)
    if run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT):
        commit += " with uncommitted changes"
    python_version = "import platform; print(platform.python_version())"
    return {
        "cores": os.cpu_count(),
        "cpu": cpu,
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "os": os_name,
        "python_backend": version(BACKEND_BIN / "python", python_version),
        "python_bot": version(BOT_BIN / "python", python_version),
        "rasa": version(
            BOT_BIN / "python", "from importlib.metadata import version; print(version('rasa'))"
        ),
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": commit,
    }


def _busy_seconds() -> float:
    times = psutil.cpu_times()
    idle = times.idle + getattr(times, "iowait", 0.0)
    return sum(times) - idle


def _tree_cpu(pid: int) -> dict[int, float]:
    """CPU seconds so far of a process and each process below it (each with its ended
    children), by pid."""
    try:
        root = psutil.Process(pid)
        tree = [root, *root.children(recursive=True)]
    except psutil.Error:
        return {}
    found = {}
    for process in tree:
        try:
            times = process.cpu_times()
        except psutil.Error:
            continue
        # With the children it has waited for: a finished command counts as ours too.
        found[process.pid] = times.user + times.system + times.children_user + times.children_system
    return found


class CpuWatch:
    """How much of the machine's CPU other work used since the watch began: everything busy
    minus this process and every process it started. Figures taken while other work ran are
    skewed, so the report says so."""

    def __init__(self) -> None:
        self.started = time.monotonic()
        self.busy = _busy_seconds()
        self.ours = _tree_cpu(os.getpid())

    def others_percent(self) -> float:
        elapsed = time.monotonic() - self.started
        busy = _busy_seconds() - self.busy
        ours = sum(t - self.ours.get(pid, 0.0) for pid, t in _tree_cpu(os.getpid()).items())
        capacity = elapsed * (psutil.cpu_count() or 1)
        return round(min(100.0, max(0.0, busy - ours) / capacity * 100), 1) if capacity else 0.0

"""End-to-end: the real stack started by scripts/stack.py (as `make run` does), on spare ports."""

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Stack:
    def __init__(self, url: str, env: dict[str, str]) -> None:
        self.url = url
        self.env = env

    def token(self, role: str) -> str:
        result = subprocess.run(
            [str(ROOT / ".venv/backend/bin/dsp-backend"), "token", "create", "--role", role],
            env=self.env,
            check=True,
            capture_output=True,
            text=True,
        )
        return result.stdout.strip()

    @contextmanager
    def chat(self) -> Iterator[httpx.Client]:
        """A browser-like client: it opens the page first and keeps the conversation cookie."""
        with httpx.Client(base_url=self.url, timeout=60) as client:
            client.get("/").raise_for_status()
            yield client


def run_stack(var: Path, variant: str) -> Iterator[Stack]:
    """Starts scripts/stack.py for one variant on spare ports; stops it with Ctrl-C (SIGINT)."""
    port = free_port()
    env = {
        **os.environ,
        "DSP_VARIANT": variant,
        "DSP_VAR_DIR": str(var),
        "DSP_PORT": str(port),
        "DSP_ACTIONS_PORT": str(free_port()),
        "DSP_RASA_PORT": str(free_port()),
        "DSP_HOST": "127.0.0.1",
        "PYTHONPATH": str(ROOT),
    }
    env.pop("DATABASE_URL", None)
    subprocess.run(
        [str(ROOT / ".venv/backend/bin/dsp-backend"), "migrate"],
        env=env,
        check=True,
        capture_output=True,
    )
    output = (var / "stack.out").open("w+")
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "scripts" / "stack.py")],
        cwd=ROOT,
        env=env,
        stdout=output,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 300
    try:
        while "All started" not in (var / "stack.out").read_text():
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail("the stack did not start:\n" + (var / "stack.out").read_text())
            time.sleep(1)
        yield Stack(f"http://127.0.0.1:{port}", env)
    finally:
        # Ctrl-C stops all three cleanly: exit 0 and every port free again.
        process.send_signal(signal.SIGINT)
        try:
            code = process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            code = None
        output.close()
        assert code == 0, (var / "stack.out").read_text()
        for name in ("DSP_PORT", "DSP_ACTIONS_PORT", "DSP_RASA_PORT"):
            with socket.socket() as probe:
                assert probe.connect_ex(("127.0.0.1", int(env[name]))) != 0, f"{name} still open"


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """The stack as `make run` starts it, for the default variant (LLR)."""
    yield from run_stack(tmp_path_factory.mktemp("var"), "llr")


@pytest.fixture(scope="session")
def tees_valley_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """The same stack deployed for Tees Valley, where people may refer themselves (003)."""
    yield from run_stack(tmp_path_factory.mktemp("tees_var"), "tees_valley")


@pytest.fixture(scope="session")
def west_sussex_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """The same stack deployed for West Sussex, with its own red / amber / green criteria (004)."""
    yield from run_stack(tmp_path_factory.mktemp("west_sussex_var"), "west_sussex")

"""Action tests talk to a real register service, started here from the backend environment.

The service gets its own SQLite file and port; the action server's token is created with the real
command line, exactly as the stack does it.
"""

import os
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

ROOT = Path(__file__).resolve().parents[2]
DSP_BACKEND = ROOT / ".venv" / "backend" / "bin" / "dsp-backend"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until_healthy(url: str, process: subprocess.Popen[bytes], seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("the register service stopped at start")
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"the register service did not answer at {url}")


class RegisterService:
    def __init__(self, url: str, env: dict[str, str]) -> None:
        self.url = url
        self.env = env

    def token(self, role: str) -> str:
        result = subprocess.run(
            [str(DSP_BACKEND), "token", "create", "--role", role],
            env=self.env,
            check=True,
            capture_output=True,
            text=True,
        )
        return result.stdout.strip()


def start_register_service(tmp: Path, variant: str) -> Iterator[RegisterService]:
    port = free_port()
    env = {**os.environ, "DSP_VAR_DIR": str(tmp), "DSP_VARIANT": variant}
    env.pop("DATABASE_URL", None)
    subprocess.run([str(DSP_BACKEND), "migrate"], env=env, check=True, capture_output=True)
    log = (tmp / "service.log").open("wb")
    process = subprocess.Popen(
        [str(DSP_BACKEND), "serve", "--host", "127.0.0.1", "--port", str(port), "--no-migrate"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_until_healthy(f"http://127.0.0.1:{port}/health", process)
        yield RegisterService(f"http://127.0.0.1:{port}", env)
    finally:
        process.terminate()
        process.wait(10)
        log.close()


@pytest.fixture
def anyio_backend() -> str:
    # The async action tests run on asyncio through anyio's pytest plugin (anyio ships with rasa).
    return "asyncio"


@pytest.fixture(scope="session")
def register_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RegisterService]:
    yield from start_register_service(tmp_path_factory.mktemp("register"), "llr")


@pytest.fixture
def service_env(
    register_service: RegisterService, monkeypatch: pytest.MonkeyPatch
) -> RegisterService:
    """Points the actions' client at the running service with an action_server token."""
    monkeypatch.setenv("DSP_SERVICE_URL", register_service.url)
    monkeypatch.setenv("DSP_SERVICE_TOKEN", register_service.token("action_server"))
    return register_service


@pytest.fixture
def dispatcher() -> CollectingDispatcher:
    return CollectingDispatcher()


def tracker(
    slots: dict[str, Any] | None = None,
    events: list[dict[str, Any]] | None = None,
    latest_message: dict[str, Any] | None = None,
    active_loop: str | None = None,
) -> Tracker:
    """A real rasa_sdk Tracker, as the action server builds one from Rasa's request."""
    return Tracker.from_dict(
        {
            "sender_id": "test-conversation",
            "slots": slots or {},
            "latest_message": latest_message
            or {"intent": {"name": "greet"}, "entities": [], "text": ""},
            "events": events or [],
            "paused": False,
            "followup_action": None,
            "active_loop": {"name": active_loop} if active_loop else {},
            "latest_action_name": None,
        }
    )


def load_domain() -> dict[str, Any]:
    """The domain as Rasa sends it to the action server: every file under bot/domain merged."""
    import yaml

    merged: dict[str, Any] = {"intents": [], "responses": {}, "slots": {}}
    for path in sorted((ROOT / "bot" / "domain").glob("*.yml")):
        part = yaml.safe_load(path.read_text("utf-8")) or {}
        merged["intents"] += part.get("intents") or []
        merged["responses"].update(part.get("responses") or {})
        merged["slots"].update(part.get("slots") or {})
    return merged

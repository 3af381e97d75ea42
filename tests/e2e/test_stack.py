"""make run's promises that need no model: a busy port gets a clear error naming it."""

import os
import socket
import subprocess
import sys
from pathlib import Path

# Not imported from tests.e2e: textstat installs a top-level `tests` package in the backend env.
ROOT = Path(__file__).resolve().parents[2]


def test_a_busy_port_is_named_and_nothing_starts(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        env = {**os.environ, "DSP_VAR_DIR": str(tmp_path), "DSP_RASA_PORT": str(port)}
        result = subprocess.run(
            [sys.executable, str(ROOT / "scripts/stack.py")],
            env=env,
            capture_output=True,
            text=True,
            timeout=30,
        )
    assert result.returncode == 1
    assert f"port {port} is already in use" in result.stdout
    assert "rasa" in result.stdout
    assert not (tmp_path / "log").exists()  # nothing was started

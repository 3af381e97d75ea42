"""End-to-end: the real stack started by scripts/stack.py (as `make run` does), on spare ports."""

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller

ROOT = Path(__file__).resolve().parents[2]


_HANDED_OUT: set[int] = set()


def free_port() -> int:
    """A port nothing listens on, never the same twice in a run (two services started at once
    must not be given one port)."""
    while True:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = int(probe.getsockname()[1])
        if port not in _HANDED_OUT:
            _HANDED_OUT.add(port)
            return port


def free_ports(count: int) -> int:
    """The first of `count` consecutive free ports (Rasa replicas take DSP_RASA_PORT onwards)."""
    while True:
        first = free_port()
        rest = range(first + 1, first + count)
        if all(port not in _HANDED_OUT and _bindable(port) for port in rest):
            _HANDED_OUT.update(rest)
            return first


def _bindable(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


class Mailbox:
    """A real SMTP server (aiosmtpd) on a spare port: what the stack sends, as received."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.port = free_port()
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.messages.append(message_from_bytes(envelope.content, policy=default))  # type: ignore[arg-type]
        return "250 OK"

    def __enter__(self) -> "Mailbox":
        self._controller.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._controller.stop()

    def about(self, reference: str, seconds: float = 30) -> EmailMessage:
        """The email that names this referral's reference (in its subject, never a name)."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            found = [m for m in self.messages if reference in str(m["Subject"])]
            if found:
                return found[-1]
            time.sleep(0.5)
        raise AssertionError(f"no email about {reference}")


class Stack:
    def __init__(self, url: str, env: dict[str, str], mailbox: Mailbox) -> None:
        self.url = url
        self.env = env
        self.mailbox = mailbox

    def confirm(self, reference: str) -> str:
        """Does what the referrer does: opens the link in the email and presses Confirm. Returns
        the page it ends on."""
        body = self.mailbox.about(reference).get_content()
        link = re.search(r"https?://\S+/referrals/confirm/[A-Za-z0-9_-]+", body)
        assert link, body
        with httpx.Client(timeout=30) as client:
            client.get(link[0]).raise_for_status()
            page = client.post(link[0])
            page.raise_for_status()
            return page.text

    def accept(self, reference: str) -> None:
        """Does what the DSR admin lead does with a referral waiting for them."""
        headers = {"Authorization": f"Bearer {self.token('dsr_admin')}"}
        url = f"{self.url}/api/v1/referrals/pending/{reference}/accept"
        httpx.post(url, headers=headers, timeout=30).raise_for_status()

    @staticmethod
    def pid_listening_on(port: int) -> int:
        """The process listening on a local port (to kill a tier, as a crash would)."""
        lines = subprocess.run(
            ["ss", "-ltnpH", f"sport = :{port}"], capture_output=True, text=True, check=True
        ).stdout
        found = re.search(r"pid=(\d+)", lines)
        assert found, f"nothing listens on {port}: {lines}"
        return int(found[1])

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


def run_stack(
    var: Path, variant: str, mailbox: Mailbox, scaled: dict[str, str] | None = None
) -> Iterator[Stack]:
    """Starts scripts/stack.py for one variant on spare ports, sending email to `mailbox`; stops
    it with Ctrl-C (SIGINT). `scaled`: the settings of a scaled stack (replicas, shared stores)."""
    port = free_port()
    env = {
        **os.environ,
        "DSP_SMTP_HOST": "127.0.0.1",
        "DSP_SMTP_PORT": str(mailbox.port),
        "DSP_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "DSP_VARIANT": variant,
        "DSP_VAR_DIR": str(var),
        "DSP_PORT": str(port),
        "DSP_ACTIONS_PORT": str(free_port()),
        "DSP_RASA_PORT": str(free_port()),
        "DSP_HOST": "127.0.0.1",
        "PYTHONPATH": str(ROOT),
        # Personas answer at once, not as slowly as people type: at the default 30 messages a
        # minute the longest waited a minute each (the limit itself: tests/backend/test_door.py).
        "DSP_CHAT_RATE_PER_MINUTE": "240",
    }
    env.pop("DATABASE_URL", None)
    env.update(scaled or {})
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
    deadline = time.monotonic() + 420
    try:
        while "All started" not in (var / "stack.out").read_text():
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail("the stack did not start:\n" + (var / "stack.out").read_text())
            time.sleep(1)
        yield Stack(f"http://127.0.0.1:{port}", env, mailbox)
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
        replicas = int(env.get("DSP_RASA_REPLICAS", "1"))
        rasa_ports = [int(env["DSP_RASA_PORT"]) + i for i in range(replicas)]
        for used in [int(env["DSP_PORT"]), int(env["DSP_ACTIONS_PORT"]), *rasa_ports]:
            with socket.socket() as probe:
                assert probe.connect_ex(("127.0.0.1", used)) != 0, f"port {used} still open"


@pytest.fixture(scope="session")
def mailbox() -> Iterator[Mailbox]:
    with Mailbox() as running:
        yield running


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory, mailbox: Mailbox) -> Iterator[Stack]:
    """The stack as `make run` starts it, for the default variant (LLR)."""
    yield from run_stack(tmp_path_factory.mktemp("var"), "llr", mailbox)


@pytest.fixture(scope="session")
def tees_valley_stack(
    tmp_path_factory: pytest.TempPathFactory, mailbox: Mailbox
) -> Iterator[Stack]:
    """The same stack deployed for Tees Valley, where people may refer themselves (003)."""
    yield from run_stack(tmp_path_factory.mktemp("tees_var"), "tees_valley", mailbox)


@pytest.fixture(scope="session")
def west_sussex_stack(
    tmp_path_factory: pytest.TempPathFactory, mailbox: Mailbox
) -> Iterator[Stack]:
    """The same stack deployed for West Sussex, with its own red / amber / green criteria (004)."""
    yield from run_stack(tmp_path_factory.mktemp("west_sussex_var"), "west_sussex", mailbox)


@pytest.fixture(scope="session")
def scaled_stack(tmp_path_factory: pytest.TempPathFactory, mailbox: Mailbox) -> Iterator[Stack]:
    """The stack as `make run-scaled` starts it: two Rasa replicas and two register service
    workers sharing one PostgreSQL database (register and tracker store) and a Redis lock store."""
    admin_url = os.environ.get("DSP_TEST_POSTGRES_URL", "")
    if not admin_url:
        pytest.skip("the scaled stack needs PostgreSQL: set DSP_TEST_POSTGRES_URL (.ci/run does)")
    with socket.socket() as probe:
        if probe.connect_ex(("127.0.0.1", 6379)) != 0:
            pytest.skip("the scaled stack needs Redis on 127.0.0.1:6379")
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    admin = create_engine(
        make_url(admin_url).set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT"
    )
    name = f"dsp_scaled_{os.getpid()}"
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    database_url = make_url(admin_url).set(drivername="postgresql+psycopg", database=name)
    scaled = {
        "DATABASE_URL": database_url.render_as_string(hide_password=False),
        "DSP_RASA_REPLICAS": "2",
        "DSP_RASA_PORT": str(free_ports(2)),
        "DSP_SERVICE_WORKERS": "2",
        "DSP_LOCK_STORE_URL": "redis://127.0.0.1:6379/3",
    }
    try:
        yield from run_stack(tmp_path_factory.mktemp("scaled_var"), "llr", mailbox, scaled)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

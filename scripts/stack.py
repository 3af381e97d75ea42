"""Starts the whole stack and keeps it running: register service, action server, Rasa.

Used by `make run` and by the end-to-end tests, so both start the stack the same way. Ctrl-C (or
SIGTERM) stops everything. Ports come from the environment: DSP_PORT (8000, public),
DSP_ACTIONS_PORT (5055) and DSP_RASA_PORT (5005, then 5006... for more replicas), the last two on
127.0.0.1 only.

Scaled (`make run-scaled`): DSP_RASA_REPLICAS Rasa processes share the SQL tracker store and a
Redis lock store (DSP_LOCK_STORE_URL), so any of them may take any turn; /chat sends each
conversation to one of them. DSP_SERVICE_WORKERS runs the register service in several processes.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

import yaml

ROOT = Path(__file__).resolve().parents[1]
BACKEND_BIN = ROOT / ".venv" / "backend" / "bin"
BOT_BIN = ROOT / ".venv" / "bot" / "bin"
START_TIMEOUT = float(os.environ.get("DSP_START_TIMEOUT", "240"))
# The longest wait, in seconds, before starting again a process that keeps stopping.
MAX_RESTART_WAIT = 60
# How often housekeeping runs while the stack is up, in seconds.
HOUSEKEEPING_EVERY = float(os.environ.get("DSP_HOUSEKEEPING_EVERY", "600"))


@dataclass
class Service:
    name: str
    host: str
    port: int
    health: str
    command: list[str]
    env: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = None

    @property
    def log(self) -> Path:
        return log_dir() / f"{self.name.replace(' ', '_')}.log"


def var_dir() -> Path:
    return Path(os.environ.get("DSP_VAR_DIR", ROOT / "var"))


def log_dir() -> Path:
    return var_dir() / "log"


def say(message: str) -> None:
    print(f"[dsp] {message}", flush=True)


def port_in_use(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1" if host == "0.0.0.0" else host, port)) == 0


def healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - loopback only
            return bool(response.status == 200)
    except OSError:
        return False


def action_server_token(env: dict[str, str]) -> str:
    """A fresh token for the action server; earlier ones with the same label are revoked."""
    result = subprocess.run(
        [
            str(BACKEND_BIN / "dsp-backend"),
            "token",
            "create",
            "--role",
            "action_server",
            "--label",
            "action-server",
            "--replace",
        ],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise SystemExit(f"[dsp] could not create the action server's token:\n{result.stderr}")
    return result.stdout.strip()


def tracker_store() -> dict[str, object]:
    """Rasa keeps conversations in SQL, so a restart loses no answer: beside the register (a
    SQLite file under var/ by default, or the PostgreSQL database of DATABASE_URL)."""
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith("postgresql"):
        parsed = urlsplit(url)
        return {
            "type": "SQL",
            "dialect": "postgresql",
            "url": parsed.hostname or "127.0.0.1",
            "port": parsed.port or 5432,
            "db": parsed.path.lstrip("/") or "postgres",
            "username": unquote(parsed.username or ""),
            "password": unquote(parsed.password or ""),
        }
    return {"type": "SQL", "dialect": "sqlite", "db": str(var_dir() / "tracker.sqlite3")}


def rasa_replicas() -> int:
    return max(1, int(os.environ.get("DSP_RASA_REPLICAS", "1")))


def lock_store() -> dict[str, object] | None:
    """Redis, where several Rasa processes share conversations: a turn is taken by one at a time.
    One Rasa alone keeps its locks in memory."""
    url = os.environ.get("DSP_LOCK_STORE_URL", "")
    if not url and rasa_replicas() == 1:
        return None
    parsed = urlsplit(url or "redis://127.0.0.1:6379/0")
    if parsed.scheme != "redis":
        raise SystemExit(f"[dsp] error: DSP_LOCK_STORE_URL must be redis://host:port/db, not {url}")
    store: dict[str, object] = {
        "type": "redis",
        "url": parsed.hostname or "127.0.0.1",
        "port": parsed.port or 6379,
        "db": int(parsed.path.lstrip("/") or 0),
        "key_prefix": "dsp",
    }
    if parsed.password:
        store["password"] = unquote(parsed.password)
    return store


def endpoints_file() -> Path:
    """bot/endpoints.yml with the tracker and lock stores for this deployment, under var/."""
    endpoints = yaml.safe_load((ROOT / "bot" / "endpoints.yml").read_text())
    endpoints["tracker_store"] = tracker_store()
    locks = lock_store()
    if locks is not None:
        endpoints["lock_store"] = locks
    path = var_dir() / "endpoints.yml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(endpoints, sort_keys=False))
    path.chmod(0o600)  # it may hold the database password
    return path


def rasa_service(index: int, port: int, actions_port: int, model: str, endpoints: Path) -> Service:
    return Service(
        "rasa" if rasa_replicas() == 1 else f"rasa {index + 1}",
        "127.0.0.1",
        port,
        f"http://127.0.0.1:{port}/",
        [
            # Rasa's own command line with one fix to its speed (bot/rasa_run.py says which).
            str(BOT_BIN / "python"),
            "-m",
            "bot.rasa_run",
            "run",
            "--model",
            model,
            "--interface",
            "127.0.0.1",
            "--port",
            str(port),
            "--endpoints",
            str(endpoints),
            "--credentials",
            "bot/credentials.yml",
        ],
        {
            "DSP_ACTION_ENDPOINT": f"http://127.0.0.1:{actions_port}/webhook",
            # One turn is a few small matrix products: TensorFlow's thread pools cost more than
            # they give, and replicas would fight over the same cores.
            "TF_INTRA_OP_PARALLELISM_THREADS": os.environ.get(
                "TF_INTRA_OP_PARALLELISM_THREADS", "1"
            ),
            "TF_INTER_OP_PARALLELISM_THREADS": os.environ.get(
                "TF_INTER_OP_PARALLELISM_THREADS", "1"
            ),
        },
    )


def services() -> list[Service]:
    port = int(os.environ.get("DSP_PORT", "8000"))
    actions_port = int(os.environ.get("DSP_ACTIONS_PORT", "5055"))
    rasa_ports = [int(os.environ.get("DSP_RASA_PORT", "5005")) + i for i in range(rasa_replicas())]
    host = os.environ.get("DSP_HOST", "0.0.0.0")
    model = os.environ.get("DSP_MODEL", str(ROOT / "models" / "dsp.tar.gz"))
    workers = os.environ.get("DSP_SERVICE_WORKERS", "1")
    endpoints = endpoints_file()
    rasa_urls = ", ".join(f'"http://127.0.0.1:{p}"' for p in rasa_ports)
    return [
        Service(
            "register service",
            host,
            port,
            f"http://127.0.0.1:{port}/health",
            [
                str(BACKEND_BIN / "dsp-backend"),
                "serve",
                "--host",
                host,
                "--port",
                str(port),
                "--workers",
                workers,
                "--no-migrate",
            ],
            {
                "DSP_RASA_URLS": f"[{rasa_urls}]",
                "DSP_ACTIONS_URL": f"http://127.0.0.1:{actions_port}",
            },
        ),
        Service(
            "action server",
            "127.0.0.1",
            actions_port,
            f"http://127.0.0.1:{actions_port}/health",
            [
                str(BOT_BIN / "rasa"),
                "run",
                "actions",
                "--actions",
                "actions",
                "--port",
                str(actions_port),
            ],
            # rasa_sdk binds to SANIC_HOST, which is 0.0.0.0 unless set.
            {"SANIC_HOST": "127.0.0.1", "DSP_SERVICE_URL": f"http://127.0.0.1:{port}"},
        ),
        *(rasa_service(i, p, actions_port, model, endpoints) for i, p in enumerate(rasa_ports)),
    ]


def stores_answer() -> str | None:
    """Why the shared stores cannot be used, or None: several Rasa processes need Redis."""
    locks = lock_store()
    if locks is None:
        return None
    host, port = str(locks["url"]), int(str(locks["port"]))
    if not port_in_use(host, port):
        return (
            f"error: {rasa_replicas()} Rasa replicas share a Redis lock store, and nothing answers "
            f"at {host}:{port}. Start Redis or set DSP_LOCK_STORE_URL=redis://host:port/db."
        )
    return None


def start(service: Service, base_env: dict[str, str]) -> None:
    with service.log.open("ab") as log:
        service.process = subprocess.Popen(
            service.command,
            cwd=ROOT,
            env={**base_env, **service.env},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def stop(running: list[Service]) -> None:
    for service in running:
        if service.process and service.process.poll() is None:
            os.killpg(service.process.pid, signal.SIGTERM)
    deadline = time.monotonic() + 15
    for service in running:
        if service.process is None:
            continue
        try:
            service.process.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            os.killpg(service.process.pid, signal.SIGKILL)
            service.process.wait()


def tail(path: Path, lines: int = 25) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def main() -> int:
    problem = stores_answer()
    if problem:
        say(problem)
        return 1
    stack = services()
    busy = [s for s in stack if port_in_use(s.host, s.port)]
    if busy:
        for s in busy:
            say(f"error: port {s.port} is already in use, so the {s.name} cannot start.")
        say(
            "Stop whatever is using it (e.g. another `make run`: `lsof -i :PORT`), or choose other "
            "ports with DSP_PORT, DSP_ACTIONS_PORT and DSP_RASA_PORT."
        )
        return 1

    base_env = dict(
        os.environ, PYTHONPATH=str(ROOT), PYTHONUNBUFFERED="1", TF_CPP_MIN_LOG_LEVEL="2"
    )
    token = action_server_token(base_env)
    stack[1].env["DSP_SERVICE_TOKEN"] = token
    log_dir().mkdir(parents=True, exist_ok=True)

    running: list[Service] = []

    def on_signal(signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    # Background shells start children with SIGINT ignored; Ctrl-C and SIGINT must still stop us.
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    started = time.monotonic()
    try:
        for service in stack:
            start(service, base_env)
            running.append(service)
            say(
                f"starting the {service.name} on {service.host}:{service.port} "
                f"(log: {service.log.relative_to(ROOT) if service.log.is_relative_to(ROOT) else service.log})"
            )
        waiting = list(stack)
        last_report = 0.0
        while waiting:
            for service in list(waiting):
                assert service.process is not None
                if service.process.poll() is not None:
                    say(f"error: the {service.name} stopped at start. The end of its log:")
                    print(tail(service.log), flush=True)
                    stop(running)
                    return 1
                if healthy(service.health):
                    waiting.remove(service)
                    say(f"{service.name} ready ({time.monotonic() - started:.0f} s)")
            elapsed = time.monotonic() - started
            if elapsed > START_TIMEOUT:
                say(
                    f"error: not ready after {START_TIMEOUT:.0f} s: "
                    + ", ".join(s.name for s in waiting)
                )
                stop(running)
                return 1
            if waiting and elapsed - last_report >= 10:
                last_report = elapsed
                say(f"waiting for {', '.join(s.name for s in waiting)} ({elapsed:.0f} s)")
            time.sleep(0.5)
        say(
            f"All started in {time.monotonic() - started:.0f} s. "
            f"Open http://localhost:{stack[0].port}/ (Ctrl-C stops everything)."
        )
        restarts: dict[str, int] = {}
        housekeeping: subprocess.Popen[bytes] | None = None
        last_housekeeping = 0.0
        while True:
            if time.monotonic() - last_housekeeping >= HOUSEKEEPING_EVERY and (
                housekeeping is None or housekeeping.poll() is not None
            ):
                # Expired drafts, unconfirmed referrals and quiet conversations go; email is sent.
                last_housekeeping = time.monotonic()
                with (log_dir() / "housekeeping.log").open("ab") as log:
                    housekeeping = subprocess.Popen(
                        [str(BACKEND_BIN / "dsp-backend"), "housekeeping"],
                        cwd=ROOT,
                        env=base_env,
                        stdout=log,
                        stderr=subprocess.STDOUT,
                        start_new_session=True,
                    )
            for service in stack:
                assert service.process is not None
                code = service.process.poll()
                if code is None:
                    continue
                # One process stopping does not stop the others: it is started again, waiting
                # longer each time it stops again soon (conversations are kept in SQL).
                count = restarts.get(service.name, 0) + 1
                restarts[service.name] = count
                wait = min(2 ** (count - 1), MAX_RESTART_WAIT)
                say(
                    f"the {service.name} stopped (exit code {code}); starting it again in "
                    f"{wait} s (restart {count}). The end of its log:"
                )
                print(tail(service.log, 10), flush=True)
                time.sleep(wait)
                start(service, base_env)
            time.sleep(1)
    except KeyboardInterrupt:
        say("stopping...")
        stop(running)
        say("stopped.")
        return 0


if __name__ == "__main__":
    sys.exit(main())

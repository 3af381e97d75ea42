"""The walking skeleton of the register service: health, variant, tokens, the chat door."""

import subprocess
import sys
import time

from fastapi.testclient import TestClient

from dsp_backend.auth.schemas import Role
from dsp_backend.chat import service as chat_service
from dsp_backend.config import get_settings, secret_key


def test_health_answers(client: TestClient) -> None:
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


def test_variant_is_open_and_names_the_area(client: TestClient) -> None:
    """DESIGN.md: the bot asks GET /api/v1/variant which area it covers; LLR is the default."""
    response = client.get("/api/v1/variant")
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == "llr"
    assert "Leicester" in body["area_summary"]
    assert {area["id"] for area in body["areas"]} == {"leicester_city", "leicestershire", "rutland"}


def test_audit_needs_a_token_and_the_dsr_admin_role(client: TestClient, token_for) -> None:  # type: ignore[no-untyped-def]
    assert client.get("/api/v1/audit").status_code == 401
    assert (
        client.get("/api/v1/audit", headers={"Authorization": "Bearer nonsense"}).status_code == 401
    )
    assert client.get("/api/v1/audit", headers=token_for(Role.tco)).status_code == 403
    assert client.get("/api/v1/audit", headers=token_for(Role.dsr_admin)).status_code == 200


def test_chat_page_is_accessible_and_sets_an_opaque_cookie(client: TestClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    page = response.text
    assert '<label for="message">' in page
    assert 'role="log"' in page
    assert "http://" not in page and "https://" not in page  # nothing fetched from elsewhere
    cookie = response.cookies.get("dsp_conversation")
    key = secret_key(get_settings())
    assert chat_service.verified(cookie, key, time.time(), 60) is not None


def test_chat_without_rasa_says_so_kindly(client: TestClient, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("DSP_RASA_URLS", '["http://127.0.0.1:9"]')  # nothing listens on port 9
    get_settings.cache_clear()
    client.get("/")
    response = client.post("/chat", json={"message": "hello"})
    assert response.status_code == 503
    assert "999" in response.json()["detail"]


def test_chat_refuses_an_empty_message(client: TestClient) -> None:
    assert client.post("/chat", json={"message": "   "}).status_code == 422


def test_a_conversation_always_reaches_the_same_replica() -> None:
    urls = ["http://a:5005", "http://b:5005", "http://c:5005"]
    ids = [chat_service.new_conversation_id() for _ in range(200)]
    chosen = {conversation: chat_service.replica_for(conversation, urls) for conversation in ids}
    assert all(chat_service.replica_for(c, urls) == url for c, url in chosen.items())
    assert set(chosen.values()) == set(urls)  # and the load is spread


def test_a_replica_that_stops_moves_only_its_own_conversations() -> None:
    urls = ["http://a:5005", "http://b:5005", "http://c:5005"]
    ids = [chat_service.new_conversation_id() for _ in range(300)]
    for conversation in ids:
        order = chat_service.replicas_for(conversation, urls)
        assert sorted(order) == sorted(urls)
        # Without its first choice, a conversation goes to its second; the others stay put.
        without_a = chat_service.replica_for(conversation, [u for u in urls if u != urls[0]])
        assert without_a == (order[1] if order[0] == urls[0] else order[0])


def test_rate_limiter_holds_a_conversation_to_its_limit() -> None:
    limiter = chat_service.RateLimiter(limit=3, window=60)
    assert [limiter.allow("x") for _ in range(4)] == [True, True, True, False]
    assert limiter.allow("y")


def test_token_create_prints_a_token_and_stores_only_its_hash(tmp_path) -> None:  # type: ignore[no-untyped-def]
    env = {"DSP_VAR_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}
    cli = [sys.executable, "-m", "dsp_backend.cli"]
    subprocess.run([*cli, "migrate"], env=env, check=True, capture_output=True)
    result = subprocess.run(
        [*cli, "token", "create", "--role", "tco"],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    token = result.stdout.strip()
    assert token.startswith("dsp_") and len(token) > 40
    database = (tmp_path / "dsp.sqlite3").read_bytes()
    assert token.encode() not in database


def test_token_create_refuses_an_unknown_role(tmp_path) -> None:  # type: ignore[no-untyped-def]
    result = subprocess.run(
        [sys.executable, "-m", "dsp_backend.cli", "token", "create", "--role", "king"],
        env={"DSP_VAR_DIR": str(tmp_path)},
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0
    assert "invalid choice" in result.stderr


def test_token_replace_revokes_the_earlier_token_of_that_label(tmp_path) -> None:  # type: ignore[no-untyped-def]
    env = {"DSP_VAR_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}
    cli = [sys.executable, "-m", "dsp_backend.cli"]
    subprocess.run([*cli, "migrate"], env=env, check=True, capture_output=True)
    create = [*cli, "token", "create", "--role", "dsr_admin", "--label", "x", "--replace"]
    first = subprocess.run(create, env=env, check=True, capture_output=True, text=True)
    second = subprocess.run(create, env=env, check=True, capture_output=True, text=True)
    from sqlalchemy.orm import Session

    from dsp_backend.auth import service as auth_service
    from dsp_backend.database.core import make_engine

    with Session(make_engine(f"sqlite:///{tmp_path / 'dsp.sqlite3'}")) as db_session:
        assert auth_service.authenticate(db_session=db_session, token=first.stdout.strip()) is None
        assert auth_service.authenticate(db_session=db_session, token=second.stdout.strip())


def test_a_committed_change_is_rolled_back_after_each_test_part_1(db_session) -> None:  # type: ignore[no-untyped-def]
    """The harness promise: each test starts from the migrated database, on SQLite too."""
    from sqlalchemy import func, select

    from dsp_backend.auth import service as auth_service
    from dsp_backend.auth.models import ApiToken

    before = db_session.scalar(select(func.count()).select_from(ApiToken))
    auth_service.create(db_session=db_session, role=Role.tco, label="isolation-check")
    db_session.commit()
    assert db_session.scalar(select(func.count()).select_from(ApiToken)) == before + 1


def test_a_committed_change_is_rolled_back_after_each_test_part_2(db_session) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import select

    from dsp_backend.auth.models import ApiToken

    assert (
        db_session.scalars(select(ApiToken).where(ApiToken.label == "isolation-check")).all() == []
    )

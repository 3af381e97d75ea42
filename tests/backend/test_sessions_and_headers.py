"""The public door (security issue, finding 4): conversation ids only the server mints, signed
and expiring after inactivity, Secure behind HTTPS; security headers on every answer; no page
that loads scripts from elsewhere; readiness that names each dependency."""

import re
import time

import pytest
from fastapi.testclient import TestClient

from dsp_backend.chat import service as chat_service
from dsp_backend.config import get_settings, secret_key

COOKIE = "dsp_conversation"


def conversation_of(cookie: str | None) -> str | None:
    return chat_service.verified(cookie, secret_key(get_settings()), time.time(), 3600)


def test_an_id_the_client_makes_up_is_replaced_by_a_new_one(client: TestClient) -> None:
    made_up = "A" * 30
    response = client.get("/", cookies={COOKIE: made_up})
    minted = response.cookies.get(COOKIE)
    assert conversation_of(minted) not in (None, made_up)


def test_a_tampered_or_expired_cookie_starts_a_new_conversation(client: TestClient) -> None:
    key = secret_key(get_settings())
    genuine = chat_service.signed("B" * 24, key, time.time())
    assert conversation_of(genuine) == "B" * 24
    tampered = genuine.replace("B" * 24, "C" * 24)
    assert conversation_of(tampered) is None
    old = chat_service.signed("B" * 24, key, time.time() - 3 * 3600)
    assert conversation_of(old) is None
    response = client.get("/", cookies={COOKIE: old})
    assert conversation_of(response.cookies.get(COOKIE)) != "B" * 24


def test_the_cookie_expires_after_inactivity_and_is_secure_behind_https(
    client: TestClient,
) -> None:
    plain = client.get("/").headers["set-cookie"]
    assert "HttpOnly" in plain and "SameSite=strict" in plain and "Max-Age=7200" in plain
    assert "Secure" not in plain
    behind_https = client.get("/", headers={"X-Forwarded-Proto": "https"})
    assert "Secure" in behind_https.headers["set-cookie"]
    assert "max-age=" in behind_https.headers["strict-transport-security"]


PAGES = ["/", "/privacy", "/accessibility"]


@pytest.mark.parametrize(
    "path",
    [
        *PAGES,
        "/health",
        "/health/ready",
        "/chat/history",
        "/static/chat.js",
        "/api/v1/variant",
        "/api/v1/register",
        "/referrals/confirm/not-a-real-token-at-all",
        "/no-such-page",
    ],
)
def test_every_answer_has_the_security_headers(client: TestClient, path: str) -> None:
    headers = client.get(path).headers
    policy = dict(
        part.strip().split(" ", 1) for part in headers["content-security-policy"].split(";")
    )
    assert policy["frame-ancestors"] == "'none'"
    assert policy["script-src"] == "'self'" and policy["style-src"] == "'self'"
    assert "unsafe-inline" not in headers["content-security-policy"]
    assert headers["referrer-policy"] == "no-referrer"
    assert headers["x-content-type-options"] == "nosniff"
    assert "strict-transport-security" not in headers  # only where served over HTTPS


@pytest.mark.parametrize("path", PAGES)
def test_the_pages_hold_no_inline_script_or_style_and_load_nothing_from_elsewhere(
    client: TestClient, path: str
) -> None:
    page = client.get(path).text
    assert not re.search(r"<script>|<style>|\sstyle=|\son[a-z]+=", page)
    assets = re.findall(r'(?:src|href)="(/static/[^"]+)"', page)
    assert assets
    for asset in assets:
        assert client.get(asset).status_code == 200
    assert not re.search(r'(?:src|href)="(?:https?:)?//', page)  # nothing from elsewhere
    assert client.get("/docs").status_code == 404  # its scripts would come from a CDN


def test_the_chat_page_spells_out_dsp_and_links_its_notices(client: TestClient) -> None:
    page = client.get("/")
    assert page.headers["cache-control"] == "no-store"
    assert "Dynamic Support Pathway (DSP)" in page.text
    assert 'href="/privacy"' in page.text and 'href="/accessibility"' in page.text
    assert f'data-max-chars="{get_settings().chat_max_message_chars}"' in page.text
    assert "maxlength" not in page.text  # a long message is counted and refused, never cut


def test_readiness_names_each_dependency_apart_from_liveness(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DSP_RASA_URLS", '["http://127.0.0.1:9"]')
    monkeypatch.setenv("DSP_ACTIONS_URL", "http://127.0.0.1:9")
    get_settings.cache_clear()
    try:
        assert client.get("/health").status_code == 200
        ready = client.get("/health/ready")
        assert ready.status_code == 503 and ready.headers["retry-after"]
        assert ready.json()["checks"] == {
            "database": True,
            "rasa": False,
            "action_server": False,
        }
    finally:
        get_settings.cache_clear()


def test_an_overflowing_offset_is_a_clear_422(client: TestClient, token_for) -> None:  # type: ignore[no-untyped-def]
    from dsp_backend.auth.schemas import Role

    response = client.get(
        "/api/v1/audit", params={"offset": 10**30}, headers=token_for(Role.dsr_admin)
    )
    assert response.status_code == 422


def test_a_database_outage_is_a_503_with_retry_after_then_recovery(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Nothing listens on port 9: the register answers 503 with Retry-After (never a 500), says
    so in /health/ready, and answers again once the database is back."""
    from dsp_backend.database import core
    from dsp_backend.main import create_app

    def use(url: str) -> None:
        monkeypatch.setenv("DATABASE_URL", url)
        get_settings.cache_clear()
        core.get_engine.cache_clear()
        core.get_sessionmaker.cache_clear()

    try:
        use("postgresql+psycopg://nobody@127.0.0.1:9/none?connect_timeout=2")
        with TestClient(create_app()) as down:
            response = down.get("/api/v1/register", headers={"Authorization": "Bearer x"})
            assert response.status_code == 503
            assert response.headers["retry-after"] == "30" and "999" in response.text
            assert down.get("/health/ready").json()["checks"]["database"] is False
    finally:
        monkeypatch.delenv("DATABASE_URL")
        use("")
    with TestClient(create_app()) as back:
        assert back.get("/api/v1/register").status_code == 401  # answering again

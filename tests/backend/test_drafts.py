"""Paused referral drafts: kept against a resume code for the variant's retention, then deleted.

The code unlocks personal data, so it travels only in the Resume-Code header, never in a URL.
"""

import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dsp_backend.audit.models import AuditEvent
from dsp_backend.auth.schemas import Role
from dsp_backend.database.core import make_engine
from dsp_backend.drafts import service as draft_service
from dsp_backend.drafts.models import ReferralDraft
from dsp_backend.variants import service as variant_service

Headers = Callable[[Role], dict[str, str]]
ANSWERS = {"ref_given_name": "Sam", "ref_postcode": "LE1 6TH", "referral_step": "details"}


def with_code(headers: dict[str, str], code: str) -> dict[str, str]:
    return {**headers, "Resume-Code": code}


def test_a_draft_is_kept_and_given_back_by_its_resume_code(
    client: TestClient, token_for: Headers
) -> None:
    action_server = token_for(Role.action_server)
    before = datetime.now(UTC)
    created = client.post("/api/v1/drafts", json={"data": ANSWERS}, headers=action_server)
    assert created.status_code == 201
    code = created.json()["resume_code"]
    assert len(draft_service.normalise_code(code)) == draft_service.CODE_LENGTH
    # The variant's draft_retention_hours decides how long it is kept (LLR: 72 hours).
    hours = variant_service.load("llr").draft_retention_hours
    expires_at = datetime.fromisoformat(created.json()["expires_at"])
    assert (
        before + timedelta(hours=hours) <= expires_at <= datetime.now(UTC) + timedelta(hours=hours)
    )

    # People type codes in lower case and without the hyphen.
    typed = draft_service.normalise_code(code).lower()
    read = client.get("/api/v1/drafts", headers=with_code(action_server, typed))
    assert read.status_code == 200
    assert read.json()["data"] == ANSWERS


def test_saving_again_keeps_the_code_and_deleting_forgets_it(
    client: TestClient, token_for: Headers
) -> None:
    action_server = token_for(Role.action_server)
    code = client.post("/api/v1/drafts", json={"data": ANSWERS}, headers=action_server).json()[
        "resume_code"
    ]
    changed = {**ANSWERS, "ref_nhs_number": "9434765919"}
    saved = client.put(
        "/api/v1/drafts", json={"data": changed}, headers=with_code(action_server, code)
    )
    assert saved.status_code == 200
    assert (
        client.get("/api/v1/drafts", headers=with_code(action_server, code)).json()["data"]
        == changed
    )

    deleted = client.delete("/api/v1/drafts", headers=with_code(action_server, code))
    assert deleted.status_code == 200
    gone = client.get("/api/v1/drafts", headers=with_code(action_server, code))
    assert gone.status_code == 404
    assert "expired" in gone.json()["detail"]


def test_an_unknown_or_missing_code_finds_nothing(client: TestClient, token_for: Headers) -> None:
    action_server = token_for(Role.action_server)
    assert (
        client.get("/api/v1/drafts", headers=with_code(action_server, "ABCD-EFGH")).status_code
        == 404
    )
    assert (
        client.put(
            "/api/v1/drafts", json={"data": {}}, headers=with_code(action_server, "ABCD-EFGH")
        ).status_code
        == 404
    )
    assert client.get("/api/v1/drafts", headers=action_server).status_code == 422


def test_an_expired_draft_is_deleted_when_asked_for(
    client: TestClient, token_for: Headers, db_session: Session
) -> None:
    long_ago = datetime.now(UTC) - timedelta(days=30)
    draft, code = draft_service.create(
        db_session=db_session, data=ANSWERS, retention_hours=72, now=long_ago
    )
    db_session.commit()
    response = client.get("/api/v1/drafts", headers=with_code(token_for(Role.action_server), code))
    assert response.status_code == 404
    assert db_session.get(ReferralDraft, draft.id) is None


def test_purge_deletes_only_expired_drafts(db_session: Session) -> None:
    now = datetime.now(UTC)
    old, _ = draft_service.create(
        db_session=db_session, data=ANSWERS, retention_hours=1, now=now - timedelta(hours=2)
    )
    live, _ = draft_service.create(db_session=db_session, data=ANSWERS, retention_hours=1, now=now)
    assert draft_service.purge_expired(db_session=db_session, now=now) >= 1
    db_session.expire_all()
    assert db_session.get(ReferralDraft, old.id) is None
    assert db_session.get(ReferralDraft, live.id) is not None


def test_only_the_action_server_may_use_drafts(client: TestClient, token_for: Headers) -> None:
    assert client.post("/api/v1/drafts", json={"data": ANSWERS}).status_code == 401
    for role in (Role.referrer, Role.dsr_admin, Role.tco, Role.commissioner):
        headers = token_for(role)
        assert (
            client.post("/api/v1/drafts", json={"data": ANSWERS}, headers=headers).status_code
            == 403
        )
        assert (
            client.get("/api/v1/drafts", headers=with_code(headers, "ABCD-EFGH")).status_code == 403
        )


def test_the_resume_code_never_goes_in_a_url(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    draft_paths = {path: ops for path, ops in paths.items() if "draft" in path}
    assert list(draft_paths) == ["/api/v1/drafts"]
    for operation in draft_paths["/api/v1/drafts"].values():
        places = {parameter["in"] for parameter in operation.get("parameters", [])}
        assert places <= {"header"}, operation


def test_the_audit_log_names_the_draft_never_the_code_or_answers(
    client: TestClient, token_for: Headers, db_session: Session
) -> None:
    action_server = token_for(Role.action_server)
    last_before = db_session.scalar(select(func.max(AuditEvent.id))) or 0
    code = client.post("/api/v1/drafts", json={"data": ANSWERS}, headers=action_server).json()[
        "resume_code"
    ]
    client.get("/api/v1/drafts", headers=with_code(action_server, code))
    events = db_session.scalars(
        select(AuditEvent)
        .where(AuditEvent.entity_type == "referral_draft", AuditEvent.id > last_before)
        .order_by(AuditEvent.id)
    ).all()
    assert [event.action for event in events] == ["draft.create", "draft.read"]
    for event in events:
        recorded = f"{event.entity_id} {event.fields}"
        assert code not in recorded and "Sam" not in recorded and "LE1" not in recorded
    stored = db_session.scalars(select(ReferralDraft.code_hash)).all()
    assert draft_service.normalise_code(code) not in stored


def test_a_draft_has_a_size_limit(client: TestClient, token_for: Headers) -> None:
    huge = {"ref_current_situation": "x" * 300_000}
    response = client.post(
        "/api/v1/drafts", json={"data": huge}, headers=token_for(Role.action_server)
    )
    assert response.status_code == 422


def test_drafts_purge_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env = {"DSP_VAR_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}
    cli = [sys.executable, "-m", "dsp_backend.cli"]
    subprocess.run([*cli, "migrate"], env=env, check=True, capture_output=True)
    engine = make_engine(f"sqlite:///{tmp_path / 'dsp.sqlite3'}")
    now = datetime.now(UTC)
    with Session(engine) as session:
        draft_service.create(
            db_session=session, data=ANSWERS, retention_hours=1, now=now - timedelta(hours=5)
        )
        draft_service.create(db_session=session, data=ANSWERS, retention_hours=1, now=now)
        session.commit()
    result = subprocess.run(
        [*cli, "drafts", "purge"], env=env, check=True, capture_output=True, text=True
    )
    assert "deleted 1 expired" in result.stdout
    with Session(engine) as session:
        assert session.scalar(select(func.count()).select_from(ReferralDraft)) == 1
    engine.dispose()

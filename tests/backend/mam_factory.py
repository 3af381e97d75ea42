"""Builds what the meetings tests start from: a person on the register, a MAM arranged for
them, notes for every section of its template. Used by test_meetings, test_action_plans and
test_invitations."""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from test_referrals_factory import referral_body

from dsp_backend.auth.schemas import Role
from dsp_backend.meetings import service as mam_service

Headers = dict[str, str]
TokenFor = Callable[[Role], Headers]
MEETINGS = "/api/v1/meetings"
ACTIONS = "/api/v1/actions"
REGISTER = "/api/v1/register"
LINK = "https://meet.example.nhs.uk/j/123456789"
FAMILY = {"name": "Jo Example", "relationship": "Mother", "email": "jo.family@example.org"}
PROFESSIONALS = [
    {
        "name": "Dr Ann Lee",
        "role": "Psychiatrist",
        "email": "ann.lee@nhs.net",
        "phone": "0116 496 0001",
    },
    {"name": "Pat Smith", "role": "Social worker", "email": "pat.smith@leics.gov.uk"},
]


def refer(client: TestClient, token_for: TokenFor, **kwargs: Any) -> str:
    """Puts someone on the register (full form, the admin lead organising the MAM)."""
    kwargs.setdefault("full", True)
    kwargs.setdefault("mam_organised_by_admin", True)
    response = client.post(
        "/api/v1/referrals", json=referral_body(**kwargs), headers=token_for(Role.referrer)
    )
    assert response.status_code == 201, response.text
    return str(response.json()["dsp_id"])


def arrange(
    client: TestClient, headers: Headers, dsp_id: str, *, in_days: float = 7, **extra: Any
) -> dict[str, Any]:
    body = {
        "dsp_id": dsp_id,
        "scheduled_at": (datetime.now(UTC) + timedelta(days=in_days)).isoformat(),
        "joining_link": LINK,
        **extra,
    }
    response = client.post(MEETINGS, json=body, headers=headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


def every_section(kind: str) -> dict[str, dict[str, Any]]:
    """A distinct answer for every section of the template: text for text sections, a yes or no
    with its reason for yes/no sections."""
    answers: dict[str, dict[str, Any]] = {}
    for index, section in enumerate(mam_service.notes_template().for_kind(kind)):  # type: ignore[arg-type]
        text = f"{section.title} - answer {index}: line one.\nLine two, with 'quotes' & ü."
        if section.kind == "yes_no":
            answers[section.key] = {"answer": index % 2 == 0, "text": text}
        else:
            answers[section.key] = {"text": text}
    return answers


def hold(
    client: TestClient, headers: Headers, mam_id: int, **sections: dict[str, Any]
) -> dict[str, Any]:
    """Records that the MAM was held just now, with its header and the given sections."""
    body = {
        "held_at": datetime.now(UTC).isoformat(),
        "chair": "Sam Referrer",
        "note_taker": "DSP admin lead",
        "attendees": [{"name": "Sam Referrer", "role": "Community nurse"}],
        "sections": sections,
    }
    response = client.put(f"{MEETINGS}/{mam_id}/notes", json=body, headers=headers)
    assert response.status_code == 200, response.text
    return dict(response.json())


def next_steps(client: TestClient, headers: Headers, mam_id: int, **body: Any) -> Any:
    body.setdefault("reason", "agreed by the meeting")
    return client.post(f"{MEETINGS}/{mam_id}/next-steps", json=body, headers=headers)


def entry(client: TestClient, headers: Headers, dsp_id: str) -> dict[str, Any]:
    response = client.get(f"{REGISTER}/{dsp_id}", headers=headers)
    assert response.status_code == 200, response.text
    return dict(response.json())

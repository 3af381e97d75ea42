"""The register pages at /admin (issue 12 part 3): sign in with a token, a session cookie that is
HttpOnly, SameSite=Strict and expiring, roles as the API's (commissioners see counts only, 001
s8), a form token on every POST, and each page working through the register's, the meetings'
and the gaps' own services, so a change made here is checked and audited as through the API."""

import re
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
import register_factory
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient
from mam_factory import refer
from sqlalchemy import select
from sqlalchemy.orm import Session

from dsp_backend.admin import session as admin_session
from dsp_backend.audit.models import AuditEvent
from dsp_backend.auth import service as auth_service
from dsp_backend.auth.schemas import Actor, Role
from dsp_backend.gaps.models import GapInService
from dsp_backend.guard import CONTENT_SECURITY_POLICY
from dsp_backend.main import create_app
from dsp_backend.meetings import service as mam_service
from dsp_backend.register import service as register_service

TokenFor = Callable[[Role], dict[str, str]]
ADMIN = Actor(token_id=1, role=Role.dsr_admin)
CSRF = re.compile(r'name="csrf_token" value="([0-9a-f]{64})"')


def sign_in(client: TestClient, token_for: TokenFor, role: Role, **headers: str) -> Any:
    token = token_for(role)["Authorization"].removeprefix("Bearer ")
    return client.post(
        "/admin/login", data={"token": token}, headers=headers, follow_redirects=False
    )


def csrf(client: TestClient, url: str) -> str:
    page = client.get(url)
    assert page.status_code == 200, page.text
    found = CSRF.search(page.text)
    assert found, "no form token on the page"
    return found[1]


@pytest.fixture
def admin(client: TestClient, token_for: TokenFor) -> TestClient:
    assert sign_in(client, token_for, Role.dsr_admin).status_code == 303
    return client


@pytest.fixture
def person(client: TestClient, token_for: TokenFor) -> str:
    """Someone on the DSR, amber, whose referral named the professionals to invite."""
    return refer(client, token_for)


def assert_page(response: Any, *, status: int = 200) -> str:
    """A register page: HTML, never cached, under the CSP with no inline script or style."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    html: str = response.text
    assert " style=" not in html and "<style" not in html and "<script" not in html
    assert '<a class="skip-link" href="#main">' in html and '<main id="main"' in html
    return html


# Signing in


def test_signing_in_sets_an_httponly_strict_expiring_cookie_that_holds_no_token(
    client: TestClient, token_for: TokenFor
) -> None:
    assert_page(client.get("/admin/login"))
    response = sign_in(client, token_for, Role.dsr_admin)
    assert response.status_code == 303 and response.headers["location"] == "/admin"
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{admin_session.COOKIE}=")
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/admin" in cookie
    assert "Max-Age=1800" in cookie and "Secure" not in cookie
    assert "dsp_" not in cookie.split(";")[0].split("=", 1)[1]  # the id, never the secret
    assert "The register" in assert_page(client.get("/admin"))


def test_the_cookie_is_secure_behind_https(client: TestClient, token_for: TokenFor) -> None:
    response = sign_in(client, token_for, Role.tco, **{"X-Forwarded-Proto": "https"})
    assert "Secure" in response.headers["set-cookie"]


@pytest.mark.parametrize(
    ("token", "status", "message"),
    [
        ("", 401, "Enter your token"),
        ("dsp_not-a-real-token", 401, "This token is not valid"),
    ],
)
def test_a_missing_or_wrong_token_is_refused_with_an_error_summary(
    client: TestClient, token: str, status: int, message: str
) -> None:
    response = client.post("/admin/login", data={"token": token}, follow_redirects=False)
    html = assert_page(response, status=status)
    assert "set-cookie" not in response.headers
    assert "<title>Error: Sign in" in html
    assert (
        f'<a href="#token">{message}</a>' in html
        and 'aria-describedby="token-hint token-error"' in html
    )


@pytest.mark.parametrize("role", [Role.referrer, Role.action_server])
def test_roles_that_do_not_work_the_register_cannot_sign_in(
    client: TestClient, token_for: TokenFor, role: Role
) -> None:
    response = sign_in(client, token_for, role)
    assert "cannot use the register pages" in assert_page(response, status=403)
    assert "set-cookie" not in response.headers


def test_the_session_ends_after_the_set_time_without_a_page(
    admin: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert admin.get("/admin").status_code == 200
    later = time.time() + 31 * 60
    monkeypatch.setattr(admin_session, "time", SimpleNamespace(time=lambda: later))
    response = admin.get("/admin")
    assert "Sign in to see this page" in assert_page(response, status=401)


def test_revoking_the_token_ends_its_session(client: TestClient, db_session: Session) -> None:
    _row, token = auth_service.create(db_session=db_session, role=Role.tco, label="leaver")
    db_session.commit()
    client.post("/admin/login", data={"token": token}, follow_redirects=False)
    assert client.get("/admin").status_code == 200
    auth_service.revoke_labelled(db_session=db_session, label="leaver")
    db_session.commit()
    assert client.get("/admin").status_code == 401


def test_a_cookie_made_up_or_signed_by_the_chat_is_not_a_session(
    client: TestClient, token_for: TokenFor
) -> None:
    sign_in(client, token_for, Role.dsr_admin)
    real = client.cookies.get(admin_session.COOKIE)
    assert real
    session_id, stamp, _mac = real.split(".")
    client.cookies.set(admin_session.COOKIE, f"{session_id}.{stamp}.{'0' * 43}", path="/admin")
    assert client.get("/admin").status_code == 401


def test_signing_out_needs_the_form_token_and_then_ends_the_session(admin: TestClient) -> None:
    assert admin.post("/admin/logout", data={}, follow_redirects=False).status_code == 403
    token = csrf(admin, "/admin")
    response = admin.post("/admin/logout", data={"csrf_token": token}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/admin/login"
    assert (
        "Max-Age=0" in response.headers["set-cookie"]
        or "expires=" in response.headers["set-cookie"].lower()
    )
    assert admin.get("/admin").status_code == 401


# Roles, as the API's


def _roles(route: Any) -> frozenset[Role] | None:
    pending = [route.dependant] if isinstance(route, APIRoute) else []
    while pending:
        dependant = pending.pop()
        roles = getattr(dependant.call, "allowed_roles", None)
        if roles is not None:
            return frozenset(roles)
        pending.extend(dependant.dependencies)
    return None


def _routes() -> dict[tuple[str, str], Any]:
    return {
        (method, str(context.path)): context.original_route
        for context in iter_route_contexts(create_app().routes)
        for method in (context.methods or set()) - {"HEAD"}
    }


# Each page and the API route it stands for: the same roles, so the pages open no wider door.
PAGE_AND_ROUTE = [
    ("GET", "/admin", "GET", "/api/v1/register"),
    ("GET", "/admin/people/{dsp_id}", "GET", "/api/v1/register/{dsp_id}/timeline"),
    ("GET", "/admin/people/{dsp_id}/rating", "POST", "/api/v1/register/{dsp_id}/transitions"),
    ("POST", "/admin/people/{dsp_id}/rating", "POST", "/api/v1/register/{dsp_id}/transitions"),
    ("GET", "/admin/people/{dsp_id}/mam", "GET", "/api/v1/meetings/{mam_id}"),
    ("POST", "/admin/people/{dsp_id}/mam/arrange", "POST", "/api/v1/meetings"),
    ("POST", "/admin/people/{dsp_id}/mam", "PUT", "/api/v1/meetings/{mam_id}/notes"),
    ("GET", "/admin/gaps", "GET", "/api/v1/gaps"),
    ("POST", "/admin/gaps", "POST", "/api/v1/gaps"),
    ("GET", "/admin/export.csv", "GET", "/api/v1/register/export.csv"),
    ("GET", "/admin/people/{dsp_id}/fhir", "GET", "/api/v1/referrals/{dsp_id}/fhir"),
    ("GET", "/admin/reports", "GET", "/api/v1/reports/summary"),
    ("GET", "/admin/reports/register.csv", "GET", "/api/v1/reports/register.csv"),
]


@pytest.mark.parametrize(("method", "path", "api_method", "api_path"), PAGE_AND_ROUTE)
def test_each_page_admits_the_roles_of_its_api_route(
    method: str, path: str, api_method: str, api_path: str
) -> None:
    routes = _routes()
    assert _roles(routes[(method, path)]) == _roles(routes[(api_method, api_path)])


def test_every_admin_route_but_signing_in_names_its_roles() -> None:
    for (method, path), route in _routes().items():
        if path.startswith("/admin") and path != "/admin/login":
            assert _roles(route), f"{method} {path}"


def test_a_commissioner_sees_counts_only_and_no_person(
    client: TestClient, token_for: TokenFor, person: str
) -> None:
    response = sign_in(client, token_for, Role.commissioner)
    assert response.headers["location"] == "/admin/reports"
    html = assert_page(client.get("/admin/reports"))
    assert "fewer than 5" in html and person not in html and "DSP-" not in html
    for url in ("/admin", f"/admin/people/{person}", "/admin/gaps", "/admin/export.csv"):
        assert "Your role cannot see this page" in assert_page(client.get(url), status=403)
    csv = client.get("/admin/reports/register.csv")
    assert csv.status_code == 200 and person not in csv.text


def test_a_tco_works_the_register_but_does_not_export_it(
    client: TestClient, token_for: TokenFor, person: str
) -> None:
    sign_in(client, token_for, Role.tco)
    assert person in assert_page(client.get(f"/admin/people/{person}"))
    assert client.get("/admin/export.csv").status_code == 403
    assert client.get(f"/admin/people/{person}/fhir").status_code == 403
    assert client.get("/admin/reports").status_code == 403


def test_without_a_session_every_page_asks_to_sign_in(client: TestClient, person: str) -> None:
    for url in ("/admin", f"/admin/people/{person}", "/admin/gaps", "/admin/reports"):
        html = assert_page(client.get(url), status=401)
        assert '<a href="/admin/login">Sign in</a>' in html


def test_a_bearer_token_works_as_for_the_api_and_needs_no_form_token(
    client: TestClient, token_for: TokenFor, person: str, db_session: Session
) -> None:
    headers = token_for(Role.dsr_admin)
    assert client.get("/admin", headers=headers).status_code == 200
    response = client.post(
        f"/admin/people/{person}/rating",
        data={"to": "red", "reason": "Admitted to A&E twice this week"},
        headers=headers,
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert "set-cookie" not in response.headers


# The form token


def test_a_form_without_this_sessions_token_changes_nothing(
    admin: TestClient, person: str, db_session: Session
) -> None:
    for sent in ({}, {"csrf_token": "0" * 64}):
        response = admin.post(
            f"/admin/people/{person}/rating",
            data={"to": "red", "reason": "deteriorating", **sent},
            follow_redirects=False,
        )
        assert "nothing was changed" in assert_page(response, status=403)
    entry = register_service.get(db_session=db_session, dsp_id=person)
    assert entry is not None and entry.rag == "amber"


# The pages


def test_the_board_shows_each_person_by_rating_with_what_is_due(
    admin: TestClient, token_for: TokenFor, client: TestClient, db_session: Session
) -> None:
    amber = refer(client, token_for)
    red = refer(
        client, token_for, rag="red", imminent=True, criteria=("red.deterioration_despite_mam",)
    )
    # Referred three months ago and no MAM since: the MAM request is overdue (deadline clock).
    late = register_factory.person(
        db_session, referred=datetime.now(UTC) - timedelta(days=90), born=date(2012, 5, 1)
    ).dsp_id
    db_session.commit()
    html = assert_page(admin.get("/admin"))
    for state in ("red", "amber", "green", "blue", "unrated"):
        assert f'id="rating-{state}"' in html
    red_column = html[html.index('id="rating-red"') : html.index('id="rating-amber"')]
    amber_column = html[html.index('id="rating-amber"') : html.index('id="rating-green"')]
    assert red in red_column and amber in amber_column and amber not in red_column
    row = amber_column[
        amber_column.index(amber) : amber_column.index("</tr>", amber_column.index(amber))
    ]
    assert "Keyworker referral" in row and "Due soon" in row
    row = amber_column[
        amber_column.index(late) : amber_column.index("</tr>", amber_column.index(late))
    ]
    assert "Overdue" in row
    overdue_only = assert_page(admin.get("/admin?due=overdue"))
    assert late in overdue_only and amber not in overdue_only and red not in overdue_only
    assert amber in assert_page(admin.get("/admin?due=anything"))  # an unknown filter: everyone
    assert "Alex" not in html  # names only on the person's own page


def test_a_persons_page_shows_their_timeline_and_is_audited(
    admin: TestClient, person: str, db_session: Session
) -> None:
    html = assert_page(admin.get(f"/admin/people/{person}"))
    assert f"<title>{person}: timeline - DSP register</title>" in html
    for heading in ("Timeline", "Ratings and why", "Multi-agency meetings", "Action plan"):
        assert f">{heading}</h2>" in html
    assert "Rated amber" in html and "Consent renewal" in html and "referral" in html
    actions = set(
        db_session.scalars(select(AuditEvent.action).where(AuditEvent.entity_id == person))
    )
    assert {"register.read", "register.timeline", "mam.actions_read", "gap.list"} <= actions
    assert_page(admin.get("/admin/people/DSP-2222-2222"), status=404)


def test_changing_a_rating_records_the_reason_and_is_audited(
    admin: TestClient, person: str, db_session: Session
) -> None:
    form = assert_page(admin.get(f"/admin/people/{person}/rating"))
    assert 'value="red"' in form and 'value="unrated"' not in form  # the lifecycle's next steps
    token = csrf(admin, f"/admin/people/{person}/rating")
    response = admin.post(
        f"/admin/people/{person}/rating",
        data={"csrf_token": token, "to": "red", "reason": "Police called twice this week"},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"] == f"/admin/people/{person}?done=rating"
    entry = register_service.get(db_session=db_session, dsp_id=person)
    assert entry is not None and entry.rag == "red" and entry.register == "ROAR"
    assert entry.transitions[-1].reason == "Police called twice this week"
    audit = db_session.scalars(
        select(AuditEvent).where(
            AuditEvent.entity_id == person, AuditEvent.action == "register.transition"
        )
    ).all()
    assert len(audit) == 1 and audit[0].role == "dsr_admin"
    page = assert_page(admin.get(response.headers["location"]))
    assert "The rating was changed." in page and "Police called twice this week" in page


def test_a_change_the_lifecycle_refuses_is_shown_as_an_error(
    admin: TestClient, person: str, db_session: Session
) -> None:
    token = csrf(admin, f"/admin/people/{person}/rating")
    missing = admin.post(f"/admin/people/{person}/rating", data={"csrf_token": token})
    html = assert_page(missing, status=422)
    assert '<a href="#to">Choose the new rating</a>' in html
    assert '<a href="#reason">Say why the rating changes</a>' in html
    refused = admin.post(
        f"/admin/people/{person}/rating",
        data={"csrf_token": token, "to": "removed", "reason": "no longer needed"},
    )
    assert "Say why the person is removed" in assert_page(refused, status=422)
    entry = register_service.get(db_session=db_session, dsp_id=person)
    assert entry is not None and entry.removed_at is None


def _notes_form(kind: str, token: str, **extra: str) -> dict[str, str]:
    """Every section of the template answered, but the impact of Covid-19 not applicable."""
    sections = mam_service.notes_template().for_kind(kind)  # type: ignore[arg-type]
    data = {
        "csrf_token": token,
        "held_date": date.today().isoformat(),
        "held_time": "00:00",
        "chair": "Sam Chair",
        "note_taker": "DSP admin lead",
        "attendee_0_name": "Sam Chair",
        "attendee_0_role": "Community nurse",
    }
    for section in sections:
        if section.key == "covid_19_impact":
            data[f"section_{section.key}_na"] = "on"
            continue
        data[f"section_{section.key}"] = f"{section.title}: notes & 'quotes'"
        if section.kind == "yes_no":
            data[f"section_{section.key}_answer"] = "yes"
    return {**data, **extra}


def test_a_mam_is_arranged_and_recorded_with_every_section_and_its_action_plan(
    admin: TestClient, person: str, db_session: Session
) -> None:
    arrange_form = assert_page(admin.get(f"/admin/people/{person}/mam"))
    assert "Arrange a MAM" in arrange_form
    token = csrf(admin, f"/admin/people/{person}/mam")
    arranged = admin.post(
        f"/admin/people/{person}/mam/arrange",
        data={
            "csrf_token": token,
            "scheduled_date": date.today().isoformat(),
            "scheduled_time": "00:00",
            "joining_link": "https://meet.example.nhs.uk/j/1",
        },
        follow_redirects=False,
    )
    assert arranged.status_code == 303
    notes_form = assert_page(admin.get(arranged.headers["location"]))
    first = mam_service.notes_template().for_kind("first")
    for section in first:
        assert f'name="section_{section.key}_na"' in notes_form
        assert f'<legend class="legend">{section.title}</legend>' in notes_form
    next_mam = date.today() + timedelta(days=28)
    saved = admin.post(
        f"/admin/people/{person}/mam",
        data=_notes_form(
            "first",
            token,
            new_0_task="Refer to the intensive support team",
            new_0_responsible="Pat Smith, social worker",
            new_0_timeline=(date.today() + timedelta(days=14)).isoformat(),
            decision="follow_up",
            next_mam_date=next_mam.isoformat(),
            next_mam_time="10:00",
            reason="Review the new support in four weeks",
        ),
        follow_redirects=False,
    )
    assert saved.status_code == 303, saved.text
    assert saved.headers["location"] == f"/admin/people/{person}?done=mam"
    entry = register_service.get(db_session=db_session, dsp_id=person)
    assert entry is not None
    held, follow_up = mam_service.of_entry(db_session=db_session, entry=entry)
    read = mam_service.read(db_session=db_session, actor=ADMIN, mam=held, today=date.today())
    assert read.decision == "follow_up" and read.chair == "Sam Chair"
    assert read.sections["covid_19_impact"].not_applicable
    assert read.sections["update"].text == "Update on the current situation: notes & 'quotes'"
    assert read.sections["plan_meets_aspirations"].answer is True
    assert [a.task for a in read.action_plan] == ["Refer to the intensive support team"]
    assert follow_up.kind == "subsequent" and follow_up.completed_at is None
    kinds = {task.kind for task in entry.tasks if task.closed_at is None}
    assert {"action_due", "follow_up_mam_due"} <= kinds and entry.first_mam_on == date.today()
    page = assert_page(admin.get(f"/admin/people/{person}"))
    assert "Refer to the intensive support team" in page and "MAM held" in page

    # The subsequent MAM opens with the existing plan: its outcome recorded, then escalation.
    subsequent = assert_page(admin.get(f"/admin/people/{person}/mam"))
    assert "MAM 2 notes" in subsequent and 'name="section_actions_completed_answer"' in subsequent
    (action,) = read.action_plan
    escalated = admin.post(
        f"/admin/people/{person}/mam",
        data=_notes_form(
            "subsequent",
            token,
            **{
                f"action_{action.id}_outcome": "Referral accepted",
                f"action_{action.id}_status": "completed",
            },
            decision="escalate",
            reason="Two admissions to A&E since the last MAM",
        ),
        follow_redirects=False,
    )
    assert escalated.status_code == 303, escalated.text
    db_session.expire_all()
    entry = register_service.get(db_session=db_session, dsp_id=person)
    assert entry is not None and entry.rag == "red"
    assert entry.transitions[-1].reason == "MAM 2: Two admissions to A&E since the last MAM"
    (item,) = mam_service.actions(db_session=db_session, entry=entry)
    assert item.status == "completed" and item.outcome == "Referral accepted"


def test_the_mam_form_says_what_is_missing_and_saves_nothing(
    admin: TestClient, person: str, db_session: Session
) -> None:
    token = csrf(admin, f"/admin/people/{person}/mam")
    admin.post(
        f"/admin/people/{person}/mam/arrange",
        data={
            "csrf_token": token,
            "scheduled_date": date.today().isoformat(),
            "scheduled_time": "00:00",
            "joining_link": "https://meet.example.nhs.uk/j/1",
        },
    )
    response = admin.post(
        f"/admin/people/{person}/mam",
        data=_notes_form(
            "first",
            token,
            section_update_na="on",
            new_1_task="Something with no one responsible",
            new_2_task="Book the short breaks",
            new_2_responsible="Pat Smith",
            new_2_timeline=date.today().isoformat(),
            new_2_manager_email="not an address",
            attendee_1_name="Jo",
            decision="stand_down",
        ),
    )
    html = assert_page(response, status=422)
    assert "leave it empty, or untick not applicable" in html
    assert '<a href="#new_1_responsible">Say who is responsible</a>' in html
    assert '<a href="#attendee_1_role">Give attendee 2&#39;s role</a>' in html
    assert '<a href="#new_2_manager_email">value is not a valid email address' in html
    assert '<a href="#reason">' in html
    assert "Something with no one responsible" in html  # what was typed is kept
    entry = register_service.get(db_session=db_session, dsp_id=person)
    assert entry is not None
    (mam,) = mam_service.of_entry(db_session=db_session, entry=entry)
    assert mam.chair == "" and not mam.sections


def test_gaps_in_service_are_listed_and_recorded_against_a_person_or_alone(
    admin: TestClient, person: str, db_session: Session
) -> None:
    form = assert_page(admin.get(f"/admin/gaps?dsp_id={person}"))
    assert f'value="{person}"' in form
    token = csrf(admin, "/admin/gaps")
    missing = admin.post("/admin/gaps", data={"csrf_token": token, "dsp_id": "DSP-2222-2222"})
    html = assert_page(missing, status=422)
    assert '<a href="#theme">Choose the theme</a>' in html
    assert "No one on the register has this dsp_id" in html
    recorded = admin.post(
        "/admin/gaps",
        data={
            "csrf_token": token,
            "dsp_id": person,
            "theme": "short_breaks_and_respite",
            "what_is_missing": "No overnight short breaks for autistic teenagers",
            "impact": "Family at breaking point",
            "what_was_tried": "Asked two providers",
        },
        follow_redirects=False,
    )
    assert recorded.status_code == 303 and recorded.headers["location"] == "/admin/gaps?done=gap"
    listed = assert_page(admin.get("/admin/gaps?theme=short_breaks_and_respite"))
    assert "No overnight short breaks for autistic teenagers" in listed and person in listed
    (gap,) = db_session.scalars(select(GapInService)).all()
    assert gap.theme == "short_breaks_and_respite" and gap.entry_id is not None
    assert "Gap in service recorded" in admin.get(f"/admin/people/{person}").text


def test_the_exports_are_the_services_own(admin: TestClient, person: str) -> None:
    csv = admin.get("/admin/export.csv")
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    assert csv.text.startswith("dsp_id,") and person in csv.text
    fhir = admin.get(f"/admin/people/{person}/fhir")
    assert fhir.headers["content-type"] == "application/fhir+json"
    assert fhir.json()["resourceType"] == "QuestionnaireResponse"
    reports = assert_page(admin.get("/admin/reports"))
    assert "Download the de-identified register (CSV)" in reports


def test_no_address_or_name_reaches_a_url_or_title(admin: TestClient, person: str) -> None:
    html = admin.get(f"/admin/people/{person}").text
    assert "Alex Example" in html  # shown to the authorised user in the page
    title = re.search(r"<title>(.*)</title>", html)
    assert title and "Alex" not in title[1]
    hrefs = re.findall(r'(?:href|action)="([^"]+)"', html)
    assert hrefs and all("Alex" not in h and "@" not in h.split("mailto:")[0] for h in hrefs)


def test_the_static_css_is_served(client: TestClient) -> None:
    css = client.get("/admin/static/admin.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")


def test_times_are_read_as_uk_time(admin: TestClient, person: str, db_session: Session) -> None:
    token = csrf(admin, f"/admin/people/{person}/mam")
    summer = date(date.today().year + 1, 7, 1)
    admin.post(
        f"/admin/people/{person}/mam/arrange",
        data={
            "csrf_token": token,
            "scheduled_date": summer.isoformat(),
            "scheduled_time": "10:00",
            "joining_link": "https://meet.example.nhs.uk/j/1",
        },
    )
    entry = register_service.get(db_session=db_session, dsp_id=person)
    assert entry is not None
    (mam,) = mam_service.of_entry(db_session=db_session, entry=entry)
    scheduled = (
        mam.scheduled_at if mam.scheduled_at.tzinfo else mam.scheduled_at.replace(tzinfo=UTC)
    )
    assert scheduled == datetime(summer.year, 7, 1, 9, 0, tzinfo=UTC)  # BST is UTC+1


def test_nothing_identifiable_is_logged_by_the_pages(
    admin: TestClient, person: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("DEBUG")
    html = admin.get(f"/admin/people/{person}").text
    nhs_number = re.search(r"NHS number (\d{10})", html)
    assert nhs_number
    token = csrf(admin, f"/admin/people/{person}/rating")
    admin.post(
        f"/admin/people/{person}/rating",
        data={"csrf_token": token, "to": "removed", "reason": "Alex Example moved to Wales"},
    )
    admin.get("/admin/export.csv")
    for secret in ("Alex", "Example", nhs_number[1]):
        assert secret not in caplog.text

"""Every route of the app needs a token and a role, except the few that are open by design.

DESIGN.md: the register API has "token + role on every route"; open are health, the docs, the
chat page, /chat, the variant (it holds no personal data) and the confirmation link emailed to a
referrer (its token is the key).
"""

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient

from dsp_backend.auth.schemas import Role
from dsp_backend.main import create_app

OPEN = frozenset(
    {
        ("GET", "/health"),
        ("GET", "/health/ready"),
        # /docs and /redoc load scripts from a CDN: off unless DSP_API_DOCS is set.
        ("GET", "/openapi.json"),
        ("GET", "/"),
        ("POST", "/chat"),
        # The conversation's own transcript and "start again": the signed cookie names it.
        ("GET", "/chat/history"),
        ("GET", "/chat/history.txt"),
        ("POST", "/chat/restart"),
        # The chat page's privacy notice and accessibility statement.
        ("GET", "/privacy"),
        ("GET", "/accessibility"),
        ("GET", "/api/v1/variant"),
        # The link emailed to the referrer: its unguessable token is the key, and the pages
        # say nothing of anyone on a register.
        ("GET", "/referrals/confirm/{token}"),
        ("POST", "/referrals/confirm/{token}"),
        # Signing in to the register pages: the token typed in is the key (admin/session.py).
        ("GET", "/admin/login"),
        ("POST", "/admin/login"),
    }
)


def routes() -> Iterator[tuple[str, str, Any]]:
    """(method, full path, route) for every route, including those of included routers."""
    for context in iter_route_contexts(create_app().routes):
        for method in sorted((context.methods or set()) - {"HEAD"}):
            yield method, str(context.path), context.original_route


def allowed_roles(route: Any) -> frozenset[Role] | None:
    """The roles of the require_roles() dependency anywhere in the route's dependency tree."""
    if not isinstance(route, APIRoute):
        return None
    pending = [route.dependant]
    while pending:
        dependant = pending.pop()
        roles = getattr(dependant.call, "allowed_roles", None)
        if roles is not None:
            return frozenset(roles)
        pending.extend(dependant.dependencies)
    return None


def concrete(path: str) -> str:
    """A real URL for a path template: path parameters get well-formed values."""
    return re.sub(r"\{dsp_id\}", "DSP-2222-2222", re.sub(r"\{task_id\}", "1", path))


ALL = sorted(routes(), key=lambda r: (r[1], r[0]))
QUESTIONNAIRE_READERS = {Role.action_server, Role.referrer, Role.dsr_admin, Role.tco}
GUARDED = [(method, path, route) for method, path, route in ALL if (method, path) not in OPEN]


def test_the_open_routes_are_exactly_the_designs() -> None:
    found = {(method, path) for method, path, _route in ALL}
    assert found >= OPEN
    for method, path, route in ALL:
        if (method, path) in OPEN:
            assert allowed_roles(route) is None, f"{method} {path} should be open"


@pytest.mark.parametrize(
    ("method", "path", "route"), GUARDED, ids=[f"{m} {p}" for m, p, _ in GUARDED]
)
def test_every_other_route_names_its_roles(method: str, path: str, route: Any) -> None:
    assert allowed_roles(route), f"{method} {path} has no require_roles() dependency"


@pytest.mark.parametrize(
    ("method", "path", "route"), GUARDED, ids=[f"{m} {p}" for m, p, _ in GUARDED]
)
def test_every_other_route_answers_401_without_a_token_and_403_for_a_wrong_role(
    client: TestClient,
    token_for: Callable[[Role], dict[str, str]],
    method: str,
    path: str,
    route: Any,
) -> None:
    url = concrete(path)
    assert client.request(method, url, json={}).status_code == 401
    bad = {"Authorization": "Bearer dsp_not-a-real-token"}
    assert client.request(method, url, json={}, headers=bad).status_code == 401
    roles = allowed_roles(route) or frozenset()
    for role in sorted(set(Role) - roles):
        response = client.request(method, url, json={}, headers=token_for(role))
        assert response.status_code == 403, f"{role} reached {method} {path}"


@pytest.mark.parametrize(
    ("path", "roles"),
    [
        ("/api/v1/referrals", {Role.action_server, Role.referrer}),
        # The FHIR export carries the whole form, personal data included.
        ("/api/v1/referrals/{dsp_id}/fhir", {Role.dsr_admin}),
        # The questionnaire stores nothing; those who refer or work the register may read it.
        ("/api/v1/questionnaire", QUESTIONNAIRE_READERS),
        ("/api/v1/questionnaire/next", QUESTIONNAIRE_READERS),
        ("/api/v1/questionnaire/interpret", QUESTIONNAIRE_READERS),
        ("/api/v1/register", {Role.dsr_admin, Role.tco}),
        ("/api/v1/register/{dsp_id}", {Role.dsr_admin, Role.tco}),
        ("/api/v1/register/{dsp_id}/transitions", {Role.dsr_admin, Role.tco}),
        ("/api/v1/register/search", {Role.dsr_admin}),
        ("/api/v1/register/export.csv", {Role.dsr_admin}),
        ("/api/v1/reports/summary", {Role.commissioner, Role.dsr_admin}),
        ("/api/v1/reports/register.csv", {Role.commissioner, Role.dsr_admin}),
        ("/api/v1/audit", {Role.dsr_admin}),
    ],
)
def test_who_may_do_what_on_the_register_001_s8(path: str, roles: set[Role]) -> None:
    """001 section 8 and DESIGN.md: access by role; commissioners see aggregates only."""
    (route,) = [r for _m, p, r in ALL if p == path]
    assert allowed_roles(route) == roles

"""Rendering the register pages: Jinja2 templates with the variant's names, no inline script or
style (the CSP in guard.py allows none), every answer `no-store` (health data), and refusals as
pages rather than JSON."""

from collections.abc import Callable, Coroutine, Sequence
from datetime import date, datetime
from functools import cache
from typing import Any, Final
from zoneinfo import ZoneInfo

from fastapi import Request, Response
from fastapi.responses import HTMLResponse
from fastapi.routing import APIRoute
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from dsp_backend.admin.session import CSRF_FIELD, PageSession, Refused, keep_alive
from dsp_backend.config import get_settings
from dsp_backend.database.core import as_utc
from dsp_backend.register.timeline import WORDS
from dsp_backend.variants import service as variant_service

# The people who work the register are in England: times are shown and read as UK time.
LOCAL: Final = ZoneInfo("Europe/London")
PRIVATE: Final = {"Cache-Control": "no-store"}
ERROR_TITLES: Final = {
    400: "The form could not be read",
    401: "Sign in",
    403: "You cannot see this page",
    404: "Page not found",
    413: "The form is too long",
    422: "The form could not be read",
}


def day(value: date | datetime | None) -> str:
    """GOV.UK style: 30 November 2026."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = as_utc(value).astimezone(LOCAL).date()
    return f"{value.day} {value:%B %Y}"


def moment(value: datetime | None) -> str:
    if value is None:
        return ""
    local = as_utc(value).astimezone(LOCAL)
    return f"{day(local)} at {local:%H:%M}"


def words(kind: str | None) -> str:
    """The timeline's plain English for a rating, follow-up, event or deadline."""
    if kind is None:
        return ""
    return WORDS.get(kind, kind.replace("_", " ").capitalize())


# Who did it and who gave consent, as people say it (the data keep the codes).
PEOPLE: Final = {
    "dsr_admin": "DSR admin lead",
    "tco": "Transforming Care Officer",
    "commissioner": "Commissioner",
    "referrer": "Referrer",
    "action_server": "The assistant",
    "person": "the person",
    "parent_carer_guardian": "a parent, carer or guardian",
    "best_interests": "a best-interests decision",
}


def label(key: str | None) -> str:
    """A code from the data (a role, a theme, a reason) as words: short_breaks -> Short
    breaks."""
    if key in PEOPLE:
        return PEOPLE[key]
    return (key or "").replace("_", " ").capitalize()


def failed(errors: Sequence[tuple[str, str]], field_id: str) -> bool:
    """Whether the error summary names this field."""
    return any(name == field_id for name, _message in errors)


@cache
def _environment() -> Environment:
    environment = Environment(
        loader=PackageLoader("dsp_backend.admin", "templates"),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters.update(day=day, moment=moment, words=words, label=label)
    environment.globals["failed"] = failed
    return environment


def page(
    request: Request,
    template: str,
    *,
    status_code: int | None = None,
    errors: Sequence[tuple[str, str]] | None = None,
    **context: Any,
) -> HTMLResponse:
    """A page for whoever is signed in (or nobody); `errors` are (field id, message) pairs for
    the error summary, and make the title start with "Error:". A form sent back with errors is
    a 422 unless the caller says otherwise."""
    errors = errors or ()
    if status_code is None:
        status_code = 422 if errors else 200
    session: PageSession | None = getattr(request.state, "page_session", None)
    html = (
        _environment()
        .get_template(template)
        .render(
            variant=variant_service.load(get_settings().variant),
            session=session,
            role=session.actor.role.value if session is not None else None,
            csrf_field=CSRF_FIELD,
            errors=list(errors),
            **context,
        )
    )
    return HTMLResponse(html, status_code=status_code, headers=PRIVATE)


def refused_page(request: Request, refused: Refused) -> HTMLResponse:
    return page(
        request,
        "refused.html",
        status_code=refused.status_code,
        title=ERROR_TITLES.get(refused.status_code, "Something went wrong"),
        message=refused.message,
    )


class AdminRoute(APIRoute):
    """Every register page: a refusal becomes a page with the right status, and a signed-in
    session is kept alive by each page it sees."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def as_page(request: Request) -> Response:
            try:
                response = await handler(request)
            except Refused as refused:
                response = refused_page(request, refused)
            session: PageSession | None = getattr(request.state, "page_session", None)
            if session is not None and response.status_code < 400:
                keep_alive(request, response, session)
            response.headers.setdefault("Cache-Control", "no-store")
            return response

        return as_page

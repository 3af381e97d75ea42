"""The register pages at /admin: sign in with a token, the register as a board by rating, a
person's timeline, changing a rating, gaps in service, exports, and counts for commissioners.

Each page calls the same service functions as the API route it stands for, with the same roles,
so every rule and every audit record is the service's. Nothing that identifies a person goes in
a URL: people are found by dsp_id.
"""

import json
from datetime import UTC, date, datetime
from typing import Annotated, Any, Final

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from dsp_backend.admin import mam
from dsp_backend.admin.render import AdminRoute, page
from dsp_backend.admin.session import (
    PageSession,
    Refused,
    read_form,
    require_page_roles,
    sign_in,
    sign_out,
)
from dsp_backend.audit import service as audit_service
from dsp_backend.auth import service as auth_service
from dsp_backend.auth.schemas import Role
from dsp_backend.config import get_settings
from dsp_backend.database.core import SessionDep, as_utc
from dsp_backend.gaps import service as gap_service
from dsp_backend.gaps.schemas import GapCreate
from dsp_backend.meetings import service as mam_service
from dsp_backend.referrals import service as referral_service
from dsp_backend.register import export as register_export
from dsp_backend.register import lifecycle, reports
from dsp_backend.register import service as register_service
from dsp_backend.register.deadlines import Due, add_months
from dsp_backend.register.models import RegisterEntry
from dsp_backend.register.schemas import TransitionCreate
from dsp_backend.variants.dependencies import VariantDep

router = APIRouter(prefix="/admin", include_in_schema=False, route_class=AdminRoute)
router.include_router(mam.router)

# The same roles as the API routes the pages stand for (register/, gaps/, referrals/ routes);
# tests/backend/test_admin_pages.py holds each page to its route.
PAGE_ROLES: Final = (Role.dsr_admin, Role.tco, Role.commissioner)
Anyone = Annotated[PageSession, Depends(require_page_roles(*PAGE_ROLES))]
Worker = mam.Worker
Admin = Annotated[PageSession, Depends(require_page_roles(Role.dsr_admin))]
Counts = Annotated[PageSession, Depends(require_page_roles(Role.commissioner, Role.dsr_admin))]

# The board's columns, in the order people act on them: the ROAR first, then the DSR.
BOARD: Final[tuple[lifecycle.State, ...]] = ("red", "amber", "green", "blue", "unrated")
REPORT_MONTHS: Final = 12
DONE: Final = {
    "rating": "The rating was changed.",
    "mam": "The MAM was saved.",
    "arranged": "The MAM was arranged.",
    "gap": "The gap in service was recorded.",
}


def _now() -> datetime:
    return datetime.now(UTC)


def see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def problems(error: ValidationError, field_of: dict[str, str]) -> list[tuple[str, str]]:
    """A schema's refusals as (field id, message) for the error summary; never the input."""
    found = []
    for problem in error.errors():
        name = str(problem["loc"][0]) if problem["loc"] else ""
        found.append((field_of.get(name, name), problem["msg"].removeprefix("Value error, ")))
    return found


def _minutes() -> int:
    return get_settings().admin_session_minutes


def home(role: Role) -> str:
    return "/admin/reports" if role == Role.commissioner else "/admin"


@router.get("/login")
def login_form(request: Request) -> Response:
    return page(request, "login.html", title="Sign in", minutes=_minutes())


@router.post("/login")
async def login(request: Request, db_session: SessionDep) -> Response:
    """The token is checked as the API checks it; a new session starts (never an old one)."""
    token = (await read_form(request, None)).get("token", "").strip()
    actor = auth_service.authenticate(db_session=db_session, token=token) if token else None
    if actor is None or actor.role not in PAGE_ROLES:
        message = (
            "Enter your token"
            if not token
            else "This token is not valid"
            if actor is None
            else "This token's role cannot use the register pages"
        )
        status = 401 if actor is None else 403
        return page(
            request,
            "login.html",
            status_code=status,
            title="Sign in",
            minutes=_minutes(),
            errors=[("token", message)],
        )
    response = see_other(home(actor.role))
    sign_in(request, response, actor)
    return response


@router.post("/logout")
async def logout(request: Request, session: Anyone) -> Response:
    await read_form(request, session)
    response = see_other("/admin/login")
    sign_out(request, response)
    return response


@router.get("")
def board(request: Request, db_session: SessionDep, session: Worker, due: str = "") -> Response:
    """The register by rating, each person by dsp_id with what falls due next and whether it
    is due soon or overdue (the deadline clock). `due` filters; anything else shows everyone."""
    today = date.today()
    shown: Due | None = "overdue" if due == "overdue" else "due_soon" if due == "due_soon" else None
    rows = register_service.read_list(
        db_session=db_session,
        actor=session.actor,
        today=today,
        within_days=register_service.DUE_SOON_DAYS,
        due=shown,
    )
    db_session.commit()
    columns = [(state, [row for row in rows if row.state == state]) for state in BOARD]
    return page(
        request,
        "board.html",
        title="The register",
        columns=columns,
        due=shown,
        total=len(rows),
        within_days=register_service.DUE_SOON_DAYS,
        done=DONE.get(request.query_params.get("done", "")),
    )


def entry_or_404(db_session: SessionDep, dsp_id: str) -> RegisterEntry:
    entry = register_service.get(db_session=db_session, dsp_id=dsp_id)
    if entry is None:
        raise Refused(404, "No one on the register has this dsp_id.")
    return entry


@router.get("/people/{dsp_id}")
def person(request: Request, dsp_id: str, db_session: SessionDep, session: Worker) -> Response:
    """A person's timeline: their ratings and why, what is due, MAMs, actions, consent and its
    renewal, notifications and tasks, gaps in service. Every read here is audited."""
    entry = entry_or_404(db_session, dsp_id)
    today, actor = date.today(), session.actor
    detail = register_service.read_detail(
        db_session=db_session, actor=actor, entry=entry, today=today, action="register.read"
    )
    timeline = register_service.read_timeline(
        db_session=db_session,
        actor=actor,
        entry=entry,
        today=today,
        within_days=register_service.DUE_SOON_DAYS,
    )
    mams = [
        mam_service.summary(m, entry)
        for m in mam_service.of_entry(db_session=db_session, entry=entry)
    ]
    actions = [
        mam_service.action_read(item, today)
        for item in mam_service.actions(db_session=db_session, entry=entry)
    ]
    # As GET /api/v1/actions: an action's words can say who the person is.
    audit_service.record(
        db_session=db_session,
        actor=actor,
        action="mam.actions_read",
        entity_type=mam_service.ENTITY,
        entity_id=entry.dsp_id,
        fields=("action_plan",),
    )
    gaps = gap_service.read_list(db_session=db_session, actor=actor, entry=entry, theme=None)
    db_session.commit()
    return page(
        request,
        "person.html",
        title=f"{entry.dsp_id}: timeline",
        entry=detail,
        timeline=timeline,
        ratings=sorted(detail.transitions, key=lambda t: as_utc(t.at), reverse=True),
        mams=mams,
        actions=actions,
        gaps=gaps,
        done=DONE.get(request.query_params.get("done", "")),
    )


def _next_states(entry: RegisterEntry) -> list[lifecycle.State]:
    return [s for s in lifecycle.STATES if s in lifecycle.TRANSITIONS[entry.state]]


def _rating_page(
    request: Request,
    entry: RegisterEntry,
    values: dict[str, str],
    errors: list[tuple[str, str]] | None = None,
) -> Response:
    return page(
        request,
        "rating.html",
        errors=errors,
        title=f"{entry.dsp_id}: change the rating",
        entry=entry,
        states=_next_states(entry),
        removal_reasons=lifecycle.REMOVAL_REASONS,
        values=values,
    )


@router.get("/people/{dsp_id}/rating")
def rating_form(
    request: Request, dsp_id: str, db_session: SessionDep, _session: Worker
) -> Response:
    return _rating_page(request, entry_or_404(db_session, dsp_id), {})


@router.post("/people/{dsp_id}/rating")
async def change_rating(
    request: Request, dsp_id: str, db_session: SessionDep, variant: VariantDep, session: Worker
) -> Response:
    """A change of the rating table, with the reason (the register service checks it)."""
    entry = entry_or_404(db_session, dsp_id)
    values = await read_form(request, session)
    errors = []
    if not values.get("to"):
        errors.append(("to", "Choose the new rating"))
    if not values.get("reason", "").strip():
        errors.append(("reason", "Say why the rating changes"))
    if errors:
        return _rating_page(request, entry, values, errors)
    try:
        change = TransitionCreate.model_validate(
            {
                "to": values["to"],
                "reason": values["reason"].strip(),
                "removal_reason": (values.get("removal_reason") or None)
                if values["to"] == "removed"
                else None,
            }
        )
    except ValidationError as error:
        return _rating_page(
            request, entry, values, problems(error, {"removal_reason": "removal_reason"})
        )
    try:
        register_service.transition(
            db_session=db_session,
            actor=session.actor,
            entry=entry,
            to=change.to,
            reason=change.reason,
            removal_reason=change.removal_reason,
            variant=variant,
            now=_now(),
        )
    except lifecycle.TransitionRefused as refused:
        db_session.rollback()
        return _rating_page(request, entry, values, [("to", str(refused))])
    db_session.commit()
    return see_other(f"/admin/people/{entry.dsp_id}?done=rating")


GAP_FIELDS: Final = ("dsp_id", "theme", "age_group", "what_is_missing", "impact", "what_was_tried")
GAP_REQUIRED: Final = {
    "theme": "Choose the theme",
    "what_is_missing": "Say what is missing",
    "impact": "Say what impact it has",
    "what_was_tried": "Say what was tried to resolve it",
}


def _gaps_page(
    request: Request,
    db_session: SessionDep,
    session: PageSession,
    variant: VariantDep,
    values: dict[str, str],
    errors: list[tuple[str, str]] | None = None,
) -> Response:
    theme = request.query_params.get("theme") or None
    gaps = gap_service.read_list(
        db_session=db_session, actor=session.actor, entry=None, theme=theme
    )
    db_session.commit()
    return page(
        request,
        "gaps.html",
        errors=errors,
        title="Gaps in service",
        gaps=gaps,
        themes=variant.gap_themes,
        theme=theme,
        values=values,
        done=DONE.get(request.query_params.get("done", "")),
    )


@router.get("/gaps")
def gaps(
    request: Request, db_session: SessionDep, variant: VariantDep, session: Worker
) -> Response:
    """Gaps in service, newest first, and the form to record one (001 section 15)."""
    return _gaps_page(
        request, db_session, session, variant, {"dsp_id": request.query_params.get("dsp_id", "")}
    )


@router.post("/gaps")
async def record_gap(
    request: Request, db_session: SessionDep, variant: VariantDep, session: Worker
) -> Response:
    form = await read_form(request, session)
    values = {name: form.get(name, "").strip() for name in GAP_FIELDS}
    errors = [(name, message) for name, message in GAP_REQUIRED.items() if not values[name]]
    entry = None
    if values["dsp_id"]:
        entry = register_service.get(db_session=db_session, dsp_id=values["dsp_id"].upper())
        if entry is None:
            errors.append(("dsp_id", "No one on the register has this dsp_id"))
        elif entry.erased_at is not None:
            errors.append(("dsp_id", "This person's personal data have been erased"))
    if errors:
        return _gaps_page(request, db_session, session, variant, values, errors)
    try:
        gap = GapCreate.model_validate(
            {
                **{name: values[name] for name in GAP_REQUIRED},
                "dsp_id": entry.dsp_id if entry is not None else None,
                "age_group": (values["age_group"] or None) if entry is None else None,
            }
        )
        gap_service.record(
            db_session=db_session,
            actor=session.actor,
            variant=variant,
            gap=gap,
            entry=entry,
            now=_now(),
        )
    except ValidationError as error:
        return _gaps_page(request, db_session, session, variant, values, problems(error, {}))
    except gap_service.UnknownTheme as unknown:
        db_session.rollback()
        return _gaps_page(request, db_session, session, variant, values, [("theme", str(unknown))])
    db_session.commit()
    return see_other("/admin/gaps?done=gap")


def _csv(text: str, filename: str) -> Response:
    return Response(
        text,
        media_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.get("/export.csv")
def export_register(db_session: SessionDep, session: Admin) -> Response:
    """As GET /api/v1/register/export.csv: the register for the clinical folder (001 s6)."""
    rows = register_export.export_rows(
        db_session=db_session, actor=session.actor, include_removed=False
    )
    db_session.commit()
    header = [column.name for column in register_export.EXPORT_COLUMNS]
    return _csv(register_export.csv_text(header, rows), "dsp-register.csv")


@router.get("/people/{dsp_id}/fhir")
def export_fhir(dsp_id: str, db_session: SessionDep, session: Admin) -> Response:
    """As GET /api/v1/referrals/{dsp_id}/fhir: the referral as a FHIR QuestionnaireResponse."""
    exported = referral_service.export_fhir(
        db_session=db_session, actor=session.actor, dsp_id=dsp_id
    )
    if exported is None:
        raise Refused(404, "No referral has this dsp_id.")
    db_session.commit()
    return Response(
        json.dumps(exported, indent=2),
        media_type="application/fhir+json",
        headers={"Content-Disposition": f'attachment; filename="{dsp_id}-referral.json"'},
    )


@router.get("/reports")
def report(
    request: Request, db_session: SessionDep, variant: VariantDep, _session: Counts
) -> Response:
    """Counts only, each from 1 to 4 suppressed: what a commissioner sees (001 s6, s15)."""
    today = date.today()
    summary = reports.summarise(
        reports.entry_facts(db_session=db_session), today=today, months=REPORT_MONTHS
    )
    themes = gap_service.themes(
        db_session=db_session, variant=variant, since=add_months(today, -REPORT_MONTHS)
    )
    context: dict[str, Any] = {"summary": summary, "themes": themes, "months": REPORT_MONTHS}
    return page(request, "reports.html", title="Reports", **context)


@router.get("/reports/register.csv")
def deidentified_export(db_session: SessionDep, _session: Counts) -> Response:
    """As GET /api/v1/reports/register.csv: one row per referral, nothing that identifies."""
    rows = reports.deidentified_rows(reports.entry_facts(db_session=db_session))
    return _csv(
        register_export.csv_text(reports.DEIDENTIFIED_COLUMNS, rows),
        "dsp-register-deidentified.csv",
    )

from datetime import UTC, date, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Query, status
from fastapi.responses import Response

from dsp_backend.auth.dependencies import require_roles
from dsp_backend.auth.schemas import Actor, Role
from dsp_backend.database.core import SessionDep
from dsp_backend.eligibility import service as eligibility_service
from dsp_backend.errors import PlainValidationRoute, refuse
from dsp_backend.register import consent as consent_rules
from dsp_backend.register import export as register_export
from dsp_backend.register import lifecycle, reports
from dsp_backend.register import service as register_service
from dsp_backend.register.deadlines import Due
from dsp_backend.register.models import RegisterEntry
from dsp_backend.register.schemas import (
    ConsentRenewal,
    MamHeld,
    NhsNumberSearch,
    RegisterEntryDetail,
    RegisterEntryRead,
    ReportSummary,
    Timeline,
    TransitionCreate,
)
from dsp_backend.variants.dependencies import VariantDep
from dsp_backend.variants.schemas import AgeGroup, Rag, Register

router = APIRouter(prefix="/register", tags=["register"], route_class=PlainValidationRoute)
reports_router = APIRouter(prefix="/reports", tags=["reports"])

# The people who work the register (DESIGN.md); only the DSR admin lead exports or searches.
Worker = Annotated[Actor, Depends(require_roles(Role.dsr_admin, Role.tco))]
Admin = Annotated[Actor, Depends(require_roles(Role.dsr_admin))]
# Commissioners see counts and de-identified rows only.
Commissioner = Annotated[Actor, Depends(require_roles(Role.commissioner, Role.dsr_admin))]
DspId = Annotated[str, Path(pattern=r"^DSP-[0-9A-Z]{4}-[0-9A-Z]{4}$")]
DueWithin = Annotated[int, Query(ge=0, le=365, description="days ahead that count as due soon")]


def _entry(db_session: SessionDep, dsp_id: DspId, _actor: Worker) -> RegisterEntry:
    """The entry by dsp_id; the token is checked first, so a caller without one learns nothing."""
    entry = register_service.get(db_session=db_session, dsp_id=dsp_id)
    if entry is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "No one on the register has this dsp_id.")
    return entry


EntryDep = Annotated[RegisterEntry, Depends(_entry)]


def _now() -> datetime:
    return datetime.now(UTC)


@router.get("", response_model=list[RegisterEntryRead])
def list_register(
    db_session: SessionDep,
    actor: Worker,
    rag: Rag | None = None,
    register: Register | None = None,
    age_group: AgeGroup | None = None,
    due: Due | None = None,
    due_within_days: DueWithin = register_service.DUE_SOON_DAYS,
    include_removed: bool = False,
) -> list[RegisterEntryRead]:
    """The register, by dsp_id only; filters by rating, register, age group and what is due."""
    rows = register_service.read_list(
        db_session=db_session,
        actor=actor,
        today=date.today(),
        within_days=due_within_days,
        rag=rag,
        register=register,
        age_group=age_group,
        due=due,
        include_removed=include_removed,
    )
    db_session.commit()
    return rows


@router.get("/export.csv", response_class=Response)
def export_register(
    db_session: SessionDep, actor: Admin, include_removed: bool = False
) -> Response:
    """The register with the people's details, for the clinical folder (001 section 6)."""
    rows = register_export.export_rows(
        db_session=db_session, actor=actor, include_removed=include_removed
    )
    db_session.commit()
    header = [column.name for column in register_export.EXPORT_COLUMNS]
    return Response(
        register_export.csv_text(header, rows),
        media_type="text/csv",
        headers={"Content-Disposition": 'attachment; filename="dsp-register.csv"'},
    )


@router.post("/search", response_model=RegisterEntryDetail)
def search_by_nhs_number(
    search: NhsNumberSearch, db_session: SessionDep, actor: Admin
) -> RegisterEntryDetail:
    """Finds a person by NHS number, sent in the body so it never appears in a URL or log."""
    detail = register_service.search(
        db_session=db_session, actor=actor, nhs_number=search.nhs_number, today=date.today()
    )
    db_session.commit()
    if detail is None:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND, "No one on the register has this NHS number."
        )
    return detail


@router.get("/{dsp_id}", response_model=RegisterEntryDetail)
def read_entry(entry: EntryDep, db_session: SessionDep, actor: Worker) -> RegisterEntryDetail:
    detail = register_service.read_detail(
        db_session=db_session, actor=actor, entry=entry, today=date.today(), action="register.read"
    )
    db_session.commit()
    return detail


@router.get("/{dsp_id}/timeline", response_model=Timeline)
def read_timeline(
    entry: EntryDep,
    db_session: SessionDep,
    actor: Worker,
    due_within_days: DueWithin = register_service.DUE_SOON_DAYS,
) -> Timeline:
    """Ratings, MAMs, follow-ups and every date still ahead (the deadline clock), by date;
    follow-ups are marked open, due soon or overdue."""
    timeline = register_service.read_timeline(
        db_session=db_session,
        actor=actor,
        entry=entry,
        today=date.today(),
        within_days=due_within_days,
    )
    db_session.commit()
    return timeline


@router.post("/{dsp_id}/transitions", response_model=RegisterEntryRead)
def change_rating(
    change: TransitionCreate,
    entry: EntryDep,
    db_session: SessionDep,
    variant: VariantDep,
    actor: Worker,
) -> RegisterEntryRead:
    """One change of the rating table (000; 001 sections 10, 12); 409 says why it is refused."""
    try:
        register_service.transition(
            db_session=db_session,
            actor=actor,
            entry=entry,
            to=change.to,
            reason=change.reason,
            removal_reason=change.removal_reason,
            variant=variant,
            now=_now(),
        )
    except lifecycle.TransitionRefused as refused:
        raise HTTPException(status.HTTP_409_CONFLICT, str(refused)) from refused
    db_session.commit()
    return register_service.to_read(entry, today=date.today())


@router.post("/{dsp_id}/mams", response_model=RegisterEntryRead)
def record_mam(
    held: MamHeld, entry: EntryDep, db_session: SessionDep, actor: Worker
) -> RegisterEntryRead:
    """A MAM was held: dates the first MAM and completes the MAM follow-ups that were open."""
    try:
        register_service.record_mam(
            db_session=db_session, actor=actor, entry=entry, held_on=held.held_on, now=_now()
        )
    except register_service.NotAllowed as refused:
        raise HTTPException(status.HTTP_409_CONFLICT, str(refused)) from refused
    db_session.commit()
    return register_service.to_read(entry, today=date.today())


@router.post("/{dsp_id}/tasks/{task_id}/done", response_model=RegisterEntryRead)
def close_task(
    task_id: int, entry: EntryDep, db_session: SessionDep, actor: Worker
) -> RegisterEntryRead:
    try:
        register_service.close_task(
            db_session=db_session, actor=actor, entry=entry, task_id=task_id, now=_now()
        )
    except LookupError as missing:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND, "This person has no such follow-up."
        ) from missing
    except register_service.NotAllowed as refused:
        raise HTTPException(status.HTTP_409_CONFLICT, str(refused)) from refused
    db_session.commit()
    return register_service.to_read(entry, today=date.today())


@router.post("/{dsp_id}/consent", response_model=RegisterEntryRead)
def renew_consent(
    consent: ConsentRenewal,
    entry: EntryDep,
    db_session: SessionDep,
    variant: VariantDep,
    actor: Worker,
) -> RegisterEntryRead:
    """004: consent renewed; the next renewal falls due from its date."""
    if entry.removed_at is not None:
        raise HTTPException(
            status.HTTP_409_CONFLICT, "This person has been removed from the pathway."
        )
    today = date.today()
    personal = register_service.personal_of(db_session=db_session, entry=entry)
    age = (
        eligibility_service.age_on(date_of_birth=personal.date_of_birth, today=today).years
        if personal is not None
        else None
    )
    problem = consent_rules.consent_problem(consent.given_by, consent.capacity, age, variant)
    if consent.given_on > today:
        problem = "The date consent was given cannot be in the future."
    if problem:
        refuse(422, [{"loc": ["body", "given_by"], "msg": problem, "type": "consent"}])
    register_service.renew_consent(
        db_session=db_session,
        actor=actor,
        entry=entry,
        given_by=consent.given_by,
        given_on=consent.given_on,
        renewal_due_on=consent_rules.consent_renewal_due(consent.given_on, variant),
        now=_now(),
    )
    db_session.commit()
    return register_service.to_read(entry, today=today)


@reports_router.get("/summary", response_model=ReportSummary)
def summary(
    db_session: SessionDep,
    actor: Commissioner,
    months: Annotated[int, Query(ge=1, le=60)] = 12,
) -> ReportSummary:
    """Counts by referral source, reasons for referral, ratings over time and time from referral
    to first MAM (001 section 6); nothing that identifies a person."""
    return reports.summarise(
        reports.entry_facts(db_session=db_session), today=date.today(), months=months
    )


@reports_router.get("/register.csv", response_class=Response)
def deidentified_export(db_session: SessionDep, actor: Commissioner) -> Response:
    """One row per referral with no dsp_id, name, number or date finer than a month."""
    rows = reports.deidentified_rows(reports.entry_facts(db_session=db_session))
    return Response(
        register_export.csv_text(reports.DEIDENTIFIED_COLUMNS, rows),
        media_type="text/csv",
        headers={"Content-Disposition": 'attachment; filename="dsp-register-deidentified.csv"'},
    )

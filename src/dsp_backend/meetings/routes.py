"""The meetings API: MAMs, their notes and next steps, invitations, and the action plans.
For the people who work the register (dsr_admin, tco); every read and change is audited."""

from datetime import UTC, date, datetime
from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Depends, HTTPException, Path, Query, status

from dsp_backend.audit import service as audit_service
from dsp_backend.auth.dependencies import require_roles
from dsp_backend.auth.schemas import Actor, Role
from dsp_backend.config import get_settings
from dsp_backend.database.core import SessionDep
from dsp_backend.errors import PlainValidationRoute
from dsp_backend.meetings import invitations, notifications
from dsp_backend.meetings import service as mam_service
from dsp_backend.meetings.models import ActionItem, Mam
from dsp_backend.meetings.schemas import (
    ActionChange,
    ActionCreate,
    ActionRead,
    DspIdText,
    EscalationsResult,
    InvitationsResult,
    MamChange,
    MamCreate,
    MamRead,
    MamSummary,
    NextSteps,
    NextStepsResult,
    NotesTemplate,
    NotesUpdate,
)
from dsp_backend.outbox import service as outbox
from dsp_backend.register import lifecycle
from dsp_backend.register import service as register_service
from dsp_backend.register.models import RegisterEntry
from dsp_backend.variants.dependencies import VariantDep

router = APIRouter(prefix="/meetings", tags=["meetings"], route_class=PlainValidationRoute)
actions_router = APIRouter(prefix="/actions", tags=["meetings"], route_class=PlainValidationRoute)

Worker = Annotated[Actor, Depends(require_roles(Role.dsr_admin, Role.tco))]
Admin = Annotated[Actor, Depends(require_roles(Role.dsr_admin))]
# Row ids as the databases hold them (a 32-bit INTEGER), so a larger one is a 422, not a 500.
RowId = Annotated[int, Path(ge=1, le=2_147_483_647)]


def _now() -> datetime:
    return datetime.now(UTC)


def _refused(error: ValueError) -> HTTPException:
    return HTTPException(status.HTTP_409_CONFLICT, str(error))


def _entry(db_session: SessionDep, dsp_id: str) -> RegisterEntry:
    entry = register_service.get(db_session=db_session, dsp_id=dsp_id)
    if entry is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "No one on the register has this dsp_id.")
    return entry


def _mam(db_session: SessionDep, mam_id: RowId, _actor: Worker) -> Mam:
    """The MAM by id; the token is checked first, so a caller without one learns nothing."""
    mam = mam_service.get(db_session=db_session, mam_id=mam_id)
    if mam is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "There is no MAM with this id.")
    return mam


def _action(db_session: SessionDep, action_id: RowId, _actor: Worker) -> ActionItem:
    item = db_session.get(ActionItem, action_id)
    if item is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "There is no action with this id.")
    return item


MamDep = Annotated[Mam, Depends(_mam)]
ActionDep = Annotated[ActionItem, Depends(_action)]


@router.get("/template", response_model=NotesTemplate)
def notes_template(_actor: Worker) -> NotesTemplate:
    """The sections of the first and subsequent MAM notes templates."""
    return mam_service.notes_template()


@router.post("", status_code=201, response_model=MamRead)
def arrange(request: MamCreate, db_session: SessionDep, actor: Worker) -> MamRead:
    """Arranges the person's next MAM: the first, or a subsequent one that opens with the
    existing action plan. Invitees default to the people the referral named."""
    entry = _entry(db_session, request.dsp_id)
    try:
        mam = mam_service.create(
            db_session=db_session, actor=actor, entry=entry, request=request, now=_now()
        )
    except mam_service.NotAllowed as refused:
        raise _refused(refused) from refused
    read = mam_service.read(db_session=db_session, actor=actor, mam=mam, today=date.today())
    db_session.commit()
    return read


@router.get("", response_model=list[MamSummary])
def list_mams(
    dsp_id: Annotated[DspIdText, Query()], db_session: SessionDep, _actor: Worker
) -> list[MamSummary]:
    entry = _entry(db_session, dsp_id)
    return [
        mam_service.summary(m, entry)
        for m in mam_service.of_entry(db_session=db_session, entry=entry)
    ]


@router.get("/{mam_id}", response_model=MamRead)
def read_mam(mam: MamDep, db_session: SessionDep, actor: Worker) -> MamRead:
    read = mam_service.read(db_session=db_session, actor=actor, mam=mam, today=date.today())
    db_session.commit()
    return read


@router.patch("/{mam_id}", response_model=MamRead)
def change_mam(request: MamChange, mam: MamDep, db_session: SessionDep, actor: Worker) -> MamRead:
    """A new time, link or invitees; the next invitations go to everyone again."""
    try:
        mam_service.change(db_session=db_session, actor=actor, mam=mam, request=request, now=_now())
    except mam_service.NotAllowed as refused:
        raise _refused(refused) from refused
    read = mam_service.read(db_session=db_session, actor=actor, mam=mam, today=date.today())
    db_session.commit()
    return read


@router.put("/{mam_id}/notes", response_model=MamRead)
def record_notes(notes: NotesUpdate, mam: MamDep, db_session: SessionDep, actor: Worker) -> MamRead:
    """The notes as they stand: the header and any sections, each answered or not applicable."""
    try:
        mam_service.record_notes(
            db_session=db_session, actor=actor, mam=mam, notes=notes, now=_now()
        )
    except mam_service.NotAllowed as refused:
        raise _refused(refused) from refused
    read = mam_service.read(db_session=db_session, actor=actor, mam=mam, today=date.today())
    db_session.commit()
    return read


@router.post("/{mam_id}/actions", status_code=201, response_model=ActionRead)
def add_action(
    action: ActionCreate, mam: MamDep, db_session: SessionDep, actor: Worker
) -> ActionRead:
    try:
        item = mam_service.add_action(
            db_session=db_session, actor=actor, mam=mam, action=action, now=_now()
        )
    except mam_service.NotAllowed as refused:
        raise _refused(refused) from refused
    db_session.commit()
    return mam_service.action_read(item, date.today())


@router.post("/{mam_id}/invitations", response_model=InvitationsResult)
def send_invitations(
    mam: MamDep,
    db_session: SessionDep,
    variant: VariantDep,
    background: BackgroundTasks,
    actor: Worker,
) -> InvitationsResult:
    """Invites everyone not yet invited to the MAM as it stands: professionals get the referral
    password protected, with the password in a separate email; the family an email of its own."""
    try:
        result = invitations.send(
            db_session=db_session, actor=actor, mam=mam, variant=variant, now=_now()
        )
    except mam_service.NotAllowed as refused:
        raise _refused(refused) from refused
    db_session.commit()
    background.add_task(outbox.send_now)
    return result


@router.post("/{mam_id}/next-steps", response_model=NextStepsResult)
def record_next_steps(
    steps: NextSteps,
    mam: MamDep,
    db_session: SessionDep,
    variant: VariantDep,
    background: BackgroundTasks,
    actor: Worker,
) -> NextStepsResult:
    """Closes the notes with the next steps, which move the register: follow-up MAM arranged;
    stood down to green or removed (the referrer told); escalated to red on the ROAR (the TCOs
    told). 409 says why a change is refused, and then nothing changes."""
    now = _now()
    try:
        follow_up = mam_service.record_next_steps(
            db_session=db_session, actor=actor, mam=mam, steps=steps, variant=variant, now=now
        )
    except (mam_service.NotAllowed, lifecycle.TransitionRefused) as refused:
        raise _refused(refused) from refused
    entry = mam_service.entry_of(db_session, mam)
    notified, not_notified = notifications.send_register_notifications(
        db_session=db_session, actor=actor, settings=get_settings(), now=now, entry=entry
    )
    result = NextStepsResult(
        mam=mam_service.read(db_session=db_session, actor=actor, mam=mam, today=now.date()),
        register=register_service.to_read(entry, today=now.date()),
        next_mam_id=follow_up.id if follow_up is not None else None,
        notified=notified,
        not_notified=not_notified,
    )
    db_session.commit()
    background.add_task(outbox.send_now)
    return result


@actions_router.get("", response_model=list[ActionRead])
def list_actions(
    db_session: SessionDep,
    actor: Worker,
    dsp_id: Annotated[DspIdText | None, Query()] = None,
    overdue: bool = False,
) -> list[ActionRead]:
    """Action plans' actions, by person or across the register; `overdue`: open past their
    timeline."""
    today = date.today()
    entry = _entry(db_session, dsp_id) if dsp_id is not None else None
    items = mam_service.actions(
        db_session=db_session, entry=entry, overdue_on=today if overdue else None
    )
    # An action's words can say who the person is: the read is on the record.
    audit_service.record(
        db_session=db_session,
        actor=actor,
        action="mam.actions_read",
        entity_type=mam_service.ENTITY,
        entity_id=dsp_id or "",
        fields=("action_plan",),
    )
    db_session.commit()
    return [mam_service.action_read(item, today) for item in items]


@actions_router.patch("/{action_id}", response_model=ActionRead)
def change_action(
    request: ActionChange, item: ActionDep, db_session: SessionDep, actor: Worker
) -> ActionRead:
    """An outcome, a status, or a new timeline agreed."""
    try:
        mam_service.change_action(
            db_session=db_session, actor=actor, item=item, request=request, now=_now()
        )
    except mam_service.NotAllowed as refused:
        raise _refused(refused) from refused
    db_session.commit()
    return mam_service.action_read(item, date.today())


@actions_router.post("/escalations", response_model=EscalationsResult)
def escalate_overdue(
    db_session: SessionDep, variant: VariantDep, background: BackgroundTasks, actor: Admin
) -> EscalationsResult:
    """Escalates each overdue action not escalated yet to its manager (or the DSP admin lead)."""
    result = notifications.escalate_overdue(
        db_session=db_session, actor=actor, variant=variant, now=_now()
    )
    db_session.commit()
    background.add_task(outbox.send_now)
    return result

"""The MAM's verbs: arrange, keep the notes, plan actions, and close with the next steps that
move the register (001 sections 12 and 13).

Every change and every read of the notes is audited in the same transaction (001 section 8).
"""

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from functools import lru_cache
from importlib import resources
from typing import Final

import yaml
from pydantic import EmailStr, TypeAdapter, ValidationError
from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.orm import Session

from dsp_backend.audit import service as audit_service
from dsp_backend.auth.schemas import Actor
from dsp_backend.database.core import as_utc
from dsp_backend.meetings.models import ActionItem, Mam, MamAttendee, MamInvitee, MamSection
from dsp_backend.meetings.schemas import (
    ActionChange,
    ActionCreate,
    ActionRead,
    Attendee,
    FamilyContact,
    Invitee,
    InviteeRead,
    MamChange,
    MamCreate,
    MamRead,
    MamSummary,
    NextSteps,
    NextStepsRead,
    NotesTemplate,
    NotesUpdate,
    SectionAnswer,
    holds_address,
)
from dsp_backend.register import lifecycle
from dsp_backend.register import service as register_service
from dsp_backend.register.models import RegisterEntry
from dsp_backend.variants.schemas import Variant

ENTITY: Final = "mam"

# 001 s12: "Ideally a pre-meeting should be arranged 15 minutes before the MAM to meet the
# family/carers/patient and ensure they understand the process."
PRE_MEETING: Final = timedelta(minutes=15)


class NotAllowed(ValueError):
    """A change the meetings refuse; str(error) says why in plain English."""


@lru_cache
def notes_template() -> NotesTemplate:
    text = resources.files("dsp_backend.meetings").joinpath("notes_template.yml").read_text()
    return NotesTemplate.model_validate(yaml.safe_load(text))


def _audit(
    db_session: Session, actor: Actor, action: str, entry: RegisterEntry, *fields: str
) -> None:
    audit_service.record(
        db_session=db_session,
        actor=actor,
        action=action,
        entity_type=ENTITY,
        entity_id=entry.dsp_id,
        fields=fields,
    )


def entry_of(db_session: Session, mam: Mam) -> RegisterEntry:
    entry = db_session.get(RegisterEntry, mam.entry_id)
    assert entry is not None  # the foreign key holds it
    return entry


def get(*, db_session: Session, mam_id: int) -> Mam | None:
    return db_session.get(Mam, mam_id)


def of_entry(*, db_session: Session, entry: RegisterEntry) -> Sequence[Mam]:
    return db_session.scalars(
        select(Mam).where(Mam.entry_id == entry.id).order_by(Mam.number)
    ).all()


_EMAIL: Final = TypeAdapter(EmailStr)


def _email_or_none(value: object) -> str | None:
    try:
        return str(_EMAIL.validate_python(value)) if value else None
    except ValidationError:
        return None


def referral_invitees(db_session: Session, entry: RegisterEntry) -> list[Invitee]:
    """The people the referral asked to invite (001 s11), where the referral named any. The
    referral kept what was typed: an address that is not one is left out (the invitations then
    count them as without email, for the admin lead to invite by hand)."""
    personal = register_service.personal_of(db_session=db_session, entry=entry)
    answers = personal.form.get("answers", {}) if personal is not None else {}
    people = (answers.get("invitees") or {}).get("people", [])
    invitees = []
    for person in people:
        role = str(person.get("role") or "").strip()[:200]
        invitees.append(
            Invitee(
                name=(str(person.get("name") or "").strip() or role or "Invitee")[:200],
                role=role if role and not holds_address(role) else "Professional",
                email=_email_or_none(person.get("email")),
                phone=str(person["phone"])[:40] if person.get("phone") else None,
            )
        )
    return invitees


def _invitees(invitees: Sequence[Invitee], family: Sequence[FamilyContact]) -> list[MamInvitee]:
    return [
        *(MamInvitee(name=i.name, role=i.role, email=i.email, phone=i.phone) for i in invitees),
        *(MamInvitee(name=f.name, role=f.relationship, email=f.email, family=True) for f in family),
    ]


def _open_mam(db_session: Session, entry: RegisterEntry) -> Mam | None:
    return db_session.scalar(
        select(Mam).where(Mam.entry_id == entry.id, Mam.completed_at.is_(None))
    )


def _arrange(
    db_session: Session,
    entry: RegisterEntry,
    *,
    scheduled_at: datetime,
    joining_link: str,
    invitees: list[MamInvitee],
    now: datetime,
) -> Mam:
    """A new MAM for the entry: the first, or a subsequent one that opens with the existing
    action plan (001 s13: "to include the existing action plan")."""
    if entry.removed_at is not None:
        raise NotAllowed("This person has been removed from the pathway.")
    earlier = _open_mam(db_session, entry)
    if earlier is not None:
        raise NotAllowed(
            f"MAM {earlier.number} is already arranged for this person: change it, or record "
            "its next steps, before arranging another."
        )
    held = db_session.scalar(select(func.count()).select_from(Mam).where(Mam.entry_id == entry.id))
    number = int(held or 0) + 1
    mam = Mam(
        entry_id=entry.id,
        number=number,
        kind="first" if number == 1 else "subsequent",
        scheduled_at=scheduled_at,
        joining_link=joining_link,
        created_at=now,
        invitees=invitees,
    )
    if number > 1:
        # The last MAM's plan whatever became of each action (its outcomes are recorded at
        # this one), and any earlier action still open.
        last = db_session.scalar(
            select(Mam.id).where(Mam.entry_id == entry.id, Mam.number == number - 1)
        )
        mam.existing_actions = list(
            db_session.scalars(
                select(ActionItem)
                .where(
                    ActionItem.entry_id == entry.id,
                    (ActionItem.status == "open") | (ActionItem.mam_id == last),
                )
                .order_by(ActionItem.id)
            )
        )
    db_session.add(mam)
    db_session.flush()
    return mam


def create(
    *, db_session: Session, actor: Actor, entry: RegisterEntry, request: MamCreate, now: datetime
) -> Mam:
    invitees = (
        request.invitees if request.invitees is not None else referral_invitees(db_session, entry)
    )
    mam = _arrange(
        db_session,
        entry,
        scheduled_at=request.scheduled_at,
        joining_link=request.joining_link,
        invitees=_invitees(invitees, request.family),
        now=now,
    )
    _audit(db_session, actor, "mam.arrange", entry, "scheduled_at", "joining_link", "invitees")
    return mam


def _ref(record: Mam | ActionItem) -> str:
    """How the register's follow-ups and events name a meeting's records."""
    return f"mam:{record.id}" if isinstance(record, Mam) else f"action:{record.id}"


def _due_on_register(
    db_session: Session,
    actor: Actor,
    entry: RegisterEntry,
    kind: lifecycle.SideEffectKind,
    due_on: date,
    ref: str,
    now: datetime,
) -> None:
    """A follow-up on the register, so its deadline clock and reminders see what a MAM agreed."""
    try:
        register_service.add_task(
            db_session=db_session,
            actor=actor,
            entry=entry,
            kind=kind,
            due_on=due_on,
            now=now,
            ref=ref,
        )
    except register_service.NotAllowed as refused:
        raise NotAllowed(str(refused)) from refused


def _close_on_register(
    db_session: Session, actor: Actor, entry: RegisterEntry, ref: str, now: datetime, *, done: bool
) -> None:
    for task in [t for t in entry.tasks if t.ref == ref and t.closed_at is None]:
        register_service.close_task(
            db_session=db_session, actor=actor, entry=entry, task_id=task.id, now=now
        )
        if not done:
            task.closed_because = "no_longer_needed"


def claim(
    db_session: Session,
    model: type[Mam] | type[MamInvitee] | type[ActionItem],
    row_id: int,
    unclaimed: ColumnElement[bool],
    **values: object,
) -> bool:
    """Takes a row for this request in one UPDATE ... WHERE still unclaimed, so of two at once
    (a double click, housekeeping beside a request) only one goes on: on PostgreSQL the second
    waits for the first and then finds the row taken; SQLite runs them one after the other."""
    result = db_session.execute(
        update(model)
        .where(model.id == row_id, unclaimed)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0) == 1


def ensure_open(mam: Mam) -> None:
    if mam.completed_at is not None:
        raise NotAllowed("This MAM's next steps are recorded: its notes are closed.")


def change(
    *, db_session: Session, actor: Actor, mam: Mam, request: MamChange, now: datetime
) -> Mam:
    """Changes an arranged MAM; everyone is invited again with the meeting as it now stands."""
    ensure_open(mam)
    changed = request.model_fields_set
    if request.scheduled_at is not None:
        mam.scheduled_at = request.scheduled_at
    if request.joining_link is not None:
        mam.joining_link = request.joining_link
    if request.invitees is not None or request.family is not None:
        professionals = (
            request.invitees
            if request.invitees is not None
            else [Invitee.model_validate(i) for i in mam.invitees if not i.family]
        )
        family = (
            request.family
            if request.family is not None
            else [
                FamilyContact(name=i.name, relationship=i.role, email=i.email or "")
                for i in mam.invitees
                if i.family
            ]
        )
        mam.invitees = _invitees(professionals, family)
    for invitee in mam.invitees:
        invitee.invited_at = None
    entry = entry_of(db_session, mam)
    moved = [t for t in entry.tasks if t.ref == _ref(mam) and t.closed_at is None]
    if request.scheduled_at is not None and moved:
        # The follow-up MAM's date on the register moves with it.
        _close_on_register(db_session, actor, entry, _ref(mam), now, done=False)
        _due_on_register(
            db_session, actor, entry, moved[0].kind, request.scheduled_at.date(), _ref(mam), now
        )
    _audit(db_session, actor, "mam.change", entry, *sorted(changed))
    return mam


def record_notes(
    *, db_session: Session, actor: Actor, mam: Mam, notes: NotesUpdate, now: datetime
) -> Mam:
    """Keeps the notes as they stand; the sections are those of this MAM's template (first or
    subsequent), each answered, a yes or no, or marked not applicable (001 s13)."""
    ensure_open(mam)
    template = {s.key: s for s in notes_template().for_kind(mam.kind)}
    unknown = sorted(set(notes.sections) - set(template))
    if unknown:
        raise NotAllowed(
            f"The {mam.kind} MAM notes have no section {', '.join(unknown)}; "
            f"they have {', '.join(template)}."
        )
    for key, given in notes.sections.items():
        if given.answer is not None and template[key].kind != "yes_no":
            raise NotAllowed(f"The section {key} takes a written answer, not a yes or no.")
    if notes.held_at is not None:
        if notes.held_at > now:
            raise NotAllowed("The date and time of the meeting cannot be in the future.")
        mam.held_at = notes.held_at
    if notes.chair is not None:
        mam.chair = notes.chair
    if notes.note_taker is not None:
        mam.note_taker = notes.note_taker
    if notes.attendees is not None:
        mam.attendees = [MamAttendee(name=a.name, role=a.role) for a in notes.attendees]
    stored = {section.key: section for section in mam.sections}
    for key, given in notes.sections.items():
        section = stored.get(key)
        if section is None:
            section = MamSection(key=key)
            mam.sections.append(section)
        section.text, section.answer = given.text, given.answer
        section.not_applicable = given.not_applicable
    fields = [
        name
        for name in ("held_at", "chair", "note_taker", "attendees")
        if getattr(notes, name) is not None
    ]
    _audit(db_session, actor, "mam.notes", entry_of(db_session, mam), *fields, *notes.sections)
    return mam


def add_action(
    *, db_session: Session, actor: Actor, mam: Mam, action: ActionCreate, now: datetime
) -> ActionItem:
    ensure_open(mam)
    item = ActionItem(
        entry_id=mam.entry_id,
        mam_id=mam.id,
        task=action.task,
        responsible=action.responsible,
        manager_email=action.manager_email,
        timeline=action.timeline,
        outcome=action.outcome,
        status="open",
        created_at=now,
    )
    db_session.add(item)
    db_session.flush()
    entry = entry_of(db_session, mam)
    _due_on_register(db_session, actor, entry, "action_due", item.timeline, _ref(item), now)
    _audit(db_session, actor, "mam.action_add", entry, "action_plan")
    return item


def change_action(
    *, db_session: Session, actor: Actor, item: ActionItem, request: ActionChange, now: datetime
) -> ActionItem:
    """An outcome recorded, a status changed, or a new timeline agreed (which lets an overdue
    action be escalated again if it is missed again). The register's follow-up for the action
    keeps up: closed with it, opened again with it, moved with its timeline."""
    entry = db_session.get(RegisterEntry, item.entry_id)
    assert entry is not None
    changed = request.model_fields_set
    was_open, was_due = item.status == "open", item.timeline
    if request.outcome is not None:
        item.outcome = request.outcome
    if request.manager_email is not None:
        item.manager_email = request.manager_email
    if request.timeline is not None and request.timeline != item.timeline:
        item.timeline, item.escalated_at = request.timeline, None
    if request.status is not None and request.status != item.status:
        item.status = request.status
        item.closed_at = None if request.status == "open" else now
    is_open = item.status == "open"
    if was_open and (not is_open or item.timeline != was_due):
        _close_on_register(
            db_session, actor, entry, _ref(item), now, done=item.status == "completed"
        )
    if is_open and (not was_open or item.timeline != was_due):
        _due_on_register(db_session, actor, entry, "action_due", item.timeline, _ref(item), now)
    _audit(db_session, actor, "mam.action_change", entry, *sorted(changed))
    return item


def overdue(item: ActionItem, today: date) -> bool:
    """001 s13: an action not completed by its timeline is escalated to the relevant managers."""
    return item.status == "open" and item.timeline < today


def actions(
    *, db_session: Session, entry: RegisterEntry | None = None, overdue_on: date | None = None
) -> Sequence[ActionItem]:
    query = select(ActionItem).order_by(ActionItem.timeline, ActionItem.id)
    if entry is not None:
        query = query.where(ActionItem.entry_id == entry.id)
    if overdue_on is not None:
        query = query.where(ActionItem.status == "open", ActionItem.timeline < overdue_on)
    return db_session.scalars(query).all()


def _raised_at(db_session: Session, mam: Mam) -> list[ActionItem]:
    return list(
        db_session.scalars(
            select(ActionItem).where(ActionItem.mam_id == mam.id).order_by(ActionItem.id)
        )
    )


def revised_plan(db_session: Session, mam: Mam) -> list[ActionItem]:
    """001 s13: the revised plan is the outstanding actions and any new ones."""
    return [a for a in mam.existing_actions if a.status == "open"] + _raised_at(db_session, mam)


def record_next_steps(
    *,
    db_session: Session,
    actor: Actor,
    mam: Mam,
    steps: NextSteps,
    variant: Variant,
    now: datetime,
) -> Mam | None:
    """Closes the notes with the next steps, and moves the register as they say: a follow-up
    MAM is arranged for its date; stood down, the person steps down to green (000) or is removed
    (001 s12); escalated, they go on the ROAR as red, which notifies the TCOs (001 s10).
    Returns the follow-up MAM, if one was arranged. Raises NotAllowed or
    lifecycle.TransitionRefused, changing nothing."""
    ensure_open(mam)
    entry = entry_of(db_session, mam)
    held_at = as_utc(mam.held_at or mam.scheduled_at)
    if held_at > now:
        raise NotAllowed("The next steps are recorded once the meeting has been held.")
    if steps.next_mam_at is not None and steps.next_mam_at <= held_at:
        raise NotAllowed("The follow-up MAM is after this one.")
    # A savepoint: a change the register refuses leaves the notes open and nothing changed.
    with db_session.begin_nested():
        if not claim(db_session, Mam, mam.id, Mam.completed_at.is_(None), completed_at=now):
            raise NotAllowed("This MAM's next steps are already recorded.")
        try:
            register_service.record_mam(
                db_session=db_session,
                actor=actor,
                entry=entry,
                held_on=held_at.date(),
                now=now,
                ref=_ref(mam),
            )
        except register_service.NotAllowed as refused:
            raise NotAllowed(str(refused)) from refused
        mam.held_at, mam.decision, mam.completed_at = held_at, steps.decision, now
        mam.next_mam_at = steps.next_mam_at
        follow_up = _apply(db_session, actor, mam, entry, steps, variant, now)
        _audit(
            db_session, actor, "mam.next_steps", entry, "decision", "next_mam_at", "stand_down_to"
        )
    return follow_up


def _apply(
    db_session: Session,
    actor: Actor,
    mam: Mam,
    entry: RegisterEntry,
    steps: NextSteps,
    variant: Variant,
    now: datetime,
) -> Mam | None:
    reason = f"MAM {mam.number}: {steps.reason}"
    if steps.decision == "follow_up":
        assert steps.next_mam_at is not None  # NextSteps checks it
        # The same group meets again (001 s13: agree the date at the meeting).
        follow_up = _arrange(
            db_session,
            entry,
            scheduled_at=steps.next_mam_at,
            joining_link=mam.joining_link,
            invitees=[
                MamInvitee(name=i.name, role=i.role, email=i.email, phone=i.phone, family=i.family)
                for i in mam.invitees
            ],
            now=now,
        )
        _due_on_register(
            db_session,
            actor,
            entry,
            "follow_up_mam_due",
            steps.next_mam_at.date(),
            _ref(follow_up),
            now,
        )
        return follow_up
    to: lifecycle.State = "red"
    if steps.decision == "stand_down":
        to = steps.stand_down_to or (
            "green" if variant.green_step_down_months is not None else "removed"
        )
        mam.stand_down_to = "green" if to == "green" else "removed"
    register_service.transition(
        db_session=db_session,
        actor=actor,
        entry=entry,
        to=to,
        reason=reason,
        removal_reason="stood_down_by_mam" if to == "removed" else None,
        variant=variant,
        now=now,
    )
    if to == "removed":
        for item in actions(db_session=db_session, entry=entry):
            if item.status == "open":
                item.status, item.closed_at = "no_longer_needed", now
    return None


def action_read(item: ActionItem, today: date) -> ActionRead:
    return ActionRead.model_validate(
        {
            **{name: getattr(item, name) for name in ActionRead.model_fields if name != "overdue"},
            "overdue": overdue(item, today),
        }
    )


def summary(mam: Mam, entry: RegisterEntry) -> MamSummary:
    return MamSummary(
        id=mam.id,
        dsp_id=entry.dsp_id,
        number=mam.number,
        kind=mam.kind,
        scheduled_at=mam.scheduled_at,
        held_at=mam.held_at,
        completed_at=mam.completed_at,
        decision=mam.decision,
    )


def _next_steps_read(mam: Mam) -> NextStepsRead | None:
    if mam.decision is None:
        return None
    return NextStepsRead(
        decision=mam.decision,
        next_mam_at=mam.next_mam_at,
        stand_down_to=mam.stand_down_to,
        follow_up_required=mam.decision == "follow_up",
        removed_from_register=mam.stand_down_to == "removed",
        escalated_to_roar=mam.decision == "escalate",
    )


def read(*, db_session: Session, actor: Actor, mam: Mam, today: date) -> MamRead:
    """The whole MAM with its notes: health data, so the read is audited."""
    entry = entry_of(db_session, mam)
    stored = {section.key: section for section in mam.sections}
    sections = {
        s.key: SectionAnswer.model_validate(stored[s.key]) if s.key in stored else SectionAnswer()
        for s in notes_template().for_kind(mam.kind)
    }
    _audit(db_session, actor, "mam.read", entry, "notes")
    return MamRead(
        **summary(mam, entry).model_dump(),
        pre_meeting_at=as_utc(mam.scheduled_at) - PRE_MEETING,
        joining_link=mam.joining_link,
        chair=mam.chair,
        note_taker=mam.note_taker,
        attendees=[Attendee.model_validate(a) for a in mam.attendees],
        invitees=[InviteeRead.model_validate(i) for i in mam.invitees],
        sections=sections,
        existing_action_plan=[action_read(a, today) for a in mam.existing_actions],
        action_plan=[action_read(a, today) for a in revised_plan(db_session, mam)],
        next_steps=_next_steps_read(mam),
    )

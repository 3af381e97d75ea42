"""The register's verbs: add a person, change their rating, record what followed, find and list.

Every change and every read of identifiable data is written to the audit log in the same
transaction (001 section 8: access is by role and logged).
"""

import secrets
from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Final

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, selectinload

from dsp_backend.audit import service as audit_service
from dsp_backend.auth.schemas import Actor
from dsp_backend.referrals.models import ReferralPersonal
from dsp_backend.register import deadlines, lifecycle, timeline
from dsp_backend.register.deadlines import Due
from dsp_backend.register.models import (
    RatingTransition,
    RegisterEntry,
    RegisterEvent,
    RegisterTask,
)
from dsp_backend.register.schemas import (
    EventRead,
    PersonalRead,
    RegisterEntryDetail,
    RegisterEntryRead,
    TaskRead,
    Timeline,
    TransitionRead,
)
from dsp_backend.variants import service as variant_service
from dsp_backend.variants.schemas import AgeGroup, Rag, Register, Variant

ENTITY: Final = "register_entry"

# No look-alikes (0/O, 1/I/L, U/V) so a dsp_id can be read out and copied by hand.
DSP_ID_ALPHABET: Final = "23456789ABCDEFGHJKMNPQRSTWXYZ"
DSP_ID_ATTEMPTS: Final = 10

# How far ahead "due soon" looks unless the caller says otherwise.
DUE_SOON_DAYS: Final = 14

# Worked out when read, not stored.
_DUE: Final = frozenset({"next_due_on", "next_due", "due"})


class NotAllowed(ValueError):
    """A change the register refuses; str(error) says why in plain English."""


def new_dsp_id(choose: Callable[[str], str] = secrets.choice) -> str:
    """Random, never derived from personal data (001 section 6), e.g. DSP-7K3F-Q9XM."""
    chars = "".join(choose(DSP_ID_ALPHABET) for _ in range(8))
    return f"DSP-{chars[:4]}-{chars[4:]}"


def allocate_dsp_id(*, db_session: Session, generate: Callable[[], str] = new_dsp_id) -> str:
    """A dsp_id nobody has yet; on a collision, draw again."""
    for _ in range(DSP_ID_ATTEMPTS):
        candidate = generate()
        if (
            db_session.scalar(select(RegisterEntry.id).where(RegisterEntry.dsp_id == candidate))
            is None
        ):
            return candidate
    raise RuntimeError(f"no unused dsp_id after {DSP_ID_ATTEMPTS} draws")


def _standing(entry: RegisterEntry) -> lifecycle.Standing:
    return lifecycle.Standing(entry.state, entry.step_down_ends_on)


def _open_tasks(entry: RegisterEntry) -> list[RegisterTask]:
    return [task for task in entry.tasks if task.closed_at is None]


def variant_of(entry: RegisterEntry) -> Variant:
    """The variant the entry was referred under: its rules and timescales."""
    return variant_service.load(entry.variant_id)


def _rules(entry: RegisterEntry, variant: Variant) -> lifecycle.Rules:
    return lifecycle.rules_for(variant, entry.age_group)


def _record(
    *,
    db_session: Session,
    entry: RegisterEntry,
    change: lifecycle.Change,
    actor: Actor,
    reason: str,
    removal_reason: lifecycle.RemovalReason | None,
    now: datetime,
) -> RatingTransition:
    """Writes one change: the transition with who, when, why and the previous state; its
    follow-ups as tasks; and closes follow-ups the change made moot."""
    transition = RatingTransition(
        at=now,
        from_state=change.previous,
        to_state=change.standing.state,
        reason=reason,
        removal_reason=removal_reason,
        actor=actor.ref,
        role=actor.role.value,
    )
    entry.transitions.append(transition)
    db_session.flush()
    for task in _open_tasks(entry):
        if task.kind in change.ends:
            task.closed_at, task.closed_because = now, "no_longer_needed"
    for effect in change.side_effects:
        entry.tasks.append(
            RegisterTask(
                transition_id=transition.id, kind=effect.kind, created_at=now, due_on=effect.due_on
            )
        )
    return transition


def note(
    *,
    db_session: Session,
    actor: Actor,
    entry: RegisterEntry,
    kind: lifecycle.EventKind,
    on: date,
    now: datetime,
    ref: str | None = None,
) -> RegisterEvent:
    """Records something that happened to the entry, for its timeline. Other features (meetings,
    gaps in service) record theirs here, with `ref` naming their own record."""
    event = RegisterEvent(at=now, on=on, kind=kind, ref=ref, actor=actor.ref, role=actor.role.value)
    entry.events.append(event)
    return event


def add_task(
    *,
    db_session: Session,
    actor: Actor,
    entry: RegisterEntry,
    kind: lifecycle.SideEffectKind,
    due_on: date | None,
    now: datetime,
    ref: str | None = None,
) -> RegisterTask:
    """A follow-up another feature agreed (a meeting's action or next MAM), so the deadline
    clock, reminders and the timeline see it; `ref` names that feature's own record."""
    if entry.removed_at is not None:
        raise NotAllowed("This person has been removed from the pathway.")
    task = RegisterTask(kind=kind, created_at=now, due_on=due_on, ref=ref)
    entry.tasks.append(task)
    audit_service.record(
        db_session=db_session,
        actor=actor,
        action="register.task_added",
        entity_type=ENTITY,
        entity_id=entry.dsp_id,
        fields={"tasks"},
    )
    return task


def add(
    *,
    db_session: Session,
    actor: Actor,
    variant: Variant,
    rag: Rag | None,
    age_group: AgeGroup,
    referral_source: str,
    consent_given_by: str,
    consent_given_on: date,
    consent_renewal_due_on: date | None,
    mam_organised_by_admin: bool,
    now: datetime,
) -> RegisterEntry:
    """Puts a referred person on the register at their first rating (001 section 10)."""
    change = lifecycle.at_referral(
        rag, today=now.date(), rules=lifecycle.rules_for(variant, age_group)
    )
    entry = RegisterEntry(
        dsp_id=allocate_dsp_id(db_session=db_session),
        variant_id=variant.id,
        register=lifecycle.register_of(rag, variant) if rag else "DSR",
        rag=rag,
        rag_since=now,
        age_group=age_group,
        referral_source=referral_source,
        created_at=now,
        mam_organised_by_admin=mam_organised_by_admin,
        step_down_ends_on=change.standing.step_down_ends_on,
        consent_given_by=consent_given_by,
        consent_given_on=consent_given_on,
        consent_renewal_due_on=consent_renewal_due_on,
    )
    db_session.add(entry)
    db_session.flush()
    _record(
        db_session=db_session,
        entry=entry,
        change=change,
        actor=actor,
        reason="referral",
        removal_reason=None,
        now=now,
    )
    return entry


def transition(
    *,
    db_session: Session,
    actor: Actor,
    entry: RegisterEntry,
    to: lifecycle.State,
    reason: str,
    removal_reason: lifecycle.RemovalReason | None,
    variant: Variant,
    now: datetime,
) -> RatingTransition:
    """One change of the rating table; raises lifecycle.TransitionRefused with the reason."""
    if to == "unrated":
        raise lifecycle.TransitionRefused("A rating cannot be taken back to unrated.")
    refused = lifecycle.rag_refusal(to, variant) if to != "removed" else None
    if refused is not None:
        raise lifecycle.TransitionRefused(refused)
    change = lifecycle.transition(
        _standing(entry),
        to,
        removal_reason=removal_reason,
        today=now.date(),
        rules=_rules(entry, variant),
    )
    if to == "removed":
        entry.removed_at, entry.removal_reason = now, removal_reason
        changed = {"removed_at", "removal_reason"}
        personal = personal_of(db_session=db_session, entry=entry)
        if personal is not None:
            # Off the pathway: the person may be referred again.
            personal.active_nhs_number = None
    else:
        entry.rag, entry.register, entry.rag_since = to, lifecycle.register_of(to, variant), now
        entry.step_down_ends_on = change.standing.step_down_ends_on
        changed = {"rag", "register", "rag_since", "step_down_ends_on"}
    record = _record(
        db_session=db_session,
        entry=entry,
        change=change,
        actor=actor,
        reason=reason,
        removal_reason=removal_reason,
        now=now,
    )
    audit_service.record(
        db_session=db_session,
        actor=actor,
        action="register.transition",
        entity_type=ENTITY,
        entity_id=entry.dsp_id,
        fields=changed,
    )
    return record


def record_mam(
    *,
    db_session: Session,
    actor: Actor,
    entry: RegisterEntry,
    held_on: date,
    now: datetime,
    ref: str | None = None,
) -> None:
    """A MAM was held: the first one dates the time from referral to first MAM, and any MAM
    request, follow-up or post-discharge MAM that was open is done (000). `ref` names the
    meeting's own record, if one is kept."""
    if entry.removed_at is not None:
        raise NotAllowed("This person has been removed from the pathway.")
    if held_on > now.date():
        raise NotAllowed("A MAM cannot be recorded before it is held.")
    if held_on < entry.created_at.date():
        raise NotAllowed("A MAM for this referral cannot be held before the referral.")
    changed = set()
    if entry.first_mam_on is None:
        entry.first_mam_on = held_on
        changed.add("first_mam_on")
    for task in _open_tasks(entry):
        if task.kind in lifecycle.MAM_KINDS:
            task.closed_at, task.closed_because = now, "done"
            changed.add("tasks")
    note(
        db_session=db_session,
        actor=actor,
        entry=entry,
        kind="mam_held",
        on=held_on,
        now=now,
        ref=ref,
    )
    changed.add("events")
    audit_service.record(
        db_session=db_session,
        actor=actor,
        action="register.mam_held",
        entity_type=ENTITY,
        entity_id=entry.dsp_id,
        fields=changed,
    )


def close_task(
    *, db_session: Session, actor: Actor, entry: RegisterEntry, task_id: int, now: datetime
) -> RegisterTask:
    """Marks a follow-up done; an inpatient C(E)TR or oversight visit done while the person is
    still an inpatient sets the next one, by the variant's timescale (000 blue)."""
    task = next((t for t in entry.tasks if t.id == task_id), None)
    if task is None:
        raise LookupError("task")
    if task.closed_at is not None:
        raise NotAllowed("This follow-up is already closed.")
    task.closed_at, task.closed_because = now, "done"
    follow_on = lifecycle.next_occurrence(
        task.kind,
        done_on=now.date(),
        state=entry.state,
        rules=_rules(entry, variant_of(entry)),
    )
    if follow_on is not None:
        entry.tasks.append(
            RegisterTask(kind=follow_on.kind, created_at=now, due_on=follow_on.due_on)
        )
    audit_service.record(
        db_session=db_session,
        actor=actor,
        action="register.task_closed",
        entity_type=ENTITY,
        entity_id=entry.dsp_id,
        fields={"tasks"},
    )
    return task


def renew_consent(
    *,
    db_session: Session,
    actor: Actor,
    entry: RegisterEntry,
    given_by: str,
    given_on: date,
    renewal_due_on: date | None,
    now: datetime,
) -> None:
    """004: consent renewed; the next renewal falls due from the new date."""
    entry.consent_given_by, entry.consent_given_on = given_by, given_on
    entry.consent_renewal_due_on = renewal_due_on
    note(
        db_session=db_session,
        actor=actor,
        entry=entry,
        kind="consent_renewed",
        on=given_on,
        now=now,
    )
    audit_service.record(
        db_session=db_session,
        actor=actor,
        action="register.consent_renewed",
        entity_type=ENTITY,
        entity_id=entry.dsp_id,
        fields={"consent_given_by", "consent_given_on", "consent_renewal_due_on"},
    )


def _with_history(query: Select[tuple[RegisterEntry]]) -> Select[tuple[RegisterEntry]]:
    return query.options(
        selectinload(RegisterEntry.transitions),
        selectinload(RegisterEntry.tasks),
        selectinload(RegisterEntry.events),
    )


def get(*, db_session: Session, dsp_id: str) -> RegisterEntry | None:
    return db_session.scalar(
        _with_history(select(RegisterEntry).where(RegisterEntry.dsp_id == dsp_id))
    )


def personal_of(*, db_session: Session, entry: RegisterEntry) -> ReferralPersonal | None:
    return db_session.scalar(select(ReferralPersonal).where(ReferralPersonal.entry_id == entry.id))


def get_by_nhs_number(
    *, db_session: Session, nhs_number: str, active_only: bool = False
) -> RegisterEntry | None:
    """The person's latest entry (an earlier one may have been removed)."""
    query = (
        select(RegisterEntry)
        .join(ReferralPersonal, ReferralPersonal.entry_id == RegisterEntry.id)
        .where(ReferralPersonal.nhs_number == nhs_number)
        .order_by(RegisterEntry.id.desc())
    )
    if active_only:
        query = query.where(RegisterEntry.removed_at.is_(None))
    return db_session.scalar(_with_history(query))


def clock_of(entry: RegisterEntry, *, date_of_birth: date | None = None) -> deadlines.EntryClock:
    """What the deadline clock reads of an entry; the date of birth only where the caller may
    show what follows from it."""
    return deadlines.EntryClock(
        state=entry.state,
        age_group=entry.age_group,
        step_down_ends_on=entry.step_down_ends_on,
        consent_renewal_due_on=entry.consent_renewal_due_on,
        open_tasks=[
            deadlines.OpenTask(task.id, task.kind, task.due_on, task.ref)
            for task in _open_tasks(entry)
        ],
        task_kinds_ever=frozenset(task.kind for task in entry.tasks),
        date_of_birth=date_of_birth,
        removed_on=entry.removed_at.date() if entry.removed_at is not None else None,
        erased=entry.erased_at is not None,
    )


def to_read(
    entry: RegisterEntry, *, today: date, within_days: int = DUE_SOON_DAYS
) -> RegisterEntryRead:
    """The entry by dsp_id only, with the soonest deadline a person acts on: a follow-up, the
    end of a green step-down (000) or consent renewal (004)."""
    soonest = deadlines.next_due(deadlines.deadlines(clock_of(entry), variant_of(entry)))
    due_on = soonest.due_on if soonest is not None else None
    stored = {name: getattr(entry, name) for name in RegisterEntryRead.model_fields.keys() - _DUE}
    return RegisterEntryRead.model_validate(
        {
            **stored,
            "next_due_on": due_on,
            "next_due": soonest.kind if soonest is not None else None,
            "due": deadlines.status(due_on, today=today, within_days=within_days),
        }
    )


def get_all(
    *,
    db_session: Session,
    rag: Rag | None = None,
    register: Register | None = None,
    age_group: AgeGroup | None = None,
    include_removed: bool = False,
) -> Sequence[RegisterEntry]:
    query = _with_history(select(RegisterEntry)).order_by(
        RegisterEntry.created_at, RegisterEntry.id
    )
    if rag is not None:
        query = query.where(RegisterEntry.rag == rag)
    if register is not None:
        query = query.where(RegisterEntry.register == register)
    if age_group is not None:
        query = query.where(RegisterEntry.age_group == age_group)
    if not include_removed:
        query = query.where(RegisterEntry.removed_at.is_(None))
    return db_session.scalars(query).all()


def read_list(
    *,
    db_session: Session,
    actor: Actor,
    today: date,
    within_days: int,
    rag: Rag | None = None,
    register: Register | None = None,
    age_group: AgeGroup | None = None,
    due: Due | None = None,
    include_removed: bool = False,
) -> list[RegisterEntryRead]:
    """The register as a list, filtered; `due` keeps entries overdue or due within the window."""
    entries = get_all(
        db_session=db_session,
        rag=rag,
        register=register,
        age_group=age_group,
        include_removed=include_removed,
    )
    rows = [to_read(entry, today=today, within_days=within_days) for entry in entries]
    if due is not None:
        rows = [row for row in rows if row.due == due]
    audit_service.record(
        db_session=db_session,
        actor=actor,
        action="register.list",
        entity_type=ENTITY,
        fields=RegisterEntryRead.model_fields,
    )
    return rows


def read_detail(
    *, db_session: Session, actor: Actor, entry: RegisterEntry, today: date, action: str
) -> RegisterEntryDetail:
    """The whole entry with the person's details: an identifiable read, so it is audited."""
    personal = personal_of(db_session=db_session, entry=entry)
    detail = RegisterEntryDetail(
        **to_read(entry, today=today).model_dump(),
        transitions=[TransitionRead.model_validate(t) for t in entry.transitions],
        tasks=[TaskRead.model_validate(t) for t in entry.tasks],
        events=[EventRead.model_validate(e) for e in entry.events],
        personal=PersonalRead.model_validate(personal) if personal is not None else None,
    )
    audit_service.record(
        db_session=db_session,
        actor=actor,
        action=action,
        entity_type=ENTITY,
        entity_id=entry.dsp_id,
        fields=PersonalRead.model_fields if personal is not None else (),
    )
    return detail


def read_timeline(
    *, db_session: Session, actor: Actor, entry: RegisterEntry, today: date, within_days: int
) -> Timeline:
    """Ratings, events, follow-ups and deadlines by date. The transition window and the 18th
    birthday follow from the date of birth, so reading them is audited like the detail."""
    personal = personal_of(db_session=db_session, entry=entry)
    birth = personal.date_of_birth if personal is not None else None
    items = timeline.build(
        entry,
        clock_of(entry, date_of_birth=birth),
        variant_of(entry),
        today=today,
        within_days=within_days,
    )
    audit_service.record(
        db_session=db_session,
        actor=actor,
        action="register.timeline",
        entity_type=ENTITY,
        entity_id=entry.dsp_id,
        fields={"date_of_birth"} if birth is not None else (),
    )
    return Timeline(dsp_id=entry.dsp_id, state=entry.state, items=items)


def search(
    *, db_session: Session, actor: Actor, nhs_number: str, today: date
) -> RegisterEntryDetail | None:
    """Finds a person by NHS number; a search that finds no one is logged too (without the
    number), so that looking people up is always on the record."""
    entry = get_by_nhs_number(db_session=db_session, nhs_number=nhs_number)
    if entry is None:
        audit_service.record(
            db_session=db_session,
            actor=actor,
            action="register.search",
            entity_type=ENTITY,
            fields={"nhs_number"},
        )
        return None
    return read_detail(
        db_session=db_session, actor=actor, entry=entry, today=today, action="register.search"
    )

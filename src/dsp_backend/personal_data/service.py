"""Subject access and erasure for one person, across every feature that holds their data.

What stays after erasure (DESIGN.md): the register entry and its dsp_id, the ratings history
(with the reasons' free text emptied), follow-ups, events, the referral's de-identified facts that
commissioners' counts use, and the themes of gaps in service. What goes: the person's details and
referral form, chat referrals linked to them, meeting notes, invitees, attendees and actions, the
free text of their gaps in service, and email about them.
"""

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Final

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from dsp_backend.audit import service as audit_service
from dsp_backend.audit.schemas import AuditEventRead
from dsp_backend.auth.schemas import Actor
from dsp_backend.gaps import service as gap_service
from dsp_backend.meetings import service as mam_service
from dsp_backend.meetings.models import ActionItem, Mam
from dsp_backend.outbox.models import OutboxMessage
from dsp_backend.personal_data.schemas import ErasureDone, SubjectAccessExport
from dsp_backend.referrals.models import PendingReferral, Referral
from dsp_backend.register import deadlines
from dsp_backend.register import service as register_service
from dsp_backend.register.models import RegisterEntry

ENTITY: Final = register_service.ENTITY
_REFERRAL_FACTS: Final = (
    "created_at",
    "referral_source",
    "referrer_kind",
    "form",
    "mam_organised_by_admin",
    "suggested_rag",
    "suggested_register",
    "matched_criteria",
    "decided_rag",
    "decided_register",
)


class NotAllowed(ValueError):
    """Erasure refused; str(error) says why in plain English."""


def _held(db_session: Session, entry: RegisterEntry) -> Sequence[PendingReferral]:
    return db_session.scalars(
        select(PendingReferral).where(PendingReferral.entry_id == entry.id)
    ).all()


def export(
    *, db_session: Session, actor: Actor, entry: RegisterEntry, now: datetime
) -> SubjectAccessExport:
    """Everything held on the person (subject access); the export itself is on the record."""
    today = now.date()
    detail = register_service.read_detail(
        db_session=db_session,
        actor=actor,
        entry=entry,
        today=today,
        action="personal_data.export",
    )
    referral = db_session.scalar(select(Referral).where(Referral.entry_id == entry.id))
    meetings = [
        mam_service.read(db_session=db_session, actor=actor, mam=mam, today=today)
        for mam in mam_service.of_entry(db_session=db_session, entry=entry)
    ]
    access_log = [
        AuditEventRead.model_validate(event)
        for event in audit_service.get_all(
            db_session=db_session, entity_id=entry.dsp_id, limit=10_000
        )
    ]
    register_service.note(
        db_session=db_session,
        actor=actor,
        entry=entry,
        kind="personal_data_exported",
        on=today,
        now=now,
    )
    return SubjectAccessExport(
        dsp_id=entry.dsp_id,
        exported_at=now,
        entry=detail,
        referral=(
            {name: getattr(referral, name) for name in _REFERRAL_FACTS}
            if referral is not None
            else None
        ),
        held_referrals=[_held_read(row) for row in _held(db_session, entry)],
        meetings=meetings,
        actions=[
            mam_service.action_read(item, today)
            for item in mam_service.actions(db_session=db_session, entry=entry)
        ],
        gaps_in_service=[
            gap_service.to_read(row, entry.dsp_id)
            for row in gap_service.of_entry(db_session=db_session, entry=entry)
        ],
        access_log=access_log,
    )


def _held_read(row: PendingReferral) -> dict[str, Any]:
    return {
        "reference": row.reference,
        "status": row.status,
        "created_at": row.created_at,
        "confirmed_at": row.confirmed_at,
        "answers": row.answers,
    }


def _count(result: object) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


def erase(*, db_session: Session, actor: Actor, entry: RegisterEntry, now: datetime) -> ErasureDone:
    """Erases the person's personal data and keeps what the pathway's counts need. Only for
    someone off the pathway: a person on it is removed first (consent withdrawn, 001 section 7)."""
    if entry.removed_at is None:
        raise NotAllowed(
            "This person is still on the pathway. Remove them first (for example because "
            "consent has been withdrawn), then erase their data."
        )
    if entry.erased_at is not None:
        raise NotAllowed("This person's personal data have already been erased.")
    erased: dict[str, int] = {}
    personal = register_service.personal_of(db_session=db_session, entry=entry)
    if personal is not None:
        db_session.delete(personal)
        erased["personal_details_and_referral_form"] = 1
    erased["held_referrals"] = _count(
        db_session.execute(delete(PendingReferral).where(PendingReferral.entry_id == entry.id))
    )
    reasons = [t for t in entry.transitions if t.reason]
    for transition in reasons:
        transition.reason = ""
    erased["rating_change_reasons"] = len(reasons)
    erased["actions"] = _count(
        db_session.execute(delete(ActionItem).where(ActionItem.entry_id == entry.id))
    )
    # A meeting's notes, attendees and invitees go with it (their rows cascade).
    erased["meetings"] = _count(db_session.execute(delete(Mam).where(Mam.entry_id == entry.id)))
    erased["gap_in_service_text"] = gap_service.erase_for(
        db_session=db_session, entry=entry, now=now
    )
    erased["emails"] = _count(
        db_session.execute(delete(OutboxMessage).where(OutboxMessage.about == entry.dsp_id))
    )
    entry.erased_at = now
    register_service.note(
        db_session=db_session,
        actor=actor,
        entry=entry,
        kind="personal_data_erased",
        on=now.date(),
        now=now,
    )
    audit_service.record(
        db_session=db_session,
        actor=actor,
        action="personal_data.erase",
        entity_type=ENTITY,
        entity_id=entry.dsp_id,
        fields=[name for name, count in erased.items() if count],
    )
    db_session.flush()
    db_session.expire(entry)
    return ErasureDone(dsp_id=entry.dsp_id, erased_at=now, erased=erased)


def erase_due(*, db_session: Session, actor: Actor, now: datetime) -> int:
    """Erases everyone whose retention period after removal is over (the deadline clock says
    whose); returns how many. Run by housekeeping; a second run finds nobody."""
    removed = register_service.get_all(db_session=db_session, include_removed=True)
    due = [
        entry
        for entry in removed
        if entry.removed_at is not None
        and "erase_personal_data"
        in deadlines.housekeeping_due(
            register_service.clock_of(entry),
            register_service.variant_of(entry),
            today=now.date(),
        )
    ]
    for entry in due:
        erase(db_session=db_session, actor=actor, entry=entry, now=now)
    return len(due)

"""What falls due with time on the register, applied by `dsp-backend housekeeping`: a green
step-down that is over ends in removal (000), the transition window opens a planning or handover
task (001 section 14), an 18th birthday moves the person to the adults' register where the
variant has one (DESIGN.md), and the DSR admin lead is reminded of what is due and overdue.

The deadline clock (register.deadlines) says what is due; this module only applies it. Each step
leaves the entry so that the clock finds it done, so a second run changes nothing.
"""

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from dsp_backend.audit import service as audit_service
from dsp_backend.auth.schemas import Actor, Role
from dsp_backend.outbox import service as outbox
from dsp_backend.referrals.models import ReferralPersonal
from dsp_backend.register import deadlines
from dsp_backend.register import service as register_service
from dsp_backend.register.models import RegisterEntry
from dsp_backend.register.timeline import WORDS
from dsp_backend.variants.schemas import Variant

# Who the audit log names for what the command line does: no token, acting for the DSR admin lead.
HOUSEKEEPING: Final = Actor(token_id=0, role=Role.dsr_admin)

# Where reminders go, in order of preference: the first contact of these kinds with an email.
REMINDER_CONTACTS: Final = ("dsr_admin", "referral_inbox", "coordinator")
REMINDER_SUBJECT: Final = "DSP register: follow-ups due or overdue"


@dataclass
class Applied:
    step_downs_ended: int = 0
    transition_tasks: int = 0
    moved_to_adults: int = 0


def _active(db_session: Session) -> Sequence[RegisterEntry]:
    return register_service.get_all(db_session=db_session)


def _births(db_session: Session, entries: Sequence[RegisterEntry]) -> dict[int, date]:
    rows = db_session.execute(
        select(ReferralPersonal.entry_id, ReferralPersonal.date_of_birth).where(
            ReferralPersonal.entry_id.in_([entry.id for entry in entries])
        )
    ).all()
    return {entry_id: born for entry_id, born in rows}


def apply_due(*, db_session: Session, now: datetime, actor: Actor = HOUSEKEEPING) -> Applied:
    """Applies every lifecycle step that has fallen due, in the caller's transaction."""
    applied = Applied()
    today = now.date()
    entries = _active(db_session)
    births = _births(db_session, entries)
    for entry in entries:
        variant = register_service.variant_of(entry)
        clock = register_service.clock_of(entry, date_of_birth=births.get(entry.id))
        for step in deadlines.housekeeping_due(clock, variant, today=today):
            if step == "end_step_down":
                register_service.transition(
                    db_session=db_session,
                    actor=actor,
                    entry=entry,
                    to="removed",
                    reason="The green step-down period is over.",
                    removal_reason="step_down_ended",
                    variant=variant,
                    now=now,
                )
                applied.step_downs_ended += 1
            elif step == "open_transition_window" and clock.date_of_birth is not None:
                register_service.add_task(
                    db_session=db_session,
                    actor=actor,
                    entry=entry,
                    kind=deadlines.transition_task(variant),
                    due_on=deadlines.adult_on(clock.date_of_birth, variant),
                    now=now,
                )
                applied.transition_tasks += 1
            elif step == "move_to_adults":
                _move_to_adults(db_session, actor, entry, now)
                applied.moved_to_adults += 1
    return applied


def _move_to_adults(db_session: Session, actor: Actor, entry: RegisterEntry, now: datetime) -> None:
    """DESIGN.md: on the 18th birthday the person moves to the adults' register; the same rating
    carries over, and so do their follow-ups."""
    entry.age_group = "adult"
    register_service.note(
        db_session=db_session,
        actor=actor,
        entry=entry,
        kind="moved_to_adults",
        on=now.date(),
        now=now,
    )
    audit_service.record(
        db_session=db_session,
        actor=actor,
        action="register.moved_to_adults",
        entity_type=register_service.ENTITY,
        entity_id=entry.dsp_id,
        fields={"age_group"},
    )


def reminder_address(variant: Variant) -> str | None:
    for kind in REMINDER_CONTACTS:
        for contact in variant.contacts:
            if contact.kind == kind and contact.email:
                return str(contact.email)
    return None


@dataclass(frozen=True)
class Reminder:
    entry: RegisterEntry
    deadline: deadlines.Deadline
    status: deadlines.Due

    @property
    def ref(self) -> str:
        """What was reminded: once when due soon and once when overdue, for each due date."""
        task = f":{self.deadline.task_id}" if self.deadline.task_id is not None else ""
        return f"{self.status}:{self.deadline.kind}:{self.deadline.due_on.isoformat()}{task}"

    def line(self) -> str:
        when = "overdue since" if self.status == "overdue" else "due on"
        what = WORDS.get(self.deadline.kind, self.deadline.kind)
        return f"{self.entry.dsp_id}: {what}, {when} {self.deadline.due_on:%d %B %Y}"


def reminders_due(
    entries: Sequence[RegisterEntry], *, now: datetime, within_days: int
) -> list[Reminder]:
    """Deadlines due soon or overdue that nobody has been reminded of at that status yet."""
    found = []
    for entry in entries:
        sent = {event.ref for event in entry.events if event.kind == "reminder_sent"}
        clock = register_service.clock_of(entry)
        for deadline in deadlines.actionable(
            deadlines.deadlines(clock, register_service.variant_of(entry))
        ):
            status = deadlines.status(deadline.due_on, today=now.date(), within_days=within_days)
            if status is None:
                continue
            reminder = Reminder(entry, deadline, status)
            if reminder.ref not in sent:
                found.append(reminder)
    return found


def send_reminders(
    *,
    db_session: Session,
    now: datetime,
    within_days: int = register_service.DUE_SOON_DAYS,
    actor: Actor = HOUSEKEEPING,
) -> tuple[int, int]:
    """Queues one email per address listing, by dsp_id only, what has become due soon or overdue
    since the last reminder; returns (deadlines reminded, emails queued). A variant with no
    address for them keeps its reminders until it has one."""
    by_address: dict[str, list[Reminder]] = defaultdict(list)
    for reminder in reminders_due(_active(db_session), now=now, within_days=within_days):
        address = reminder_address(register_service.variant_of(reminder.entry))
        if address is not None:
            by_address[address].append(reminder)
    for address, reminders in by_address.items():
        outbox.enqueue(
            db_session=db_session,
            kind="register_reminder",
            to_address=address,
            subject=REMINDER_SUBJECT,
            body=_body(reminders),
            now=now,
        )
        for reminder in reminders:
            register_service.note(
                db_session=db_session,
                actor=actor,
                entry=reminder.entry,
                kind="reminder_sent",
                on=now.date(),
                now=now,
                ref=reminder.ref,
            )
    return sum(len(r) for r in by_address.values()), len(by_address)


def _body(reminders: Sequence[Reminder]) -> str:
    overdue = [r.line() for r in reminders if r.status == "overdue"]
    soon = [r.line() for r in reminders if r.status == "due_soon"]
    parts = ["Hello,", ""]
    if overdue:
        parts += ["These are overdue:", *overdue, ""]
    if soon:
        parts += ["These fall due soon:", *soon, ""]
    parts += [
        "Each person is named by their DSP identifier only. Open the register to see more.",
        "",
        "The DSP Assistant",
    ]
    return "\n".join(parts)

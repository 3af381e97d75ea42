"""What the register says must be told, sent by email through the outbox: the TCOs when someone
is rated red (001 s10), the referrer when someone is removed (001 s9), and the relevant manager
when a MAM action is overdue (001 s13).

The register records "tco_notified" and "referrer_notified" as follow-ups of a change; this
module sends them and closes them, whichever route made the change (a MAM's next steps, the
register's transitions, a referral straight to the ROAR). Subjects carry the dsp_id only.
"""

from collections.abc import Sequence
from datetime import datetime
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from dsp_backend.audit import service as audit_service
from dsp_backend.auth.schemas import Actor
from dsp_backend.config import Settings
from dsp_backend.meetings import service as mam_service
from dsp_backend.meetings.models import ActionItem
from dsp_backend.meetings.schemas import EscalationsResult
from dsp_backend.outbox import service as outbox
from dsp_backend.register import service as register_service

# Who the audit log names when the command line sends them: acting for the DSR admin lead.
from dsp_backend.register.housekeeping import HOUSEKEEPING as HOUSEKEEPING
from dsp_backend.register.lifecycle import RemovalReason
from dsp_backend.register.models import RegisterEntry, RegisterTask
from dsp_backend.variants.schemas import Variant

NOTIFICATIONS: Final = ("tco_notified", "referrer_notified")

_REMOVED_BECAUSE: Final[dict[RemovalReason, str]] = {
    "criteria_not_met": "they do not meet the pathway's criteria",
    "stood_down_by_mam": "the multi-agency meeting agreed that the support can be stood down",
    "step_down_ended": "their step-down period has ended",
    "consent_withdrawn": "consent for them to be on the register has been withdrawn",
}


def _why_red(entry: RegisterEntry) -> str:
    """The reason given for the latest move to red, or that the referral went straight there."""
    latest = next((t for t in reversed(entry.transitions) if t.to_state == "red"), None)
    if latest is None or latest.from_state is None:
        return "referred straight to the ROAR: imminent risk of admission."
    return latest.reason


def _tco_email(entry: RegisterEntry, settings: Settings) -> tuple[str, str, str] | None:
    if not settings.tco_email:
        return None
    return (
        settings.tco_email,
        f"{entry.dsp_id} is rated red: on the Risk of Admission Register",
        f"{entry.dsp_id} has been rated red and is now on the Risk of Admission Register "
        f"(ROAR).\n\nWhy: {_why_red(entry)}\n\n"
        "An urgent community C(E)TR is requested. The register has the details: "
        f"{settings.public_url}/api/v1/register/{entry.dsp_id}",
    )


def _referrer_email(db_session: Session, entry: RegisterEntry) -> tuple[str, str, str] | None:
    personal = register_service.personal_of(db_session=db_session, entry=entry)
    answers = personal.form.get("answers", {}) if personal is not None else {}
    key = "referrer_email" if entry.referral_source == "professional" else "self_contact"
    address = answers.get(key)
    if not isinstance(address, str) or "@" not in address:
        return None
    subject = f"{entry.dsp_id} has been removed from the Dynamic Support Pathway"
    if entry.referral_source == "self":
        # Easy read for someone who referred themselves (003): short sentences, one idea each.
        return (
            address,
            subject,
            f"You asked the Dynamic Support Register for help. Your reference is {entry.dsp_id}."
            "\n\nYou are not on the register now.\n\n"
            "If things get harder again, you can ask again.",
        )
    because = _REMOVED_BECAUSE.get(entry.removal_reason) if entry.removal_reason else None
    return (
        address,
        subject,
        f"The person you referred, {entry.dsp_id}, has been removed from the Dynamic Support "
        f"Pathway{f', because {because}' if because else ''}.\n\n"
        "If their health or well-being gets worse again, you can refer them again.",
    )


def send_register_notifications(
    *,
    db_session: Session,
    actor: Actor,
    settings: Settings,
    now: datetime,
    entry: RegisterEntry | None = None,
) -> tuple[list[str], list[str]]:
    """Queues an email for each open notification follow-up (of one entry, or all) and closes
    it; one with no address to go to stays open for the admin lead. Returns the kinds queued
    and the kinds left open."""
    # Locked as read, and skipped if another sender holds them, so housekeeping and a request
    # at once tell each once (PostgreSQL; SQLite runs them one after the other).
    query = (
        select(RegisterTask)
        .where(RegisterTask.kind.in_(NOTIFICATIONS), RegisterTask.closed_at.is_(None))
        .with_for_update(skip_locked=True)
        .execution_options(populate_existing=True)
    )
    if entry is not None:
        query = query.where(RegisterTask.entry_id == entry.id)
    sent: list[str] = []
    unsent: list[str] = []
    for task in db_session.scalars(query.order_by(RegisterTask.id)).all():
        about = task.entry
        email = (
            _tco_email(about, settings)
            if task.kind == "tco_notified"
            else _referrer_email(db_session, about)
        )
        if email is None:
            unsent.append(task.kind)
            continue
        to_address, subject, body = email
        outbox.enqueue(
            db_session=db_session,
            kind=task.kind,
            about=about.dsp_id,
            to_address=to_address,
            subject=subject,
            body=body,
            now=now,
        )
        register_service.close_task(
            db_session=db_session, actor=actor, entry=about, task_id=task.id, now=now
        )
        sent.append(task.kind)
    return sent, unsent


def _manager_for(item: ActionItem, variant: Variant) -> str | None:
    """The responsible manager, else the DSP admin lead who tracks the plan."""
    if item.manager_email:
        return item.manager_email
    return next((str(c.email) for c in variant.contacts if c.kind == "dsr_admin" and c.email), None)


def escalate_overdue(
    *, db_session: Session, actor: Actor, variant: Variant, now: datetime
) -> EscalationsResult:
    """001 s13: "Where actions are not completed, this will be escalated to the relevant
    managers". Each overdue action is escalated once for its timeline."""
    due: Sequence[ActionItem] = [
        item
        for item in mam_service.actions(db_session=db_session, overdue_on=now.date())
        if item.escalated_at is None
    ]
    escalated = without = 0
    for item in due:
        address = _manager_for(item, variant)
        if address is None:
            without += 1
            continue
        if not mam_service.claim(
            db_session, ActionItem, item.id, ActionItem.escalated_at.is_(None), escalated_at=now
        ):
            continue  # another round escalated it just now
        entry = db_session.get(RegisterEntry, item.entry_id)
        assert entry is not None
        outbox.enqueue(
            db_session=db_session,
            kind="action_overdue",
            about=entry.dsp_id,
            to_address=address,
            subject=f"An action for {entry.dsp_id} is overdue",
            body=(
                f"An action agreed at a multi-agency meeting for {entry.dsp_id} was due by "
                f"{item.timeline:%d %B %Y} and is not completed.\n\n"
                f"Action: {item.task}\nResponsible: {item.responsible}\n\n"
                "Please follow it up, and let the DSP admin lead know its outcome or a new date."
            ),
            now=now,
        )
        item.escalated_at = now
        audit_service.record(
            db_session=db_session,
            actor=actor,
            action="mam.action_escalated",
            entity_type=mam_service.ENTITY,
            entity_id=entry.dsp_id,
            fields={"escalated_at"},
        )
        escalated += 1
    return EscalationsResult(escalated=escalated, without_address=without)

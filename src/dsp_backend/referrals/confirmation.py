"""A referral made in the chat counts only once the referrer confirms it (DESIGN.md, Data
protection): the chat is open to anyone, so it never writes to the register on its own word and
never says whether someone is on it.

The chat's referral is held with a random reference and a confirmation link sent to the
referrer's work email. Confirmed from a domain the variant accepts, it goes on the register at
once; from any other (or a self-referral with only a phone number), it waits for the DSR admin
lead. A referral for someone already on the register is linked to their entry for the admin lead
to review. Whatever happens, the person in the chat is told only "received". Unconfirmed
referrals expire after the variant's retention period and are deleted by housekeeping.
"""

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import Any, Final

from sqlalchemy import ColumnElement, delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from dsp_backend.audit import service as audit_service
from dsp_backend.auth.schemas import Actor, Role
from dsp_backend.config import Settings
from dsp_backend.database.core import as_utc
from dsp_backend.outbox import service as outbox
from dsp_backend.referrals import service as referral_service
from dsp_backend.referrals.models import PendingReferral
from dsp_backend.referrals.schemas import PendingRead, ReferralCreate, ReferralReceived
from dsp_backend.register.models import RegisterEntry
from dsp_backend.variants.schemas import Variant

ENTITY: Final = "pending_referral"
# No look-alikes, as for dsp_ids: the reference is read out on the phone.
_ALPHABET: Final = "23456789ABCDEFGHJKMNPQRSTWXYZ"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_reference() -> str:
    chars = "".join(secrets.choice(_ALPHABET) for _ in range(8))
    return f"REF-{chars[:4]}-{chars[4:]}"


def _email_of(referral: ReferralCreate) -> str | None:
    """Where the confirmation goes: the referrer's work email, or the email a person who refers
    themselves gave (a phone number alone is confirmed by the DSR coordinator)."""
    key = "referrer_email" if referral.referral_source == "professional" else "self_contact"
    value = referral.answers.get(key)
    return value if isinstance(value, str) and "@" in value else None


def hold(
    *,
    db_session: Session,
    actor: Actor,
    referral: ReferralCreate,
    variant: Variant,
    settings: Settings,
    now: datetime,
) -> ReferralReceived:
    """Checks the referral as the register would, keeps it, and sends the confirmation link."""
    state = referral_service.check(referral, variant=variant, now=now)
    token = secrets.token_urlsafe(32)
    email = _email_of(referral)
    pending = PendingReferral(
        reference=new_reference(),
        token_hash=_digest(token),
        referral_source=referral.referral_source,
        answers=state.in_force,
        email_domain=email.rsplit("@", 1)[1].lower() if email else None,
        status="awaiting_confirmation" if email else "awaiting_admin",
        submitted_by=actor.token_id,
        created_at=now,
        expires_at=now
        + (
            timedelta(hours=variant.draft_retention_hours)
            if email
            else timedelta(days=ADMIN_REVIEW_DAYS)
        ),
    )
    db_session.add(pending)
    if email:
        outbox.enqueue(
            db_session=db_session,
            kind="referral_confirmation",
            to_address=email,
            # Never a name, NHS number or date of birth in a subject: the reference only.
            subject=f"Please confirm referral {pending.reference}",
            body=confirmation_body(
                pending.reference,
                f"{settings.public_url}/referrals/confirm/{token}",
                variant.draft_retention_hours,
            ),
            now=now,
        )
    audit_service.record(
        db_session=db_session,
        actor=actor,
        action="referral.receive",
        entity_type=ENTITY,
        entity_id=pending.reference,
        fields=set(state.in_force),
    )
    return ReferralReceived(
        reference=pending.reference,
        confirm_by="email" if email else "coordinator",
        next_steps=referral_service.next_steps(state),
    )


RECEIVED: Final = 202


def receive(
    *,
    db_session: Session,
    actor: Actor,
    referral: ReferralCreate,
    variant: Variant,
    settings: Settings,
    now: datetime,
    idempotency_key: str | None,
) -> referral_service.Answer:
    """hold(), once per Idempotency-Key: a retry after a lost answer gets the first one back."""
    digest = referral_service.request_hash(referral)
    if idempotency_key is not None:
        earlier = referral_service.replay(db_session=db_session, key=idempotency_key, digest=digest)
        if earlier is not None:
            return earlier
    try:
        # A savepoint: if a retry with the same key won a race, only this attempt is undone.
        with db_session.begin_nested():
            received = hold(
                db_session=db_session,
                actor=actor,
                referral=referral,
                variant=variant,
                settings=settings,
                now=now,
            )
            answer = referral_service.Answer(RECEIVED, received.model_dump(mode="json"))
            referral_service.remember(
                db_session=db_session,
                key=idempotency_key,
                digest=digest,
                answer=answer,
                entry_id=None,
                now=now,
            )
    except IntegrityError:
        earlier = (
            referral_service.replay(db_session=db_session, key=idempotency_key, digest=digest)
            if idempotency_key is not None
            else None
        )
        if earlier is None:
            raise
        return earlier
    return answer


def confirmation_body(reference: str, link: str, hours: int) -> str:
    return (
        f"A referral to the Dynamic Support Pathway was made in the DSP Assistant with this email "
        f"address as the referrer's. Its reference is {reference}.\n\n"
        f"It counts only once you confirm it. To confirm, open this link and press Confirm:\n"
        f"{link}\n\n"
        f"The link works for {hours} hours. If you did not make this referral, do nothing: it "
        f"will be deleted."
    )


def find(db_session: Session, token: str, now: datetime) -> PendingReferral | None:
    pending = db_session.scalar(
        select(PendingReferral).where(PendingReferral.token_hash == _digest(token))
    )
    if pending is None or as_utc(pending.expires_at) <= now:
        return None
    return pending


def confirm(
    *, db_session: Session, token: str, variant: Variant, now: datetime
) -> PendingReferral | None:
    """The referrer confirms from the link. From an accepted domain it is put on the register
    (or linked to the entry already there); otherwise it waits for the DSR admin lead. None for
    a link that is unknown, expired or already used: a link confirms once."""
    pending = find(db_session, token, now)
    if pending is None or pending.status != "awaiting_confirmation":
        return None
    # Claimed in one statement, so two presses at once (a double click, two tabs) confirm once:
    # the second finds it claimed and is told the link was used.
    if not _claim(db_session, pending, PendingReferral.confirmed_at.is_(None), confirmed_at=now):
        return None
    actor = Actor(token_id=pending.submitted_by, role=Role.action_server)
    pending.confirmed_at = now
    if pending.email_domain in {d.lower() for d in variant.accepted_email_domains}:
        try:
            with db_session.begin_nested():
                _register(
                    db_session=db_session, actor=actor, pending=pending, variant=variant, now=now
                )
        except referral_service.Refused:
            # The answers no longer pass (say the person has turned 16 since): the admin lead
            # takes it up with the referrer instead of the page failing.
            _for_the_admin_lead(pending, now)
    else:
        _for_the_admin_lead(pending, now)
    audit_service.record(
        db_session=db_session,
        actor=actor,
        action="referral.confirm",
        entity_type=ENTITY,
        entity_id=pending.reference,
        fields={"status"},
    )
    return pending


# How long a held referral waits for the DSR admin lead before it is deleted, personal data and
# all: they accept or decline it meanwhile (DESIGN.md: data kept only as long as needed).
ADMIN_REVIEW_DAYS: Final = 14


def _for_the_admin_lead(pending: PendingReferral, now: datetime) -> None:
    pending.status = "awaiting_admin"
    pending.expires_at = now + timedelta(days=ADMIN_REVIEW_DAYS)


def _claim(
    db_session: Session, pending: PendingReferral, unclaimed: ColumnElement[bool], **values: Any
) -> bool:
    """Marks the held referral as taken if nobody else has (one UPDATE ... WHERE, so of two
    concurrent callers only one changes a row)."""
    result = db_session.execute(
        update(PendingReferral)
        .where(PendingReferral.id == pending.id, unclaimed)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0) == 1


def accept(
    *, db_session: Session, actor: Actor, reference: str, variant: Variant, now: datetime
) -> PendingReferral | None:
    """The DSR admin lead accepts a referral that could not confirm itself; None if no referral
    with this reference waits. Raises referral_service.Refused if its answers no longer pass."""
    pending = db_session.scalar(
        select(PendingReferral).where(PendingReferral.reference == reference)
    )
    if pending is None or pending.status != "awaiting_admin":
        return None
    # A savepoint: refused, it keeps waiting as it was.
    with db_session.begin_nested():
        if not _claim(
            db_session, pending, PendingReferral.status == "awaiting_admin", status="accepting"
        ):
            return None
        _register(db_session=db_session, actor=actor, pending=pending, variant=variant, now=now)
    return pending


def decline(*, db_session: Session, actor: Actor, reference: str) -> bool:
    """The DSR admin lead declines a held referral: it is deleted with its personal data."""
    pending = db_session.scalar(
        select(PendingReferral).where(PendingReferral.reference == reference)
    )
    if pending is None or pending.status != "awaiting_admin":
        return False
    db_session.delete(pending)
    audit_service.record(
        db_session=db_session,
        actor=actor,
        action="referral.decline",
        entity_type=ENTITY,
        entity_id=reference,
        fields={"answers"},
    )
    return True


def _register(
    *, db_session: Session, actor: Actor, pending: PendingReferral, variant: Variant, now: datetime
) -> None:
    referral = ReferralCreate.model_validate(
        {"referral_source": pending.referral_source, "answers": pending.answers}
    )
    entry, existing = referral_service.store_or_link(
        db_session=db_session, actor=actor, referral=referral, variant=variant, now=now
    )
    if existing is not None:
        # 000: someone on the pathway needs no new referral: the admin lead reviews the link.
        pending.status, pending.entry_id = "linked", existing.id
    else:
        assert entry is not None
        pending.status, pending.entry_id = "registered", entry.id
    # The register holds the person now; the held copy of their details goes.
    pending.answers = {}


def purge_expired(*, db_session: Session, now: datetime) -> int:
    """Deletes referrals nobody confirmed, or the admin lead did not take up, in time, with the
    personal data they held."""
    result = db_session.execute(
        delete(PendingReferral).where(
            PendingReferral.status.in_(("awaiting_confirmation", "awaiting_admin")),
            PendingReferral.expires_at <= now,
        )
    )
    return int(getattr(result, "rowcount", 0) or 0)


def awaiting_admin(db_session: Session) -> list[PendingReferral]:
    return list(
        db_session.scalars(
            select(PendingReferral)
            .where(PendingReferral.status.in_(("awaiting_admin", "linked")))
            .order_by(PendingReferral.created_at)
        )
    )


def as_read(db_session: Session, pending: PendingReferral) -> PendingRead:
    entry = db_session.get(RegisterEntry, pending.entry_id) if pending.entry_id else None
    return PendingRead(
        reference=pending.reference,
        status=pending.status,
        referral_source=pending.referral_source,
        email_domain=pending.email_domain,
        created_at=pending.created_at,
        expires_at=pending.expires_at,
        confirmed_at=pending.confirmed_at,
        dsp_id=entry.dsp_id if entry else None,
    )

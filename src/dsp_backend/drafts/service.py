"""Drafts of paused referrals. Pure verbs over a session; the caller passes the clock.

A resume code is 8 characters from an alphabet without look-alikes (no 0/O, 1/I/L), shown as
K7QM-3FXP, for example. Only its SHA-256 is stored, like the API tokens. A draft lives for the variant's
`draft_retention_hours` from its last save; an expired draft is deleted when someone asks for it,
and `dsp-backend drafts purge` deletes the rest.
"""

import hashlib
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from dsp_backend.drafts.models import ReferralDraft

ALPHABET: Final = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH: Final = 8


def new_code() -> str:
    raw = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
    return f"{raw[:4]}-{raw[4:]}"


def normalise_code(code: str) -> str:
    """People type codes with spaces, hyphens or in lower case."""
    return "".join(ch for ch in code.upper() if ch.isalnum())


def hash_code(code: str) -> str:
    return hashlib.sha256(normalise_code(code).encode()).hexdigest()


def aware(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes; everything here is stored in UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def is_expired(draft: ReferralDraft, now: datetime) -> bool:
    return aware(draft.expires_at) <= now


def create(
    *, db_session: Session, data: dict[str, Any], retention_hours: int, now: datetime
) -> tuple[ReferralDraft, str]:
    """Stores the answers; returns the row and the only copy of its resume code."""
    while True:
        code = new_code()
        if (
            db_session.scalar(
                select(ReferralDraft.id).where(ReferralDraft.code_hash == hash_code(code))
            )
            is None
        ):
            break
    draft = ReferralDraft(
        code_hash=hash_code(code),
        data=data,
        created_at=now,
        updated_at=now,
        expires_at=now + timedelta(hours=retention_hours),
    )
    db_session.add(draft)
    db_session.flush()
    return draft, code


def get(*, db_session: Session, code: str, now: datetime) -> ReferralDraft | None:
    """The live draft for this code; an expired one is deleted on the way (None either way)."""
    if not normalise_code(code):
        return None
    draft = db_session.scalar(
        select(ReferralDraft).where(ReferralDraft.code_hash == hash_code(code))
    )
    if draft is None:
        return None
    if is_expired(draft, now):
        db_session.delete(draft)
        db_session.flush()
        return None
    return draft


def update(
    *,
    db_session: Session,
    draft: ReferralDraft,
    data: dict[str, Any],
    retention_hours: int,
    now: datetime,
) -> ReferralDraft:
    """Saving again keeps the same code and restarts the retention period."""
    draft.data = data
    draft.updated_at = now
    draft.expires_at = now + timedelta(hours=retention_hours)
    db_session.flush()
    return draft


def remove(*, db_session: Session, draft: ReferralDraft) -> None:
    db_session.delete(draft)
    db_session.flush()


def purge_expired(*, db_session: Session, now: datetime) -> int:
    """Deletes every expired draft; returns how many."""
    expired = db_session.scalars(
        select(ReferralDraft.id).where(ReferralDraft.expires_at <= now)
    ).all()
    if expired:
        db_session.execute(delete(ReferralDraft).where(ReferralDraft.id.in_(expired)))
    return len(expired)

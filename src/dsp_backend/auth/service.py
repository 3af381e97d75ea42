import hashlib
import secrets
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from dsp_backend.auth.models import ApiToken
from dsp_backend.auth.schemas import Actor, Role

TOKEN_PREFIX = "dsp_"


def hash_token(token: str) -> str:
    # Tokens carry 256 random bits, so a fast hash is enough; no salt or KDF needed.
    return hashlib.sha256(token.encode()).hexdigest()


def create(*, db_session: Session, role: Role, label: str = "") -> tuple[ApiToken, str]:
    """Creates a token; returns the row and the only copy of the secret."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(role=role.value, token_hash=hash_token(token), label=label)
    db_session.add(row)
    db_session.flush()
    return row, token


def revoke_labelled(*, db_session: Session, label: str) -> int:
    """Revokes every live token with this label (a service's earlier tokens); returns how many."""
    rows = db_session.scalars(
        select(ApiToken).where(ApiToken.label == label, ApiToken.revoked_at.is_(None))
    ).all()
    now = datetime.now(UTC)
    for row in rows:
        row.revoked_at = now
    return len(rows)


def authenticate(*, db_session: Session, token: str) -> Actor | None:
    row = db_session.scalar(
        select(ApiToken).where(
            ApiToken.token_hash == hash_token(token), ApiToken.revoked_at.is_(None)
        )
    )
    if row is None:
        return None
    return Actor(token_id=row.id, role=Role(row.role))


def actor_by_id(*, db_session: Session, token_id: int) -> Actor | None:
    """The actor of a live token, by its id: a signed page session names the token by id and
    never holds its secret, so revoking the token ends the session too."""
    row = db_session.get(ApiToken, token_id)
    if row is None or row.revoked_at is not None:
        return None
    return Actor(token_id=row.id, role=Role(row.role))

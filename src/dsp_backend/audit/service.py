from collections.abc import Iterable, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from dsp_backend.audit.models import AuditEvent
from dsp_backend.auth.schemas import Actor


def record(
    *,
    db_session: Session,
    actor: Actor,
    action: str,
    entity_type: str,
    entity_id: str = "",
    fields: Iterable[str] = (),
) -> AuditEvent:
    """Adds an event in the caller's transaction, so the change and its record commit together."""
    event = AuditEvent(
        actor=actor.ref,
        role=actor.role.value,
        action=action,
        entity_type=entity_type,
        entity_id=entity_id,
        fields=sorted(fields),
    )
    db_session.add(event)
    return event


def get_all(
    *, db_session: Session, entity_id: str | None = None, limit: int = 200, offset: int = 0
) -> Sequence[AuditEvent]:
    query = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit).offset(offset)
    if entity_id:
        query = query.where(AuditEvent.entity_id == entity_id)
    return db_session.scalars(query).all()

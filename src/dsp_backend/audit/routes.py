from typing import Annotated

from fastapi import APIRouter, Depends, Query

from dsp_backend.audit import service as audit_service
from dsp_backend.audit.schemas import AuditEventRead
from dsp_backend.auth.dependencies import require_roles
from dsp_backend.auth.schemas import Actor, Role
from dsp_backend.database.core import SessionDep

router = APIRouter(prefix="/audit", tags=["audit"])


@router.get("", response_model=list[AuditEventRead])
def list_audit_events(
    db_session: SessionDep,
    actor: Annotated[Actor, Depends(require_roles(Role.dsr_admin))],
    entity_id: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    offset: Annotated[int, Query(ge=0, le=1_000_000_000)] = 0,
) -> list[AuditEventRead]:
    events = audit_service.get_all(
        db_session=db_session, entity_id=entity_id, limit=limit, offset=offset
    )
    return [AuditEventRead.model_validate(event) for event in events]

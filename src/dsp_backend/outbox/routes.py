from typing import Annotated

from fastapi import APIRouter, Depends

from dsp_backend.auth.dependencies import require_roles
from dsp_backend.auth.schemas import Actor, Role
from dsp_backend.database.core import SessionDep
from dsp_backend.outbox import service as outbox
from dsp_backend.outbox.schemas import OutboxStatus

router = APIRouter(prefix="/outbox", tags=["outbox"])

Admin = Annotated[Actor, Depends(require_roles(Role.dsr_admin))]


@router.get("", response_model=OutboxStatus)
def outbox_status(db_session: SessionDep, _actor: Admin) -> OutboxStatus:
    """Email sent, waiting and failing: a failed send is retried with back-off and shows here
    until it goes, never lost."""
    return outbox.status(db_session=db_session)

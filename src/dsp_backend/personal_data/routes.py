from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, status

from dsp_backend.auth.dependencies import require_roles
from dsp_backend.auth.schemas import Actor, Role
from dsp_backend.database.core import SessionDep
from dsp_backend.errors import PlainValidationRoute, refuse
from dsp_backend.personal_data import service as personal_data_service
from dsp_backend.personal_data.schemas import ErasureDone, ErasureRequest, SubjectAccessExport
from dsp_backend.register import service as register_service
from dsp_backend.register.models import RegisterEntry

router = APIRouter(
    prefix="/personal-data", tags=["personal data"], route_class=PlainValidationRoute
)

# Only the DSR admin lead answers subject access and erasure requests.
Admin = Annotated[Actor, Depends(require_roles(Role.dsr_admin))]
DspId = Annotated[str, Path(pattern=r"^DSP-[0-9A-Z]{4}-[0-9A-Z]{4}$")]


def _entry(db_session: SessionDep, dsp_id: DspId, _actor: Admin) -> RegisterEntry:
    entry = register_service.get(db_session=db_session, dsp_id=dsp_id)
    if entry is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "No one on the register has this dsp_id.")
    return entry


EntryDep = Annotated[RegisterEntry, Depends(_entry)]


@router.get("/{dsp_id}", response_model=SubjectAccessExport)
def subject_access(entry: EntryDep, db_session: SessionDep, actor: Admin) -> SubjectAccessExport:
    """Everything held on one person, for a subject access request; the export is audited."""
    export = personal_data_service.export(
        db_session=db_session, actor=actor, entry=entry, now=datetime.now(UTC)
    )
    db_session.commit()
    return export


@router.post("/{dsp_id}/erasure", response_model=ErasureDone)
def erase_on_request(
    request: ErasureRequest, entry: EntryDep, db_session: SessionDep, actor: Admin
) -> ErasureDone:
    """Erases one person's personal data on request, before their retention period is over;
    the dsp_id, ratings history and de-identified counts stay. 409 while they are on the
    pathway."""
    if request.confirm_dsp_id != entry.dsp_id:
        refuse(
            422,
            [
                {
                    "loc": ["body", "confirm_dsp_id"],
                    "msg": "Type the same dsp_id as in the address to confirm.",
                    "type": "confirmation",
                }
            ],
        )
    try:
        done = personal_data_service.erase(
            db_session=db_session, actor=actor, entry=entry, now=datetime.now(UTC)
        )
    except personal_data_service.NotAllowed as refused:
        raise HTTPException(status.HTTP_409_CONFLICT, str(refused)) from refused
    db_session.commit()
    return done

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Header, HTTPException, Path, status
from fastapi.responses import JSONResponse

from dsp_backend.auth.dependencies import require_roles
from dsp_backend.auth.schemas import Actor, Role
from dsp_backend.database.core import SessionDep
from dsp_backend.errors import PlainValidationRoute, refuse
from dsp_backend.referrals import service as referral_service
from dsp_backend.referrals.schemas import ReferralCreate, ReferralCreated
from dsp_backend.variants.dependencies import VariantDep

router = APIRouter(prefix="/referrals", tags=["referrals"], route_class=PlainValidationRoute)

REFERRERS = (Role.action_server, Role.referrer)


@router.post(
    "",
    status_code=201,
    response_model=ReferralCreated,
    responses={409: {"description": "already on the register, or a key reused for another body"}},
)
def create_referral(
    referral: ReferralCreate,
    db_session: SessionDep,
    variant: VariantDep,
    actor: Annotated[Actor, Depends(require_roles(*REFERRERS))],
    idempotency_key: Annotated[
        str | None, Header(min_length=8, max_length=200, pattern=r"^[\x21-\x7e]+$")
    ] = None,
) -> JSONResponse:
    """Puts a referred person on the register and returns their dsp_id (001 sections 7, 10, 11).

    A retry with the same Idempotency-Key and body returns the first answer (same status).
    """
    try:
        answer = referral_service.submit(
            db_session=db_session,
            actor=actor,
            referral=referral,
            variant=variant,
            now=datetime.now(UTC),
            idempotency_key=idempotency_key,
        )
    except referral_service.Refused as refused:
        refuse(refused.status_code, refused.detail)
    db_session.commit()
    return JSONResponse(status_code=answer.status_code, content=answer.body)


DspId = Annotated[str, Path(pattern=r"^DSP-[0-9A-Z]{4}-[0-9A-Z]{4}$")]


@router.get("/{dsp_id}/fhir", responses={404: {"description": "no one has this dsp_id"}})
def export_fhir(
    dsp_id: DspId,
    db_session: SessionDep,
    actor: Annotated[Actor, Depends(require_roles(Role.dsr_admin))],
) -> JSONResponse:
    """The referral as a FHIR QuestionnaireResponse (R4B, whose QuestionnaireResponse is R4's),
    beside the CSV export. An identifiable read: it is in the audit log."""
    exported = referral_service.export_fhir(db_session=db_session, actor=actor, dsp_id=dsp_id)
    if exported is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "No referral has this dsp_id.")
    db_session.commit()
    return JSONResponse(exported, media_type="application/fhir+json")

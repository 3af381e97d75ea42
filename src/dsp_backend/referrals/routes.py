from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Header
from fastapi.responses import JSONResponse

from dsp_backend.auth.dependencies import require_roles
from dsp_backend.auth.schemas import Actor, Role
from dsp_backend.database.core import SessionDep
from dsp_backend.referrals import service as referral_service
from dsp_backend.referrals.errors import PlainValidationRoute, refuse
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

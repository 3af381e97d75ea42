from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Header
from fastapi.responses import JSONResponse

from dsp_backend.auth.dependencies import require_roles
from dsp_backend.auth.schemas import Actor, Role
from dsp_backend.database.core import SessionDep
from dsp_backend.referrals import answers as referral_answers
from dsp_backend.referrals import service as referral_service
from dsp_backend.referrals.errors import PlainValidationRoute, refuse
from dsp_backend.referrals.schemas import (
    AnswersCheck,
    AnswersChecked,
    ReferralCreate,
    ReferralCreated,
)
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


@router.post("/answers/check", response_model=AnswersChecked)
def check_answers(
    answers: AnswersCheck,
    variant: VariantDep,
    actor: Annotated[Actor, Depends(require_roles(*REFERRERS))],
) -> AnswersChecked:
    """Checks answers one at a time, as a guided form collects them, exactly as a referral's are
    checked; with the age, its age group and whether the person may consent (001 s7, s14; 004).

    Nothing is stored. Personal data travel in the body; a 422 never repeats them.
    """
    return referral_answers.check(answers=answers, variant=variant, today=datetime.now(UTC).date())

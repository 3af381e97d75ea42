from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, status

from dsp_backend.auth.dependencies import require_roles
from dsp_backend.auth.schemas import Actor, Role
from dsp_backend.eligibility import service as eligibility_service
from dsp_backend.eligibility.schemas import EligibilityAnswers, EligibilityResult
from dsp_backend.errors import PlainValidationRoute
from dsp_backend.variants.dependencies import VariantDep

# The answers hold personal data (date of birth, postcode): a 422 never repeats them.
router = APIRouter(prefix="/eligibility", tags=["eligibility"], route_class=PlainValidationRoute)

CHECKERS = (Role.action_server, Role.referrer, Role.dsr_admin, Role.tco)


@router.post("", response_model=EligibilityResult)
def check_eligibility(
    answers: EligibilityAnswers,
    variant: VariantDep,
    actor: Annotated[Actor, Depends(require_roles(*CHECKERS))],
) -> EligibilityResult:
    """Whether the person can be referred in this variant, and why, rule by rule (000, 001 s9)."""
    try:
        return eligibility_service.check(answers=answers, variant=variant, today=date.today())
    except eligibility_service.InvalidAnswers as error:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(error)) from error

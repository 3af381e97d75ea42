from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends

from dsp_backend.auth.dependencies import require_roles
from dsp_backend.auth.schemas import Actor, Role
from dsp_backend.errors import PlainValidationRoute, refuse
from dsp_backend.questionnaire import logic
from dsp_backend.questionnaire import service as questionnaire_service
from dsp_backend.questionnaire.schemas import (
    Interpreted,
    InterpretRequest,
    Next,
    NextRequest,
    Questionnaire,
)
from dsp_backend.variants.dependencies import VariantDep

# The answers hold personal data: a 422 never repeats them, and nothing is stored here.
router = APIRouter(
    prefix="/questionnaire", tags=["questionnaire"], route_class=PlainValidationRoute
)

READERS = (Role.action_server, Role.referrer, Role.dsr_admin, Role.tco)


@router.get("", response_model=Questionnaire)
def get_questionnaire(
    actor: Annotated[Actor, Depends(require_roles(*READERS))],
) -> Questionnaire:
    """The referral questionnaire: every question, its wording, why it is asked, its answer type
    and choices, and when it applies (FHIR Questionnaire's enableWhen)."""
    return logic.questionnaire()


@router.post("/next", response_model=Next)
def next_question(
    body: NextRequest,
    variant: VariantDep,
    actor: Annotated[Actor, Depends(require_roles(*READERS))],
) -> Next:
    """What comes next for these answers: the next question, the summary when nothing is missing,
    or why the referral cannot go on; with eligibility and the rating suggestion as they stand."""
    try:
        return questionnaire_service.next_step(
            answers=body.answers,
            source=body.referral_source,
            variant=variant,
            today=datetime.now(UTC).date(),
        )
    except (ValueError, TypeError, KeyError) as error:
        refuse(422, [{"loc": ["body", "answers"], "msg": _plain(error), "type": "answers"}])


@router.post("/interpret", response_model=Interpreted)
def interpret_answer(
    body: InterpretRequest,
    variant: VariantDep,
    actor: Annotated[Actor, Depends(require_roles(*READERS))],
) -> Interpreted:
    """Reads a free-text answer to one question (or the opening message, or the reply at the
    summary): the answers as they then stand, or a short clarification with the choices."""
    try:
        return questionnaire_service.interpret(
            question=body.question,
            text=body.text,
            answers=body.answers,
            source=body.referral_source,
            variant=variant,
            today=body.today or datetime.now(UTC).date(),
        )
    except (ValueError, TypeError, KeyError) as error:
        refuse(422, [{"loc": ["body"], "msg": _plain(error), "type": "answers"}])


def _plain(error: Exception) -> str:
    """A message about the answers' shape that cannot carry a value back."""
    if isinstance(error, KeyError):
        return "An answer is missing a part it needs."
    return "The answers are not in the questionnaire's form; check each one's type."

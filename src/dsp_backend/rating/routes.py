from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, status

from dsp_backend.auth.dependencies import require_roles
from dsp_backend.auth.schemas import Actor, Role
from dsp_backend.rating import service as rating_service
from dsp_backend.rating.schemas import RatingQuestion, RatingSuggestion
from dsp_backend.variants.dependencies import VariantDep

router = APIRouter(prefix="/rating", tags=["rating"])

SUGGESTERS = (Role.action_server, Role.referrer, Role.dsr_admin, Role.tco)


@router.post("/suggest", response_model=RatingSuggestion)
def suggest_rating(
    question: RatingQuestion,
    variant: VariantDep,
    actor: Annotated[Actor, Depends(require_roles(*SUGGESTERS))],
) -> RatingSuggestion:
    """A suggested rating from the concerns ticked; the referrer decides (001 section 10)."""
    try:
        return rating_service.suggest(question=question, variant=variant)
    except rating_service.InvalidQuestion as error:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(error)) from error

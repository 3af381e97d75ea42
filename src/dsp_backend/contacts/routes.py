from typing import Annotated

from fastapi import APIRouter, Depends

from dsp_backend.auth.dependencies import require_roles
from dsp_backend.auth.schemas import Actor, Role
from dsp_backend.contacts import service as contact_service
from dsp_backend.contacts.schemas import ContactAnswer, ContactLookup
from dsp_backend.variants.dependencies import VariantDep

router = APIRouter(prefix="/contacts", tags=["contacts"])


@router.post("/lookup", response_model=ContactAnswer)
def lookup_contacts(
    question: ContactLookup,
    variant: VariantDep,
    actor: Annotated[Actor, Depends(require_roles(Role.action_server))],
) -> ContactAnswer:
    """The contacts for a place a person names: found, ambiguous (ask which) or not found.
    Every contact comes from the variant file; none is ever made up (002, 003, 004)."""
    return contact_service.lookup(place=question.place, variant=variant, audience=question.audience)

from fastapi import APIRouter

from dsp_backend.variants import service as variant_service
from dsp_backend.variants.dependencies import VariantDep
from dsp_backend.variants.schemas import VariantPublic

router = APIRouter(prefix="/variant", tags=["variant"])


@router.get("", response_model=VariantPublic)
def read_variant(variant: VariantDep) -> VariantPublic:
    """The local variant this deployment serves. Open: it holds no personal data."""
    return variant_service.public(variant)

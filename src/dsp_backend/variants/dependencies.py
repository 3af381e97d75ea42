from typing import Annotated

from fastapi import Depends

from dsp_backend.config import get_settings
from dsp_backend.variants import service as variant_service
from dsp_backend.variants.schemas import Variant


def get_variant() -> Variant:
    return variant_service.load(get_settings().variant)


VariantDep = Annotated[Variant, Depends(get_variant)]

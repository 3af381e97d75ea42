"""Loads and validates the local variant files shipped in this package."""

from functools import lru_cache
from importlib import resources

import yaml
from pydantic import ValidationError

from dsp_backend.variants.schemas import Variant, VariantPublic

VARIANT_IDS = ("llr", "tees_valley", "west_sussex")


class VariantError(ValueError):
    """A variant file is missing or does not fit the schema; the message names file and field."""


def _format_errors(filename: str, error: ValidationError) -> str:
    """One line per problem: the field path, then what was expected (pydantic's message)."""
    lines = [f"variant file {filename} is not valid:"]
    for item in error.errors():
        field = ".".join(str(part) for part in item["loc"])
        if field:
            given = "" if item["type"] == "missing" else f" (got {type(item['input']).__name__})"
            lines.append(f"  {field}: {item['msg']}{given}")
        elif item["type"] == "value_error":
            # Cross-field checks already start each line with the field path they are about.
            message = str(item["msg"]).removeprefix("Value error, ")
            lines.extend(f"  {line}" for line in message.splitlines())
        else:
            lines.append(f"  (top level): {item['msg']}")
    return "\n".join(lines)


def parse(filename: str, text: str) -> Variant:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise VariantError(f"variant file {filename} is not valid YAML: {error}") from error
    try:
        return Variant.model_validate(data)
    except ValidationError as error:
        raise VariantError(_format_errors(filename, error)) from error


@lru_cache
def load(variant_id: str) -> Variant:
    if variant_id not in VARIANT_IDS:
        raise VariantError(
            f"DSP_VARIANT '{variant_id}' is not known; expected one of: {', '.join(VARIANT_IDS)}"
        )
    filename = f"{variant_id}.yml"
    text = resources.files("dsp_backend.variants").joinpath(filename).read_text(encoding="utf-8")
    variant = parse(filename, text)
    if variant.id != variant_id:
        raise VariantError(
            f"variant file {filename}: id is '{variant.id}', expected '{variant_id}'"
        )
    return variant


def public(variant: Variant) -> VariantPublic:
    """The part of the variant the bot reads without a token (it holds nothing personal)."""
    return VariantPublic.model_validate(variant.model_dump(include=set(VariantPublic.model_fields)))

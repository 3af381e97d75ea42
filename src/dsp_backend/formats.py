"""Pure checks of the formats a referral carries: NHS number, postcode, email and phone.

Ages come from dsp_backend.eligibility.service.age_on, so the register and the eligibility check
never disagree about how old someone is.

Each returns a plain answer; the schemas turn a failure into a plain-English message that never
repeats the value it was given.
"""

import re
from typing import Annotated, Final

from email_validator import EmailNotValidError, validate_email
from pydantic import AfterValidator, Field
from pydantic_core import PydanticCustomError

# NHS number: ten digits; the tenth is a check digit by modulus 11 over the first nine, weighted
# 10 down to 2. A remainder giving 10 means the number was never issued.
_NHS_WEIGHTS: Final = tuple(range(10, 1, -1))

# Royal Mail format: outward code (area, district) and inward code (sector, unit). Q, V, X never
# start a postcode; I, J, Z are never second; the unit avoids C, I, K, M, O, V. GIR 0AA is the one
# historic exception.
_POSTCODE = re.compile(r"^(?:[A-PR-UWYZ][A-HK-Y]?[0-9][A-Z0-9]? [0-9][ABD-HJLNP-UW-Z]{2}|GIR 0AA)$")

# UK numbers dialled nationally (0 then 9 or 10 digits), or any international E.164 number.
_UK_PHONE = re.compile(r"^0[0-9]{9,10}$")
_E164 = re.compile(r"^\+[1-9][0-9]{7,14}$")
_PHONE_PUNCTUATION = re.compile(r"[\s().-]")


def normalise_nhs_number(text: str) -> str:
    """People write NHS numbers as 3-3-4 groups with spaces or hyphens."""
    return re.sub(r"[\s-]", "", text)


def nhs_check_digit(first_nine: str) -> int | None:
    """The check digit for nine digits, or None where no valid number can start with them."""
    total = sum(int(digit) * weight for digit, weight in zip(first_nine, _NHS_WEIGHTS, strict=True))
    check = 11 - total % 11
    if check == 11:
        return 0
    return None if check == 10 else check


def nhs_number_is_valid(text: str) -> bool:
    number = normalise_nhs_number(text)
    if len(number) != 10 or not number.isascii() or not number.isdigit():
        return False
    return nhs_check_digit(number[:9]) == int(number[9])


def normalise_postcode(text: str) -> str:
    """Upper case with one space before the inward code, however it was typed."""
    compact = re.sub(r"\s", "", text).upper()
    return f"{compact[:-3]} {compact[-3:]}" if len(compact) > 3 else compact


def postcode_is_valid(text: str) -> bool:
    return bool(_POSTCODE.match(normalise_postcode(text)))


def email_is_valid(text: str) -> bool:
    try:
        validate_email(text, check_deliverability=False)
    except EmailNotValidError:
        return False
    return True


def normalise_phone(text: str) -> str:
    compact = _PHONE_PUNCTUATION.sub("", text)
    return "0" + compact[3:] if compact.startswith("+44") else compact


def phone_is_valid(text: str) -> bool:
    number = normalise_phone(text)
    return bool(_UK_PHONE.match(number) or _E164.match(number))


def _nhs_number(value: str) -> str:
    if not nhs_number_is_valid(value):
        raise PydanticCustomError(
            "nhs_number",
            "This is not a valid NHS number. An NHS number has 10 digits and the last one is a "
            "check digit: please check each digit.",
        )
    return normalise_nhs_number(value)


NhsNumberText = Annotated[str, Field(max_length=20), AfterValidator(_nhs_number)]

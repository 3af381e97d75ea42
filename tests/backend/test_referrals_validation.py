"""The pure format checks a referral goes through: NHS number, postcode, email, phone."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dsp_backend import formats as validation

nine_digits = st.text(alphabet="0123456789", min_size=9, max_size=9)


@st.composite
def valid_nhs_numbers(draw: st.DrawFn) -> str:
    stem = draw(nine_digits.filter(lambda s: validation.nhs_check_digit(s) is not None))
    return stem + str(validation.nhs_check_digit(stem))


def test_a_published_example_nhs_number_passes_the_modulus_11_check() -> None:
    """NHS Digital's example number 943 476 5919, in the spaced and hyphenated forms people type."""
    assert validation.nhs_number_is_valid("9434765919")
    assert validation.nhs_number_is_valid("943 476 5919")
    assert validation.nhs_number_is_valid("943-476-5919")
    assert not validation.nhs_number_is_valid("9434765918")


@given(valid_nhs_numbers())
def test_numbers_built_with_the_modulus_11_rule_pass(number: str) -> None:
    assert validation.nhs_number_is_valid(number)


@given(
    valid_nhs_numbers(),
    st.integers(min_value=0, max_value=9),
    st.integers(min_value=1, max_value=9),
)
def test_any_single_digit_change_of_a_valid_number_fails(
    number: str, position: int, shift: int
) -> None:
    """Weights 10..2 and the check digit are all coprime to 11, so one changed digit is caught."""
    changed = str((int(number[position]) + shift) % 10)
    altered = number[:position] + changed + number[position + 1 :]
    assert not validation.nhs_number_is_valid(altered)


def test_a_stem_whose_check_digit_would_be_10_is_never_valid() -> None:
    stem = next(
        f"{n:09d}" for n in range(10**8, 10**9) if validation.nhs_check_digit(f"{n:09d}") is None
    )
    assert not any(validation.nhs_number_is_valid(stem + str(digit)) for digit in range(10))


@pytest.mark.parametrize(
    "text", ["", "123456789", "12345678901", "94347659l9", "９４３４７６５９１９"]
)
def test_nhs_numbers_of_the_wrong_shape_fail(text: str) -> None:
    assert not validation.nhs_number_is_valid(text)


@pytest.mark.parametrize(
    ("typed", "normalised"),
    [
        ("le1 6th", "LE1 6TH"),
        ("LE156AB", "LE15 6AB"),
        ("  ts18  1aa ", "TS18 1AA"),
        ("EC1A1BB", "EC1A 1BB"),
    ],
)
def test_uk_postcodes_are_accepted_however_they_are_typed(typed: str, normalised: str) -> None:
    assert validation.postcode_is_valid(typed)
    assert validation.normalise_postcode(typed) == normalised


@pytest.mark.parametrize("text", ["LE1", "12345", "LE1 6T", "QQ1 1AA", "LE1 6CI", "Leicester"])
def test_text_that_is_not_a_uk_postcode_fails(text: str) -> None:
    assert not validation.postcode_is_valid(text)


@pytest.mark.parametrize(
    ("text", "valid"),
    [
        ("sam.referrer@nhs.net", True),
        ("a+b@example.org", True),
        ("sam.referrer@", False),
        ("not an email", False),
        ("sam@@nhs.net", False),
    ],
)
def test_email_format(text: str, valid: bool) -> None:
    assert validation.email_is_valid(text) is valid


@pytest.mark.parametrize(
    ("text", "normalised"),
    [
        ("0116 496 0000", "01164960000"),
        ("+44 7700 900123", "07700900123"),
        ("(0116) 496-0000", "01164960000"),
        ("+33 1 23 45 67 89", "+33123456789"),
    ],
)
def test_uk_and_international_phone_numbers_pass(text: str, normalised: str) -> None:
    assert validation.phone_is_valid(text)
    assert validation.normalise_phone(text) == normalised


@pytest.mark.parametrize("text", ["12345", "0116 496", "phone me", "07700 900123 ext 4", "+0 123"])
def test_text_that_is_not_a_phone_number_fails(text: str) -> None:
    assert not validation.phone_is_valid(text)

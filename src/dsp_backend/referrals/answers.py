"""Checking a referral's answers one at a time, as a guided form collects them.

Each answer goes through the very check POST /referrals applies to it: the field types of
referrals.schemas (whose validators are those of referrals.validation) and the rules of
referrals.rules. So an answer the form accepts is one the register accepts, and the form never
needs a copy of a rule. Messages are the referral's own plain English and never repeat a value.
"""

from datetime import date
from typing import Any

from pydantic import TypeAdapter, ValidationError

from dsp_backend.eligibility import service as eligibility_service
from dsp_backend.referrals import rules
from dsp_backend.referrals.schemas import (
    AnswerChecked,
    AnswersCheck,
    AnswersChecked,
    Consent,
    ConsentChecked,
    Email,
    NhsNumber,
    Phone,
    Postcode,
)
from dsp_backend.variants.schemas import Variant

# The field types a referral's NHS number, postcode, email and phone are read with.
_FORMATS: dict[str, TypeAdapter[Any]] = {
    "nhs_number": TypeAdapter(NhsNumber),
    "postcode": TypeAdapter(Postcode),
    "email": TypeAdapter(Email),
    "phone": TypeAdapter(Phone),
}
_LABELS = {
    "nhs_number": "the NHS number",
    "postcode": "the postcode",
    "email": "the email address",
    "phone": "the phone number",
}


def accepted(value: str) -> AnswerChecked:
    return AnswerChecked(ok=True, value=value, message=None)


def refused(message: str) -> AnswerChecked:
    return AnswerChecked(ok=False, value=None, message=message)


def check_format(field: str, text: str) -> AnswerChecked:
    """One answer read with its referral field type: normalised, or the plain reason it is not."""
    try:
        value = _FORMATS[field].validate_python(text)
    except ValidationError as error:
        # Pydantic's own messages name limits, never the input; ours never repeat it either.
        return refused(" ".join(e["msg"] for e in error.errors(include_input=False)))
    if value is None:  # blank
        return refused(f"Please give {_LABELS[field]}.")
    return accepted(str(value))


def _by_field(problems: list[rules.Problem]) -> dict[str, str]:
    """The first message for each field a rule names, by the field's own name."""
    found: dict[str, str] = {}
    for problem in problems:
        found.setdefault(str(problem.loc[-1]), problem.msg)
    return found


def check(*, answers: AnswersCheck, variant: Variant, today: date) -> AnswersChecked:
    """Each answer given, checked as a referral's would be, with what follows from them."""
    result = AnswersChecked()
    for field in _FORMATS:
        text = getattr(answers, field)
        if text is not None:
            setattr(result, field, check_format(field, text))

    age: int | None = None
    birth = answers.date_of_birth
    if birth is not None:
        birth_problems = rules.date_of_birth_problems(birth, today=today)
        if birth_problems:
            result.date_of_birth = refused(birth_problems[0].msg)
        else:
            result.date_of_birth = accepted(birth.isoformat())
            years = eligibility_service.age_on(date_of_birth=birth, today=today)
            age = years.years
            result.age_years = age
            result.age_group = eligibility_service.age_group_for(years, variant)

    # 004: whether the person may consent is the consent rule itself, asked of "the person".
    as_person = Consent(given=True, given_by="person", given_on=today)
    if rules.consent_problems(as_person, age=age, variant=variant, today=today):
        result.person_may_consent = False
    elif age is not None:
        result.person_may_consent = True

    if answers.consent is not None:
        given = answers.consent
        consent = Consent(given=True, given_by=given.given_by, given_on=given.given_on)
        problems = _by_field(rules.consent_problems(consent, age=age, variant=variant, today=today))
        checked = ConsentChecked()
        if given.given_by is not None:
            message = problems.get("given_by")
            checked.given_by = refused(message) if message else accepted(given.given_by)
        if given.given_on is not None:
            message = problems.get("given_on")
            checked.given_on = refused(message) if message else accepted(given.given_on.isoformat())
        result.consent = checked

    if answers.rag is not None:
        refusal = rules.decision_refusal(answers.rag, variant)
        result.rag = refused(refusal) if refusal else accepted(answers.rag)
        if refusal is None:
            result.register = rules.register_of(answers.rag, variant)
    return result

"""The referral form (DESIGN.md "The referral form"; 001 section 11; 003 good-referral prompts).

Formats are checked here, each with a plain-English message that never repeats the value. Which
fields must be present depends on the referral, so fields are optional to pydantic and
referrals.rules lists what is missing, using the three sets below.

Mandatory set (001 sections 10 and 11 say "not all fields are mandatory" without naming them;
this is our reading): enough to identify the person (name, date of birth, NHS number; the postcode
to confirm the area, 001 s9), to reach the referrer, who remains the accountable professional
(001 s10), and "the reasons for the referral" (001 s11: what is happening and its impact).
Consent, the eligibility answers and the rating are needed for every referral.

Full set: every section of the form, and invitees with name, role, email and phone. Needed where
the DSP admin lead organises the MAM or the referral is to the ROAR (001 sections 10 and 11).

Self-referral set (003, Tees Valley): who the person is, and how to reach them.
"""

from datetime import date, datetime
from typing import Annotated, Any, Final, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field
from pydantic_core import PydanticCustomError

from dsp_backend.eligibility.schemas import EligibilityAnswers
from dsp_backend.rating.schemas import RatingSuggestion
from dsp_backend.referrals import validation
from dsp_backend.variants.schemas import AgeGroup, Rag, Register

ReferralSource = Literal["professional", "self"]
ConsentGiver = Literal["person", "parent_carer_guardian", "best_interests"]
FormKind = Literal["mandatory", "full", "self_referral"]


def _blank_is_missing(value: Any) -> Any:
    """An empty answer is no answer, so it gets the same plain message as a missing one."""
    if isinstance(value, str) and not value.strip():
        return None
    return value.strip() if isinstance(value, str) else value


def _nhs_number(value: str) -> str:
    if not validation.nhs_number_is_valid(value):
        raise PydanticCustomError(
            "nhs_number",
            "This is not a valid NHS number. An NHS number has 10 digits and the last one is a "
            "check digit: please check each digit.",
        )
    return validation.normalise_nhs_number(value)


def _postcode(value: str) -> str:
    if not validation.postcode_is_valid(value):
        raise PydanticCustomError(
            "postcode", "This does not look like a UK postcode (for example LE1 6TH)."
        )
    return validation.normalise_postcode(value)


def _email(value: str) -> str:
    if not validation.email_is_valid(value):
        raise PydanticCustomError(
            "email", "This does not look like an email address (for example name@nhs.net)."
        )
    return value


def _phone(value: str) -> str:
    if not validation.phone_is_valid(value):
        raise PydanticCustomError(
            "phone",
            "This does not look like a phone number: a UK number has 10 or 11 digits and "
            "starts with 0 (or +44).",
        )
    return validation.normalise_phone(value)


_Optional = BeforeValidator(_blank_is_missing)
NhsNumberText = Annotated[str, Field(max_length=20), AfterValidator(_nhs_number)]
# Every answer may be left out; referrals.rules says which ones a referral needs.
Name = Annotated[Annotated[str, Field(max_length=100)] | None, _Optional]
ShortText = Annotated[Annotated[str, Field(max_length=500)] | None, _Optional]
# Long free text is welcome: the reasons for referral matter most (001 section 11).
LongText = Annotated[Annotated[str, Field(max_length=20_000)] | None, _Optional]
NhsNumber = Annotated[NhsNumberText | None, _Optional]
Postcode = Annotated[
    Annotated[str, Field(max_length=16), AfterValidator(_postcode)] | None, _Optional
]
Email = Annotated[Annotated[str, Field(max_length=320), AfterValidator(_email)] | None, _Optional]
Phone = Annotated[Annotated[str, Field(max_length=32), AfterValidator(_phone)] | None, _Optional]


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Person(Section):
    """Patient identification and demographics (001 s11), and pronouns (003)."""

    given_name: Name = None
    family_name: Name = None
    known_as: Name = None
    nhs_number: NhsNumber = None
    date_of_birth: date | None = None
    gender: ShortText = None
    preferred_pronouns: ShortText = None
    ethnicity: ShortText = None
    address: LongText = None
    postcode: Postcode = None
    gp_practice: ShortText = None
    # How to reach the person: what a self-referral needs (003).
    phone: Phone = None
    email: Email = None
    best_way_to_contact: ShortText = None


class Referrer(Section):
    """The referrer stays the accountable professional and is told of removal (001 s9, s10)."""

    name: Name = None
    role: ShortText = None
    organisation: ShortText = None
    email: Email = None
    phone: Phone = None


class Carer(Section):
    """Patient and carer information (001 s11); `no_carer` answers the section when there is none."""

    no_carer: bool = False
    name: Name = None
    relationship: ShortText = None
    phone: Phone = None
    email: Email = None


class CurrentLocation(Section):
    """Current location, home or provider (001 s11)."""

    kind: (
        Literal[
            "family_home",
            "own_home",
            "foster_placement",
            "supported_living",
            "residential_placement",
            "inpatient_unit",
            "other",
        ]
        | None
    ) = None
    details: LongText = None


class GoodReferral(Section):
    """003, "What makes a good DSR / Key Worker referral": worth asking everywhere."""

    lac_cin_cpp: Literal["lac", "cin", "cpp", "none", "not_known"] | None = Field(
        default=None, description="looked after child, child in need, child protection plan"
    )
    has_ehcp: bool | None = None
    ehcp_primary_need: ShortText = None
    lives_with: ShortText = None
    school: ShortText = None
    who_is_involved: LongText = None
    at_risk_of_placement_breakdown_or_admission: LongText = None
    police_or_crisis_contact_last_12_months: bool | None = None
    police_or_crisis_details: LongText = None
    outcomes_wanted: LongText = None
    how_we_will_know: LongText = None


class Invitee(Section):
    """Someone to invite to the MAM; professionals' emails are never shared with the family (001 s10)."""

    name: Name = None
    role: ShortText = None
    email: Email = None
    phone: Phone = None


class Consent(Section):
    """001 section 7: consent is required, and the referral records by whom and when."""

    given: bool | None = None
    given_by: ConsentGiver | None = None
    given_on: date | None = None


class RatingDecision(Section):
    """What the referrer decides: this goes on the register (001 section 10)."""

    rag: Rag
    register: Register


class ReferralRating(Section):
    suggestion: RatingSuggestion
    # Optional only where the variant's DSR meeting rates (003); required where the referrer does.
    decision: RatingDecision | None = None


class ReferralCreate(Section):
    referral_source: ReferralSource = "professional"
    eligibility: EligibilityAnswers | None = None
    rating: ReferralRating | None = None
    consent: Consent | None = None
    mam_organised_by_admin: bool = Field(
        default=False, description="the DSP admin lead organises the MAM (001 section 10)"
    )
    person: Person = Person()
    referrer: Referrer | None = None
    commissioner: ShortText = None
    carer: Carer | None = None
    care_team: LongText = None
    current_location: CurrentLocation | None = None
    communication_needs: LongText = None
    brief_history: LongText = None
    current_situation: LongText = Field(
        default=None, description="what is happening that causes concern, and its impact"
    )
    risk_details: LongText = None
    safeguarding: LongText = None
    support_in_place: LongText = None
    good_referral: GoodReferral | None = None
    invitees: list[Invitee] = Field(default=[], max_length=50)


# Each field a set needs: its path in the body and what a person calls it.
Required = tuple[tuple[str, ...], str]

MANDATORY: Final[tuple[Required, ...]] = (
    (("person", "given_name"), "the person's first name"),
    (("person", "family_name"), "the person's family name"),
    (("person", "date_of_birth"), "the person's date of birth"),
    (("person", "nhs_number"), "the person's NHS number"),
    (("person", "postcode"), "the postcode of the person's home"),
    (("referrer", "name"), "your name as the referrer"),
    (("referrer", "role"), "your role"),
    (("referrer", "organisation"), "your organisation"),
    (("referrer", "email"), "your email address, so the DSR admin lead can contact you"),
    (("current_situation",), "what is happening now that is causing concern, and its impact"),
)

FULL: Final[tuple[Required, ...]] = MANDATORY + (
    (("referrer", "phone"), "your phone number"),
    (("person", "gender"), "the person's gender"),
    (("person", "address"), "the person's address"),
    (("person", "gp_practice"), "the person's GP practice"),
    (("commissioner",), "the commissioner"),
    (("carer",), "the person's parent or carer, or say there is none"),
    (("care_team",), "the current care team"),
    (("current_location", "kind"), "where the person lives now (home or provider)"),
    (("current_location", "details"), "the details of the home or provider"),
    (("communication_needs",), "the person's communication needs"),
    (("brief_history",), "a brief history"),
    (("risk_details",), "the risk details"),
    (("safeguarding",), "the safeguarding information"),
    (("support_in_place",), "the support already in place"),
)

# Asked of each carer unless there is none, and of each invitee in the full set (001 s10).
CARER: Final[tuple[Required, ...]] = (
    (("name",), "the carer's name"),
    (("relationship",), "the carer's relationship to the person"),
    (("phone",), "the carer's phone number"),
)
INVITEE: Final[tuple[Required, ...]] = (
    (("name",), "the invitee's name"),
    (("role",), "the invitee's role"),
    (("email",), "the invitee's email address"),
    (("phone",), "the invitee's phone number"),
)

SELF_REFERRAL: Final[tuple[Required, ...]] = (
    (("person", "given_name"), "the first name of the person the referral is for"),
    (("person", "family_name"), "their family name"),
    (("person", "date_of_birth"), "their date of birth"),
    (("person", "postcode"), "the postcode of their home"),
)


class ReferralCreated(BaseModel):
    """The answer to a referral: the register facts and the reference, nothing identifying."""

    dsp_id: str
    register: Register
    rag: Rag
    age_group: AgeGroup
    referral_source: ReferralSource
    form: FormKind
    created_at: datetime
    step_down_ends_on: date | None
    consent_renewal_due_on: date | None
    follow_ups: list[str] = Field(description="what follows: e.g. mam_requested, tco_notified")


# ---- checking answers one at a time, as a guided form collects them ---------------------------------

# Long enough for anything a person might type as one answer; each is then held to its field's own
# limit by the same validators a referral goes through.
AnswerText = Annotated[str, Field(max_length=1000)]


class ConsentAnswers(Section):
    given_by: ConsentGiver | None = None
    given_on: date | None = None


class AnswersCheck(Section):
    """Any of the answers a form collects one at a time. The date of birth, when given, also
    decides the age and whether the person may consent for themselves."""

    nhs_number: AnswerText | None = None
    postcode: AnswerText | None = None
    date_of_birth: date | None = None
    email: AnswerText | None = None
    phone: AnswerText | None = None
    consent: ConsentAnswers | None = None
    rag: Rag | None = Field(default=None, description="the rating the referrer decides")


class AnswerChecked(BaseModel):
    ok: bool
    value: str | None = Field(description="the answer as the register keeps it, when ok")
    message: str | None = Field(
        description="plain English: what is wrong, when not ok; never repeats the answer"
    )


class ConsentChecked(BaseModel):
    given_by: AnswerChecked | None = None
    given_on: AnswerChecked | None = None


class AnswersChecked(BaseModel):
    """Each answer given, checked as POST /referrals checks it (null where not asked), and what
    follows from them."""

    nhs_number: AnswerChecked | None = None
    postcode: AnswerChecked | None = None
    date_of_birth: AnswerChecked | None = None
    email: AnswerChecked | None = None
    phone: AnswerChecked | None = None
    consent: ConsentChecked | None = None
    rag: AnswerChecked | None = None
    age_years: int | None = Field(default=None, description="from a date of birth that is ok")
    age_group: AgeGroup | None = Field(
        default=None, description="the register's age group for that age (001 section 14)"
    )
    person_may_consent: bool | None = Field(
        default=None,
        description="whether the person may give consent themselves (004: not under the "
        "variant's age); null where that depends on a date of birth not given",
    )
    register: Register | None = Field(
        default=None, description="the register the rating goes on, when the rating is ok"
    )

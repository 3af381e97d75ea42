"""The shape of a local variant file. A file that does not fit fails at start with its name and field.

Every row of DESIGN.md's "Local variants" table is a field here; each carries the source document
it follows so that eligibility and rating answers can name their source.
"""

import warnings
from collections import Counter
from typing import Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field, model_validator

# `register` is the pathway's word (DSR or ROAR) and a field name across the service; pydantic
# warns that it shadows ABCMeta.register on the class, which no code here uses.
warnings.filterwarnings(
    "ignore", message=r'Field name "register" in ".*" shadows an attribute', category=UserWarning
)

# The pathway's own words, shared by eligibility, rating and the referral (000, 001 sections 10, 12).
Rag = Literal["amber", "red", "blue", "green"]
Register = Literal["DSR", "ROAR"]
AgeGroup = Literal["cyp", "adult"]
ReferrerKind = Literal["health", "social_care", "education", "self", "family"]
ReferralSource = Literal["professional", "self"]
ConsentGiver = Literal["person", "parent_carer_guardian", "best_interests"]
AcceptedDiagnosis = Literal["learning_disability", "autism", "both"]
# Facts an out-of-area exception can require; eligibility.service reads each from the answers.
ExceptionCondition = Literal[
    "section_117_funded",
    "out_of_area_placement",
    "urgent_cetr_needed",
    "looked_after_child",
    "placed_by_area_council",
]

BOTH_AGE_GROUPS: list[AgeGroup] = ["cyp", "adult"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Sourced(Strict):
    text: str = Field(min_length=1, description="plain English, as the bot shows it")
    source: str = Field(min_length=1, description="the seed document and section it follows")


class Area(Strict):
    """A council area the variant serves; towns and postcode districts are hints, never proof."""

    id: str
    name: str
    council: str
    towns: list[str] = []
    postcode_districts: list[str] = []


class AreaRule(Sourced):
    """Who counts as living in the variant (001 section 9 for LLR)."""

    gp_practice_counts: bool = Field(
        description="a GP in one of the ICB's practices is enough on its own (LLR pathway guidance section 9)"
    )
    icb: str = Field(description="the integrated care board whose practices count")


class Ages(Sourced):
    serves: list[AgeGroup] = Field(min_length=1)
    adult_from: int = Field(
        default=18,
        gt=0,
        description="CYP register under this age (LLR pathway guidance section 14)",
    )
    adults_elsewhere: str | None = Field(
        default=None,
        description="where adults go when the variant serves only CYP (West Sussex DSR)",
    )


class Referrers(Sourced):
    kinds: list[ReferrerKind] = Field(min_length=1)


class DiagnosisRule(Sourced):
    accepted: list[AcceptedDiagnosis] = Field(min_length=1)
    confirmation_required: bool
    evidence_required: bool = Field(
        description="evidence of the confirmation goes with it (LLR CYP pathway criteria)"
    )
    private_autism_accepted: bool | None = Field(
        description="a privately obtained autism diagnosis (LLR pathway guidance section 9); None: the source is silent"
    )


class OutOfAreaException(Sourced):
    """Someone living outside the variant who may still be referred (000, 001 appendices)."""

    id: str = Field(pattern=r"^[a-z0-9_]+$")
    age_group: AgeGroup
    requires: list[ExceptionCondition] = Field(min_length=1)
    register: Register
    rag: Rag | None = Field(default=None, description="the rating the exception needs, if any")


class Criterion(Sourced):
    """A concern a referrer can tick. The id is stable: the bot offers it, the referral stores it."""

    id: str = Field(pattern=r"^(amber|red|blue|green|concern)\.[a-z0-9_]+$")
    title: str = Field(min_length=1, max_length=60, description="a few words, shown first")
    words: list[str] = Field(
        default=[], description="words a referrer uses when describing this, to suggest it"
    )
    applies_to: list[AgeGroup] = Field(default=BOTH_AGE_GROUPS, min_length=1)


class LinkedProcess(Strict):
    text: str = Field(min_length=1)
    applies_to: list[AgeGroup] = Field(default=BOTH_AGE_GROUPS, min_length=1)


# When a rating may be chosen at referral: always; only by the direct ROAR rule (001 s10);
# only when one of its criteria applies (004 red); only after an inpatient discharge (001 s10);
# only for a former inpatient with no amber or red concern (004 green).
ChoosableWhen = Literal[
    "always",
    "direct_roar",
    "criterion_ticked",
    "inpatient_discharge",
    "former_inpatient_no_concerns",
    "never",
]


class RatingDefinition(Sourced):
    """One rating: `text` says what it means; `at_referral` when it can be given at referral."""

    rag: Rag
    register: Register
    at_referral: str | None = Field(description="None: never given at referral")
    choosable_when: ChoosableWhen = Field(description="the rule `at_referral` states")
    criteria: list[Criterion] = []
    linked_processes: list[LinkedProcess] = []


class DirectRoar(Sourced):
    """001 s10: red at referral for imminent risk with no earlier knowledge of escalating risk; 001
    (adults' criteria): also for the criteria listed here."""

    criteria: list[str] = Field(
        default=[], description="criteria that are a direct ROAR route on their own"
    )


class Ratings(Sourced):
    rated_by: Literal["referrer", "dsr_meeting"] = Field(
        description="referrer: the referrer suggests and decides; dsr_meeting: the meeting rates (Tees Valley DSR and Keyworker programme)"
    )
    definitions: list[RatingDefinition] = []
    concerns: list[Criterion] = Field(
        default=[], description="concerns recorded without a rating, where the meeting rates"
    )
    imminent_risk_criterion: str | None = Field(
        default=None,
        description="the criterion 'imminent risk of admission' matches (West Sussex DSR)",
    )
    direct_roar: DirectRoar | None = Field(
        default=None,
        description="the direct ROAR referral rule (LLR pathway guidance section 10); None without a ROAR",
    )

    def all_criteria(self) -> list[Criterion]:
        return [c for d in self.definitions for c in d.criteria] + list(self.concerns)

    def definition(self, rag: Rag) -> RatingDefinition | None:
        return next((d for d in self.definitions if d.rag == rag), None)


class Consent(Strict):
    """Who may consent, and whether consent falls due again (004: renewed every year)."""

    who_may_consent: list[Literal["person", "parent_carer_guardian", "best_interests"]]
    parent_consents_under_age: int = Field(
        default=16,
        description="under this age a parent, carer or guardian consents (West Sussex DSR)",
    )
    renewal_months: int | None = Field(default=None, description="None: consent is not renewed")
    text: str = Field(min_length=1)
    source: str = Field(min_length=1)


class Contact(Strict):
    id: str
    kind: Literal[
        "parent_carer_forum",
        "referral_inbox",
        "referral_portal",
        "information",
        "coordinator",
        "keyworker_service",
        "dsr_admin",
    ]
    name: str
    area_ids: list[str] = Field(
        default=[], description="areas served; empty means the whole variant"
    )
    email: EmailStr | None = None
    phone: str | None = None
    url: str | None = Field(default=None, pattern=r"^https://")
    how_to_reach: str = ""


class Keyworker(Sourced):
    """Who the keyworker service is for (003; 001 section 2)."""

    min_age_years: int | None = Field(default=None, ge=0)
    max_age_years: int = Field(ge=0, description="inclusive")
    criteria: list[str] = []
    contact_id: str | None = None


class Transition(Sourced):
    """Ages at which a CYP referral may be discussed with the adult DSR admin lead (001 s14)."""

    from_age_months: int = Field(gt=0)
    to_age_months: int = Field(gt=0, description="exclusive: the adult register starts here")


class RegisterReview(Sourced):
    every_months: int = Field(gt=0)


class Period(Strict):
    """A length of time: whole days, weeks or months, exactly one of them."""

    days: int = Field(default=0, ge=0)
    weeks: int = Field(default=0, ge=0)
    months: int = Field(default=0, ge=0)

    @model_validator(mode="after")
    def _one_unit(self) -> "Period":
        if [self.days, self.weeks, self.months].count(0) != 2:
            raise ValueError("expected exactly one of days, weeks or months, above 0")
        return self


class Timescale(Strict):
    """How long until something falls due, for children and young people and for adults, with
    the source the default follows."""

    cyp: Period
    adult: Period
    source: str = Field(min_length=1)

    def for_age(self, age_group: AgeGroup) -> Period:
        return self.cyp if age_group == "cyp" else self.adult


def _timescale(cyp: Period, source: str, adult: Period | None = None) -> Timescale:
    return Timescale(cyp=cyp, adult=adult or cyp, source=source)


_LOCAL = "the sources give no timescale: a local setting"


class Timescales(Strict):
    """Every interval the deadline clock uses (DESIGN.md "Timescales"); a variant file may set
    any of them, and each default names its source."""

    first_mam: Timescale = _timescale(
        Period(weeks=4),
        f"LLR pathway guidance section 10: the MAM date is agreed by its urgency; {_LOCAL}",
    )
    post_discharge_mam: Timescale = _timescale(
        Period(weeks=2),
        f"LLR CYP pathway criteria blue: a post discharge MAM is arranged on discharge; {_LOCAL}",
    )
    community_cetr: Timescale = _timescale(
        Period(weeks=2),
        f"LLR CYP pathway criteria red: set up a community CETR; LLR pathway guidance section 10: urgent; {_LOCAL}",
    )
    post_admission_cetr: Timescale = _timescale(
        Period(weeks=2),
        "LLR CYP pathway criteria blue: post admission CETR; NHS England C(E)TR policy (2017): within 2 weeks for "
        "children, 4 weeks for adults",
        adult=Period(weeks=4),
    )
    inpatient_cetr: Timescale = _timescale(
        Period(months=3),
        "LLR CYP pathway criteria blue: on-going CETRs at the required frequency; NHS England C(E)TR policy: every "
        "3 months for children, 6 months for adults (non-secure)",
        adult=Period(months=6),
    )
    oversight_visit: Timescale = _timescale(
        Period(weeks=6),
        "LLR CYP pathway criteria blue: commissioner oversight visits (6 weeks); NHS England's oversight-visit "
        "commitment: 8 weeks for adults",
        adult=Period(weeks=8),
    )
    cpa: Timescale = _timescale(Period(weeks=1), f"LLR CYP pathway criteria blue: CPA; {_LOCAL}")
    discharge_planning: Timescale = _timescale(
        Period(weeks=1),
        f"LLR CYP pathway criteria blue: discharge planning, from admission; {_LOCAL}",
    )
    keyworker_referral: Timescale = _timescale(
        Period(weeks=2),
        f"LLR CYP pathway criteria amber: allocation of a keyworker in line with identified need; Tees Valley DSR and Keyworker programme; {_LOCAL}",
    )
    adult_handover_notice: Timescale = _timescale(
        Period(months=2),
        "DESIGN.md: where there is no adults' register, a handover to adult services; the "
        "notice before the 18th birthday follows the 2-month window of LLR pathway guidance section 14",
    )
    personal_data_retention: Timescale = _timescale(
        Period(months=12),
        "LLR pathway guidance sections 6 and 8; DESIGN.md data protection: kept while on the pathway plus the "
        "retention the operator sets",
    )


DEFAULT_GAP_THEMES: list[str] = [
    "crisis_support",
    "short_breaks_and_respite",
    "specialist_community_support",
    "housing_and_placements",
    "education",
    "social_care",
    "mental_health",
    "autism_assessment_and_support",
    "workforce_and_skills",
    "other",
]


AfterReferralProcess = Literal["admin_lead_mam", "dsr_meeting", "register_review"]


class AfterReferral(Strict):
    """What follows a referral in this variant (001 s10 and s12; 003; 004): its own process, never
    LLR's everywhere."""

    process: AfterReferralProcess
    tco_notified_on_red: bool = Field(
        description="the TCOs are told of a red rating (LLR pathway guidance section 10)"
    )
    admin_lead: str | None = Field(
        default=None, description="the DSP admin lead organises the MAM (admin_lead_mam only)"
    )
    referrer_organises: str | None = Field(
        default=None, description="the referrer organises the MAM (admin_lead_mam only)"
    )
    on_red: str | None = Field(default=None, description="what follows a red rating")
    text: str = Field(min_length=1, description="what happens next, in plain English")
    text_self: str | None = Field(
        default=None, description="the same for someone who referred themselves, in easy read"
    )
    source: str = Field(min_length=1)


class WhatToDoInstead(Strict):
    """Where to turn when a rule is not met, in the variant's own services."""

    diagnosis: str
    area: str
    age: str
    referrer: str


class VariantPublic(Strict):
    """What the bot and the chat page may read without a token: no personal data in here."""

    id: str
    name: str
    area_summary: str = Field(
        description="one sentence a person can read: where the variant serves"
    )
    areas: list[Area] = Field(min_length=1)
    area_rule: AreaRule
    ages: Ages
    self_referral: bool
    referrers: Referrers
    diagnosis: DiagnosisRule
    out_of_area_exceptions: list[OutOfAreaException] = []
    registers: list[Register] = Field(min_length=1)
    ratings: Ratings
    green_step_down_months: int | None = Field(
        description="how long a person stays green before removal; None where green is no step-down"
    )
    consent: Consent
    contacts: list[Contact]
    keyworker: Keyworker | None = None
    transition: Transition | None = None
    register_review: RegisterReview | None = None
    other_services: str = Field(
        min_length=1,
        description="the DSP does not replace other referrals (LLR pathway guidance sections 2 and 12)",
    )
    what_to_do_instead: WhatToDoInstead
    after_referral: AfterReferral
    good_referral_prompts: bool = Field(
        default=False,
        description="the good-referral prompts are asked in every referral (Tees Valley DSR and Keyworker programme)",
    )

    @model_validator(mode="after")
    def _consistent(self) -> "VariantPublic":
        """Cross-field checks; each message starts with the field path it is about."""
        area_ids = {area.id for area in self.areas}
        contact_ids = {contact.id for contact in self.contacts}
        problems: list[str] = []
        for index, contact in enumerate(self.contacts):
            unknown = sorted(set(contact.area_ids) - area_ids)
            if unknown:
                problems.append(
                    f"contacts.{index}.area_ids: expected ids of this variant's areas, "
                    f"got {', '.join(unknown)}"
                )
        if self.self_referral != ("self" in self.referrers.kinds):
            problems.append(
                "self_referral: expected it to agree with referrers.kinds (true only when "
                "'self' is one of the kinds)"
            )
        if self.keyworker and self.keyworker.contact_id not in (None, *contact_ids):
            problems.append("keyworker.contact_id: expected the id of one of the contacts")
        problems += self._rating_problems()
        for index, exception in enumerate(self.out_of_area_exceptions):
            if exception.register not in self.registers:
                problems.append(
                    f"out_of_area_exceptions.{index}.register: expected one of "
                    f"registers ({', '.join(self.registers)})"
                )
        if self.transition and self.transition.from_age_months >= self.transition.to_age_months:
            problems.append("transition.from_age_months: expected less than to_age_months")
        has_green = self.ratings.definition("green") is not None
        if self.green_step_down_months is not None and not has_green:
            problems.append("green_step_down_months: expected null when no green rating is defined")
        if problems:
            # One line per problem: variants.service prints each under the file's name.
            raise ValueError("\n".join(problems))
        return self

    def _rating_problems(self) -> list[str]:
        ratings = self.ratings
        problems: list[str] = []
        rags = Counter(d.rag for d in ratings.definitions)
        problems += [
            f"ratings.definitions: '{rag}' is defined twice" for rag, n in rags.items() if n > 1
        ]
        for index, definition in enumerate(ratings.definitions):
            if definition.register not in self.registers:
                problems.append(
                    f"ratings.definitions.{index}.register: expected one of registers "
                    f"({', '.join(self.registers)})"
                )
            for c_index, criterion in enumerate(definition.criteria):
                if not criterion.id.startswith(f"{definition.rag}."):
                    problems.append(
                        f"ratings.definitions.{index}.criteria.{c_index}.id: expected it to "
                        f"start with '{definition.rag}.'"
                    )
        for c_index, criterion in enumerate(ratings.concerns):
            if not criterion.id.startswith("concern."):
                problems.append(
                    f"ratings.concerns.{c_index}.id: expected it to start with 'concern.'"
                )
        ids = Counter(c.id for c in ratings.all_criteria())
        problems += [f"ratings: criterion id '{i}' is used twice" for i, n in ids.items() if n > 1]
        if ratings.direct_roar and set(ratings.direct_roar.criteria) - set(ids):
            problems.append("ratings.direct_roar.criteria: expected ids of criteria")
        if ratings.imminent_risk_criterion and ratings.imminent_risk_criterion not in ids:
            problems.append("ratings.imminent_risk_criterion: expected the id of a criterion")
        if (ratings.direct_roar is not None) != ("ROAR" in self.registers):
            problems.append("ratings.direct_roar: expected it exactly when registers has ROAR")
        if ratings.rated_by == "referrer" and not ratings.definitions:
            problems.append("ratings.definitions: expected ratings when the referrer rates")
        if "DSR" not in self.registers:
            problems.append("registers: expected the DSR")
        return problems


class Variant(VariantPublic):
    """The whole variant file: the public part plus settings only the service reads."""

    source: str = Field(description="the source document(s) in shared/seeds this variant follows")
    draft_retention_hours: int = Field(
        default=72,
        gt=0,
        description="how long a paused referral draft, or a referral not yet confirmed, is kept",
    )
    timescales: Timescales = Field(
        default=Timescales(),
        description="every interval the deadline clock uses, each with its default and source",
    )
    gap_themes: list[str] = Field(
        default=DEFAULT_GAP_THEMES,
        min_length=1,
        description="the themes a gap in service is logged under, for the governance group to "
        "see (LLR pathway guidance section 15)",
    )
    accepted_email_domains: list[str] = Field(
        default=[],
        description="a referral from the chat confirmed from an address at one of these domains "
        "counts at once; from any other, it waits for the DSR admin lead (DESIGN.md)",
    )

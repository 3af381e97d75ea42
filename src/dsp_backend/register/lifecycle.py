"""The rating lifecycle as one state machine: DESIGN.md "Ratings and registers" (000; 001 sections
10 and 12). Pure: no database, no clock. The service applies what these functions decide.

A person stands at one rating (amber, red, blue, green) or has been removed. Each change follows
the transition table; anything else is refused with a reason a person can read.
"""

from dataclasses import dataclass
from datetime import date
from typing import Final, Literal, get_args

from dsp_backend.register import deadlines
from dsp_backend.variants.schemas import AgeGroup, Rag, Register, Timescales, Variant

# "unrated": on the register, waiting for the DSR meeting to rate the risk (003).
State = Literal["unrated", "amber", "red", "blue", "green", "removed"]
STATES: Final[tuple[State, ...]] = get_args(State)

# Any rating may end in removal (001 section 9: criteria not met; 001 section 12: stood down by
# the MAM; 001 section 7: consent keeps the data on the register); green also ends when its
# step-down period is over (000).
RemovalReason = Literal[
    "criteria_not_met", "stood_down_by_mam", "step_down_ended", "consent_withdrawn"
]
REMOVAL_REASONS: Final[tuple[RemovalReason, ...]] = get_args(RemovalReason)

# What follows a change, kept as records for people to act on (DESIGN.md, "what follows").
# The community C(E)TR on red is "cetr_requested"; the inpatient ones follow admission (000 blue).
# follow_up_mam_due and action_due are added by the meetings that agree them.
SideEffectKind = Literal[
    "mam_requested",
    "tco_notified",
    "cetr_requested",
    "post_admission_cetr_due",
    "cpa_due",
    "inpatient_cetr_due",
    "commissioner_oversight_visit_due",
    "discharge_planning_due",
    "post_discharge_mam_due",
    "keyworker_referral_due",
    "transition_planning_due",
    "adult_services_handover_due",
    "follow_up_mam_due",
    "action_due",
    "referrer_notified",
]
SIDE_EFFECT_KINDS: Final[tuple[SideEffectKind, ...]] = get_args(SideEffectKind)

# What is recorded on an entry besides its ratings (register.models.RegisterEvent).
EventKind = Literal[
    "mam_held",
    "consent_renewed",
    "moved_to_adults",
    "reminder_sent",
    "gap_in_service_recorded",
    "personal_data_exported",
    "personal_data_erased",
]
EVENT_KINDS: Final[tuple[EventKind, ...]] = get_args(EventKind)

# 001 section 10: a referral is amber, red (direct to the ROAR) or green (discharged from an
# inpatient hospital). Blue is reached on admission, from whatever rating the person had (000).
AT_REFERRAL: Final[frozenset[Rag]] = frozenset({"amber", "red", "green"})

TRANSITIONS: Final[dict[State, frozenset[State]]] = {
    # 003: the DSR meeting rates a referral it has received.
    "unrated": frozenset({"amber", "red", "green", "removed"}),
    # 000: amber escalates to red when MAM actions do not avert crisis; steps down to green
    # when MAMs are no longer needed; blue on admission ("will remain on the DSR").
    "amber": frozenset({"red", "green", "blue", "removed"}),
    # 000: red to blue on admission; back to amber when the crisis has resolved.
    "red": frozenset({"amber", "blue", "removed"}),
    # 000: blue for the whole inpatient stay, amber on discharge with no new referral.
    "blue": frozenset({"amber", "removed"}),
    # 000: back to amber or red within the step-down period; removed when it is over; blue on
    # admission.
    "green": frozenset({"amber", "red", "blue", "removed"}),
    "removed": frozenset(),
}

# 000 blue, in-patient linked processes, in its order.
INPATIENT: Final[tuple[SideEffectKind, ...]] = (
    "post_admission_cetr_due",
    "cpa_due",
    "inpatient_cetr_due",
    "commissioner_oversight_visit_due",
    "discharge_planning_due",
)
# 000 blue: "on-going CETRs at the required frequency", oversight visits every 6 weeks.
RECURRING_WHILE_BLUE: Final = frozenset({"inpatient_cetr_due", "commissioner_oversight_visit_due"})
MAM_KINDS: Final[frozenset[SideEffectKind]] = frozenset(
    {"mam_requested", "post_discharge_mam_due", "follow_up_mam_due"}
)

# Open records that stop applying when a person leaves a state: the stay's reviews and visits
# end with the stay.
ENDS_ON_LEAVING: Final[dict[State, frozenset[SideEffectKind]]] = {
    "blue": frozenset(INPATIENT),
}
# ... or when a person reaches one: an admission makes the community C(E)TR and MAMs moot; green
# means "no multi-agency meetings taking place" (000).
ENDS_ON_REACHING: Final[dict[State, frozenset[SideEffectKind]]] = {
    "blue": MAM_KINDS | {"cetr_requested"},
    "green": MAM_KINDS,
}

_READABLE: Final[dict[State, str]] = {
    "unrated": "waiting for the DSR meeting to rate them",
    "amber": "amber",
    "red": "red",
    "blue": "blue",
    "green": "green",
    "removed": "removed from the pathway",
}


@dataclass(frozen=True)
class Rules:
    """What a variant makes of a change for a person of this age group."""

    age_group: AgeGroup
    timescales: Timescales
    step_down_months: int | None
    # 001 s10: the TCOs are told of red; the DSP admin lead requests the MAM; a keyworker for
    # children (000 amber, 003). Tees Valley and West Sussex follow their own process (003, 004).
    tco_notified_on_red: bool = True
    admin_lead_mams: bool = True
    keyworkers: bool = False


def rules_for(variant: Variant, age_group: AgeGroup) -> Rules:
    after = variant.after_referral
    return Rules(
        age_group=age_group,
        timescales=variant.timescales,
        step_down_months=variant.green_step_down_months,
        tco_notified_on_red=after.tco_notified_on_red,
        admin_lead_mams=after.process == "admin_lead_mam",
        keyworkers=variant.keyworker is not None,
    )


@dataclass(frozen=True)
class Standing:
    """Where a person stands: the state, and when a green step-down period ends (if it does)."""

    state: State
    step_down_ends_on: date | None = None


@dataclass(frozen=True)
class SideEffect:
    kind: SideEffectKind
    due_on: date | None = None


@dataclass(frozen=True)
class Change:
    previous: State | None
    standing: Standing
    side_effects: tuple[SideEffect, ...]
    ends: frozenset[SideEffectKind]


class TransitionRefused(ValueError):
    """An illegal change; str(error) says why in plain English."""


def register_for(state: State) -> Register:
    """Red is the ROAR; amber, green and blue are on the DSR (000: an admitted person "will remain
    on the DSR ... in the blue cohort")."""
    return "ROAR" if state == "red" else "DSR"


def register_of(rag: Rag, variant: Variant) -> Register:
    """The register a rating belongs on in this variant: its own definition first (LLR: blue
    stays on the DSR, 000); else red on the ROAR where the variant keeps one (001 s10)."""
    definition = variant.ratings.definition(rag)
    if definition is not None:
        return definition.register
    default = register_for(rag)
    return default if default in variant.registers else "DSR"


def rag_refusal(rag: Rag, variant: Variant) -> str | None:
    """A variant that defines its ratings uses only those (004: red, amber and green)."""
    defined = [d.rag for d in variant.ratings.definitions]
    if defined and rag not in defined:
        return f"{variant.name} does not use the {rag} rating; it uses {', '.join(defined)}."
    return None


def _due(kind: SideEffectKind, today: date, rules: Rules) -> SideEffect:
    return SideEffect(
        kind,
        deadlines.task_due_on(
            kind, start=today, age_group=rules.age_group, timescales=rules.timescales
        ),
    )


def side_effects(
    previous: State | None, to: State, *, today: date, rules: Rules
) -> tuple[SideEffect, ...]:
    """What follows a change (DESIGN.md table, from 000 and 001 sections 10 and 12), each with
    its due date from the variant's timescales. `previous` is None for a referral."""
    kinds: list[SideEffectKind] = []
    if to == "red":
        # 001 section 10: "The Transforming Care Officers will automatically be notified";
        # 000: a red rating sets up a community C(E)TR.
        kinds += ["tco_notified"] if rules.tco_notified_on_red else []
        kinds.append("cetr_requested")
    elif to == "amber" and previous in (None, "green") and rules.admin_lead_mams:
        # 000: "The request for a MAM is automatic once the referral has been completed"; from
        # green the linked processes re-commence with no new referral.
        kinds.append("mam_requested")
    elif to == "amber" and previous == "blue":
        # 000: "Upon discharge ... a post discharge MAM will be arranged".
        kinds.append("post_discharge_mam_due")
    elif to == "blue":
        kinds += INPATIENT
    elif to == "removed":
        # 001 section 9: removed "and the referrer notified".
        kinds.append("referrer_notified")
    if previous is None and rules.keyworkers and rules.age_group == "cyp":
        # 000 amber: "Allocation of keyworker in line with identified need"; 003: the keyworker
        # programme is for children and young people.
        kinds.append("keyworker_referral_due")
    return tuple(_due(kind, today, rules) for kind in kinds)


def ends_on_change(previous: State | None, to: State) -> frozenset[SideEffectKind]:
    """Which open records stop applying: those tied to the state left or made moot by the one
    reached; everything on removal except telling the referrer."""
    if to == "removed":
        return frozenset(SIDE_EFFECT_KINDS) - {"referrer_notified"}
    left = ENDS_ON_LEAVING.get(previous, frozenset()) if previous is not None else frozenset()
    return left | ENDS_ON_REACHING.get(to, frozenset())


def at_referral(rag: Rag | None, *, today: date, rules: Rules) -> Change:
    """The first standing of a new entry (001 section 10); unrated where the DSR meeting rates
    (003). Green at referral identifies someone discharged from hospital: it is not a risk level
    and starts no step-down clock (001 section 10)."""
    if rag is None:
        return Change(
            None,
            Standing("unrated"),
            side_effects(None, "unrated", today=today, rules=rules),
            frozenset(),
        )
    if rag not in AT_REFERRAL:
        raise TransitionRefused(
            "Nobody is referred as blue: blue is for someone already on the register who is "
            "admitted to hospital. Refer as amber, red or green."
        )
    return Change(
        previous=None,
        standing=Standing(rag),
        side_effects=side_effects(None, rag, today=today, rules=rules),
        ends=frozenset(),
    )


def refusal(
    standing: Standing, to: State, *, removal_reason: RemovalReason | None, today: date
) -> str | None:
    """Why the change may not happen, or None when it may."""
    current = standing.state
    if current == "removed":
        return "This person has been removed from the pathway; a new referral is needed."
    if to == current:
        return f"This person is already {_READABLE[to]}."
    if to not in TRANSITIONS[current]:
        allowed = ", ".join(_READABLE[state] for state in STATES if state in TRANSITIONS[current])
        return f"A person who is {current} cannot be moved to {to}; from {current} the next step is {allowed}."
    if to != "removed" and removal_reason is not None:
        return "A removal reason only goes with a removal."
    if to == "removed" and removal_reason is None:
        return (
            "Say why the person is removed: criteria not met, stood down by the MAM, "
            "step-down period over, or consent withdrawn."
        )
    if current == "blue" and to == "removed" and removal_reason != "criteria_not_met":
        # 000 blue: "will no longer be removed from the register" for the whole stay; 001 s9:
        # someone found not to meet the criteria is removed all the same.
        return (
            "A person in hospital stays on the register for the whole stay. They can only "
            "be removed if they do not meet the criteria."
        )
    ends = standing.step_down_ends_on
    if current == "green" and to in ("amber", "red") and ends is not None and today >= ends:
        # 000: "during this time" the person can move back without a new referral.
        return (
            f"The step-down period ended on {ends.isoformat()}; the person should be removed, "
            "and referred again if needed."
        )
    if removal_reason == "step_down_ended":
        if current != "green" or ends is None:
            return "Only a person in a green step-down period can be removed because it is over."
        if today < ends:
            return f"The step-down period runs until {ends.isoformat()}."
    return None


def transition(
    standing: Standing,
    to: State,
    *,
    removal_reason: RemovalReason | None = None,
    today: date,
    rules: Rules,
) -> Change:
    """Applies one change of the table, or raises TransitionRefused saying why."""
    reason = refusal(standing, to, removal_reason=removal_reason, today=today)
    if reason is not None:
        raise TransitionRefused(reason)
    ends_on = deadlines.step_down_end(today, rules.step_down_months) if to == "green" else None
    return Change(
        previous=standing.state,
        standing=Standing(to, ends_on),
        side_effects=side_effects(standing.state, to, today=today, rules=rules),
        ends=ends_on_change(standing.state, to),
    )


def next_occurrence(
    kind: SideEffectKind, *, done_on: date, state: State, rules: Rules
) -> SideEffect | None:
    """000 blue: inpatient C(E)TRs and oversight visits recur for as long as the person is an
    inpatient, each interval from the one just done."""
    if state != "blue" or kind not in RECURRING_WHILE_BLUE:
        return None
    return _due(kind, done_on, rules)

"""The rating lifecycle as one state machine: DESIGN.md "Ratings and registers" (000; 001 sections
10 and 12). Pure: no database, no clock. The service applies what these functions decide.

A person stands at one rating (amber, red, blue, green) or has been removed. Each change follows
the transition table; anything else is refused with a reason a person can read.
"""

from calendar import monthrange
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Final, Literal, get_args

from dsp_backend.variants.schemas import Rag, Register, Variant

# "unrated": on the register, waiting for the DSR meeting to rate the risk (003).
State = Literal["unrated", "amber", "red", "blue", "green", "removed"]
STATES: Final[tuple[State, ...]] = get_args(State)

# Any rating may end in removal (001 section 9: criteria not met; 001 section 12: stood down by
# the MAM); green also ends when its step-down period is over (000).
RemovalReason = Literal["criteria_not_met", "stood_down_by_mam", "step_down_ended"]
REMOVAL_REASONS: Final[tuple[RemovalReason, ...]] = get_args(RemovalReason)

# What follows a change, kept as records for people to act on (DESIGN.md, "what follows").
SideEffectKind = Literal[
    "mam_requested",
    "tco_notified",
    "cetr_requested",
    "commissioner_oversight_visit_due",
    "post_discharge_mam_due",
    "referrer_notified",
]
SIDE_EFFECT_KINDS: Final[tuple[SideEffectKind, ...]] = get_args(SideEffectKind)

# 001 section 10: a referral is amber, red (direct to the ROAR) or green (discharged from an
# inpatient hospital). Blue is only reached from red, on admission (000).
AT_REFERRAL: Final[frozenset[Rag]] = frozenset({"amber", "red", "green"})

TRANSITIONS: Final[dict[State, frozenset[State]]] = {
    # 003: the DSR meeting rates a referral it has received.
    "unrated": frozenset({"amber", "red", "green", "removed"}),
    # 000: amber escalates to red when MAM actions do not avert crisis; steps down to green
    # when MAMs are no longer needed.
    "amber": frozenset({"red", "green", "removed"}),
    # 000: red to blue on admission; back to amber when the crisis has resolved.
    "red": frozenset({"amber", "blue", "removed"}),
    # 000: blue for the whole inpatient stay, amber on discharge with no new referral.
    "blue": frozenset({"amber", "removed"}),
    # 000: back to amber or red within the step-down period; removed when it is over.
    "green": frozenset({"amber", "red", "removed"}),
    "removed": frozenset(),
}

# 000, in-patient linked processes: "Commissioner oversight visits (6 weeks)".
OVERSIGHT_VISIT_INTERVAL: Final = timedelta(weeks=6)

# Open records that stop applying when a person leaves a state: visits end with the stay.
ENDS_ON_LEAVING: Final[dict[State, frozenset[SideEffectKind]]] = {
    "blue": frozenset({"commissioner_oversight_visit_due"}),
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


def add_months(start: date, months: int) -> date:
    """The same day `months` later, or the month's last day where that day does not exist."""
    month_index = start.month - 1 + months
    year, month = start.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(start.day, monthrange(year, month)[1]))


def step_down_end(green_since: date, months: int | None) -> date | None:
    """000: green is a step-down that ends after a set period; variants without one return None."""
    return None if months is None else add_months(green_since, months)


def side_effects(previous: State | None, to: State, *, today: date) -> tuple[SideEffect, ...]:
    """What follows a change (DESIGN.md table, from 000 and 001 sections 10 and 12).

    `previous` is None for a referral.
    """
    effects: list[SideEffect] = []
    if to == "red":
        # 001 section 10: "The Transforming Care Officers will automatically be notified";
        # 000: a red rating sets up a community C(E)TR.
        effects += [SideEffect("tco_notified"), SideEffect("cetr_requested")]
    elif to == "amber" and previous in (None, "green"):
        # 000: "The request for a MAM is automatic once the referral has been completed"; from
        # green the linked processes re-commence with no new referral.
        effects.append(SideEffect("mam_requested"))
    elif to == "amber" and previous == "blue":
        # 000: "Upon discharge ... a post discharge MAM will be arranged".
        effects.append(SideEffect("post_discharge_mam_due"))
    elif to == "blue":
        effects.append(
            SideEffect("commissioner_oversight_visit_due", today + OVERSIGHT_VISIT_INTERVAL)
        )
    elif to == "removed":
        # 001 section 9: removed "and the referrer notified".
        effects.append(SideEffect("referrer_notified"))
    return tuple(effects)


def ends_on_change(previous: State | None, to: State) -> frozenset[SideEffectKind]:
    """Which open records stop applying: those tied to the state left; everything on removal
    except telling the referrer."""
    if to == "removed":
        return frozenset(SIDE_EFFECT_KINDS) - {"referrer_notified"}
    return ENDS_ON_LEAVING.get(previous, frozenset()) if previous is not None else frozenset()


def at_referral(rag: Rag | None, *, today: date, step_down_months: int | None) -> Change:
    """The first standing of a new entry (001 section 10); unrated where the DSR meeting rates
    (003)."""
    if rag is None:
        return Change(None, Standing("unrated"), (), frozenset())
    if rag not in AT_REFERRAL:
        raise TransitionRefused(
            "Nobody is referred as blue: blue is for someone already on the register who is "
            "admitted to hospital (000). Refer as amber, red or green."
        )
    return Change(
        previous=None,
        standing=Standing(rag, step_down_end(today, step_down_months) if rag == "green" else None),
        side_effects=side_effects(None, rag, today=today),
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
            "or step-down period over."
        )
    ends = standing.step_down_ends_on
    if current == "green" and to in ("amber", "red") and ends is not None and today >= ends:
        # 000: "during this time" the person can move back without a new referral.
        return (
            f"The step-down period ended on {ends.isoformat()}; the person should be removed, "
            "and referred again if needed (000)."
        )
    if removal_reason == "step_down_ended":
        if current != "green" or ends is None:
            return "Only a person in a green step-down period can be removed because it is over."
        if today < ends:
            return f"The step-down period runs until {ends.isoformat()} (000)."
    return None


def transition(
    standing: Standing,
    to: State,
    *,
    removal_reason: RemovalReason | None = None,
    today: date,
    step_down_months: int | None,
) -> Change:
    """Applies one change of the table, or raises TransitionRefused saying why."""
    reason = refusal(standing, to, removal_reason=removal_reason, today=today)
    if reason is not None:
        raise TransitionRefused(reason)
    ends_on = step_down_end(today, step_down_months) if to == "green" else None
    return Change(
        previous=standing.state,
        standing=Standing(to, ends_on),
        side_effects=side_effects(standing.state, to, today=today),
        ends=ends_on_change(standing.state, to),
    )


def next_oversight_visit(visited_on: date, state: State) -> SideEffect | None:
    """000: oversight visits recur every six weeks for as long as the person is an inpatient."""
    if state != "blue":
        return None
    return SideEffect("commissioner_oversight_visit_due", visited_on + OVERSIGHT_VISIT_INTERVAL)

"""The deadline clock: every date something falls due on the register, worked out in one place
from the register's own records (DESIGN.md "Timescales"; 000; 001 sections 10, 12 and 14; 004).

Pure: no database and no clock of its own. Callers pass `today`, so tests fix it. The lifecycle
asks `task_due_on` when it creates a follow-up; the register list, the timeline, reminders and
housekeeping ask `deadlines` and `housekeeping_due` what is due and what is overdue.
"""

from calendar import monthrange
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Final, Literal

from dsp_backend.variants.schemas import AgeGroup, Period, Timescales, Variant

Due = Literal["overdue", "due_soon"]

# Which timescale sets each follow-up's due date; a follow-up not listed has no due date of its
# own (a notification) or takes the date its maker gives it (a meeting's action, say).
TIMESCALE_OF: Final[dict[str, str]] = {
    "mam_requested": "first_mam",
    "cetr_requested": "community_cetr",
    "post_admission_cetr_due": "post_admission_cetr",
    "inpatient_cetr_due": "inpatient_cetr",
    "commissioner_oversight_visit_due": "oversight_visit",
    "cpa_due": "cpa",
    "discharge_planning_due": "discharge_planning",
    "post_discharge_mam_due": "post_discharge_mam",
    "keyworker_referral_due": "keyworker_referral",
}


def add_months(start: date, months: int) -> date:
    """The same day `months` later, or the month's last day where that day does not exist."""
    month_index = start.month - 1 + months
    year, month = start.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(start.day, monthrange(year, month)[1]))


def after(start: date, period: Period) -> date:
    return add_months(start, period.months) + timedelta(days=period.days, weeks=period.weeks)


def before(end: date, period: Period) -> date:
    return add_months(end, -period.months) - timedelta(days=period.days, weeks=period.weeks)


def task_due_on(
    kind: str, *, start: date, age_group: AgeGroup, timescales: Timescales
) -> date | None:
    """When a follow-up made on `start` falls due, by the variant's timescale for the age group."""
    name = TIMESCALE_OF.get(kind)
    if name is None:
        return None
    timescale = getattr(timescales, name)
    return after(start, timescale.for_age(age_group))


def step_down_end(green_since: date, months: int | None) -> date | None:
    """000: green is a step-down that ends after a set period; variants without one return None."""
    return None if months is None else add_months(green_since, months)


def consent_renewal_due(given_on: date, months: int | None) -> date | None:
    """004: consent is renewed every year where the variant says so."""
    return None if months is None else add_months(given_on, months)


def birthday(date_of_birth: date, years: int) -> date:
    """The day someone turns `years` (someone born on 29 February: 28 February)."""
    return add_months(date_of_birth, 12 * years)


def adult_on(date_of_birth: date, variant: Variant) -> date:
    return birthday(date_of_birth, variant.ages.adult_from)


def transition_window_opens(date_of_birth: date, variant: Variant) -> date:
    """001 section 14: from 17 years 10 months where the variant has an adults' register to talk
    to; elsewhere the handover notice before the 18th birthday."""
    if variant.transition is not None:
        return add_months(date_of_birth, variant.transition.from_age_months)
    return before(adult_on(date_of_birth, variant), variant.timescales.adult_handover_notice.cyp)


def retention_ends(removed_on: date, age_group: AgeGroup, timescales: Timescales) -> date:
    """DESIGN.md data protection: personal data are kept for the retention period after removal."""
    return after(removed_on, timescales.personal_data_retention.for_age(age_group))


def status(due_on: date | None, *, today: date, within_days: int) -> Due | None:
    """Overdue once the day has passed; due soon from `within_days` before it, the day included."""
    if due_on is None:
        return None
    if due_on < today:
        return "overdue"
    return "due_soon" if due_on <= today + timedelta(days=within_days) else None


@dataclass(frozen=True)
class OpenTask:
    id: int
    kind: str
    due_on: date | None
    ref: str | None = None


@dataclass(frozen=True)
class EntryClock:
    """What the clock reads of one register entry. `date_of_birth` is None where the caller must
    not reveal it (the register list) or retention has erased it."""

    state: str
    age_group: AgeGroup
    step_down_ends_on: date | None
    consent_renewal_due_on: date | None
    open_tasks: Sequence[OpenTask] = ()
    task_kinds_ever: frozenset[str] = frozenset()
    date_of_birth: date | None = None
    removed_on: date | None = None
    erased: bool = False


@dataclass(frozen=True, order=True)
class Deadline:
    """A date something falls due: an open follow-up (`task_id` set), or one of step_down_end,
    consent_renewal, transition_window, eighteenth_birthday, retention_end."""

    due_on: date
    kind: str
    task_id: int | None = field(default=None, compare=False)
    ref: str | None = field(default=None, compare=False)


def deadlines(clock: EntryClock, variant: Variant) -> list[Deadline]:
    """Every date still ahead of, or owed by, this entry, soonest first."""
    if clock.removed_on is not None:
        if clock.erased:
            return []
        ends = retention_ends(clock.removed_on, clock.age_group, variant.timescales)
        return [Deadline(ends, "retention_end")]
    found = [
        Deadline(task.due_on, task.kind, task.id, task.ref)
        for task in clock.open_tasks
        if task.due_on is not None
    ]
    if clock.state == "green" and clock.step_down_ends_on is not None:
        found.append(Deadline(clock.step_down_ends_on, "step_down_end"))
    if clock.consent_renewal_due_on is not None:
        found.append(Deadline(clock.consent_renewal_due_on, "consent_renewal"))
    if clock.date_of_birth is not None and clock.age_group == "cyp":
        found.append(
            Deadline(transition_window_opens(clock.date_of_birth, variant), "transition_window")
        )
        found.append(Deadline(adult_on(clock.date_of_birth, variant), "eighteenth_birthday"))
    return sorted(found)


# Housekeeping applies these on the day itself; nobody is reminded of them.
APPLIED_BY_HOUSEKEEPING: Final = frozenset(
    {"transition_window", "eighteenth_birthday", "retention_end"}
)


def actionable(found: Iterable[Deadline]) -> list[Deadline]:
    """The deadlines a person acts on: follow-ups, step-down end, consent renewal."""
    return [d for d in found if d.kind not in APPLIED_BY_HOUSEKEEPING]


def next_due(found: Iterable[Deadline]) -> Deadline | None:
    return min(actionable(found), default=None)


# What housekeeping applies when its day comes.
HousekeepingStep = Literal[
    "end_step_down", "open_transition_window", "move_to_adults", "erase_personal_data"
]


def housekeeping_due(clock: EntryClock, variant: Variant, *, today: date) -> list[HousekeepingStep]:
    """What falls due for this entry today, in the order to apply it. Each step's own result
    makes it not due again, so a second run finds nothing."""
    if clock.removed_on is not None:
        ends = retention_ends(clock.removed_on, clock.age_group, variant.timescales)
        return ["erase_personal_data"] if not clock.erased and ends <= today else []
    if clock.state == "green" and clock.step_down_ends_on and clock.step_down_ends_on <= today:
        # 000: green for the step-down period "and then be removed from the DSP".
        return ["end_step_down"]
    dob = clock.date_of_birth
    if dob is None or clock.age_group != "cyp":
        return []
    steps: list[HousekeepingStep] = []
    if (
        transition_window_opens(dob, variant) <= today
        and transition_task(variant) not in clock.task_kinds_ever
    ):
        steps.append("open_transition_window")
    if adults_register(variant) and adult_on(dob, variant) <= today:
        # DESIGN.md: on the 18th birthday the same rating carries over to the adults' register.
        steps.append("move_to_adults")
    return steps


def adults_register(variant: Variant) -> bool:
    return "adult" in variant.ages.serves


TransitionTask = Literal["transition_planning_due", "adult_services_handover_due"]


def transition_task(variant: Variant) -> TransitionTask:
    """Transition planning where the variant has an adults' register (001 section 14); elsewhere
    a handover to adult services, due on the 18th birthday (DESIGN.md)."""
    return "transition_planning_due" if adults_register(variant) else "adult_services_handover_due"

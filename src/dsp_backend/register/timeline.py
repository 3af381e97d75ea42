"""A person's timeline: their ratings, what happened to their entry, their follow-ups and the dates
still ahead, in one list by date. Assembled from the register's own records, so what another
feature records through register.service (a MAM held, an action agreed, a gap in service) shows
up here without the register knowing that feature."""

from datetime import date
from typing import Final

from dsp_backend.register import deadlines
from dsp_backend.register.models import RegisterEntry
from dsp_backend.register.schemas import TimelineItem, TimelineStatus
from dsp_backend.variants.schemas import Variant

# Plain English for each kind (professionals read this; no document codes).
WORDS: Final[dict[str, str]] = {
    "unrated": "Referred; waiting for the DSR meeting to rate the risk",
    "amber": "Rated amber",
    "red": "Rated red: on the Risk of Admission Register",
    "blue": "Rated blue: admitted to an inpatient unit",
    "green": "Rated green",
    "removed": "Removed from the pathway",
    "mam_requested": "Multi-agency meeting (MAM) to arrange",
    "tco_notified": "Transforming Care Officers to be told",
    "cetr_requested": "Community care (education) and treatment review to arrange",
    "post_admission_cetr_due": "Post-admission care (education) and treatment review",
    "cpa_due": "Care Programme Approach (CPA) meeting",
    "inpatient_cetr_due": "Inpatient care (education) and treatment review",
    "commissioner_oversight_visit_due": "Commissioner oversight visit",
    "discharge_planning_due": "Discharge planning",
    "post_discharge_mam_due": "Post-discharge MAM",
    "keyworker_referral_due": "Keyworker referral",
    "transition_planning_due": "Transition planning with the adult DSR admin lead",
    "adult_services_handover_due": "Handover to adult services",
    "follow_up_mam_due": "Follow-up MAM",
    "action_due": "Action from the MAM action plan",
    "referrer_notified": "Referrer to be told",
    "mam_held": "MAM held",
    "consent_renewed": "Consent renewed",
    "moved_to_adults": "Moved to the adults' register",
    "reminder_sent": "Reminder sent to the DSR admin lead",
    "gap_in_service_recorded": "Gap in service recorded",
    "personal_data_exported": "Personal data exported on request",
    "personal_data_erased": "Personal data erased",
    "step_down_end": "Green step-down period ends",
    "consent_renewal": "Consent falls due for renewal",
    "transition_window": "Transition window opens",
    "eighteenth_birthday": "18th birthday",
    "retention_end": "Personal data to be erased",
}


def build(
    entry: RegisterEntry,
    clock: deadlines.EntryClock,
    variant: Variant,
    *,
    today: date,
    within_days: int,
) -> list[TimelineItem]:
    """Everything dated on the entry, oldest first; open follow-ups and deadlines by due date."""
    items = [
        TimelineItem(
            on=change.at.date(),
            what="rating",
            kind=change.to_state,
            status="done",
            detail=WORDS[change.to_state],
        )
        for change in entry.transitions
    ]
    items += [
        TimelineItem(
            on=event.on,
            what="event",
            kind=event.kind,
            status="done",
            ref=event.ref,
            detail=WORDS.get(event.kind, event.kind),
        )
        for event in entry.events
    ]
    for task in entry.tasks:
        if task.closed_at is None and task.due_on is not None:
            continue  # an open follow-up with a date comes from the clock below, with its status
        items.append(
            TimelineItem(
                on=(task.closed_at or task.created_at).date(),
                what="task",
                kind=task.kind,
                status=(
                    "open"
                    if task.closed_at is None
                    else "done"
                    if task.closed_because == "done"
                    else "no_longer_needed"
                ),
                task_id=task.id,
                ref=task.ref,
                detail=WORDS.get(task.kind, task.kind),
            )
        )
    for deadline in deadlines.deadlines(clock, variant):
        state = deadlines.status(deadline.due_on, today=today, within_days=within_days)
        status: TimelineStatus = state if state is not None else "ahead"
        items.append(
            TimelineItem(
                on=deadline.due_on,
                what="task" if deadline.task_id is not None else "deadline",
                kind=deadline.kind,
                status=status,
                task_id=deadline.task_id,
                ref=deadline.ref,
                detail=WORDS.get(deadline.kind, deadline.kind),
            )
        )
    return sorted(items, key=lambda item: item.on)

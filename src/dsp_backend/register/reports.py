"""Commissioners' reports: counts only, never a person (001 section 6: "identifying the sources
of demand for this pathway and ... understanding reasons for referral"). Every count a
commissioner sees that is under 5 is suppressed (shown as None, or "<5" in CSV), so that a
small group cannot point to someone.

The query reads register_entry, referral and rating_transition, never referral_personal; the
arithmetic is pure and works on de-identified facts.
"""

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from statistics import mean, median
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from dsp_backend.referrals.models import Referral
from dsp_backend.register import deadlines, lifecycle
from dsp_backend.register.models import RegisterEntry
from dsp_backend.register.schemas import MonthRatings, ReportSummary, TimeToFirstMam
from dsp_backend.variants.schemas import Rag

RATINGS: Final[tuple[Rag, ...]] = ("amber", "red", "blue", "green")

# Counts from 1 to this minus one are not shown to commissioners (small-number suppression).
SMALL_COUNT: Final = 5
SUPPRESSED_TEXT: Final = f"<{SMALL_COUNT}"


def suppressed(count: int) -> int | None:
    """The count, or None where it is under 5 and not 0."""
    return None if 0 < count < SMALL_COUNT else count


def _suppressed_counts(counts: Counter[str]) -> dict[str, int | None]:
    return {key: suppressed(count) for key, count in counts.items()}


@dataclass(frozen=True)
class EntryFacts:
    """One register entry with nothing that identifies the person."""

    referred_on: date
    register: str
    rag: str
    state: lifecycle.State
    age_group: str
    referral_source: str
    referrer_kind: str
    reasons: tuple[str, ...]
    first_mam_on: date | None
    history: tuple[tuple[date, lifecycle.State], ...]


def state_on(history: Sequence[tuple[date, lifecycle.State]], day: date) -> lifecycle.State | None:
    """The state at the end of `day`; None before the referral."""
    state = None
    for changed_on, to_state in history:
        if changed_on > day:
            break
        state = to_state
    return state


def month_ends(today: date, months: int) -> list[tuple[str, date]]:
    """The last `months` months up to this one, each with the day its snapshot is taken."""
    ends: list[tuple[str, date]] = []
    year, month = today.year, today.month
    for _ in range(months):
        last_day = deadlines.add_months(date(year, month, 1), 1) - timedelta(days=1)
        day = min(today, last_day)
        ends.append((f"{year:04d}-{month:02d}", day))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return ends[::-1]


def ratings_over_time(
    facts: Iterable[EntryFacts], *, today: date, months: int
) -> list[MonthRatings]:
    """How many people were at each rating at the end of each month (this month: today)."""
    histories = [fact.history for fact in facts]
    result = []
    for label, day in month_ends(today, months):
        counts = Counter(state_on(history, day) for history in histories)
        result.append(MonthRatings(month=label, **{rag: counts[rag] for rag in RATINGS}))
    return result


def time_to_first_mam(facts: Iterable[EntryFacts]) -> TimeToFirstMam:
    """Days from referral to the first MAM; people still waiting are counted apart."""
    days = []
    awaiting = 0
    for fact in facts:
        if fact.first_mam_on is not None:
            days.append((fact.first_mam_on - fact.referred_on).days)
        elif fact.state != "removed":
            awaiting += 1
    return TimeToFirstMam(
        with_first_mam=len(days),
        awaiting_first_mam=awaiting,
        median_days=median(days) if days else None,
        mean_days=round(mean(days), 1) if days else None,
    )


def summarise(facts: Sequence[EntryFacts], *, today: date, months: int) -> ReportSummary:
    """The summary commissioners read: every count under 5 suppressed, and no average of fewer
    than 5 people."""
    active = [fact for fact in facts if fact.state != "removed"]
    waited = time_to_first_mam(facts)
    enough = waited.with_first_mam is not None and waited.with_first_mam >= SMALL_COUNT
    return ReportSummary(
        referrals=suppressed(len(facts)),
        on_register=suppressed(len(active)),
        by_referral_source=_suppressed_counts(Counter(fact.referral_source for fact in facts)),
        by_referrer_kind=_suppressed_counts(Counter(fact.referrer_kind for fact in facts)),
        by_reason_for_referral=_suppressed_counts(
            Counter(r for fact in facts for r in fact.reasons)
        ),
        by_register=_suppressed_counts(Counter(fact.register for fact in active)),
        by_rating=_suppressed_counts(Counter(fact.rag or "unrated" for fact in active)),
        ratings_over_time=[
            MonthRatings(
                month=month.month,
                **{rag: suppressed(getattr(month, rag) or 0) for rag in RATINGS},
            )
            for month in ratings_over_time(facts, today=today, months=months)
        ],
        time_to_first_mam=TimeToFirstMam(
            with_first_mam=suppressed(waited.with_first_mam or 0),
            awaiting_first_mam=suppressed(waited.awaiting_first_mam or 0),
            median_days=waited.median_days if enough else None,
            mean_days=waited.mean_days if enough else None,
        ),
    )


def _day(moment: datetime) -> date:
    return moment.date()


def entry_facts(*, db_session: Session) -> list[EntryFacts]:
    rows = db_session.execute(
        select(RegisterEntry, Referral)
        .join(Referral, Referral.entry_id == RegisterEntry.id)
        .options(selectinload(RegisterEntry.transitions))
        .order_by(RegisterEntry.id)
    ).all()
    return [
        EntryFacts(
            referred_on=_day(entry.created_at),
            register=entry.register,
            rag=entry.rag,
            state=entry.state,
            age_group=entry.age_group,
            referral_source=entry.referral_source,
            referrer_kind=referral.referrer_kind,
            reasons=tuple(referral.matched_criteria),
            first_mam_on=entry.first_mam_on,
            history=tuple((_day(t.at), t.to_state) for t in entry.transitions),
        )
        for entry, referral in rows
    ]


# Counts of referrals by month and what they are now: no dsp_id, no date finer than a month,
# no group of fewer than 5 shown (commissioners only).
DEIDENTIFIED_COLUMNS: Final = (
    "referral_month",
    "register",
    "state",
    "age_group",
    "referral_source",
    "referrals",
)


def deidentified_rows(facts: Iterable[EntryFacts]) -> list[list[object]]:
    groups = Counter(
        (
            fact.referred_on.strftime("%Y-%m"),
            fact.register,
            fact.state,
            fact.age_group,
            fact.referral_source,
        )
        for fact in facts
    )
    return [
        [*group, SUPPRESSED_TEXT if suppressed(count) is None else count]
        for group, count in sorted(groups.items())
    ]

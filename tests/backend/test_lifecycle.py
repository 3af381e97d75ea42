"""The rating lifecycle (DESIGN.md "Ratings and registers"; 000; 001 sections 10 and 12)."""

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dsp_backend.register import lifecycle
from dsp_backend.register.lifecycle import Standing, TransitionRefused

TODAY = date(2026, 3, 10)
TWO_MONTHS = 2  # LLR's default step-down (000 text; the table says one month: a setting)


def kinds(change: lifecycle.Change) -> list[str]:
    return [effect.kind for effect in change.side_effects]


def move(state: lifecycle.State, to: lifecycle.State, **kwargs: object) -> lifecycle.Change:
    options: dict[str, object] = {"today": TODAY, "step_down_months": TWO_MONTHS, **kwargs}
    return lifecycle.transition(Standing(state), to, **options)  # type: ignore[arg-type]


# --- at referral (001 section 10) ---


def test_referral_to_the_dsr_is_amber_and_the_mam_request_is_automatic_000() -> None:
    change = lifecycle.at_referral("amber", today=TODAY, step_down_months=TWO_MONTHS)
    assert change.previous is None
    assert change.standing == Standing("amber")
    assert kinds(change) == ["mam_requested"]
    assert lifecycle.register_for("amber") == "DSR"


def test_direct_red_referral_goes_on_the_roar_and_notifies_the_tco_001_s10() -> None:
    change = lifecycle.at_referral("red", today=TODAY, step_down_months=TWO_MONTHS)
    assert kinds(change) == ["tco_notified", "cetr_requested"]
    assert lifecycle.register_for("red") == "ROAR"


def test_discharged_person_added_as_green_starts_a_step_down_001_s10() -> None:
    change = lifecycle.at_referral("green", today=TODAY, step_down_months=TWO_MONTHS)
    assert change.standing == Standing("green", date(2026, 5, 10))
    assert kinds(change) == []


def test_where_the_dsr_meeting_rates_a_referral_starts_unrated_with_nothing_to_follow_003() -> None:
    change = lifecycle.at_referral(None, today=TODAY, step_down_months=None)
    assert change.standing == Standing("unrated")
    assert kinds(change) == [] and change.previous is None


def test_the_dsr_meeting_rates_an_unrated_entry_and_what_follows_the_rating_follows_003() -> None:
    amber = move("unrated", "amber")
    assert (amber.previous, amber.standing) == ("unrated", Standing("amber"))
    assert kinds(move("unrated", "red")) == ["tco_notified", "cetr_requested"]
    with pytest.raises(TransitionRefused, match="cannot be moved to blue"):
        move("unrated", "blue")
    for state in ("amber", "red", "blue", "green"):
        with pytest.raises(TransitionRefused):
            move(state, "unrated")  # type: ignore[arg-type]


def test_nobody_is_referred_as_blue_000() -> None:
    with pytest.raises(TransitionRefused, match="blue"):
        lifecycle.at_referral("blue", today=TODAY, step_down_months=TWO_MONTHS)


# --- every row of the transition table ---


def test_amber_to_red_escalates_to_the_roar_tco_notified_cetr_arranged_000() -> None:
    change = move("amber", "red")
    assert change.standing == Standing("red")
    assert change.previous == "amber"
    assert kinds(change) == ["tco_notified", "cetr_requested"]


def test_red_to_amber_de_escalates_to_the_dsr_without_new_follow_ups() -> None:
    change = move("red", "amber")
    assert change.standing == Standing("amber")
    assert kinds(change) == []


def test_red_to_blue_on_admission_sets_oversight_visits_every_6_weeks_000_blue() -> None:
    change = move("red", "blue")
    assert change.standing == Standing("blue")
    assert change.side_effects == (
        lifecycle.SideEffect("commissioner_oversight_visit_due", TODAY + timedelta(weeks=6)),
    )
    assert lifecycle.register_for("blue") == "DSR"  # 000: "remain on the DSR ... blue cohort"


def test_blue_to_amber_on_discharge_needs_a_post_discharge_mam_not_a_referral_000() -> None:
    change = move("blue", "amber")
    assert kinds(change) == ["post_discharge_mam_due"]
    assert change.ends == frozenset({"commissioner_oversight_visit_due"})


def test_amber_to_green_when_mams_are_no_longer_needed_starts_step_down_000() -> None:
    change = move("amber", "green")
    assert change.standing == Standing("green", date(2026, 5, 10))


def test_green_step_down_length_is_the_variants_setting_000() -> None:
    assert move("amber", "green", step_down_months=1).standing.step_down_ends_on == date(
        2026, 4, 10
    )
    assert move("amber", "green", step_down_months=None).standing.step_down_ends_on is None


@pytest.mark.parametrize("to", ["amber", "red"])
def test_green_back_to_amber_or_red_within_step_down_without_new_referral_000(
    to: lifecycle.State,
) -> None:
    ends = TODAY + timedelta(days=1)
    change = lifecycle.transition(
        Standing("green", ends), to, today=TODAY, step_down_months=TWO_MONTHS
    )
    assert change.standing.state == to
    assert change.standing.step_down_ends_on is None
    assert kinds(change) == (
        ["mam_requested"] if to == "amber" else ["tco_notified", "cetr_requested"]
    )


@pytest.mark.parametrize("to", ["amber", "red"])
def test_green_cannot_go_back_once_step_down_is_over_000(to: lifecycle.State) -> None:
    with pytest.raises(TransitionRefused, match="step-down period ended on 2026-03-10"):
        lifecycle.transition(Standing("green", TODAY), to, today=TODAY, step_down_months=2)


def test_green_is_removed_when_step_down_is_over_and_the_referrer_is_told_000() -> None:
    change = lifecycle.transition(
        Standing("green", TODAY),
        "removed",
        removal_reason="step_down_ended",
        today=TODAY,
        step_down_months=TWO_MONTHS,
    )
    assert change.standing == Standing("removed")
    assert kinds(change) == ["referrer_notified"]


def test_step_down_removal_is_refused_before_the_period_ends_000() -> None:
    with pytest.raises(TransitionRefused, match="runs until 2026-03-11"):
        lifecycle.transition(
            Standing("green", TODAY + timedelta(days=1)),
            "removed",
            removal_reason="step_down_ended",
            today=TODAY,
            step_down_months=TWO_MONTHS,
        )


@pytest.mark.parametrize("state", ["amber", "red", "blue"])
def test_step_down_removal_applies_only_to_green(state: lifecycle.State) -> None:
    with pytest.raises(TransitionRefused, match="green step-down"):
        move(state, "removed", removal_reason="step_down_ended")


@pytest.mark.parametrize("state", ["amber", "red", "blue", "green"])
@pytest.mark.parametrize("why", ["criteria_not_met", "stood_down_by_mam"])
def test_any_rating_can_be_removed_and_the_referrer_is_told_001_s9_s12(
    state: lifecycle.State, why: lifecycle.RemovalReason
) -> None:
    change = lifecycle.transition(
        Standing(state, TODAY + timedelta(days=30) if state == "green" else None),
        "removed",
        removal_reason=why,
        today=TODAY,
        step_down_months=TWO_MONTHS,
    )
    assert change.standing.state == "removed"
    assert kinds(change) == ["referrer_notified"]
    assert "referrer_notified" not in change.ends
    assert "mam_requested" in change.ends


def test_removal_needs_a_reason() -> None:
    with pytest.raises(TransitionRefused, match="Say why"):
        move("amber", "removed")


def test_a_removal_reason_only_goes_with_a_removal() -> None:
    with pytest.raises(TransitionRefused, match="only goes with a removal"):
        move("amber", "red", removal_reason="criteria_not_met")


# --- what the table does not allow ---

ALLOWED = {
    # 003: the Tees Valley DSR meeting rates a referral it has received, or stands it down.
    ("unrated", "amber"),
    ("unrated", "red"),
    ("unrated", "green"),
    ("unrated", "removed"),
    ("amber", "red"),
    ("amber", "green"),
    ("amber", "removed"),
    ("red", "amber"),
    ("red", "blue"),
    ("red", "removed"),
    ("blue", "amber"),
    ("blue", "removed"),
    ("green", "amber"),
    ("green", "red"),
    ("green", "removed"),
}


def test_the_table_is_exactly_the_designs() -> None:
    table = {(a, b) for a, targets in lifecycle.TRANSITIONS.items() for b in targets}
    assert table == ALLOWED


@pytest.mark.parametrize(
    ("state", "to"),
    [
        (a, b)
        for a in lifecycle.STATES
        for b in lifecycle.STATES
        if (a, b) not in ALLOWED and a != "removed"
    ],
)
def test_every_change_outside_the_table_is_refused_with_a_reason(
    state: lifecycle.State, to: lifecycle.State
) -> None:
    with pytest.raises(TransitionRefused) as refused:
        move(state, to)
    assert str(refused.value)


@pytest.mark.parametrize("to", lifecycle.STATES)
def test_removed_is_final_a_new_referral_is_needed(to: lifecycle.State) -> None:
    with pytest.raises(TransitionRefused, match="new referral"):
        move("removed", to, removal_reason="criteria_not_met" if to == "removed" else None)


def test_oversight_visits_recur_only_while_blue_000() -> None:
    assert lifecycle.next_oversight_visit(TODAY, "blue") == lifecycle.SideEffect(
        "commissioner_oversight_visit_due", TODAY + timedelta(weeks=6)
    )
    assert lifecycle.next_oversight_visit(TODAY, "amber") is None


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (date(2026, 1, 31), 1, date(2026, 2, 28)),
        (date(2024, 12, 31), 2, date(2025, 2, 28)),
        (date(2026, 11, 15), 2, date(2027, 1, 15)),
        (date(2024, 2, 29), 12, date(2025, 2, 28)),
    ],
)
def test_add_months_keeps_the_day_or_the_months_last_day(
    start: date, months: int, expected: date
) -> None:
    assert lifecycle.add_months(start, months) == expected


# --- property: no sequence of calls reaches an invalid state ---

attempts = st.lists(
    st.tuples(
        st.sampled_from(lifecycle.STATES),
        st.sampled_from([None, *lifecycle.REMOVAL_REASONS]),
        st.integers(min_value=0, max_value=45),  # days that pass before the attempt
    ),
    max_size=40,
)


@given(
    st.sampled_from(sorted(lifecycle.AT_REFERRAL)),
    attempts,
    st.sampled_from([None, 1, 2]),
)
def test_no_sequence_of_calls_reaches_an_invalid_state(
    first: lifecycle.Rag, steps: list[tuple[lifecycle.State, object, int]], months: int | None
) -> None:
    today = TODAY
    standing = lifecycle.at_referral(first, today=today, step_down_months=months).standing
    for to, why, days in steps:
        today += timedelta(days=days)
        before = standing
        try:
            change = lifecycle.transition(
                standing,
                to,
                removal_reason=why,
                today=today,
                step_down_months=months,  # type: ignore[arg-type]
            )
        except TransitionRefused as refused:
            assert str(refused)  # refused with a reason, and nothing changed
            assert standing == before
            continue
        assert to in lifecycle.TRANSITIONS[before.state], "only table rows are ever applied"
        assert change.previous == before.state
        standing = change.standing
        assert standing.state in lifecycle.STATES
        # A step-down end exists exactly while green in a variant that has one.
        assert (standing.step_down_ends_on is not None) == (
            standing.state == "green" and months is not None
        )
        assert (to == "removed") == ("referrer_notified" in kinds(change))
        if before.state == "green" and to in ("amber", "red"):
            assert before.step_down_ends_on is None or today < before.step_down_ends_on
    if standing.state == "removed":
        with pytest.raises(TransitionRefused):
            lifecycle.transition(standing, "amber", today=today, step_down_months=months)

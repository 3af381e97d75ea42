"""The rating lifecycle (DESIGN.md "Ratings and registers"; 000; 001 sections 10 and 12)."""

from dataclasses import replace
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dsp_backend.register import deadlines, lifecycle
from dsp_backend.register.lifecycle import Rules, Standing, TransitionRefused
from dsp_backend.variants import service as variant_service

TODAY = date(2026, 3, 10)
TWO_MONTHS = 2  # LLR's default step-down (000 text; the table says one month: a setting)
LLR = variant_service.load("llr")
CHILD = lifecycle.rules_for(LLR, "cyp")
ADULT = lifecycle.rules_for(LLR, "adult")


def rules(step_down_months: int | None = TWO_MONTHS, base: Rules = CHILD) -> Rules:
    return replace(base, step_down_months=step_down_months)


def kinds(change: lifecycle.Change) -> list[str]:
    return [effect.kind for effect in change.side_effects]


def due(change: lifecycle.Change) -> dict[str, date | None]:
    return {effect.kind: effect.due_on for effect in change.side_effects}


def move(
    state: lifecycle.State,
    to: lifecycle.State,
    *,
    removal_reason: lifecycle.RemovalReason | None = None,
    step_down_months: int | None = TWO_MONTHS,
    base: Rules = CHILD,
) -> lifecycle.Change:
    return lifecycle.transition(
        Standing(state),
        to,
        removal_reason=removal_reason,
        today=TODAY,
        rules=rules(step_down_months, base),
    )


def refer(rag: lifecycle.Rag | None, base: Rules = CHILD) -> lifecycle.Change:
    return lifecycle.at_referral(rag, today=TODAY, rules=base)


# --- at referral (001 section 10) ---


def test_referral_to_the_dsr_is_amber_and_the_mam_request_is_automatic_000() -> None:
    change = refer("amber", ADULT)
    assert change.previous is None
    assert change.standing == Standing("amber")
    assert kinds(change) == ["mam_requested"]
    assert lifecycle.register_for("amber") == "DSR"


def test_a_childs_referral_asks_for_a_keyworker_where_the_variant_has_them_000_amber_003() -> None:
    assert kinds(refer("amber")) == ["mam_requested", "keyworker_referral_due"]
    assert due(refer("amber"))["keyworker_referral_due"] == TODAY + timedelta(weeks=2)
    assert "keyworker_referral_due" not in kinds(refer("amber", ADULT))
    west_sussex = lifecycle.rules_for(variant_service.load("west_sussex"), "cyp")
    assert west_sussex.keyworkers is False  # 004 names no keyworker service
    assert "keyworker_referral_due" not in kinds(refer("amber", west_sussex))


def test_the_first_mam_falls_due_by_the_variants_timescale() -> None:
    assert due(refer("amber", ADULT)) == {"mam_requested": TODAY + timedelta(weeks=4)}


def test_direct_red_referral_goes_on_the_roar_notifies_the_tco_and_a_cetr_falls_due_001_s10() -> (
    None
):
    change = refer("red", ADULT)
    assert kinds(change) == ["tco_notified", "cetr_requested"]
    # 000 red: "Set up of a community CETR"; its due date is the variant's timescale.
    assert due(change)["cetr_requested"] == TODAY + timedelta(weeks=2)
    assert due(change)["tco_notified"] is None
    assert lifecycle.register_for("red") == "ROAR"


def test_green_at_referral_is_an_identifier_and_starts_no_step_down_clock_001_s10() -> None:
    """001 s10: "please note this RAG is not in relation to their risk but as a means to
    identify these individuals"."""
    change = refer("green", ADULT)
    assert change.standing == Standing("green", None)
    assert kinds(change) == []
    with pytest.raises(TransitionRefused, match="green step-down"):
        lifecycle.transition(
            change.standing,
            "removed",
            removal_reason="step_down_ended",
            today=TODAY + timedelta(days=400),
            rules=ADULT,
        )


def test_where_the_dsr_meeting_rates_a_referral_starts_unrated_with_nothing_to_follow_003() -> None:
    change = refer(None, ADULT)
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
        refer("blue")


def test_variant_process_decides_who_is_told_and_who_organises_the_mam_003_004() -> None:
    """001 s10: the TCOs are told of red and the DSP admin lead requests the MAM in LLR; Tees
    Valley's DSR meeting and West Sussex's monthly review have neither (003, 004)."""
    for variant_id in ("tees_valley", "west_sussex"):
        local = lifecycle.rules_for(variant_service.load(variant_id), "adult")
        assert kinds(refer("red", local)) == ["cetr_requested"]
        assert kinds(refer("amber", local)) == []


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


INPATIENT = [
    "post_admission_cetr_due",
    "cpa_due",
    "inpatient_cetr_due",
    "commissioner_oversight_visit_due",
    "discharge_planning_due",
]


@pytest.mark.parametrize("state", ["red", "amber", "green"])
def test_admission_from_any_rating_is_blue_with_the_inpatient_linked_processes_000_blue(
    state: lifecycle.State,
) -> None:
    """000 blue: "will remain on the DSR ... in the blue cohort"; in-patient linked processes:
    post admission CETR, CPA, on-going CETRs, commissioner oversight visits, discharge planning."""
    change = move(state, "blue")
    assert change.standing == Standing("blue")
    assert kinds(change) == INPATIENT
    assert lifecycle.register_for("blue") == "DSR"
    # Admission makes the community C(E)TR and any MAM still to arrange moot.
    assert {"cetr_requested", "mam_requested", "post_discharge_mam_due"} <= change.ends


def test_inpatient_timescales_are_a_childs_or_an_adults_nhs_england_cetr_policy() -> None:
    """DESIGN.md timescales: post-admission C(E)TR within 2 weeks (children) or 4 (adults);
    inpatient C(E)TRs every 3 or 6 months; oversight visits every 6 (000) or 8 weeks."""
    child = due(move("red", "blue"))
    assert child["post_admission_cetr_due"] == TODAY + timedelta(weeks=2)
    assert child["inpatient_cetr_due"] == date(2026, 6, 10)
    assert child["commissioner_oversight_visit_due"] == TODAY + timedelta(weeks=6)
    adult = due(move("red", "blue", base=ADULT))
    assert adult["post_admission_cetr_due"] == TODAY + timedelta(weeks=4)
    assert adult["inpatient_cetr_due"] == date(2026, 9, 10)
    assert adult["commissioner_oversight_visit_due"] == TODAY + timedelta(weeks=8)
    assert all(adult[kind] is not None for kind in INPATIENT)


def test_every_interval_is_the_variants_setting() -> None:
    quicker = CHILD.timescales.model_copy(
        update={
            "oversight_visit": CHILD.timescales.oversight_visit.model_copy(
                update={"cyp": CHILD.timescales.oversight_visit.cyp.model_copy(update={"weeks": 4})}
            )
        }
    )
    change = lifecycle.transition(
        Standing("red"), "blue", today=TODAY, rules=replace(CHILD, timescales=quicker)
    )
    assert due(change)["commissioner_oversight_visit_due"] == TODAY + timedelta(weeks=4)


def test_blue_to_amber_on_discharge_needs_a_post_discharge_mam_not_a_referral_000() -> None:
    change = move("blue", "amber")
    assert kinds(change) == ["post_discharge_mam_due"]
    assert due(change)["post_discharge_mam_due"] == TODAY + timedelta(weeks=2)
    assert change.ends == frozenset(INPATIENT)


@pytest.mark.parametrize("why", ["stood_down_by_mam", "step_down_ended", "consent_withdrawn"])
def test_no_removal_while_blue_except_criteria_not_met_000_blue_001_s9(
    why: lifecycle.RemovalReason,
) -> None:
    with pytest.raises(TransitionRefused, match="whole stay"):
        move("blue", "removed", removal_reason=why)
    removed = move("blue", "removed", removal_reason="criteria_not_met")
    assert removed.standing.state == "removed"
    assert frozenset(INPATIENT) <= removed.ends


def test_amber_to_green_when_mams_are_no_longer_needed_starts_step_down_000() -> None:
    change = move("amber", "green")
    assert change.standing == Standing("green", date(2026, 5, 10))
    # 000 green: "No multi-agency meetings taking place".
    assert {"mam_requested", "follow_up_mam_due"} <= change.ends


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
    change = lifecycle.transition(Standing("green", ends), to, today=TODAY, rules=rules())
    assert change.standing.state == to
    assert change.standing.step_down_ends_on is None
    assert kinds(change) == (
        ["mam_requested"] if to == "amber" else ["tco_notified", "cetr_requested"]
    )


@pytest.mark.parametrize("to", ["amber", "red"])
def test_green_cannot_go_back_once_step_down_is_over_000(to: lifecycle.State) -> None:
    with pytest.raises(TransitionRefused, match="step-down period ended on 2026-03-10"):
        lifecycle.transition(Standing("green", TODAY), to, today=TODAY, rules=rules())


def test_green_is_removed_when_step_down_is_over_and_the_referrer_is_told_000() -> None:
    change = lifecycle.transition(
        Standing("green", TODAY),
        "removed",
        removal_reason="step_down_ended",
        today=TODAY,
        rules=rules(),
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
            rules=rules(),
        )


@pytest.mark.parametrize("state", ["amber", "red"])
def test_step_down_removal_applies_only_to_green(state: lifecycle.State) -> None:
    with pytest.raises(TransitionRefused, match="green step-down"):
        move(state, "removed", removal_reason="step_down_ended")


@pytest.mark.parametrize("state", ["amber", "red", "green"])
@pytest.mark.parametrize("why", ["criteria_not_met", "stood_down_by_mam", "consent_withdrawn"])
def test_any_rating_can_be_removed_and_the_referrer_is_told_001_s7_s9_s12(
    state: lifecycle.State, why: lifecycle.RemovalReason
) -> None:
    change = lifecycle.transition(
        Standing(state, TODAY + timedelta(days=30) if state == "green" else None),
        "removed",
        removal_reason=why,
        today=TODAY,
        rules=rules(),
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
    ("amber", "blue"),
    ("amber", "removed"),
    ("red", "amber"),
    ("red", "blue"),
    ("red", "removed"),
    ("blue", "amber"),
    ("blue", "removed"),
    ("green", "amber"),
    ("green", "red"),
    ("green", "blue"),
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


@pytest.mark.parametrize("kind", ["commissioner_oversight_visit_due", "inpatient_cetr_due"])
def test_inpatient_reviews_and_visits_recur_only_while_blue_000(
    kind: lifecycle.SideEffectKind,
) -> None:
    following = lifecycle.next_occurrence(kind, done_on=TODAY, state="blue", rules=CHILD)
    assert following is not None and following.kind == kind
    assert following.due_on == deadlines.task_due_on(
        kind, start=TODAY, age_group="cyp", timescales=CHILD.timescales
    )
    assert lifecycle.next_occurrence(kind, done_on=TODAY, state="amber", rules=CHILD) is None
    assert lifecycle.next_occurrence("cpa_due", done_on=TODAY, state="blue", rules=CHILD) is None


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
    standing = lifecycle.at_referral(first, today=today, rules=rules(months)).standing
    referred_green = True
    for to, why, days in steps:
        today += timedelta(days=days)
        before = standing
        try:
            change = lifecycle.transition(
                standing,
                to,
                removal_reason=why,  # type: ignore[arg-type]
                today=today,
                rules=rules(months),
            )
        except TransitionRefused as refused:
            assert str(refused)  # refused with a reason, and nothing changed
            assert standing == before
            continue
        assert to in lifecycle.TRANSITIONS[before.state], "only table rows are ever applied"
        assert change.previous == before.state
        standing = change.standing
        referred_green = False
        assert standing.state in lifecycle.STATES
        # A step-down end exists exactly while green in a variant that has one, except for
        # green at referral, which is an identifier (001 s10).
        assert (standing.step_down_ends_on is not None) == (
            standing.state == "green" and months is not None
        )
        assert (to == "removed") == ("referrer_notified" in kinds(change))
        if before.state == "blue" and to == "removed":
            assert why == "criteria_not_met"
        if before.state == "green" and to in ("amber", "red"):
            assert before.step_down_ends_on is None or today < before.step_down_ends_on
    if referred_green and first == "green":
        assert standing.step_down_ends_on is None
    if standing.state == "removed":
        with pytest.raises(TransitionRefused):
            lifecycle.transition(standing, "amber", today=today, rules=rules(months))

"""The deadline clock, rule by rule, with a fixed clock (DESIGN.md "Timescales"; 000; 001
sections 10, 12 and 14; 004). Every due date comes from register.deadlines and a variant's
settings, never from today's date."""

from datetime import date, timedelta
from importlib import resources

import pytest

from dsp_backend.register import deadlines
from dsp_backend.register.deadlines import Deadline, EntryClock, OpenTask
from dsp_backend.variants import service as variant_service
from dsp_backend.variants.schemas import AgeGroup

TODAY = date(2026, 3, 10)
LLR = variant_service.load("llr")
TEES_VALLEY = variant_service.load("tees_valley")
WEST_SUSSEX = variant_service.load("west_sussex")


def task_due(kind: str, age_group: AgeGroup = "cyp", start: date = TODAY) -> date | None:
    return deadlines.task_due_on(kind, start=start, age_group=age_group, timescales=LLR.timescales)


def clock(**kwargs: object) -> EntryClock:
    base: dict[str, object] = {
        "state": "amber",
        "age_group": "cyp",
        "step_down_ends_on": None,
        "consent_renewal_due_on": None,
    }
    return EntryClock(**{**base, **kwargs})  # type: ignore[arg-type]


# --- overdue and due soon ---


def test_overdue_once_the_day_has_passed_and_due_soon_within_the_window() -> None:
    def status(due_on: date | None) -> str | None:
        return deadlines.status(due_on, today=TODAY, within_days=14)

    assert status(TODAY - timedelta(days=1)) == "overdue"
    assert status(TODAY) == "due_soon"  # due today is not yet overdue
    assert status(TODAY + timedelta(days=14)) == "due_soon"
    assert status(TODAY + timedelta(days=15)) is None
    assert status(None) is None


# --- each rule's due date, from the variant's timescales ---


def test_first_mam_falls_due_four_weeks_after_the_referral_by_default_001_s10() -> None:
    assert task_due("mam_requested") == TODAY + timedelta(weeks=4)


def test_post_discharge_mam_falls_due_two_weeks_after_discharge_by_default_000_blue() -> None:
    assert task_due("post_discharge_mam_due") == TODAY + timedelta(weeks=2)


def test_community_cetr_on_red_falls_due_by_its_setting_000_red() -> None:
    assert task_due("cetr_requested") == TODAY + timedelta(weeks=2)


@pytest.mark.parametrize(
    ("age_group", "expected"),
    [("cyp", TODAY + timedelta(weeks=2)), ("adult", TODAY + timedelta(weeks=4))],
)
def test_post_admission_cetr_within_2_weeks_for_children_4_for_adults(
    age_group: AgeGroup, expected: date
) -> None:
    assert task_due("post_admission_cetr_due", age_group) == expected


@pytest.mark.parametrize(
    ("age_group", "expected"), [("cyp", date(2026, 6, 10)), ("adult", date(2026, 9, 10))]
)
def test_inpatient_cetrs_every_3_months_for_children_6_for_adults(
    age_group: AgeGroup, expected: date
) -> None:
    assert task_due("inpatient_cetr_due", age_group) == expected


@pytest.mark.parametrize(("age_group", "weeks"), [("cyp", 6), ("adult", 8)])
def test_oversight_visits_every_6_weeks_for_children_000_and_8_for_adults(
    age_group: AgeGroup, weeks: int
) -> None:
    assert task_due("commissioner_oversight_visit_due", age_group) == TODAY + timedelta(weeks=weeks)


def test_cpa_discharge_planning_and_keyworker_referral_follow_their_settings() -> None:
    assert task_due("cpa_due") == TODAY + timedelta(weeks=1)
    assert task_due("discharge_planning_due") == TODAY + timedelta(weeks=1)
    assert task_due("keyworker_referral_due") == TODAY + timedelta(weeks=2)


def test_notifications_and_meeting_actions_take_no_timescale_of_their_own() -> None:
    """A notification has no due date; an action's date is the one its MAM agreed."""
    for kind in ("tco_notified", "referrer_notified", "action_due", "follow_up_mam_due"):
        assert task_due(kind) is None


def test_every_timescale_has_a_default_and_a_source() -> None:
    for name, timescale in LLR.timescales:
        assert timescale.source, name
        for period in (timescale.cyp, timescale.adult):
            assert [period.days, period.weeks, period.months].count(0) == 2


def test_green_step_down_ends_after_the_variants_months_000() -> None:
    assert deadlines.step_down_end(TODAY, LLR.green_step_down_months) == date(2026, 5, 10)
    assert deadlines.step_down_end(TODAY, TEES_VALLEY.green_step_down_months) is None


def test_consent_falls_due_again_a_year_on_in_west_sussex_only_004() -> None:
    assert deadlines.consent_renewal_due(TODAY, WEST_SUSSEX.consent.renewal_months) == date(
        2027, 3, 10
    )
    assert deadlines.consent_renewal_due(TODAY, LLR.consent.renewal_months) is None


def test_the_transition_window_opens_at_17_years_10_months_001_s14() -> None:
    born = date(2009, 1, 15)
    assert deadlines.transition_window_opens(born, LLR) == date(2026, 11, 15)
    assert deadlines.adult_on(born, LLR) == date(2027, 1, 15)


def test_without_an_adults_register_the_handover_notice_runs_2_months_before_18() -> None:
    born = date(2009, 1, 15)
    assert deadlines.transition_window_opens(born, TEES_VALLEY) == date(2026, 11, 15)
    assert deadlines.transition_task(TEES_VALLEY) == "adult_services_handover_due"
    assert deadlines.transition_task(LLR) == "transition_planning_due"


def test_someone_born_on_29_february_turns_18_on_28_february() -> None:
    assert deadlines.birthday(date(2008, 2, 29), 18) == date(2026, 2, 28)


def test_personal_data_are_kept_12_months_after_removal_by_default() -> None:
    assert deadlines.retention_ends(TODAY, "adult", LLR.timescales) == date(2027, 3, 10)


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (date(2026, 1, 31), 1, date(2026, 2, 28)),
        (date(2024, 12, 31), 2, date(2025, 2, 28)),
        (date(2026, 11, 15), 2, date(2027, 1, 15)),
        (date(2024, 2, 29), 12, date(2025, 2, 28)),
        (date(2026, 3, 31), -1, date(2026, 2, 28)),
    ],
)
def test_add_months_keeps_the_day_or_the_months_last_day(
    start: date, months: int, expected: date
) -> None:
    assert deadlines.add_months(start, months) == expected


# --- one entry's deadlines ---


def test_an_entrys_deadlines_are_its_open_follow_ups_step_down_and_consent_soonest_first() -> None:
    found = deadlines.deadlines(
        clock(
            state="green",
            step_down_ends_on=date(2026, 5, 10),
            consent_renewal_due_on=date(2026, 4, 1),
            open_tasks=[
                OpenTask(1, "action_due", date(2026, 3, 20), "action:7"),
                OpenTask(2, "tco_notified", None),
            ],
        ),
        LLR,
    )
    assert found == [
        Deadline(date(2026, 3, 20), "action_due"),
        Deadline(date(2026, 4, 1), "consent_renewal"),
        Deadline(date(2026, 5, 10), "step_down_end"),
    ]
    assert (found[0].task_id, found[0].ref) == (1, "action:7")


def test_a_step_down_end_counts_only_while_green() -> None:
    amber = clock(state="amber", step_down_ends_on=date(2026, 5, 10))
    assert deadlines.deadlines(amber, LLR) == []


def test_a_childs_birthday_deadlines_show_only_with_the_date_of_birth() -> None:
    born = date(2009, 1, 15)
    found = deadlines.deadlines(clock(date_of_birth=born), LLR)
    assert [d.kind for d in found] == ["transition_window", "eighteenth_birthday"]
    assert deadlines.deadlines(clock(date_of_birth=born, age_group="adult"), LLR) == []
    # Nobody acts on these: housekeeping applies them on the day.
    assert deadlines.next_due(found) is None


def test_a_removed_person_has_only_the_end_of_retention_ahead_and_nothing_once_erased() -> None:
    removed = clock(state="removed", removed_on=TODAY, open_tasks=[OpenTask(1, "cpa_due", TODAY)])
    assert deadlines.deadlines(removed, LLR) == [Deadline(date(2027, 3, 10), "retention_end")]
    assert deadlines.next_due(deadlines.deadlines(removed, LLR)) is None
    erased = clock(state="removed", removed_on=TODAY, erased=True)
    assert deadlines.deadlines(erased, LLR) == []


# --- what housekeeping applies, and that applying it makes it not due again ---


def test_green_step_down_over_is_due_for_removal_on_its_last_day_000() -> None:
    green = clock(state="green", step_down_ends_on=TODAY)
    assert deadlines.housekeeping_due(green, LLR, today=TODAY - timedelta(days=1)) == []
    assert deadlines.housekeeping_due(green, LLR, today=TODAY) == ["end_step_down"]
    # Green at referral has no end: nothing to remove.
    assert deadlines.housekeeping_due(clock(state="green"), LLR, today=TODAY) == []


def test_the_transition_window_opens_a_planning_task_once_001_s14() -> None:
    born = date(2008, 5, 1)  # the window opened on 2026-03-01
    due = deadlines.housekeeping_due(clock(date_of_birth=born), LLR, today=TODAY)
    assert due == ["open_transition_window"]
    planned = clock(date_of_birth=born, task_kinds_ever=frozenset({"transition_planning_due"}))
    assert deadlines.housekeeping_due(planned, LLR, today=TODAY) == []


def test_on_the_18th_birthday_llr_moves_the_person_to_the_adults_register() -> None:
    born = date(2008, 3, 10)
    planned = frozenset({"transition_planning_due"})
    child = clock(date_of_birth=born, task_kinds_ever=planned)
    assert deadlines.housekeeping_due(child, LLR, today=TODAY) == ["move_to_adults"]
    adult = clock(date_of_birth=born, task_kinds_ever=planned, age_group="adult")
    assert deadlines.housekeeping_due(adult, LLR, today=TODAY) == []


def test_without_an_adults_register_the_18th_birthday_is_a_handover_task_not_a_move() -> None:
    born = date(2008, 3, 10)
    child = clock(date_of_birth=born)
    assert deadlines.housekeeping_due(child, TEES_VALLEY, today=TODAY) == ["open_transition_window"]
    handed = clock(date_of_birth=born, task_kinds_ever=frozenset({"adult_services_handover_due"}))
    assert deadlines.housekeeping_due(handed, TEES_VALLEY, today=TODAY) == []


def test_personal_data_are_due_for_erasure_when_retention_ends_and_only_once() -> None:
    removed = clock(state="removed", removed_on=date(2025, 3, 10))
    assert deadlines.housekeeping_due(removed, LLR, today=date(2026, 3, 9)) == []
    assert deadlines.housekeeping_due(removed, LLR, today=TODAY) == ["erase_personal_data"]
    erased = clock(state="removed", removed_on=date(2025, 3, 10), erased=True)
    assert deadlines.housekeeping_due(erased, LLR, today=TODAY) == []


def test_every_follow_up_with_a_timescale_names_one_the_variant_has() -> None:
    for kind, name in deadlines.TIMESCALE_OF.items():
        assert name in type(LLR.timescales).model_fields, kind


def test_a_variant_file_sets_its_own_timescales_and_a_bad_one_is_refused_at_start() -> None:
    text = resources.files("dsp_backend.variants").joinpath("llr.yml").read_text(encoding="utf-8")
    local = (
        "\ntimescales:\n  oversight_visit:\n    cyp: {weeks: 4}\n    adult: {weeks: 4}\n"
        "    source: local agreement\n"
    )
    variant = variant_service.parse("llr.yml", text + local)
    assert variant.timescales.oversight_visit.for_age("adult").weeks == 4
    assert variant.timescales.first_mam == LLR.timescales.first_mam  # the rest keep defaults
    bad = local.replace("{weeks: 4}\n    source", "{weeks: 4, days: 2}\n    source")
    with pytest.raises(variant_service.VariantError, match="timescales.oversight_visit.adult"):
        variant_service.parse("llr.yml", text + bad)

"""Commissioners' reports: sources of demand, reasons for referral, ratings over time and time to
first MAM, with nothing that identifies a person (001 section 6; DESIGN.md roles)."""

import csv
import io
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import event
from sqlalchemy.orm import Session
from test_referrals_factory import new_nhs_number, referral_body

from dsp_backend.auth.schemas import Role
from dsp_backend.register import reports
from dsp_backend.register.reports import EntryFacts

TokenFor = Callable[[Role], dict[str, str]]


def fact(
    referred_on: date,
    history: tuple[tuple[date, Any], ...],
    *,
    source: str = "professional",
    kind: str = "health",
    reasons: tuple[str, ...] = ("amber.carer_strain",),
    first_mam_on: date | None = None,
) -> EntryFacts:
    last = history[-1][1]
    rag = next(state for _day, state in reversed(history) if state != "removed")
    return EntryFacts(
        referred_on=referred_on,
        register="ROAR" if rag == "red" else "DSR",
        rag=rag,
        state=last,
        age_group="cyp",
        referral_source=source,
        referrer_kind=kind,
        reasons=reasons,
        first_mam_on=first_mam_on,
        history=history,
    )


FACTS = [
    fact(
        date(2026, 1, 5),
        ((date(2026, 1, 5), "amber"), (date(2026, 2, 20), "red")),
        first_mam_on=date(2026, 1, 15),
    ),
    fact(
        date(2026, 2, 1),
        ((date(2026, 2, 1), "amber"), (date(2026, 3, 1), "removed")),
        kind="education",
        reasons=("amber.carer_strain", "amber.behaviours_that_challenge"),
        first_mam_on=date(2026, 2, 21),
    ),
    fact(date(2026, 3, 2), ((date(2026, 3, 2), "amber"),), source="self", kind="family"),
]


def test_counts_by_source_of_demand_and_reason_for_referral_001_s6() -> None:
    summary = reports.summarise(FACTS * 5, today=date(2026, 3, 10), months=3)
    assert (summary.referrals, summary.on_register) == (15, 10)
    assert summary.by_referral_source == {"professional": 10, "self": 5}
    assert summary.by_referrer_kind == {"health": 5, "education": 5, "family": 5}
    assert summary.by_reason_for_referral == {
        "amber.carer_strain": 15,
        "amber.behaviours_that_challenge": 5,
    }
    assert summary.by_register == {"ROAR": 5, "DSR": 5}
    assert summary.by_rating == {"red": 5, "amber": 5}
    assert (summary.time_to_first_mam.median_days, summary.time_to_first_mam.mean_days) == (
        15,
        15.0,
    )


def test_every_count_under_5_is_suppressed_and_no_average_of_fewer_than_5() -> None:
    """Small numbers could point to a person: 1 to 4 are not shown (None); 0 is."""
    summary = reports.summarise(FACTS, today=date(2026, 3, 10), months=3)
    assert (summary.referrals, summary.on_register) == (None, None)
    assert set(summary.by_referral_source.values()) == {None}
    assert set(summary.by_reason_for_referral.values()) == {None}
    assert set(summary.by_rating.values()) == {None}
    january = summary.ratings_over_time[0]
    assert (january.amber, january.red, january.blue) == (None, 0, 0)
    waited = summary.time_to_first_mam
    assert (waited.with_first_mam, waited.median_days, waited.mean_days) == (None, None, None)
    assert [reports.suppressed(n) for n in (0, 1, 4, 5, 6)] == [0, None, None, 5, 6]


def test_ratings_over_time_count_each_month_at_its_end() -> None:
    months = reports.ratings_over_time(FACTS, today=date(2026, 3, 10), months=3)
    assert [(m.month, m.amber, m.red) for m in months] == [
        ("2026-01", 1, 0),
        ("2026-02", 1, 1),  # the first escalated on 20 Feb; the second still amber
        ("2026-03", 1, 1),  # the second was removed on 1 Mar; the third referred
    ]


def test_month_ends_cross_the_year_and_stop_at_today() -> None:
    assert reports.month_ends(date(2026, 2, 10), 3) == [
        ("2025-12", date(2025, 12, 31)),
        ("2026-01", date(2026, 1, 31)),
        ("2026-02", date(2026, 2, 10)),
    ]


def test_time_from_referral_to_first_mam() -> None:
    waited = reports.time_to_first_mam(FACTS)
    assert (waited.with_first_mam, waited.awaiting_first_mam) == (2, 1)
    assert (waited.median_days, waited.mean_days) == (15, 15.0)
    none_yet = reports.time_to_first_mam(FACTS[2:])
    assert (none_yet.median_days, none_yet.mean_days) == (None, None)


@contextmanager
def statements(db_session: Session) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(*args: Any) -> None:
        seen.append(args[2])

    engine = db_session.get_bind().engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def test_the_summary_api_counts_new_referrals_and_first_mams(
    client: TestClient, token_for: TokenFor, db_session: Session
) -> None:
    commissioner = token_for(Role.commissioner)
    before = client.get("/api/v1/reports/summary", headers=commissioner).json()
    assert before["referrals"] == 0  # each test starts from an empty register
    referrer, admin = token_for(Role.referrer), token_for(Role.dsr_admin)
    made = []
    for _ in range(5):
        nhs_number = new_nhs_number()
        dsp_id = client.post(
            "/api/v1/referrals", json=referral_body(nhs_number=nhs_number), headers=referrer
        ).json()["dsp_id"]
        client.post(
            f"/api/v1/register/{dsp_id}/mams",
            json={"held_on": date.today().isoformat()},
            headers=admin,
        )
        made.append((dsp_id, nhs_number))
    with statements(db_session) as seen:
        response = client.get("/api/v1/reports/summary", headers=commissioner)
    after = response.json()
    assert after["referrals"] == 5
    assert after["by_referral_source"] == {"professional": 5}
    assert after["by_reason_for_referral"] == {
        "amber.carer_strain": 5,
        "amber.behaviours_that_challenge": 5,
    }
    assert after["time_to_first_mam"]["with_first_mam"] == 5
    assert after["time_to_first_mam"]["median_days"] == 0
    assert after["ratings_over_time"][-1]["amber"] == 5
    # Nothing identifying is read, let alone returned.
    assert any("register_entry" in sql for sql in seen)
    assert not any("referral_personal" in sql for sql in seen)
    for dsp_id, nhs_number in made:
        assert dsp_id not in response.text and nhs_number not in response.text
    assert "Alex" not in response.text


def test_the_summary_api_shows_fewer_than_5_as_none(
    client: TestClient, token_for: TokenFor
) -> None:
    referrer = token_for(Role.referrer)
    for _ in range(4):
        client.post("/api/v1/referrals", json=referral_body(), headers=referrer)
    summary = client.get("/api/v1/reports/summary", headers=token_for(Role.commissioner)).json()
    assert (summary["referrals"], summary["by_referral_source"]) == (None, {"professional": None})


def test_the_deidentified_export_counts_groups_and_hides_groups_under_5(
    client: TestClient, token_for: TokenFor, db_session: Session
) -> None:
    referrer = token_for(Role.referrer)
    made = [
        client.post("/api/v1/referrals", json=referral_body(), headers=referrer).json()["dsp_id"]
        for _ in range(5)
    ]
    made.append(
        client.post("/api/v1/referrals", json=referral_body(age=40), headers=referrer).json()[
            "dsp_id"
        ]
    )
    with statements(db_session) as seen:
        response = client.get("/api/v1/reports/register.csv", headers=token_for(Role.commissioner))
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.text)))
    assert tuple(rows[0]) == reports.DEIDENTIFIED_COLUMNS
    month = date.today().strftime("%Y-%m")
    assert sorted(rows[1:]) == [
        [month, "DSR", "amber", "adult", "professional", "<5"],
        [month, "DSR", "amber", "cyp", "professional", "5"],
    ]
    assert any("register_entry" in sql for sql in seen)
    assert not any("referral_personal" in sql for sql in seen)
    for value in (*made, "Alex", date.today().isoformat()):
        assert value not in response.text

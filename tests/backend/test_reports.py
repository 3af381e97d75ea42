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
    summary = reports.summarise(FACTS, today=date(2026, 3, 10), months=3)
    assert (summary.referrals, summary.on_register) == (3, 2)
    assert summary.by_referral_source == {"professional": 2, "self": 1}
    assert summary.by_referrer_kind == {"health": 1, "education": 1, "family": 1}
    assert summary.by_reason_for_referral == {
        "amber.carer_strain": 3,
        "amber.behaviours_that_challenge": 1,
    }
    assert summary.by_register == {"ROAR": 1, "DSR": 1}
    assert summary.by_rating == {"red": 1, "amber": 1}


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
    referrer, admin = token_for(Role.referrer), token_for(Role.dsr_admin)
    nhs_number = new_nhs_number()
    dsp_id = client.post(
        "/api/v1/referrals", json=referral_body(nhs_number=nhs_number), headers=referrer
    ).json()["dsp_id"]
    client.post(
        f"/api/v1/register/{dsp_id}/mams", json={"held_on": date.today().isoformat()}, headers=admin
    )
    with statements(db_session) as seen:
        response = client.get("/api/v1/reports/summary", headers=commissioner)
    after = response.json()
    assert after["referrals"] == before["referrals"] + 1
    assert (
        after["by_referral_source"]["professional"]
        == before["by_referral_source"].get("professional", 0) + 1
    )
    for reason in ("amber.carer_strain", "amber.behaviours_that_challenge"):
        assert (
            after["by_reason_for_referral"][reason]
            == before["by_reason_for_referral"].get(reason, 0) + 1
        )
    assert (
        after["time_to_first_mam"]["with_first_mam"]
        == before["time_to_first_mam"]["with_first_mam"] + 1
    )
    assert after["ratings_over_time"][-1]["amber"] == before["ratings_over_time"][-1]["amber"] + 1
    # Nothing identifying is read, let alone returned.
    assert any("register_entry" in sql for sql in seen)
    assert not any("referral_personal" in sql for sql in seen)
    for value in (dsp_id, nhs_number, "Alex"):
        assert value not in response.text


def test_the_deidentified_export_has_no_id_name_number_or_exact_date(
    client: TestClient, token_for: TokenFor, db_session: Session
) -> None:
    nhs_number = new_nhs_number()
    dsp_id = client.post(
        "/api/v1/referrals",
        json=referral_body(nhs_number=nhs_number),
        headers=token_for(Role.referrer),
    ).json()["dsp_id"]
    with statements(db_session) as seen:
        response = client.get("/api/v1/reports/register.csv", headers=token_for(Role.commissioner))
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.text)))
    assert tuple(rows[0]) == reports.DEIDENTIFIED_COLUMNS
    assert all(len(row[0]) == len("2026-11") for row in rows[1:])
    assert [date.today().strftime("%Y-%m"), "DSR", "amber"] in [row[:3] for row in rows[1:]]
    assert any("register_entry" in sql for sql in seen)
    assert not any("referral_personal" in sql for sql in seen)
    for value in (dsp_id, nhs_number, "Alex", date.today().isoformat()):
        assert value not in response.text

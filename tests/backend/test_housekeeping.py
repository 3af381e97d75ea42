"""Housekeeping applies what the deadline clock says is due, and a second run changes nothing
more: green step-down over (000), the transition window and the 18th birthday (001 section 14;
DESIGN.md), reminders, retention. Run at a fixed moment, in the test's transaction, and once
through the command line on a database of its own."""

from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from db_backends import BACKENDS, postgres_database
from register_factory import move, person
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dsp_backend import cli
from dsp_backend.audit.models import AuditEvent
from dsp_backend.config import get_settings
from dsp_backend.database.core import get_engine, get_sessionmaker
from dsp_backend.outbox.models import OutboxMessage
from dsp_backend.referrals.models import ReferralPersonal
from dsp_backend.register import housekeeping
from dsp_backend.register.models import RatingTransition, RegisterEntry, RegisterEvent, RegisterTask
from dsp_backend.variants import service as variant_service

NOW = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)


def snapshot(db_session: Session) -> dict[str, Any]:
    """Everything housekeeping could change, row by row."""
    db_session.expire_all()

    def rows(*columns: Any) -> list[tuple[Any, ...]]:
        return [tuple(row) for row in db_session.execute(select(*columns).order_by(columns[0]))]

    return {
        "entries": rows(
            RegisterEntry.id,
            RegisterEntry.rag,
            RegisterEntry.age_group,
            RegisterEntry.removed_at,
            RegisterEntry.erased_at,
        ),
        "transitions": rows(RatingTransition.id, RatingTransition.reason),
        "tasks": rows(RegisterTask.id, RegisterTask.kind, RegisterTask.closed_at),
        "events": rows(RegisterEvent.id, RegisterEvent.ref),
        "personal": rows(ReferralPersonal.id),
        "outbox": rows(OutboxMessage.id),
        "audit": db_session.scalar(select(func.count(AuditEvent.id))),
    }


def run(db_session: Session, now: datetime = NOW) -> cli.Housekept:
    done = cli.housekeep(db_session=db_session, settings=get_settings(), now=now)
    db_session.flush()
    return done


def task_kinds(entry: RegisterEntry) -> list[str]:
    return [task.kind for task in entry.tasks]


def test_green_step_down_over_is_removed_and_the_referrer_told_000(db_session: Session) -> None:
    entry = person(db_session, referred=datetime(2025, 11, 1, tzinfo=UTC), born=date(1990, 1, 1))
    move(db_session, entry, "green", datetime(2026, 1, 5, tzinfo=UTC))
    assert entry.step_down_ends_on == date(2026, 3, 5)
    assert run(db_session, datetime(2026, 3, 4, tzinfo=UTC)).applied.step_downs_ended == 0
    assert entry.state == "green"
    done = run(db_session)
    assert done.applied.step_downs_ended == 1
    assert (entry.state, entry.removal_reason) == ("removed", "step_down_ended")
    assert entry.transitions[-1].role == "dsr_admin" and entry.transitions[-1].actor == "token:0"
    # The meetings' notifications tell the referrer (001 s9) in the same run.
    assert "1 notification(s) queued" in done.told
    assert "referrer_notified" in task_kinds(entry)


def test_green_at_referral_is_never_removed_by_the_clock_001_s10(db_session: Session) -> None:
    entry = person(
        db_session, referred=datetime(2025, 1, 1, tzinfo=UTC), born=date(1990, 1, 1), rag="green"
    )
    run(db_session)
    assert entry.state == "green"


def test_the_transition_window_then_the_18th_birthday_move_a_child_to_adults_001_s14(
    db_session: Session,
) -> None:
    born = date(2008, 4, 1)  # window 2026-02-01, 18 on 2026-04-01
    entry = person(db_session, referred=datetime(2025, 6, 1, tzinfo=UTC), born=born)
    done = run(db_session)
    assert (done.applied.transition_tasks, done.applied.moved_to_adults) == (1, 0)
    planning = next(t for t in entry.tasks if t.kind == "transition_planning_due")
    assert planning.due_on == date(2026, 4, 1)
    assert entry.age_group == "cyp"
    done = run(db_session, datetime(2026, 4, 1, 8, 0, tzinfo=UTC))
    assert (done.applied.transition_tasks, done.applied.moved_to_adults) == (0, 1)
    # DESIGN.md: the same rating carries over to the adults' register.
    assert (entry.age_group, entry.rag, entry.register) == ("adult", "amber", "DSR")
    assert [e.kind for e in entry.events if e.kind == "moved_to_adults"] == ["moved_to_adults"]


def test_without_an_adults_register_a_handover_task_falls_due_on_the_18th_birthday(
    db_session: Session,
) -> None:
    born = date(2008, 3, 1)
    entry = person(
        db_session,
        referred=datetime(2025, 6, 1, tzinfo=UTC),
        born=born,
        rag=None,
        variant_id="tees_valley",
    )
    done = run(db_session)
    assert (done.applied.transition_tasks, done.applied.moved_to_adults) == (1, 0)
    handover = next(t for t in entry.tasks if t.kind == "adult_services_handover_due")
    assert handover.due_on == date(2026, 3, 1)
    assert entry.age_group == "cyp"  # 003: no adults' register to move to


def test_reminders_go_once_to_the_admin_lead_by_dsp_id_only(db_session: Session) -> None:
    entry = person(db_session, referred=datetime(2026, 1, 1, tzinfo=UTC), born=date(1990, 1, 1))
    mam = next(t for t in entry.tasks if t.kind == "mam_requested")
    assert mam.due_on == date(2026, 1, 29)
    done = run(db_session)
    assert (done.reminded, done.reminder_emails) == (1, 1)
    message = db_session.scalars(
        select(OutboxMessage).where(OutboxMessage.kind == "register_reminder")
    ).one()
    assert message.to_address == "lpt.adult-lda-dsp@nhs.net"  # the LLR DSP admin lead
    assert entry.dsp_id in message.body and "overdue since 29 January 2026" in message.body
    for personal in ("Alex", "Example", "1990"):
        assert personal not in message.body and personal not in message.subject
    assert [e.ref for e in entry.events if e.kind == "reminder_sent"] == [
        f"overdue:mam_requested:2026-01-29:{mam.id}"
    ]
    assert run(db_session).reminder_emails == 0


def test_a_deadline_is_reminded_when_due_soon_and_again_when_overdue(db_session: Session) -> None:
    entry = person(db_session, referred=datetime(2026, 2, 20, tzinfo=UTC), born=date(1990, 1, 1))
    assert run(db_session, datetime(2026, 3, 10, tzinfo=UTC)).reminded == 1  # due on 20 March
    assert run(db_session, datetime(2026, 3, 15, tzinfo=UTC)).reminded == 0
    assert run(db_session, datetime(2026, 3, 21, tzinfo=UTC)).reminded == 1
    refs = [e.ref for e in entry.events if e.kind == "reminder_sent"]
    assert [ref.split(":")[0] for ref in refs if ref] == ["due_soon", "overdue"]


def test_a_second_run_changes_nothing_more(db_session: Session) -> None:
    # One of each: step-down over, a birthday, an overdue follow-up, retention over.
    green = person(db_session, referred=datetime(2025, 11, 1, tzinfo=UTC), born=date(1990, 1, 1))
    move(db_session, green, "green", datetime(2026, 1, 5, tzinfo=UTC))
    person(db_session, referred=datetime(2025, 6, 1, tzinfo=UTC), born=date(2008, 3, 1))
    person(db_session, referred=datetime(2026, 1, 1, tzinfo=UTC), born=date(1990, 1, 1))
    gone = person(db_session, referred=datetime(2024, 12, 1, tzinfo=UTC), born=date(1990, 1, 1))
    move(db_session, gone, "removed", datetime(2025, 1, 2, tzinfo=UTC), "criteria_not_met")
    before = snapshot(db_session)
    first = run(db_session)
    assert first.applied.step_downs_ended == 1 and first.applied.moved_to_adults == 1
    assert first.reminded >= 1 and first.erased == 1
    after_first = snapshot(db_session)
    assert after_first != before
    second = run(db_session)
    assert snapshot(db_session) == after_first
    assert (
        second.applied.step_downs_ended,
        second.applied.transition_tasks,
        second.applied.moved_to_adults,
        second.reminded,
        second.erased,
    ) == (0, 0, 0, 0, 0)
    assert second.told.startswith("0 notification(s) queued")


# --- the command line, on a database of its own ---


@pytest.fixture(params=BACKENDS)
def own_database(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[[], Session]]:
    """A database of the command's own, as `make run` has: SQLite, and PostgreSQL when the
    tests have one."""
    urls: Iterator[str] = (
        iter([f"sqlite:///{tmp_path / 'cli.sqlite3'}"])
        if request.param == "sqlite"
        else postgres_database()
    )
    monkeypatch.setenv("DATABASE_URL", next(urls))
    monkeypatch.setenv("DSP_VAR_DIR", str(tmp_path))
    monkeypatch.delenv("DSP_SMTP_HOST", raising=False)
    for cached in (get_settings, get_engine, get_sessionmaker):
        cached.cache_clear()
    assert cli.main(["migrate"]) == 0
    yield get_sessionmaker()
    get_engine().dispose()
    for cached in (get_settings, get_engine, get_sessionmaker):
        cached.cache_clear()
    for _ in urls:  # drops the PostgreSQL database
        pass


def test_dsp_backend_housekeeping_twice_changes_nothing_more(
    own_database: Callable[[], Session], capsys: pytest.CaptureFixture[str]
) -> None:
    today = datetime.now(UTC)
    with own_database() as db_session:
        green = person(db_session, referred=today - timedelta(days=120), born=date(1990, 1, 1))
        move(db_session, green, "green", today - timedelta(days=80))
        db_session.commit()
        dsp_id = green.dsp_id
    assert cli.main(["housekeeping"]) == 0
    first = capsys.readouterr().out
    assert "removed 1 at the end of their step-down" in first
    with own_database() as db_session:
        entry = db_session.scalars(
            select(RegisterEntry).where(RegisterEntry.dsp_id == dsp_id)
        ).one()
        assert entry.state == "removed"
        before = snapshot(db_session)
    assert cli.main(["housekeeping"]) == 0
    second = capsys.readouterr().out
    assert "removed 0 at the end of their step-down" in second
    with own_database() as db_session:
        assert snapshot(db_session) == before
    # Nothing personal reaches the command's output.
    for personal in ("Alex", "Example"):
        assert personal not in first + second


def test_housekeeping_uses_no_address_it_does_not_have() -> None:
    """West Sussex lists no email for its coordinator: reminders wait for an address."""
    assert housekeeping.reminder_address(variant_service.load("west_sussex")) is None
    assert housekeeping.reminder_address(variant_service.load("tees_valley")) == (
        "nencicb-tv.childrensdsr@nhs.net"
    )

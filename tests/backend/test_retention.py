"""Retention. Conversations (security issue, finding 6): Rasa's tracker store keeps raw text and
slots; housekeeping deletes the conversations gone quiet for longer than the variant's retention
period, and nothing else. The register: a removed person's personal data are erased once the
variant's retention period is over, and nothing else is."""

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from register_factory import move, person
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from dsp_backend.audit.models import AuditEvent
from dsp_backend.chat import retention
from dsp_backend.database.core import make_engine
from dsp_backend.personal_data import service as personal_data_service
from dsp_backend.register import reports
from dsp_backend.register import service as register_service
from dsp_backend.register.housekeeping import HOUSEKEEPING


def test_quiet_conversations_are_deleted_and_live_ones_kept(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'tracker.sqlite3'}")
    now = datetime.now(UTC)
    with engine.begin() as connection:
        connection.execute(
            text(
                "CREATE TABLE events (id INTEGER PRIMARY KEY, sender_id TEXT, type_name TEXT, "
                "timestamp FLOAT, data TEXT)"
            )
        )
        rows = [
            ("quiet", (now - timedelta(hours=80)).timestamp()),
            ("quiet", (now - timedelta(hours=75)).timestamp()),
            ("live", (now - timedelta(hours=80)).timestamp()),
            ("live", (now - timedelta(hours=1)).timestamp()),
        ]
        for sender, stamp in rows:
            connection.execute(
                text(
                    "INSERT INTO events (sender_id, type_name, timestamp, data) "
                    "VALUES (:s, 'user', :t, '{\"text\": \"my NHS number is 9434765919\"}')"
                ),
                {"s": sender, "t": stamp},
            )
    assert retention.purge_quiet(engine=engine, now=now, retention_hours=72) == 1
    with engine.connect() as connection:
        left = [r[0] for r in connection.execute(text("SELECT sender_id FROM events"))]
    assert left == ["live", "live"]
    # A second run changes nothing more.
    assert retention.purge_quiet(engine=engine, now=now, retention_hours=72) == 0


def test_no_tracker_store_yet_is_not_an_error(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'empty.sqlite3'}")
    assert retention.purge_quiet(engine=engine, now=datetime.now(UTC), retention_hours=72) == 0


# --- the register: personal data erased once the retention period after removal is over ---


def test_personal_data_are_erased_after_retention_and_nothing_else_is(db_session: Session) -> None:
    """DESIGN.md data protection: kept while on the pathway plus the variant's retention (12
    months by default), then erased; the dsp_id, ratings history and de-identified facts stay,
    and the erasure is in the audit log."""
    now = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
    born = date(1990, 1, 1)
    due = person(db_session, referred=datetime(2024, 12, 1, tzinfo=UTC), born=born)
    move(db_session, due, "removed", datetime(2025, 3, 10, 8, 0, tzinfo=UTC), "criteria_not_met")
    recent = person(db_session, referred=datetime(2025, 12, 1, tzinfo=UTC), born=born)
    move(db_session, recent, "removed", datetime(2025, 12, 20, tzinfo=UTC), "stood_down_by_mam")
    active = person(db_session, referred=datetime(2024, 1, 1, tzinfo=UTC), born=born)
    before = len(reports.entry_facts(db_session=db_session))

    assert personal_data_service.erase_due(db_session=db_session, actor=HOUSEKEEPING, now=now) == 1
    db_session.flush()
    db_session.expire_all()
    assert register_service.personal_of(db_session=db_session, entry=due) is None
    assert due.erased_at is not None and due.dsp_id.startswith("DSP-")
    assert [(t.from_state, t.to_state, t.reason) for t in due.transitions] == [
        (None, "amber", ""),
        ("amber", "removed", ""),
    ]
    for kept in (recent, active):
        personal = register_service.personal_of(db_session=db_session, entry=kept)
        assert personal is not None and personal.given_name == "Alex"
        assert kept.erased_at is None and kept.transitions[0].reason == "referral"
    # The de-identified facts behind commissioners' counts are all still there.
    assert len(reports.entry_facts(db_session=db_session)) == before
    erasure = db_session.scalars(
        select(AuditEvent).where(
            AuditEvent.entity_id == due.dsp_id, AuditEvent.action == "personal_data.erase"
        )
    ).one()
    assert (erasure.actor, erasure.role) == ("token:0", "dsr_admin")
    assert "personal_details_and_referral_form" in erasure.fields
    # A second run erases nothing more; the day before the period ends, nothing at all.
    assert personal_data_service.erase_due(db_session=db_session, actor=HOUSEKEEPING, now=now) == 0
    later = datetime(2026, 12, 19, tzinfo=UTC)
    assert (
        personal_data_service.erase_due(db_session=db_session, actor=HOUSEKEEPING, now=later) == 0
    )
    assert (
        personal_data_service.erase_due(
            db_session=db_session, actor=HOUSEKEEPING, now=later + timedelta(days=1)
        )
        == 1
    )

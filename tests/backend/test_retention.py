"""Retention of conversations (security issue, finding 6): Rasa's tracker store keeps raw text
and slots; housekeeping deletes the conversations gone quiet for longer than the variant's
retention period, and nothing else."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import text

from dsp_backend.chat import retention
from dsp_backend.database.core import make_engine


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

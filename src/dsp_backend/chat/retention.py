"""Conversations are kept in Rasa's SQL tracker store (its `events` table, beside the register),
raw text and slots included: those of conversations gone quiet for longer than the variant's
retention period are deleted by housekeeping (DESIGN.md: retention is the project's job)."""

from datetime import datetime, timedelta

from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine

from dsp_backend.config import Settings


def tracker_url(settings: Settings) -> str:
    """Where scripts/stack.py points Rasa's tracker store: the PostgreSQL database of
    DATABASE_URL, or var/tracker.sqlite3."""
    if settings.database_url.startswith("postgresql"):
        return settings.database_url
    return f"sqlite:///{settings.var_dir / 'tracker.sqlite3'}"


def purge_quiet(*, engine: Engine, now: datetime, retention_hours: int) -> int:
    """Deletes every event of each conversation whose last event is older than the retention
    period; returns how many conversations went."""
    if not inspect(engine).has_table("events"):
        return 0  # Rasa has not kept a conversation here yet
    cutoff = (now - timedelta(hours=retention_hours)).timestamp()
    quiet = text("SELECT sender_id FROM events GROUP BY sender_id HAVING MAX(timestamp) < :cutoff")
    with engine.begin() as connection:
        senders = [row[0] for row in connection.execute(quiet, {"cutoff": cutoff})]
        for sender in senders:
            connection.execute(text("DELETE FROM events WHERE sender_id = :s"), {"s": sender})
    return len(senders)

"""The one engine, the one session dependency and the declarative base."""

from collections.abc import Iterator
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends
from sqlalchemy import MetaData, create_engine, event
from sqlalchemy.engine import Connection, Engine, ExceptionContext
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

from dsp_backend.config import get_settings

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


# Under ordinary concurrency a writer waits this long for another to finish, instead of failing
# with "database is locked" (SQLite); a statement on PostgreSQL is stopped after it.
BUSY_TIMEOUT_SECONDS = 15


def _on_sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    # Readers do not block the writer, nor the writer the readers.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_SECONDS * 1000}")
    cursor.close()
    # pysqlite's own transaction handling skips BEGIN, which breaks SAVEPOINT semantics; let
    # SQLAlchemy emit BEGIN itself (SQLAlchemy's documented recipe for pysqlite).
    dbapi_connection.isolation_level = None


def _on_sqlite_begin(connection: Connection) -> None:
    # IMMEDIATE: a transaction takes the write lock when it starts, so concurrent writers queue
    # (for up to the busy timeout) instead of one failing. With a plain BEGIN, a transaction
    # that read before another committed cannot then write: SQLite answers "database is locked"
    # at once, whatever the busy timeout (found by tests/backend/test_races.py).
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def _without_values(context: ExceptionContext) -> None:
    """PostgreSQL's DETAIL repeats a key's values ("Key (active_nhs_number)=(...) already
    exists"), and an error's text is what a log shows: keep its primary message only."""
    original = context.original_exception
    primary = getattr(getattr(original, "diag", None), "message_primary", None)
    if not primary:
        return
    original.args = (primary,)
    wrapped = context.sqlalchemy_exception
    if wrapped is not None:
        wrapped.args = (f"({type(original).__module__}.{type(original).__name__}) {primary}",)


def as_utc(moment: datetime) -> datetime:
    """A stored time as UTC: SQLite gives back the naive times the register wrote in UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def make_engine(url: str) -> Engine:
    """The engine never logs a statement's parameters: they are names, NHS numbers and dates
    of birth (DESIGN.md, Data protection), and a database error would otherwise print them."""
    if url.startswith("sqlite"):
        engine = create_engine(
            url,
            hide_parameters=True,
            connect_args={"check_same_thread": False, "timeout": BUSY_TIMEOUT_SECONDS},
        )
        event.listen(engine, "connect", _on_sqlite_connect)
        event.listen(engine, "begin", _on_sqlite_begin)
        return engine
    timeout_ms = BUSY_TIMEOUT_SECONDS * 1000
    engine = create_engine(
        url,
        pool_pre_ping=True,
        hide_parameters=True,
        connect_args={"options": f"-c statement_timeout={timeout_ms} -c lock_timeout={timeout_ms}"},
    )
    event.listen(engine, "handle_error", _without_values)
    return engine


def ensure_sqlite_folder(url: str) -> None:
    """The embedded default keeps its file under var/; create the folder on first use."""
    if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)


@lru_cache
def get_engine() -> Engine:
    url = get_settings().database_url
    ensure_sqlite_folder(url)
    return make_engine(url)


@lru_cache
def get_sessionmaker() -> sessionmaker[Session]:
    return sessionmaker(bind=get_engine(), expire_on_commit=False)


def get_db() -> Iterator[Session]:
    with get_sessionmaker()() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_db)]

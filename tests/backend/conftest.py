"""Service tests run against a database built by the real Alembic migrations.

SQLite always; PostgreSQL as well when DSP_TEST_POSTGRES_URL points at a server (a fresh database
is created for the run and dropped after). Each test runs in a transaction that is rolled back.
"""

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from db_backends import BACKENDS, postgres_database
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from dsp_backend.auth import service as auth_service
from dsp_backend.auth.schemas import Role
from dsp_backend.config import get_settings
from dsp_backend.database.core import get_db, make_engine
from dsp_backend.database.migrate import upgrade
from dsp_backend.main import create_app


@pytest.fixture(scope="session", params=BACKENDS)
def engine(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Engine]:
    if request.param == "sqlite":
        path: Path = tmp_path_factory.mktemp("db") / "test.sqlite3"
        urls: Iterator[str] = iter([f"sqlite:///{path}"])
    else:
        urls = postgres_database()
    url = next(urls)
    upgrade(url)
    engine = make_engine(url)
    yield engine
    engine.dispose()
    for _ in urls:  # runs the PostgreSQL clean-up
        pass


@pytest.fixture
def db_session(engine: Engine) -> Iterator[Session]:
    connection = engine.connect()
    transaction = connection.begin()
    session = Session(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )
    try:
        yield session
    finally:
        session.close()
        transaction.rollback()
        connection.close()


@pytest.fixture
def variant(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[str], None]]:
    """Switches the deployment's local variant for one test: variant('tees_valley')."""

    def use(variant_id: str) -> None:
        monkeypatch.setenv("DSP_VARIANT", variant_id)
        get_settings.cache_clear()

    yield use
    get_settings.cache_clear()


@pytest.fixture
def client(db_session: Session) -> Iterator[TestClient]:
    app = create_app()
    app.dependency_overrides[get_db] = lambda: db_session
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def token_for(db_session: Session) -> Callable[[Role], dict[str, str]]:
    """Authorization headers for a fresh token of the given role."""

    def make(role: Role) -> dict[str, str]:
        _row, token = auth_service.create(db_session=db_session, role=role)
        db_session.commit()
        return {"Authorization": f"Bearer {token}"}

    return make

"""`dsp-backend create-database` (used by `make run-scaled`): makes a missing PostgreSQL
database once, and is harmless when it is there already."""

import uuid

import pytest
from db_backends import POSTGRES_URL
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from dsp_backend import cli


@pytest.mark.skipif(not POSTGRES_URL, reason="needs DSP_TEST_POSTGRES_URL")
def test_a_missing_database_is_created_once(capsys: pytest.CaptureFixture[str]) -> None:
    name = f"dsp_create_{uuid.uuid4().hex[:10]}"
    url = make_url(POSTGRES_URL).set(drivername="postgresql+psycopg", database=name)
    rendered = url.render_as_string(hide_password=False)
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        assert cli.main(["create-database", "--url", rendered]) == 0
        assert cli.main(["create-database", "--url", rendered]) == 0
        assert capsys.readouterr().out.splitlines() == [
            "database created",
            "database already there",
        ]
        with create_engine(url).connect() as connection:
            assert connection.execute(text("SELECT 1")).scalar() == 1
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_a_sqlite_url_needs_no_database_made(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["create-database", "--url", "sqlite:///var/never.sqlite3"]) == 0
    assert capsys.readouterr().out.strip() == "nothing to create: migrate makes a SQLite file"

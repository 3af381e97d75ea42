"""The databases the service tests run on: SQLite always, PostgreSQL as well when
DSP_TEST_POSTGRES_URL points at a server (a fresh database is created for each use and dropped
after). A module of its own, so that test files import it by name, never from conftest."""

import os
import uuid
from collections.abc import Iterator

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

POSTGRES_URL = os.environ.get("DSP_TEST_POSTGRES_URL", "")
BACKENDS = ["sqlite"] + (["postgresql"] if POSTGRES_URL else [])


def postgres_database() -> Iterator[str]:
    admin_url = make_url(POSTGRES_URL).set(drivername="postgresql+psycopg")
    name = f"dsp_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield admin_url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

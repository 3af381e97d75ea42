"""Runs Alembic from inside the package, so migrations work from any directory."""

from importlib import resources

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from dsp_backend.database.core import ensure_sqlite_folder


def alembic_config(database_url: str) -> Config:
    ini = resources.files("dsp_backend").joinpath("alembic.ini")
    config = Config(str(ini))
    config.set_main_option("script_location", "dsp_backend:database/revisions")
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    ensure_sqlite_folder(database_url)
    command.upgrade(alembic_config(database_url), revision)


def create_database(database_url: str) -> bool:
    """Creates the PostgreSQL database of the URL if it is missing (connecting to the server's
    `postgres` database); True when it was created. A SQLite file is made by the first upgrade."""
    url = make_url(database_url)
    if not url.drivername.startswith("postgresql") or not url.database:
        return False
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            exists = connection.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": url.database}
            ).first()
            if exists:
                return False
            quoted = url.database.replace('"', '""')
            connection.execute(text(f'CREATE DATABASE "{quoted}"'))
            return True
    finally:
        admin.dispose()

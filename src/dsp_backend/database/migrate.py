"""Runs Alembic from inside the package, so migrations work from any directory."""

from importlib import resources

from alembic import command
from alembic.config import Config

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

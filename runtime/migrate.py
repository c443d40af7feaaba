"""``takt db upgrade``: apply the Alembic migrations of the system tables."""
from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(connection=None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def upgrade(database, revision: str = "head") -> None:
    with database.engine.begin() as conn:
        command.upgrade(alembic_config(conn), revision)


def revision(database, message: str) -> None:
    """Developer helper: autogenerate a new migration from the models."""
    with database.engine.begin() as conn:
        command.revision(alembic_config(conn), message=message, autogenerate=True)

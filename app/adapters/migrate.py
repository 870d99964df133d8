"""Running the Alembic migrations in ``app/migrations`` from code (CLI, tests, Docker)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from app.adapters.db import ensure_sqlite_directory

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config(database_url: str) -> Config:
    """An Alembic config pointing at the packaged migrations and ``database_url``."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade_to_head(database_url: str) -> None:
    """Create or upgrade the schema (an SQLite file's folder is created first)."""
    ensure_sqlite_directory(database_url)
    command.upgrade(alembic_config(database_url), "head")

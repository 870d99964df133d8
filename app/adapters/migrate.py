"""Running the Alembic migrations in ``app/migrations`` from code (CLI, tests, Docker)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, column, inspect, select, table

from app.adapters.db import ensure_sqlite_directory

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
#: Alembic's bookkeeping table, by its default name (app/migrations/env.py keeps it).
VERSION_TABLE = table("alembic_version", column("version_num"))


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


@cache
def _scripts() -> ScriptDirectory:
    """The packaged migrations (read once per process)."""
    return ScriptDirectory(str(MIGRATIONS))


def head_revisions() -> tuple[str, ...]:
    """The revision(s) a database must be at for this code: the heads of the migrations."""
    return tuple(sorted(_scripts().get_heads()))


def known_revision(revision: str) -> bool:
    """Whether ``revision`` is one of the packaged migrations (else a newer release made it)."""
    return any(script.revision == revision for script in _scripts().walk_revisions())


def schema_revisions(connection: Connection) -> tuple[str, ...]:
    """The revision(s) the database's schema is at (empty without a schema). Read directly
    rather than through Alembic's MigrationContext, which logs two lines each time it is
    made (readiness probes ask every few seconds)."""
    if not inspect(connection).has_table(VERSION_TABLE.name):
        return ()
    return tuple(sorted(connection.execute(select(VERSION_TABLE.c.version_num)).scalars()))

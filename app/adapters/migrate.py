"""Running the Alembic migrations in ``app/migrations`` from code (CLI, tests, Docker)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, column, create_engine, inspect, select, table, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from app.adapters.db import ensure_sqlite_directory

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
#: Alembic's bookkeeping table, by its default name (app/migrations/env.py keeps it).
VERSION_TABLE = table("alembic_version", column("version_num"))
#: The database a PostgreSQL server always has, to create another one from.
POSTGRES_MAINTENANCE_DATABASE = "postgres"


@dataclass(frozen=True)
class Upgrade:
    """What ``upgrade_to_head`` did."""

    created_database: bool
    before: str | None
    after: str
    #: Search indexes a stopped first load had left missing, built now.
    built: tuple[str, ...] = ()

    def describe(self) -> str:
        """One line for the person who ran ``db upgrade``."""
        if self.before == self.after:
            done = f"schema already current (revision {self.after})"
        elif self.before is None:
            done = f"created the schema (revision {self.after})"
        else:
            done = f"upgraded the schema from revision {self.before} to {self.after}"
        built = f"; built the search indexes a stopped first load left out: " \
            f"{', '.join(self.built)}" if self.built else ""
        return ("created the database; " if self.created_database else "") + done + built


def alembic_config(database_url: str) -> Config:
    """An Alembic config pointing at the packaged migrations and ``database_url``."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def head_revision() -> str:
    """The newest migration's revision."""
    head = _scripts().get_current_head()
    assert head is not None
    return head


def current_revision(database_url: str) -> str | None:
    """The revision the database's schema is at; None when it has none."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()


def ensure_postgres_database(database_url: str) -> bool:
    """Create the PostgreSQL database ``database_url`` names when the server has no such
    database (True when it did); nothing for other databases. Connection failures of any
    other kind are raised."""
    url = make_url(database_url)
    if url.get_backend_name() != "postgresql" or not url.database:
        return False
    engine = create_engine(database_url)
    try:
        with engine.connect():
            return False
    except OperationalError:
        pass  # a missing database, or no server at all: asked of the maintenance database
    finally:
        engine.dispose()
    admin = create_engine(url.set(database=POSTGRES_MAINTENANCE_DATABASE),
                          isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            exists = connection.execute(text("SELECT 1 FROM pg_database WHERE datname = :name"),
                                        {"name": url.database}).first()
            if exists:
                return False  # it exists, so the first connection failed for another reason
            quoted = connection.dialect.identifier_preparer.quote(url.database)
            connection.execute(text(f"CREATE DATABASE {quoted}"))
            return True
    finally:
        admin.dispose()


def upgrade_to_head(database_url: str) -> Upgrade:
    """Create or upgrade the schema (an SQLite file's folder and a PostgreSQL database are
    created first when missing)."""
    ensure_sqlite_directory(database_url)
    created = ensure_postgres_database(database_url)
    before = current_revision(database_url)
    command.upgrade(alembic_config(database_url), "head")
    return Upgrade(created, before, head_revision(), _restore_search_indexes(database_url))


def _restore_search_indexes(database_url: str) -> tuple[str, ...]:
    """What :func:`app.adapters.patient_copy.restore_search_indexes` built (PostgreSQL)."""
    from app.adapters.patient_copy import restore_search_indexes

    if make_url(database_url).get_backend_name() != "postgresql":
        return ()
    engine = create_engine(database_url)
    try:
        with engine.begin() as connection:
            return tuple(restore_search_indexes(connection))
    finally:
        engine.dispose()


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

"""Running the Alembic migrations in ``app/migrations`` from code (CLI, tests, Docker)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from app.adapters.db import ensure_sqlite_directory

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
#: The database a PostgreSQL server always has, to create another one from.
POSTGRES_MAINTENANCE_DATABASE = "postgres"


@dataclass(frozen=True)
class Upgrade:
    """What ``upgrade_to_head`` did."""

    created_database: bool
    before: str | None
    after: str

    def describe(self) -> str:
        """One line for the person who ran ``db upgrade``."""
        if self.before == self.after:
            done = f"schema already current (revision {self.after})"
        elif self.before is None:
            done = f"created the schema (revision {self.after})"
        else:
            done = f"upgraded the schema from revision {self.before} to {self.after}"
        return ("created the database; " if self.created_database else "") + done


def alembic_config(database_url: str) -> Config:
    """An Alembic config pointing at the packaged migrations and ``database_url``."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def head_revision() -> str:
    """The newest migration's revision."""
    head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
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
    return Upgrade(created, before, head_revision())

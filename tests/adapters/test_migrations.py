"""The Alembic migrations create exactly the schema the tables module describes."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine

from app.adapters.migrate import upgrade_to_head
from app.adapters.tables import metadata


def test_migrations_match_the_table_definitions(database, server):
    # The server fixture has run `python -m app db upgrade` on this database.
    upgrade_to_head(database.url)
    engine = create_engine(database.url)
    with engine.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), metadata)
    engine.dispose()
    assert differences == []

"""The embedded database's settings: several processes share one SQLite file safely."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from app.adapters.db import make_engine


def test_sqlite_commits_are_durable_and_shared_through_wal(tmp_path: Path) -> None:
    # The folder is created too (a fresh clone has no var/).
    engine = make_engine(f"sqlite:///{tmp_path / 'new' / 'fhir.db'}")
    try:
        with engine.connect() as conn:
            assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert conn.execute(text("PRAGMA synchronous")).scalar() == 2  # FULL
            assert conn.execute(text("PRAGMA busy_timeout")).scalar() == 30000
            assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
    finally:
        engine.dispose()

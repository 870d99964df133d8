"""The embedded database's settings: several processes share one SQLite file safely."""

from __future__ import annotations

import sqlite3
import warnings
from pathlib import Path

import pytest
from sqlalchemy import text

from app.adapters.db import make_engine
from app.adapters.unit_of_work import UnitOfWork


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


def test_sqlite_writers_take_the_write_lock_when_they_begin(tmp_path: Path) -> None:
    """A write unit of work holds SQLite's write lock before its first statement (BEGIN
    IMMEDIATE), so a second writer waits at its start instead of failing half-way with
    SQLITE_BUSY; a read unit of work holds no lock."""
    url = f"sqlite:///{tmp_path / 'fhir.db'}"
    engine = make_engine(url)
    other = sqlite3.connect(tmp_path / "fhir.db", timeout=0, isolation_level=None)
    try:
        with UnitOfWork(engine) as reader:
            reader.connection.execute(text("SELECT 1")).all()
            other.execute("BEGIN IMMEDIATE")  # a read leaves the write lock free
            other.execute("ROLLBACK")
        with UnitOfWork(engine, write=True), \
                pytest.raises(sqlite3.OperationalError, match="locked"):
            other.execute("BEGIN IMMEDIATE")
        other.execute("BEGIN IMMEDIATE")  # released when the unit of work ends
        other.execute("ROLLBACK")
    finally:
        other.close()
        engine.dispose()


@pytest.mark.parametrize("url", ["sqlite://", "sqlite:///:memory:",
                                 "sqlite:///file:sweid?mode=memory&cache=shared&uri=true"])
def test_in_memory_sqlite_databases_still_open(url: str) -> None:
    """In-memory databases get SQLAlchemy's one-connection-per-thread pool (no pool sizes,
    no kept read connections)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SQLAlchemy's note on mode=memory's pool
        engine = make_engine(url)
    try:
        with UnitOfWork(engine) as uow:
            assert uow.connection.execute(text("SELECT 1")).scalar() == 1
    finally:
        engine.dispose()

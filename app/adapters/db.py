"""Engine creation. SQLite gets WAL and a busy timeout, and its writers begin with
``BEGIN IMMEDIATE`` (:class:`app.adapters.unit_of_work.UnitOfWork`), so that several worker
processes sharing one file serialise their writes instead of failing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.pool import QueuePool

#: Statement parameters hold personal data: never in SQLAlchemy's log lines or in the text of
#: its errors (app.logs).
PRIVATE = {"hide_parameters": True}
#: A worker thread holds at most two connections: the one it keeps for reads
#: (app.adapters.read_connections) and one write transaction. The pool therefore never makes
#: a thread wait (no overflow limit); the number of threads bounds the connections, about
#: 2 × WORKERS × THREADS per server (PostgreSQL's max_connections must allow that).
POOL = {"pool_size": 5, "max_overflow": -1}


def make_engine(url: str) -> Engine:
    """Create the engine for ``url``; called from ``create_app`` and the CLI, never at import."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(url)
    # No pre-ping (a round trip per checkout); a dropped connection is retried instead,
    # see app.services.transactions.
    return create_engine(url, pool_recycle=1800, **PRIVATE, **POOL)


def is_sqlite(engine: Engine) -> bool:
    """True when the engine talks to SQLite."""
    return engine.dialect.name == "sqlite"


def ensure_sqlite_directory(url: str) -> None:
    """Create the folder of an SQLite database file (``./var/`` on a fresh clone), so that
    the file can be created; nothing for other databases."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return
    database = parsed.database
    if database and database != ":memory:" and not database.startswith("file:"):
        Path(database).parent.mkdir(parents=True, exist_ok=True)


def _sqlite_engine(url: str) -> Engine:
    ensure_sqlite_directory(url)
    parsed = make_url(url)
    # In-memory databases get SQLAlchemy's one-connection-per-thread pool, which has no sizes.
    pool_class = parsed.get_dialect().get_pool_class(parsed)  # type: ignore[attr-defined]
    pooled = issubclass(pool_class, QueuePool)
    engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False},
                           **PRIVATE, **(POOL if pooled else {}))

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # No implicit BEGIN from pysqlite: the unit of work begins write transactions itself
        # (BEGIN IMMEDIATE) and reads run each statement in its own implicit transaction.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        # FULL: a commit is on disk when it returns (an fsync of the WAL, ~0.2 ms here).
        # NORMAL survives a killed process but may lose the last commits on power loss — and
        # a reserve id counts as used once handed out (domain.md §2.2): a counter that rolled
        # back after a reboot would hand it out again.
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    return engine

"""Read connections that each thread keeps between its requests.

A read by id does ~10 µs of SQL; checking a connection out of the pool and back in (with the
pool's reset) and wrapping it in a SQLAlchemy ``Connection`` cost as much again on every
request (about a tenth of a read by id's instructions: bench/README.md, "Where a read's
time goes"). A worker thread reads on every request, so it keeps one connection for its
read units of work; writes still check out a connection of their own for each transaction.

What makes keeping it safe:

* a read leaves nothing open between requests: SQLite reads run each statement in its own
  implicit transaction (no lock held afterwards), PostgreSQL reads run in autocommit, and a
  SQLAlchemy transaction begun by a statement is rolled back when the unit of work ends;
* a connection that broke (invalidated by a lost connection, or its rollback failed) is
  replaced by the thread's next read, and so is one older than :data:`RECYCLE_SECONDS`; a
  failed statement alone (a value the driver refuses, say) leaves it usable;
* only pools that hand out separate connections keep them (QueuePool: SQLite files and
  PostgreSQL), not SQLite in-memory databases, where each thread already has just one;
* a thread that ends gives its connection back to the pool.

A worker holds at most two connections per thread (this one and a write), so the pools are
sized by the number of threads (:mod:`app.adapters.db`).
"""

from __future__ import annotations

import contextlib
import threading
import time
import weakref
from dataclasses import dataclass, field

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import QueuePool

#: A kept connection is replaced after this long, as the pool recycles its own
#: (``pool_recycle``): a failover that leaves the old server reachable ends within it.
RECYCLE_SECONDS = 1800.0


@dataclass
class _Kept:
    """One thread's kept connections, by engine, with the time each was opened."""

    connections: dict[Engine, tuple[Connection, float]] = field(default_factory=dict)

    def close_all(self) -> None:
        for conn, _ in self.connections.values():
            _close_quietly(conn)
        self.connections.clear()


_local = threading.local()


def can_keep(engine: Engine) -> bool:
    """True when read connections of ``engine`` are kept per thread."""
    return isinstance(engine.pool, QueuePool)


def acquire(engine: Engine) -> Connection:
    """This thread's read connection to ``engine`` (opened on first use, replaced when it
    broke or grew old)."""
    kept: _Kept | None = getattr(_local, "kept", None)
    if kept is None:
        kept = _local.kept = _Kept()
        # When the thread ends, its connections go back to the pool.
        weakref.finalize(threading.current_thread(), kept.close_all)
    found = kept.connections.get(engine)
    now = time.monotonic()
    if found is not None:
        conn, opened = found
        if not (conn.closed or conn.invalidated) and now - opened < RECYCLE_SECONDS:
            return conn
        _close_quietly(conn)
    conn = connect(engine)
    kept.connections[engine] = (conn, now)
    return conn


def connect(engine: Engine) -> Connection:
    """A new connection set up for reads."""
    conn = engine.connect()
    if conn.dialect.name == "postgresql":
        # A read needs no BEGIN/ROLLBACK round trips; each statement sees committed data.
        conn = conn.execution_options(isolation_level="AUTOCOMMIT")
    return conn


def release(conn: Connection) -> None:
    """End a read unit of work on ``conn``: roll back what SQLAlchemy began. A connection
    that broke (invalidated, or its rollback fails) is closed; the next read replaces it."""
    if conn.closed or conn.invalidated:
        return
    try:
        if conn.in_transaction():
            conn.rollback()
    except DBAPIError:
        _close_quietly(conn)


def _close_quietly(conn: Connection) -> None:
    with contextlib.suppress(DBAPIError):
        conn.close()

"""Read connections that each thread keeps between its requests.

A read by id does ~10 µs of SQL; checking a connection out of the pool and back in (with the
pool's reset) and wrapping it in a SQLAlchemy ``Connection`` cost as much again on every
request (0.89M → 0.80M instructions per read by id, in-process). A worker thread reads on
every request, so it keeps one connection for its read units of work; writes still check out
a connection of their own for each transaction.

What makes keeping it safe:

* a read leaves nothing open between requests: SQLite reads run each statement in its own
  implicit transaction (no lock held afterwards), PostgreSQL reads run in autocommit, and a
  SQLAlchemy transaction begun by a statement is rolled back when the unit of work ends;
* a connection that failed (invalidated by a lost connection, closed, or a database error
  that left it in doubt) is closed and forgotten; the thread's next read opens another;
* only pools that hand out separate connections keep them (QueuePool: SQLite files and
  PostgreSQL), not SQLite in-memory databases, where each thread already has just one;
* a thread that ends gives its connection back to the pool.

A worker holds at most two connections per thread (this one and a write), so the pools are
sized by the number of threads (:mod:`app.adapters.db`).
"""

from __future__ import annotations

import contextlib
import threading
import weakref

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import QueuePool

_kept = threading.local()


def can_keep(engine: Engine) -> bool:
    """True when read connections of ``engine`` are kept per thread."""
    return isinstance(engine.pool, QueuePool)


def acquire(engine: Engine) -> Connection:
    """This thread's read connection to ``engine`` (opened on first use)."""
    kept: dict[Engine, Connection] = _kept.__dict__.setdefault("by_engine", {})
    conn = kept.get(engine)
    if conn is None or conn.closed or conn.invalidated:
        conn = kept[engine] = connect(engine)
        weakref.finalize(threading.current_thread(), _close_quietly, conn)
    return conn


def connect(engine: Engine) -> Connection:
    """A new connection set up for reads."""
    conn = engine.connect()
    if conn.dialect.name == "postgresql":
        # A read needs no BEGIN/ROLLBACK round trips; each statement sees committed data.
        conn = conn.execution_options(isolation_level="AUTOCOMMIT")
    return conn


def release(engine: Engine, conn: Connection, *, failed: bool) -> None:
    """End a read unit of work on ``conn``; ``failed``: a database error happened in it, so
    the connection is not trusted for the next one."""
    if not failed:
        try:
            if conn.in_transaction():
                conn.rollback()
            return
        except DBAPIError:
            pass  # the connection broke: forget it below
    kept: dict[Engine, Connection] = _kept.__dict__.get("by_engine", {})
    if kept.get(engine) is conn:
        del kept[engine]
    _close_quietly(conn)


def _close_quietly(conn: Connection) -> None:
    with contextlib.suppress(DBAPIError):
        conn.close()

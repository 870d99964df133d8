"""Reads on a PostgreSQL standby (``READ_DATABASE_URL``), never a stale one.

The rule (README "Several instances and read replicas"): a read goes to the standby only
when the standby has replayed every transaction the primary had committed when the read
began — its ``pg_last_wal_replay_lsn()`` is at least the primary's
``pg_current_wal_lsn()`` taken just before. So any write acknowledged before a read starts
(by this client or any other, on any instance) is seen by that read, whichever node serves
it; a standby that lags is skipped for that read and the primary serves it. The price is
one tiny statement on each node per read; the read's own work (a search, ``$match``) runs
on the standby.

A standby that cannot be reached is left alone for :data:`RETRY_SECONDS`: the primary
serves every read meanwhile, and the server keeps answering.

Writes, conditional interactions, uniqueness checks, reserve ids and merges never come
here: they run in write units of work on the primary.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError

#: Seconds a standby that failed is not asked again.
RETRY_SECONDS = 5.0
log = logging.getLogger(__name__)


@dataclass
class ReadRouting:
    """Where reads go: ``primary`` always works; ``standby`` when it is set and current."""

    primary: Engine
    standby: Engine | None = None
    _down_until: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def engine_for_read(self) -> Engine:
        """The standby when it has replayed what the primary has committed, else the
        primary."""
        if self.standby is None or time.monotonic() < self._down_until:
            return self.primary
        with self.primary.connect() as conn:
            committed = conn.exec_driver_sql("SELECT pg_current_wal_lsn()::text").scalar()
        try:
            with self.standby.connect() as conn:
                current = conn.exec_driver_sql(
                    "SELECT coalesce(pg_last_wal_replay_lsn() >= %(lsn)s::pg_lsn, false)",
                    {"lsn": committed}).scalar()
        except DBAPIError:
            self.standby_failed()
            return self.primary
        return self.standby if current else self.primary

    def standby_failed(self) -> None:
        """The standby failed a read: the primary serves reads for a while."""
        with self._lock:
            self._down_until = time.monotonic() + RETRY_SECONDS
        log.warning("the read standby failed; reads go to the primary for %.0f s",
                    RETRY_SECONDS)

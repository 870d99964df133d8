"""Bulk-load progress (table ``load_progress``): per job, how many resources of its source
are done. :mod:`app.services.bulk_load` advances it inside each batch's transaction."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, insert, select, update

from app.adapters.tables import load_progress


class LoadProgressRepository:
    """Reads and advances the progress of bulk-load jobs on one connection."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def open(self, job: str, source: str, total: int, now: datetime) -> int:
        """The number of resources the job has done, its record made (at 0) when new; the
        source's name (for people: its first 1,000 characters) and size are brought up to
        date."""
        source = source[:1000]
        done = self.conn.execute(
            select(load_progress.c.done).where(load_progress.c.job == job)).scalar()
        if done is None:
            self.conn.execute(insert(load_progress).values(
                job=job, source=source, done=0, total=total, updated_at=now))
            return 0
        self.conn.execute(update(load_progress).where(load_progress.c.job == job)
                          .values(source=source, total=total, updated_at=now))
        return int(done)

    def advance(self, job: str, before: int, after: int, now: datetime) -> bool:
        """Move the job from ``before`` to ``after`` done resources; False (nothing changed)
        when its record does not say ``before`` — another load of the job moved it. On
        PostgreSQL a concurrent advance waits for the row lock and then sees the new count."""
        moved = self.conn.execute(
            update(load_progress)
            .where(load_progress.c.job == job, load_progress.c.done == before)
            .values(done=after, updated_at=now))
        return moved.rowcount == 1

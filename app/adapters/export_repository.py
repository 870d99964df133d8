"""Storage of Bulk Data ``$export`` jobs (table ``export_job``).

An exporter claims a job with a lease (one conditional UPDATE, alike on both databases:
``lease_until`` empty or past), renews it after every page it writes, and records the end
only while it still holds it. An exporter killed mid-job leaves a lease that runs out;
the next claim takes the job over and goes on after its checkpoint, the last file it
completed (app.services.bulk_export).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, func, insert, or_, select, update

from app.adapters.tables import export_job
from app.domain.bulk_export import ACTIVE_STATES, CANCELLED, QUEUED, RUNNING


@dataclass(frozen=True)
class StoredExport:
    """One row of ``export_job`` (without its lease)."""

    id: str
    owner: str | None
    owner_sees_protected: bool
    request: str
    base_url: str
    types: str
    since: datetime | None
    transaction_time: datetime
    state: str
    created_at: datetime
    finished_at: datetime | None
    expires_at: datetime | None
    total: int | None
    exported: int
    output: bytes | None
    error: str | None
    attempts: int
    checkpoint_after: str | None
    checkpoint_attempt: int | None


_COLUMNS = [export_job.c[name] for name in StoredExport.__dataclass_fields__]


class ExportRepository:
    """``$export`` jobs, their leases and progress."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, values: dict[str, Any]) -> None:
        """Store a new queued job."""
        self.conn.execute(insert(export_job), {"state": QUEUED, "exported": 0, "attempts": 0,
                                               **values})

    def get(self, job_id: str) -> StoredExport | None:
        """One job, whatever its state."""
        row = self.conn.execute(select(*_COLUMNS).where(export_job.c.id == job_id)
                                ).one_or_none()
        return StoredExport(*row) if row is not None else None

    def active_count(self, owner: str | None) -> int:
        """Jobs of ``owner`` queued or running."""
        owner_is = export_job.c.owner.is_(None) if owner is None else export_job.c.owner == owner
        return int(self.conn.execute(select(func.count()).select_from(export_job).where(
            owner_is, export_job.c.state.in_(ACTIVE_STATES))).scalar_one())

    def active_total(self) -> int:
        """Jobs of anyone queued or running."""
        return int(self.conn.execute(select(func.count()).select_from(export_job).where(
            export_job.c.state.in_(ACTIVE_STATES))).scalar_one())

    def claimable(self, now: datetime, limit: int) -> list[str]:
        """Ids of queued or running jobs whose lease is free (none, or run out), oldest
        first."""
        return list(self.conn.execute(select(export_job.c.id).where(
            export_job.c.state.in_(ACTIVE_STATES),
            or_(export_job.c.lease_until.is_(None), export_job.c.lease_until < now))
            .order_by(export_job.c.created_at).limit(limit)).scalars())

    def claim(self, job_id: str, owner: str, now: datetime, until: datetime) -> bool:
        """Take the job's lease (it becomes ``running``, one more attempt; its progress
        stays until the attempt records its own); False when another exporter holds it or
        the job ended."""
        result = self.conn.execute(update(export_job).where(
            export_job.c.id == job_id, export_job.c.state.in_(ACTIVE_STATES),
            or_(export_job.c.lease_until.is_(None), export_job.c.lease_until < now))
            .values(lease_owner=owner, lease_until=until, state=RUNNING,
                    attempts=export_job.c.attempts + 1))
        return result.rowcount == 1

    def renew(self, job_id: str, owner: str, until: datetime, values: dict[str, Any]) -> bool:
        """Extend the lease and record progress (a completed file: with the checkpoint);
        False when the lease is lost or the job was cancelled (the exporter then stops).
        On success the row stays locked until the transaction ends, so no other exporter
        can take the job over before then."""
        result = self.conn.execute(update(export_job).where(
            export_job.c.id == job_id, export_job.c.lease_owner == owner,
            export_job.c.state == RUNNING).values(lease_until=until, **values))
        return result.rowcount == 1

    def finish(self, job_id: str, owner: str, values: dict[str, Any]) -> bool:
        """Record the end (state, output, error…) and give the lease back, if still held."""
        result = self.conn.execute(update(export_job).where(
            export_job.c.id == job_id, export_job.c.lease_owner == owner,
            export_job.c.state == RUNNING).values(lease_owner=None, lease_until=None, **values))
        return result.rowcount == 1

    def cancel(self, job_id: str, now: datetime) -> None:
        """Mark cancelled (status and files answer 404 from now on; the files go)."""
        self.conn.execute(update(export_job).where(export_job.c.id == job_id).values(
            state=CANCELLED, finished_at=now, expires_at=now, lease_owner=None,
            lease_until=None))

    def expired(self, now: datetime, limit: int) -> list[str]:
        """Ids of jobs past their expiry (completed, failed or cancelled)."""
        return list(self.conn.execute(select(export_job.c.id).where(
            export_job.c.expires_at.is_not(None), export_job.c.expires_at < now)
            .limit(limit)).scalars())

    def remove(self, job_id: str) -> None:
        """Forget a job (after its files were removed)."""
        self.conn.execute(delete(export_job).where(export_job.c.id == job_id))

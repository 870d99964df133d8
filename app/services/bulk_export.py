"""Bulk Data ``$export`` (README "Bulk export", api.md ``$export``): kick-off, status,
cancel, and the exporter that writes the NDJSON files.

Jobs live in the database (``export_job``); the files under ``EXPORT_DIRECTORY/<job id>/``.
Every gunicorn worker runs one exporter thread (:func:`start`, from
``app.gunicorn_conf.post_worker_init``, like the Subscription deliverer). Any number of
them, in any number of server instances on one database, share the jobs: an exporter
claims a job with a lease, writes a page of Patients, renews the lease with its progress,
and so on; at the end it records the manifest's files while it still holds the lease.

Taking over: an exporter killed at any point (kill -9) leaves a lease that runs out, and
the next claim goes on where the job's checkpoint says. A file is written as
``<name>.part``, synced, and renamed to its name in the transaction that records it as
completed together with the checkpoint (the id of its last Patient) — while that
transaction holds the job's row, so an exporter that lost the lease never names a file.
The next attempt keeps the completed files untouched (when each still holds the lines
recorded for it; otherwise it starts again from the first Patient), removes anything else
in the job's directory (the file being written when the exporter died), and reads the Patients
after the checkpoint. It reads them in the same id order under the same rule: the job
exports the Patients as they were stored at or before its ``transaction_time`` (the
kick-off), so a Patient written between attempts is neither exported twice nor lost: it is
for the next export with ``_since=transactionTime``, and one already in a completed file
stays there as it was. Only starts without progress count: a job started
:data:`app.domain.limits.MAX_EXPORT_ATTEMPTS` times since its last completed file (or its
kick-off) is failed, so repeated crashes fail a job that is stuck, not one that advances.

What the owner sees is fixed at kick-off: protected persons go out masked (through
:func:`app.masking.present`, as for any read) unless the token had ``protected-identity``
then; every protected Patient written unmasked is recorded as an AuditEvent (subtype
``export``, agent = the owner) in the same transaction as the progress of its page, before
any file holding it can be downloaded.

Expiry: a finished job's files can be downloaded for ``EXPORT_RETENTION_SECONDS``; then an
exporter removes them and forgets the job (its URLs answer 404). A cancelled job is removed
at once.
"""

from __future__ import annotations

import logging
import os
import shutil
import socket
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from itertools import chain
from pathlib import Path

import orjson
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError

from app.adapters.export_repository import StoredExport
from app.adapters.unit_of_work import UnitOfWork
from app.config import Settings
from app.domain.access import Access
from app.domain.bulk_export import (
    CANCELLED,
    COMPLETED,
    FAILED,
    ExportRequest,
    OutputFile,
    file_name,
)
from app.domain.errors import NotFound, TooManyRequests
from app.domain.fhirdate import utc_now
from app.domain.limits import MAX_EXPORT_ATTEMPTS, MAX_EXPORT_JOBS, MAX_EXPORT_JOBS_PER_OWNER
from app.masking import collect_disclosures, disclosures, present
from app.services import audit_events
from app.services.background import start_daemon
from app.services.transactions import run_read, run_write

log = logging.getLogger(__name__)
#: Jobs one look for work considers at most.
CLAIM_LIMIT = 10
FAILURE_TEXT = "The export failed on the server; see its log. Start a new export."


# --- the records to export (shared with ``python -m app export``) -----------------------

@dataclass(frozen=True)
class Page:
    """One page of the export: NDJSON lines (newline included) as the reader may see them,
    and the protected Patients among them shown unmasked."""

    lines: list[bytes]
    disclosed: list[str]
    #: The id of the page's last Patient (where the next page starts after).
    last_id: str


def export_pages(engine: Engine, access: Access, *, since: datetime | None, until: datetime,
                 page_size: int, after: str | None = None,
                 limit: int | None = None) -> Iterator[Page]:
    """The current, not deleted Patients stored in [``since``, ``until``], in id order
    after the id ``after`` (None: from the first), at most ``limit`` of them (None: all), a
    page per database query, each Patient passed through :func:`app.masking.present` for
    ``access`` (app.domain.bulk_export says what is exported)."""
    left = limit
    while left is None or left > 0:
        size = page_size if left is None else min(page_size, left)
        rows = run_read(engine, partial(_page, after=after, since=since, until=until,
                                        limit=size))
        if not rows:
            return
        collect_disclosures()
        lines = [present(resource, protected, access) + b"\n"
                 for _id, resource, protected in rows]
        after = rows[-1][0]
        yield Page(lines, disclosures(), after)
        if len(rows) < size:
            return
        if left is not None:
            left -= len(rows)


def _page(uow: UnitOfWork, *, after: str | None, since: datetime | None, until: datetime,
          limit: int) -> list[tuple[str, bytes, bool]]:
    return uow.patients.export_page(after, since, until, limit)


def count_exported(engine: Engine, *, since: datetime | None, until: datetime,
                   after: str | None = None) -> int:
    """How many Patients :func:`export_pages` yields (without a ``limit``)."""
    return run_read(engine, lambda uow: uow.patients.export_count(since, until, after))


# --- kick-off, status, cancel (the HTTP layer calls these) ------------------------------

def kickoff(uow: UnitOfWork, access: Access, wanted: ExportRequest, *, request_url: str,
            base: str, now: datetime) -> StoredExport:
    """Queue a job for the caller (429 when they, or the server, have too many running)."""
    uow.lock("export-kickoff")
    if uow.exports.active_count(access.subject) >= MAX_EXPORT_JOBS_PER_OWNER:
        raise TooManyRequests(f"You have {MAX_EXPORT_JOBS_PER_OWNER} exports queued or "
                              "running already; wait for one to finish or cancel one")
    if uow.exports.active_total() >= MAX_EXPORT_JOBS:
        raise TooManyRequests("The server has as many exports running as it takes; try "
                              "again later")
    job_id = str(uuid.uuid4())
    uow.exports.add({
        "id": job_id, "owner": access.subject, "owner_sees_protected": access.see_protected,
        "request": request_url[:4096], "base_url": base[:2048], "types": ",".join(wanted.types),
        "since": wanted.since, "transaction_time": now, "created_at": now})
    job = uow.exports.get(job_id)
    assert job is not None
    return job


def job_of(uow: UnitOfWork, job_id: str, access: Access, now: datetime) -> StoredExport:
    """The caller's own job, not cancelled nor expired; otherwise 404 — also for another
    owner's job, whose existence is not revealed."""
    job = uow.exports.get(job_id[:64])
    if (job is None or job.owner != access.subject or job.state == CANCELLED
            or (job.expires_at is not None and job.expires_at <= now)):
        raise NotFound("No such export (unknown, expired, cancelled or not yours)")
    return job


def cancel(uow: UnitOfWork, job_id: str, access: Access, now: datetime) -> str:
    """DELETE on the status URL: the job stops (its exporter notices at its next page) and
    answers 404 from now on; the caller removes the files once this is committed
    (:func:`remove_files`). Returns the job's id."""
    job = job_of(uow, job_id, access, now)
    uow.exports.cancel(job.id, now)
    return job.id


def output_files(job: StoredExport) -> list[OutputFile]:
    """The files of a completed job (of a running one: those completed so far)."""
    return [OutputFile(**item) for item in orjson.loads(job.output or b"[]")]


def file_is_whole(path: Path, count: int) -> bool:
    """Whether a file an attempt completed is still as it was written: there, ``count``
    NDJSON lines, each ended. Read in blocks: at most 100,000 lines a file."""
    if not path.is_file():
        return False
    lines, last = 0, b"\n"
    with path.open("rb") as handle:
        for block in iter(partial(handle.read, 1 << 20), b""):
            lines += block.count(b"\n")
            last = block[-1:]
    return lines == count and last == b"\n"


def file_path(directory: Path, job: StoredExport, name: str) -> Path:
    """The path of one of a completed job's files (404 for any other name)."""
    if job.state != COMPLETED or name not in {f.name for f in output_files(job)}:
        raise NotFound("No such file in this export")
    path = directory / job.id / name
    if not path.is_file():
        raise NotFound("No such file in this export")
    return path


def remove_files(directory: Path, job_id: str) -> None:
    """Remove a job's directory (nothing when there is none)."""
    shutil.rmtree(directory / job_id, ignore_errors=True)


# --- the exporter ------------------------------------------------------------------------

class LeaseLost(Exception):
    """The job was cancelled, or another exporter took it over: stop writing."""


class Exporter:
    """One exporter (see the module docstring)."""

    def __init__(self, engine: Engine, settings: Settings) -> None:
        self.engine = engine
        self.settings = settings
        self.directory = Path(settings.export_directory)
        self.owner = f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"

    def run(self, stop: threading.Event) -> None:
        """Export until ``stop`` is set; a failure of the database is logged and retried."""
        database_down = False
        while not stop.is_set():
            busy = False
            try:
                self.remove_expired()
                busy = self.export_one()
                database_down = False
            except DBAPIError as error:
                if not database_down:
                    log.warning("bulk export: the database cannot be used (%s); retrying",
                                type(error.orig).__name__)
                database_down = True
            except Exception:
                log.exception("bulk export round failed; retrying")
            if not busy:
                stop.wait(self.settings.export_poll_seconds)

    def remove_expired(self) -> int:
        """Remove the files and rows of jobs past their expiry; return how many."""
        now = utc_now()
        expired = run_read(self.engine, lambda uow: uow.exports.expired(now, CLAIM_LIMIT))
        for job_id in expired:
            remove_files(self.directory, job_id)
            run_write(self.engine, partial(_remove, job_id=job_id))
        return len(expired)

    def export_one(self) -> bool:
        """Claim one job and run it to its end; False when there was none to claim."""
        now = utc_now()
        for job_id in run_read(self.engine, lambda uow: uow.exports.claimable(now,
                                                                              CLAIM_LIMIT)):
            if run_write(self.engine, partial(_claim, job_id=job_id, owner=self.owner,
                                              until=self._lease_end())):
                self._run(job_id)
                return True
        return False

    def _lease_end(self) -> datetime:
        return utc_now() + timedelta(seconds=self.settings.export_lease_seconds)

    def _run(self, job_id: str) -> None:
        job = run_read(self.engine, lambda uow: uow.exports.get(job_id))
        if job is None:
            return
        if job.attempts - (job.checkpoint_attempt or 0) > MAX_EXPORT_ATTEMPTS:
            log.error("export %s: started %d times without completing a file; failed",
                      job.id, MAX_EXPORT_ATTEMPTS)
            self._fail(job)
            return
        try:
            files = self._write(job)
        except LeaseLost:
            log.info("export %s: cancelled or taken over; stopped", job.id)
            self._forget_if_cancelled(job.id)
            return
        except DBAPIError:
            raise  # the lease runs out and the job is taken over
        except Exception:
            log.exception("export %s failed", job.id)
            self._fail(job)
            return
        now = utc_now()
        values = {"state": COMPLETED, "finished_at": now, "exported": sum(f.count for f in files),
                  "expires_at": now + timedelta(seconds=self.settings.export_retention_seconds),
                  "output": orjson.dumps([f.__dict__ for f in files])}
        if not run_write(self.engine, lambda uow: _finish(uow, job.id, self.owner, values)):
            self._forget_if_cancelled(job.id)
        else:
            log.info("export %s: %d resources in %d files", job.id, values["exported"],
                     len(files))

    def _write(self, job: StoredExport) -> list[OutputFile]:
        """Write the job's files after its checkpoint (from the first Patient when it has
        none), each recorded as completed with the checkpoint that follows it."""
        target = self.directory / job.id
        files, after = self._resume(job, target)
        exported = sum(f.count for f in files)
        total = exported + count_exported(self.engine, since=job.since,
                                          until=job.transaction_time, after=after)
        self._renew(job.id, {"total": total, "exported": exported}, [])
        access = Access(subject=job.owner, see_protected=job.owner_sees_protected)
        resource_type = job.types.split(",")[0]
        per_file = max(1, self.settings.export_file_max_resources)
        while True:
            pages = export_pages(self.engine, access, since=job.since,
                                 until=job.transaction_time,
                                 page_size=self.settings.export_page_size, after=after,
                                 limit=per_file)
            first = next(pages, None)
            if first is None:
                return files
            name = file_name(resource_type, len(files) + 1)
            part = target / f"{name}.part"
            count = 0
            with part.open("wb") as handle:
                for page in chain([first], pages):
                    handle.writelines(page.lines)
                    handle.flush()  # on disk (for the OS) before the progress is recorded
                    count += len(page.lines)
                    exported += len(page.lines)
                    after = page.last_id
                    self._renew(job.id, {"exported": exported}, page.disclosed, access)
                os.fsync(handle.fileno())
            files.append(OutputFile(resource_type, name, count))
            self._complete(job, files, after, part)
            if count < per_file:
                return files

    def _resume(self, job: StoredExport, target: Path) -> tuple[list[OutputFile], str | None]:
        """The files an earlier attempt completed and the id to go on after (none: from
        the first Patient); anything else in the job's directory goes."""
        files = output_files(job)
        after = job.checkpoint_after
        if any(not file_is_whole(target / f.name, f.count) for f in files):
            log.warning("export %s: files an earlier attempt completed are missing or not "
                        "whole (is EXPORT_DIRECTORY shared by every instance?); starting "
                        "from the first Patient", job.id)
            files, after = [], None
        elif files:
            log.info("export %s: taken over; keeping %d files of %d resources, going on "
                     "after them", job.id, len(files), sum(f.count for f in files))
        target.mkdir(parents=True, exist_ok=True)
        kept = {f.name for f in files}
        for path in target.iterdir():
            if path.name not in kept:
                path.unlink()
        return files, after

    def _complete(self, job: StoredExport, files: list[OutputFile], after: str | None,
                  part: Path) -> None:
        """Record the last of ``files`` as completed, with the checkpoint ``after``, and
        give the file its name while the transaction holds the job's row; :class:`LeaseLost`
        when the job is no longer ours."""
        final = part.with_name(files[-1].name)
        values = {"output": orjson.dumps([f.__dict__ for f in files]),
                  "checkpoint_after": after, "checkpoint_attempt": job.attempts,
                  "exported": sum(f.count for f in files)}

        def complete(uow: UnitOfWork) -> bool:
            if not uow.exports.renew(job.id, self.owner, self._lease_end(), values):
                return False
            if part.exists():  # not when this runs again after a lost race
                os.replace(part, final)
                _sync_directory(final.parent)
            return True

        if not run_write(self.engine, complete):
            raise LeaseLost(job.id)

    def _renew(self, job_id: str, values: dict[str, int], disclosed: list[str],
               access: Access | None = None) -> None:
        """Extend the lease with the progress, and audit the page's unmasked protected
        Patients in the same transaction; :class:`LeaseLost` when the job is no longer
        ours."""
        def renew(uow: UnitOfWork) -> bool:
            if not uow.exports.renew(job_id, self.owner, self._lease_end(), values):
                return False
            if disclosed and access is not None:
                audit_events.record(uow, access, "R", disclosed, "0", "export")
            return True

        if not run_write(self.engine, renew):
            raise LeaseLost(job_id)

    def _fail(self, job: StoredExport) -> None:
        now = utc_now()
        values = {"state": FAILED, "finished_at": now, "error": FAILURE_TEXT[:255],
                  "expires_at": now + timedelta(seconds=self.settings.export_retention_seconds)}
        run_write(self.engine, lambda uow: _finish(uow, job.id, self.owner, values))
        remove_files(self.directory, job.id)

    def _forget_if_cancelled(self, job_id: str) -> None:
        job = run_read(self.engine, lambda uow: uow.exports.get(job_id))
        if job is None or job.state == CANCELLED:
            remove_files(self.directory, job_id)


def _sync_directory(directory: Path) -> None:
    """Make a rename in ``directory`` durable (a crash of the machine keeps it)."""
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _claim(uow: UnitOfWork, *, job_id: str, owner: str, until: datetime) -> bool:
    return uow.exports.claim(job_id, owner, utc_now(), until)


def _remove(uow: UnitOfWork, *, job_id: str) -> None:
    uow.exports.remove(job_id)


def _finish(uow: UnitOfWork, job_id: str, owner: str, values: dict[str, object]) -> bool:
    return uow.exports.finish(job_id, owner, values)


def start(settings: Settings) -> threading.Event | None:
    """Start an exporter thread (daemon) in this process, unless EXPORT_WORKER is off;
    return the event that stops it."""
    if not settings.export_worker:
        return None
    from app.adapters.db import make_engine

    return start_daemon("bulk-export", Exporter(make_engine(settings.database_url), settings).run)

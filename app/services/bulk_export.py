"""Bulk Data ``$export`` (README "Bulk export", api.md ``$export``): kick-off, status,
cancel, and the exporter that writes the NDJSON files.

Jobs live in the database (``export_job``); the files under ``EXPORT_DIRECTORY/<job id>/``.
Every gunicorn worker runs one exporter thread (:func:`start`, from
``app.gunicorn_conf.post_worker_init``, like the Subscription deliverer). Any number of
them, in any number of server instances on one database, share the jobs: an exporter
claims a job with a lease, writes a page of Patients, renews the lease with its progress,
and so on; at the end it records the manifest's files while it still holds the lease. An
exporter killed at any point (kill -9) leaves a lease that runs out; the next claim starts
the job again from its first Patient, rewriting the files (a job is started at most
:data:`app.domain.limits.MAX_EXPORT_ATTEMPTS` times, then it is failed).

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
from pathlib import Path
from typing import IO

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


def export_pages(engine: Engine, access: Access, *, since: datetime | None, until: datetime,
                 page_size: int) -> Iterator[Page]:
    """The current, not deleted Patients stored in [``since``, ``until``], in id order, a
    page per database query, each Patient passed through :func:`app.masking.present` for
    ``access`` (app.domain.bulk_export says what is exported)."""
    after: str | None = None
    while True:
        rows = run_read(engine, partial(_page, after=after, since=since, until=until,
                                        limit=page_size))
        if not rows:
            return
        collect_disclosures()
        lines = [present(resource, protected, access) + b"\n"
                 for _id, resource, protected in rows]
        yield Page(lines, disclosures())
        after = rows[-1][0]
        if len(rows) < page_size:
            return


def _page(uow: UnitOfWork, *, after: str | None, since: datetime | None, until: datetime,
          limit: int) -> list[tuple[str, bytes, bool]]:
    return uow.patients.export_page(after, since, until, limit)


def count_exported(engine: Engine, *, since: datetime | None, until: datetime) -> int:
    """How many Patients :func:`export_pages` yields."""
    return run_read(engine, lambda uow: uow.patients.export_count(since, until))


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
    """The files of a completed job."""
    return [OutputFile(**item) for item in orjson.loads(job.output or b"[]")]


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
        if job.attempts > MAX_EXPORT_ATTEMPTS:
            log.error("export %s: started %d times without finishing; failed", job.id,
                      MAX_EXPORT_ATTEMPTS)
            self._fail(job)
            return
        try:
            files = self._write(job)
        except LeaseLost:
            log.info("export %s: cancelled or taken over; stopped", job.id)
            self._forget_if_cancelled(job.id)
            return
        except DBAPIError:
            raise  # the lease runs out and the job is started again
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
        """Write the job's files from the first Patient (any earlier attempt's go)."""
        remove_files(self.directory, job.id)
        target = self.directory / job.id
        target.mkdir(parents=True)
        total = count_exported(self.engine, since=job.since, until=job.transaction_time)
        self._renew(job.id, {"total": total, "exported": 0}, [])
        access = Access(subject=job.owner, see_protected=job.owner_sees_protected)
        exported = 0
        with NdjsonFiles(target, job.types.split(",")[0],
                         self.settings.export_file_max_resources) as files:
            for page in export_pages(self.engine, access, since=job.since,
                                     until=job.transaction_time,
                                     page_size=self.settings.export_page_size):
                files.write(page.lines)
                exported += len(page.lines)
                self._renew(job.id, {"exported": exported}, page.disclosed, access)
        return files.done

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


class NdjsonFiles:
    """The NDJSON files of one resource type in a job's directory: ``<Type>-1.ndjson``,
    ``<Type>-2.ndjson``… of at most ``per_file`` lines each; :attr:`done` lists them once
    closed (the with-block's end)."""

    def __init__(self, directory: Path, resource_type: str, per_file: int) -> None:
        self.directory = directory
        self.resource_type = resource_type
        self.per_file = max(1, per_file)
        self.done: list[OutputFile] = []
        self._handle: IO[bytes] | None = None
        self._lines = 0

    def __enter__(self) -> NdjsonFiles:
        return self

    def write(self, lines: list[bytes]) -> None:
        """Append lines (each ending in a newline), starting a new file when one is full;
        flushed to the operating system before the caller records the progress."""
        for line in lines:
            if self._handle is None or self._lines == self.per_file:
                self._close()
                name = file_name(self.resource_type, len(self.done) + 1)
                self._handle = (self.directory / name).open("wb")
            self._handle.write(line)
            self._lines += 1
        if self._handle is not None:
            self._handle.flush()

    def _close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None
            self.done.append(OutputFile(self.resource_type,
                                        file_name(self.resource_type, len(self.done) + 1),
                                        self._lines))
            self._lines = 0

    def __exit__(self, *exc: object) -> None:
        self._close()


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

"""Bulk load of Patients (``python -m app load``): batches of the REST API's writes, each
batch one transaction together with its job's progress.

A job is the load of one source. Its key is the name the caller gives, or the SHA-256 of the
source's bytes (:func:`job_key`); table ``load_progress`` holds how many of the source's
resources are done — loaded, refused or skipped. The writes of a batch and the job's new
count commit together, so a load ended at any point (killed, a power cut) resumes at the
first resource that was not committed: nothing is loaded twice — which would duplicate
records without an id and refuse records with an identifier as already taken — and nothing
is skipped (issue 14; the count used to go to a file after the commit).

Each resource goes through the same service as the REST API: with an id an
update-or-create of that id, without one a create, with the bulk-load allowances of
:func:`app.services.patients.create`. A batch that fails is written again one resource at a
time, each with its own count, and the refused resources are reported.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import partial
from mmap import mmap
from typing import Any

from sqlalchemy import Engine

from app.adapters.unit_of_work import UnitOfWork
from app.domain.access import Access
from app.domain.errors import DomainError
from app.domain.fhirdate import utc_now
from app.identity.errors import ValidationError
from app.services import patients
from app.services.transactions import run_write

#: The counts a load reports, in this order.
OUTCOMES = ("created", "updated", "refused", "skipped")
#: The longest job name (the key column holds 200 characters, ``job:`` included).
MAX_JOB_NAME = 196


def job_key(content: bytes | mmap, name: str | None = None) -> str:
    """The job of a source: ``job:<name>`` when named, else the SHA-256 of its bytes (the
    same file resumes wherever it lies; a changed file is a new job)."""
    if name:
        if len(name) > MAX_JOB_NAME:
            raise ValueError(f"a job name has at most {MAX_JOB_NAME} characters")
        return f"job:{name}"
    return "sha256:" + hashlib.sha256(content).hexdigest()


class ProgressMoved(Exception):
    """The job's recorded progress is not where this load left it: another load of the same
    job is running (or ran meanwhile)."""


@dataclass(frozen=True)
class Refusal:
    """A resource the load refused: its position in the source (from 1) and why."""

    position: int
    message: str


@dataclass
class BulkLoad:
    """One run of a job over its source's resources (:meth:`open` it first)."""

    engine: Engine
    job: str
    source: str
    resources: Sequence[dict[str, Any]]
    access: Access
    today: date
    #: What this run did, by :data:`OUTCOMES`.
    counts: Counter[str] = field(default_factory=Counter)
    #: How many resources the job has done, as recorded in the database.
    done: int = 0
    #: Whether the search indexes wait for :meth:`finish` (only a first COPY load).
    deferred: bool = False

    def open(self) -> int:
        """Read the job's progress (creating its record when new): resources done."""
        self.done = run_write(self.engine, lambda uow: uow.load_progress.open(
            self.job, self.source, len(self.resources), utc_now()))
        return self.done

    def batches(self, start: int, size: int) -> Iterator[tuple[int, list[Refusal]]]:
        """Load the resources from position ``start`` (0-based) in batches of ``size``;
        after each, yield how many resources it covered and what it refused. Raises
        :class:`ProgressMoved` when another load of the job advanced it."""
        for position in range(start, len(self.resources), size):
            batch = self.resources[position:position + size]
            yield len(batch), self._batch(position, batch)

    def finish(self) -> list[str]:
        """After the last batch: nothing to build one statement at a time (see
        :meth:`app.services.bulk_copy.CopyLoad.finish`)."""
        return []

    def _batch(self, position: int, batch: Sequence[dict[str, Any]]) -> list[Refusal]:
        try:
            self._commit(batch, position + len(batch))
            return []
        except (DomainError, ValidationError):
            pass  # rolled back whole: each resource again on its own
        refusals = []
        for offset, resource in enumerate(batch):
            try:
                self._commit([resource], position + offset + 1)
            except (DomainError, ValidationError) as error:
                self._commit([], position + offset + 1)  # done, as refused
                self.counts["refused"] += 1
                refusals.append(Refusal(position + offset + 1,
                                        getattr(error, "message", None) or str(error)))
        return refusals

    def _commit(self, batch: Sequence[dict[str, Any]], done: int) -> None:
        """Write ``batch`` and record ``done`` resources, in one transaction."""
        counts = run_write(self.engine, partial(self._write, batch, done))
        self.counts.update(counts)
        self.done = done

    def _write(self, batch: Sequence[dict[str, Any]], done: int,
               uow: UnitOfWork) -> Counter[str]:
        # The progress first: a concurrent load of the job waits for this row (PostgreSQL;
        # SQLite's writers queue anyway) and then stops before writing anything.
        if not uow.load_progress.advance(self.job, self.done, done, utc_now()):
            raise ProgressMoved(f"The progress of this load ({self.job}) moved under it: is "
                                "another load of the same source or job running?")
        counts: Counter[str] = Counter()
        for resource in batch:
            counts[self._write_one(uow, resource)] += 1
        return counts

    def _write_one(self, uow: UnitOfWork, resource: dict[str, Any]) -> str:
        if resource.get("resourceType") != "Patient":
            return "skipped"
        if isinstance(resource.get("id"), str):
            result = patients.update(uow, resource["id"], resource, if_match=None,
                                     access=self.access, today=self.today, bulk_load=True)
        else:
            result = patients.create(uow, resource, today=self.today, access=self.access,
                                     bulk_load=True)
        return "created" if result.created else "updated"

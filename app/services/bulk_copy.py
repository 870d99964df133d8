"""The bulk load on PostgreSQL: worker processes prepare the records, ``COPY`` writes them.

:class:`app.services.bulk_load.BulkLoad` writes each resource through the REST API's
service, one statement per row: about 300 Patients/s. :class:`CopyLoad` keeps its jobs,
checkpoint and outcomes and changes how a batch is written:

* Worker processes (:func:`prepare_batch`) parse each line and run what a create runs
  before it touches the database: :func:`app.services.patients.prepare` (structure, our
  extensions, every identity rule), the server's id and meta
  (:func:`~app.services.patients.stamp`), the search and ``$match`` index
  (:func:`~app.domain.patient_index.index_patient`) and the rows of
  :func:`~app.adapters.patient_repository.patient_rows`, encoded for COPY.
* The loading process writes each batch in one transaction with the job's progress. What
  a create checks against the database it checks for the batch at once: whether a given id
  exists, and which active Patient holds each identifier (one statement); a record whose
  identifier is held — in the database or by an earlier record of the file — is refused
  with the REST API's 409 text (:func:`~app.services.patients.identifier_conflict`), the
  first record in the file keeping it, as a one-by-one load would. The rest is COPYed.
* What is not a plain create goes through the service as before, in file order, inside a
  savepoint: a record with ``Patient.link`` (links, their protection and ``seealso``
  mirroring), an id that exists (an update) or comes again later in the file.
* A first load (no Patient stored yet) drops the search indexes, the index tables'
  ``patient_id`` indexes and their foreign keys
  (:data:`~app.adapters.patient_copy.DEFERRED_INDEXES`,
  :data:`~app.adapters.patient_copy.DEFERRED_FOREIGN_KEYS`) and builds them once at its end
  (:meth:`CopyLoad.finish`), which costs PostgreSQL less than half the CPU of keeping them
  up row by row; an incremental load keeps them. Before a batch that may write a new
  version of a stored record (an update, or a record with links), a transaction of its own
  builds the ``patient_id`` indexes, by which that write finds the record's rows. A first
  load stopped before its end leaves them missing: run again, it resumes and builds them
  at its end, and ``python -m app db upgrade`` builds them too. Either way the rules stay:
  the unique index of active identifiers and the primary keys are never dropped and guard
  against a concurrent writer (the REST API, a second load), whose win fails the COPY; the
  transaction is then run again (:func:`app.services.transactions.run_write`) and its
  check sees the winner.
* At the end the tables are analysed: the planner's statistics of a freshly loaded
  database are missing until autovacuum gets there.

A line that is not JSON is refused (the load goes on); the per-statement load stops
before it starts.
"""

from __future__ import annotations

import multiprocessing
import os
import uuid
from collections import Counter, deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import partial
from multiprocessing.pool import AsyncResult
from typing import Any

import orjson

from app.adapters.patient_copy import (
    CopyChunks,
    analyze,
    copy_in,
    defer_search_indexes,
    encode,
    missing_search_indexes,
    restore_record_indexes,
    restore_search_indexes,
)
from app.adapters.patient_repository import patient_rows
from app.adapters.unit_of_work import UnitOfWork
from app.domain.errors import DomainError
from app.domain.fhirdate import utc_now
from app.domain.patient_index import PatientIndex, index_patient
from app.domain.text import parse_json
from app.identity.errors import ValidationError
from app.services import patients
from app.services.bulk_load import BulkLoad, ProgressMoved, Refusal
from app.services.transactions import run_read, run_write

#: Resources per batch (one transaction, one COPY per table) unless the caller says.
DEFAULT_BATCH = 2000
NOT_JSON = "not a JSON line"

#: One resource of the source: an NDJSON line (parsed by the workers) or a parsed resource.
Item = bytes | dict[str, Any]


@dataclass(frozen=True)
class Prepared:
    """What a worker made of one resource. ``outcome``: ``copy`` (a new Patient, its rows
    in ``chunks``), ``write`` (through the service), ``refused`` or ``skipped``."""

    outcome: str
    patient_id: str | None = None
    #: The id came with the resource (it may exist already, or come again in the file).
    client_id: bool = False
    #: Only ``active`` and ``identifiers`` (what uniqueness needs).
    index: PatientIndex = field(default_factory=PatientIndex)
    chunks: CopyChunks = ()
    message: str | None = None


def prepare_batch(items: Sequence[Item], today: date) -> list[Prepared]:
    """Prepare a batch of resources (in a worker process)."""
    return [prepare_one(item, today) for item in items]


def prepare_one(item: Item, today: date) -> Prepared:
    """Everything a create does before it reads the database, for one resource."""
    try:
        resource = parse_json(item) if isinstance(item, bytes) else item
    except ValueError:
        return Prepared("refused", message=NOT_JSON)
    if not isinstance(resource, dict) or resource.get("resourceType") != "Patient":
        return Prepared("skipped")
    given = resource.get("id")
    client_id = isinstance(given, str)
    if resource.get("link"):
        return Prepared("write", given if client_id else None, client_id)
    try:
        if client_id:  # patients.update: an update-or-create of this id
            prepared = patients.prepare(resource, today)
            patient_id = patients.check_id(str(given))
            method = "PUT"
        else:  # patients.create: the server assigns the id
            prepared = patients.prepare(
                {key: value for key, value in resource.items() if key != "id"}, today)
            patient_id = str(uuid.uuid4())
            method = "POST"
    except (DomainError, ValidationError) as error:
        return Prepared("refused", message=_message(error))
    now = utc_now()
    stored = patients.stamp(prepared, patient_id, 1, now)
    index = index_patient(stored)
    rows = patient_rows(patient_id, 1, orjson.dumps(stored), index, now, method)
    return Prepared("copy", patient_id, client_id,
                    PatientIndex(active=index.active, identifiers=index.identifiers),
                    encode(rows))


def default_workers() -> int:
    """Worker processes: one per CPU the loader may use."""
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
               else os.cpu_count() or 1)


@dataclass
class CopyLoad(BulkLoad):
    """A :class:`BulkLoad` whose batches are prepared by worker processes and COPYed.
    ``resources`` may hold NDJSON lines (bytes) as well as parsed resources."""

    workers: int = field(default_factory=default_workers)
    #: Whether this run has built the :data:`~app.adapters.patient_copy.RECORD_INDEXES` a
    #: first load defers (or found them built).
    record_indexes: bool = field(default=False, init=False)

    def batches(self, start: int, size: int) -> Iterator[tuple[int, list[Refusal]]]:
        """As :meth:`BulkLoad.batches`; the workers prepare a few batches ahead."""
        positions = iter(range(start, len(self.resources), size))
        with self.engine.begin() as conn:
            # A first load defers them; one resuming a stopped first load finds them
            # still missing (and builds them at its end, as any load would).
            self.deferred = defer_search_indexes(conn) or bool(missing_search_indexes(conn))
        context = multiprocessing.get_context("fork")
        with context.Pool(self.workers) as pool:
            ahead: deque[tuple[int, AsyncResult[list[Prepared]]]] = deque()

            def submit() -> None:
                position = next(positions, None)
                if position is not None:
                    items = self.resources[position:position + size]
                    ahead.append((position, pool.apply_async(
                        prepare_batch, (items, self.today))))

            for _ in range(2 * self.workers + 1):
                submit()
            while ahead:
                position, pending = ahead.popleft()
                submit()
                prepared = pending.get()
                yield len(prepared), self._copy_batch(position, prepared)

    def finish(self) -> list[str]:
        """After the last batch: build the search indexes a first load deferred (what it
        built) and refresh the planner's statistics."""
        with self.engine.begin() as conn:
            built = restore_search_indexes(conn)
            if built or self.counts["created"] or self.counts["updated"]:
                analyze(conn)
        return built

    def _copy_batch(self, position: int, prepared: list[Prepared]) -> list[Refusal]:
        if self.deferred and not self.record_indexes and self._writes_versions(prepared):
            run_write(self.engine, lambda uow: restore_record_indexes(uow.connection))
            self.record_indexes = True
        refusals, counts = run_write(self.engine, partial(self._copy_write, position, prepared))
        self.counts.update(counts)
        self.done = position + len(prepared)
        return refusals

    def _writes_versions(self, prepared: list[Prepared]) -> bool:
        """Whether a batch may write a new version of a stored record: it updates one (an id
        stored already, or earlier in the batch), or writes a record with links through the
        service (mirroring a ``seealso`` link writes the linked record)."""
        if any(item.outcome == "write" for item in prepared):
            return True
        given = _given_ids(prepared)
        return bool(given) and any(_updates(prepared, run_read(
            self.engine, lambda uow: uow.patients.existing_ids(given))))

    def _copy_write(self, position: int, prepared: list[Prepared],
                    uow: UnitOfWork) -> tuple[list[Refusal], Counter[str]]:
        done = position + len(prepared)
        if not uow.load_progress.advance(self.job, self.done, done, utc_now()):
            raise ProgressMoved(f"The progress of this load ({self.job}) moved under it: is "
                                "another load of the same source or job running?")
        batch = _Batch(uow)
        updates = _updates(prepared, uow.patients.existing_ids(_given_ids(prepared)))
        for offset, (item, update) in enumerate(zip(prepared, updates, strict=True),
                                                start=position + 1):
            if item.outcome == "copy" and not update:
                batch.run.append((offset, item))
                continue
            batch.flush()
            if item.outcome in ("copy", "write"):
                batch.write(offset, self.resources[offset - 1], self._write_one)
            elif item.outcome == "refused":
                batch.refuse(offset, item.message or "")
            else:
                batch.counts["skipped"] += 1
        batch.flush()
        return batch.refusals, batch.counts


def _given_ids(prepared: Sequence[Prepared]) -> list[str]:
    """The ids the resources of a batch came with."""
    return [item.patient_id for item in prepared if item.client_id and item.patient_id]


def _updates(prepared: Sequence[Prepared], existing: set[str]) -> list[bool]:
    """Per resource of a batch: whether it updates a record (its id is stored already, or
    came earlier in the batch)."""
    seen = set(existing)
    updates = []
    for item in prepared:
        updates.append(item.client_id and item.patient_id in seen)
        if item.patient_id is not None:
            seen.add(item.patient_id)
    return updates


@dataclass
class _Batch:
    """One batch's transaction: runs of new Patients COPYed, the rest written in order."""

    uow: UnitOfWork
    run: list[tuple[int, Prepared]] = field(default_factory=list)
    refusals: list[Refusal] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)

    def refuse(self, position: int, message: str) -> None:
        self.refusals.append(Refusal(position, message))
        self.counts["refused"] += 1

    def flush(self) -> None:
        """COPY the run of new Patients gathered so far, less those whose identifier is
        held (by a stored Patient or an earlier one of the run)."""
        if not self.run:
            return
        run, self.run = self.run, []
        holders = self.uow.patients.identifier_holders_of_many(
            pair for _position, item in run if item.index.active
            for pair in item.index.identifiers)
        accepted = []
        for position, item in run:
            assert item.patient_id is not None
            conflict = patients.identifier_conflict(item.patient_id, item.index, holders)
            if conflict is not None:
                self.refuse(position, conflict.message)
                continue
            if item.index.active:
                holders.update(dict.fromkeys(item.index.identifiers, item.patient_id))
            accepted.append(item)
        copy_in(self.uow.connection, (item.chunks for item in accepted))
        self.counts["created"] += len(accepted)
        # An earlier record may link to one of these ids (a load's links may come first):
        # its group's protection now takes this record in, as its write through the
        # service would have.
        for patient_id in sorted(self.uow.patients.linked_to(
                item.patient_id for item in accepted if item.client_id and item.patient_id)):
            patients.propagate_protection(self.uow, patient_id, was_protected=False)

    def write(self, position: int, item: Item,
              write_one: Callable[[UnitOfWork, dict[str, Any]], str]) -> None:
        """Write one resource through the service in a savepoint: refused, it leaves
        nothing behind and the batch goes on."""
        try:
            resource = parse_json(item) if isinstance(item, bytes) else item
        except ValueError:
            self.refuse(position, NOT_JSON)
            return
        savepoint = self.uow.connection.begin_nested()
        try:
            outcome = write_one(self.uow, resource)
        except (DomainError, ValidationError) as error:
            savepoint.rollback()
            self.refuse(position, _message(error))
            return
        savepoint.commit()
        self.counts[outcome] += 1


def _message(error: Exception) -> str:
    """A refusal's text, as :class:`BulkLoad` reports it."""
    return getattr(error, "message", None) or str(error)

"""Patient storage: current rows, history and the search indexes, behind plain methods."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import (
    ColumnElement,
    Connection,
    String,
    Table,
    any_,
    bindparam,
    delete,
    false,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY

from app.adapters.patient_search import count_select, search_select
from app.adapters.raw_statement import RawStatement
from app.adapters.tables import (
    patient,
    patient_history,
    patient_identifier,
    patient_link,
    patient_string,
    patient_token,
)
from app.domain.patient_index import PatientIndex
from app.domain.search import SearchQuery


@dataclass(frozen=True)
class StoredPatient:
    """One stored version: the canonical JSON bytes and what the server needs beside them."""

    id: str
    version_id: int
    last_updated: datetime
    deleted: bool
    protected: bool
    resource: bytes | None
    method: str = "PUT"

    def load(self) -> dict[str, Any]:
        """The stored resource as a new dict (a version that is not a deletion marker)."""
        assert self.resource is not None, f"Patient/{self.id} version {self.version_id} is deleted"
        loaded: dict[str, Any] = orjson.loads(self.resource)
        return loaded


class PatientRepository:
    """Reads and writes Patients on one connection (inside a unit of work)."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def get(self, patient_id: str, *, for_update: bool = False) -> StoredPatient | None:
        """The current version (possibly a deletion marker) or None if never created."""
        locking = for_update and self.conn.dialect.name == "postgresql"
        stmt = _GET_CURRENT_FOR_UPDATE if locking else _GET_CURRENT
        row = stmt.first(self.conn, {"patient_id": patient_id})
        return _current(row) if row else None

    def get_version(self, patient_id: str, version_id: int) -> StoredPatient | None:
        """One version from the history."""
        row = self.conn.execute(
            select(*_HISTORY_COLUMNS).where(
                patient_history.c.id == patient_id, patient_history.c.version_id == version_id
            )
        ).first()
        return _stored(row) if row else None

    def get_many(self, ids: Iterable[str]) -> list[StoredPatient]:
        """Current, not deleted versions of the given ids (for ``_include``)."""
        wanted = sorted(set(ids))
        if not wanted:
            return []
        rows = self.conn.execute(
            select(*_CURRENT_COLUMNS).where(patient.c.id.in_(wanted), patient.c.deleted == false())
        ).all()
        return [_stored(row) for row in rows]

    def created_at(self, patient_id: str) -> datetime | None:
        """When the first version was written (main-record priority, domain.md §3.5)."""
        return self.conn.execute(
            select(patient.c.created_at).where(patient.c.id == patient_id)
        ).scalar()

    def save(
        self,
        patient_id: str,
        version_id: int,
        resource: bytes,
        index: PatientIndex,
        now: datetime,
        method: str,
    ) -> None:
        """Write a new current version with its indexes and its history row."""
        rows = patient_rows(patient_id, version_id, resource, index, now, method)
        if version_id == 1:
            self.conn.execute(insert(patient).values(**rows.patient))
        else:
            kept = {k: v for k, v in rows.patient.items() if k not in ("id", "created_at")}
            self.conn.execute(update(patient).where(patient.c.id == patient_id).values(**kept))
            self._clear_indexes(patient_id)
        for table, values in rows.indexes.items():
            if values:
                self.conn.execute(insert(table), values)
        self.conn.execute(insert(patient_history).values(**rows.history))

    def mark_deleted(self, current: StoredPatient, now: datetime) -> int:
        """Logically delete: keep the row for 410, drop its indexes, record history."""
        version_id = current.version_id + 1
        self.conn.execute(
            update(patient)
            .where(patient.c.id == current.id)
            .values(version_id=version_id, last_updated=now, deleted=True, active=False,
                    match_record=None)
        )
        # Its links stay: protection follows the links of deleted records too
        # (app.services.patients.propagate_protection); searches skip deleted rows.
        self._clear_indexes(current.id, keep_links=True)
        self._write_history(current.id, version_id, now, "DELETE", None, current.protected)
        return version_id

    def identifier_holders(self, pairs: Sequence[tuple[str, str]]) -> dict[tuple[str, str], str]:
        """Which active Patient holds each system|value pair, if any."""
        holders: dict[tuple[str, str], str] = {}
        for system, value in pairs:
            holder = self.conn.execute(
                select(patient_identifier.c.patient_id).where(
                    patient_identifier.c.system == system,
                    patient_identifier.c.value == value,
                    patient_identifier.c.active.is_(True),
                )
            ).scalar()
            if holder is not None:
                holders[(system, value)] = holder
        return holders

    def identifier_holders_of_many(
            self, pairs: Iterable[tuple[str, str]]) -> dict[tuple[str, str], str]:
        """:meth:`identifier_holders` of many pairs in one statement (the bulk load's
        batches of thousands)."""
        wanted = sorted(set(pairs))
        if not wanted:
            return {}
        # By value alone (one index scan for the whole list), the systems compared here.
        rows = self.conn.execute(
            select(patient_identifier.c.system, patient_identifier.c.value,
                   patient_identifier.c.patient_id)
            .where(self._among(patient_identifier.c.value, {value for _s, value in wanted}),
                   patient_identifier.c.active.is_(True)))
        asked = set(wanted)
        return {(row.system, row.value): row.patient_id for row in rows
                if (row.system, row.value) in asked}

    def existing_ids(self, ids: Iterable[str]) -> set[str]:
        """Which of ``ids`` are stored (deleted ones included)."""
        wanted = sorted(set(ids))
        if not wanted:
            return set()
        return set(self.conn.execute(select(patient.c.id).where(
            self._among(patient.c.id, wanted))).scalars())

    def _among(self, column: ColumnElement[str], values: Iterable[str]) -> ColumnElement[bool]:
        """``column`` holds one of ``values`` (a bulk load's thousands): on PostgreSQL one
        array parameter, ``= ANY(…)``; an ``IN`` list of as many parameters took 30 ms to
        send, 8 ms this way, for 2,000 values."""
        wanted = sorted(set(values))
        if self.conn.dialect.name == "postgresql":
            return column == any_(bindparam(None, wanted, type_=ARRAY(String)))
        return column.in_(wanted)

    def linked_to(self, ids: Iterable[str]) -> set[str]:
        """Which of ``ids`` another stored Patient links to."""
        wanted = sorted(set(ids))
        if not wanted:
            return set()
        return set(self.conn.execute(
            select(patient_link.c.target_id).where(self._among(patient_link.c.target_id, wanted))
            .distinct()).scalars())

    def search(self, query: SearchQuery, *, see_protected: bool) -> list[StoredPatient]:
        """One page of matches."""
        statement, values = search_select(query, see_protected=see_protected)
        return [StoredPatient(pid, 0, datetime.min, False, bool(protected), resource)
                for pid, resource, protected in statement.rows(self.conn, values)]

    def count(self, query: SearchQuery, *, see_protected: bool) -> int:
        """How many Patients match."""
        statement, values = count_select(query, see_protected=see_protected)
        row = statement.first(self.conn, values)
        return int(row[0] or 0) if row else 0

    def export_page(self, after_id: str | None, since: datetime | None, until: datetime,
                    limit: int) -> list[tuple[str, bytes, bool]]:
        """Bulk export: (id, resource, protected) of up to ``limit`` current Patients that
        are not deleted, last stored in [``since``, ``until``], in id order after
        ``after_id`` (keyset paging: each page costs the same however far the export is)."""
        query = select(patient.c.id, patient.c.resource, patient.c.protected).where(
            *_export_filter(since, until))
        if after_id is not None:
            query = query.where(patient.c.id > after_id)
        return [(pid, resource, bool(protected)) for pid, resource, protected in
                self.conn.execute(query.order_by(patient.c.id).limit(limit))]

    def export_count(self, since: datetime | None, until: datetime,
                     after_id: str | None = None) -> int:
        """How many Patients :meth:`export_page` pages through (after ``after_id``)."""
        query = select(func.count()).select_from(patient).where(*_export_filter(since, until))
        if after_id is not None:
            query = query.where(patient.c.id > after_id)
        return int(self.conn.execute(query).scalar_one())

    def linked_ids(self, ids: Sequence[str]) -> set[str]:
        """Ids linked from or to the given Patients (one step, both directions)."""
        if not ids:
            return set()
        outgoing = select(patient_link.c.target_id).where(patient_link.c.patient_id.in_(ids))
        incoming = select(patient_link.c.patient_id).where(patient_link.c.target_id.in_(ids))
        return set(self.conn.execute(outgoing.union(incoming)).scalars())

    def protection_of(self, ids: Sequence[str]) -> list[tuple[str, bytes | None, bool]]:
        """(id, resource, protected flag) of the given Patients, deleted ones included."""
        if not ids:
            return []
        rows = self.conn.execute(
            select(patient.c.id, patient.c.resource, patient.c.protected)
            .where(patient.c.id.in_(sorted(ids)))
        ).all()
        return [(row.id, row.resource, bool(row.protected)) for row in rows]

    def set_protected(self, ids: Sequence[str], protected: bool) -> None:
        """Change the protection flag without a new version. Becoming protected marks every
        stored version protected too (old versions hold the same withheld data); losing it
        leaves the history as it was."""
        if not ids:
            return
        wanted = sorted(ids)
        self.conn.execute(
            update(patient).where(patient.c.id.in_(wanted)).values(protected=protected))
        if protected:
            self.conn.execute(update(patient_history)
                              .where(patient_history.c.id.in_(wanted))
                              .values(protected=True))

    def unprotected_records(self) -> Iterator[tuple[str, bytes]]:
        """(id, resource) of every Patient flagged unprotected, deleted ones included (their
        row keeps their last resource), read in batches."""
        rows = self.conn.execute(
            select(patient.c.id, patient.c.resource).where(patient.c.protected == false())
            .execution_options(yield_per=_SCAN_BATCH))
        for row in rows:
            yield row.id, row.resource

    def unprotected_versions(self) -> Iterator[tuple[str, int, bytes]]:
        """(id, version, resource) of every stored version flagged unprotected (deletion
        markers left out), read in batches."""
        rows = self.conn.execute(
            select(patient_history.c.id, patient_history.c.version_id,
                   patient_history.c.resource)
            .where(patient_history.c.protected == false(),
                   patient_history.c.resource.is_not(None))
            .execution_options(yield_per=_SCAN_BATCH))
        for row in rows:
            yield row.id, row.version_id, row.resource

    def protect_versions(self, versions: Sequence[tuple[str, int]]) -> None:
        """Mark these stored versions protected."""
        if versions:
            self.conn.execute(
                update(patient_history)
                .where(patient_history.c.id == bindparam("pid"),
                       patient_history.c.version_id == bindparam("vid"))
                .values(protected=True),
                [{"pid": pid, "vid": version} for pid, version in versions])

    def dangling_links(self, limit: int = 20) -> tuple[int, list[tuple[str, str]]]:
        """Links to Patients that do not exist (a bulk load whose file never brought the
        target): how many, and the first ``limit`` (patient id, target id) pairs."""
        missing = (select(patient_link.c.patient_id, patient_link.c.target_id)
                   .where(patient_link.c.target_id.not_in(select(patient.c.id))))
        count = self.conn.execute(select(func.count()).select_from(missing.subquery())).scalar()
        rows = self.conn.execute(missing.order_by(patient_link.c.patient_id).limit(limit))
        return int(count or 0), [(row.patient_id, row.target_id) for row in rows]

    def link_targets(self, ids: Sequence[str]) -> list[str]:
        """Ids the given Patients link to."""
        if not ids:
            return []
        return list(
            self.conn.execute(
                select(patient_link.c.target_id).where(patient_link.c.patient_id.in_(ids))
            ).scalars()
        )

    def history(
        self,
        patient_id: str | None,
        *,
        since: datetime | None,
        count: int,
        offset: int,
    ) -> tuple[list[StoredPatient], int]:
        """Versions newest first (instance history when ``patient_id`` is given) and a total."""
        conditions = []
        if patient_id is not None:
            conditions.append(patient_history.c.id == patient_id)
        if since is not None:
            conditions.append(patient_history.c.last_updated >= since)
        rows = self.conn.execute(
            select(*_HISTORY_COLUMNS)
            .where(*conditions)
            .order_by(patient_history.c.last_updated.desc(), patient_history.c.version_id.desc())
            .limit(count)
            .offset(offset)
        ).all()
        total = self.conn.execute(
            select(func.count()).select_from(patient_history).where(*conditions)
        ).scalar()
        return [_stored(row) for row in rows], int(total or 0)

    def _clear_indexes(self, patient_id: str, *, keep_links: bool = False) -> None:
        tables = (patient_identifier, patient_string, patient_token,
                  *(() if keep_links else (patient_link,)))
        for table in tables:
            self.conn.execute(delete(table).where(table.c.patient_id == patient_id))

    def _write_history(
        self,
        patient_id: str,
        version_id: int,
        now: datetime,
        method: str,
        resource: bytes | None,
        protected: bool,
    ) -> None:
        self.conn.execute(insert(patient_history).values(
            **_history_row(patient_id, version_id, now, method, resource, protected)))


@dataclass(frozen=True)
class PatientRows:
    """The rows one stored Patient version consists of, by table: the current row, its
    history row and its index rows. Built by :func:`patient_rows` for every way a version is
    written (``PatientRepository.save`` and the bulk load's COPY,
    :mod:`app.adapters.patient_copy`), so both store exactly the same rows."""

    patient: dict[str, Any]
    history: dict[str, Any]
    indexes: dict[Table, list[dict[str, Any]]]


def patient_rows(patient_id: str, version_id: int, resource: bytes, index: PatientIndex,
                 now: datetime, method: str) -> PatientRows:
    """The rows of version ``version_id`` of ``patient_id`` (``created_at`` is ``now``: the
    first version's; an update keeps the stored one)."""
    return PatientRows(
        patient={
            "id": patient_id,
            "version_id": version_id,
            "created_at": now,
            "last_updated": now,
            "deleted": False,
            "active": index.active,
            "protected": index.protected,
            "gender": index.gender,
            "birth_lo": index.birth_lo,
            "birth_hi": index.birth_hi,
            "sort_family": index.sort_family,
            "sort_given": index.sort_given,
            "resource": resource,
            "match_record": index.match_record,
        },
        history=_history_row(patient_id, version_id, now, method, resource, index.protected),
        indexes={
            patient_identifier: [
                {"patient_id": patient_id, "system": s, "value": v, "active": index.active}
                for s, v in index.identifiers
            ],
            patient_string: [
                {"patient_id": patient_id, "param": p, "folded": f, "exact": e}
                for p, f, e in index.strings
            ],
            patient_token: [
                {"patient_id": patient_id, "param": p, "system": s, "code": c}
                for p, s, c in index.tokens
            ],
            patient_link: [
                {"patient_id": patient_id, "target_id": t, "type": k} for t, k in index.links
            ],
        },
    )


def _history_row(patient_id: str, version_id: int, now: datetime, method: str,
                 resource: bytes | None, protected: bool) -> dict[str, Any]:
    return {"id": patient_id, "version_id": version_id, "last_updated": now,
            "method": method, "deleted": resource is None, "protected": protected,
            "resource": resource}


#: Rows fetched at a time when every Patient is read (a server-side cursor on PostgreSQL).
_SCAN_BATCH = 500

_CURRENT_COLUMNS = (
    patient.c.id,
    patient.c.version_id,
    patient.c.last_updated,
    patient.c.deleted,
    patient.c.protected,
    patient.c.resource,
)
# Built once: reads by id are the hottest path (see app.adapters.raw_statement).
_GET_CURRENT_SELECT = select(*_CURRENT_COLUMNS).where(patient.c.id == bindparam("patient_id"))
_GET_CURRENT = RawStatement(_GET_CURRENT_SELECT)
_GET_CURRENT_FOR_UPDATE = RawStatement(_GET_CURRENT_SELECT.with_for_update())

_HISTORY_COLUMNS = (
    patient_history.c.id,
    patient_history.c.version_id,
    patient_history.c.last_updated,
    patient_history.c.deleted,
    patient_history.c.protected,
    patient_history.c.resource,
    patient_history.c.method,
)


def _export_filter(since: datetime | None, until: datetime) -> list[Any]:
    conditions = [patient.c.deleted == false(), patient.c.last_updated <= until]
    if since is not None:
        conditions.append(patient.c.last_updated >= since)
    return conditions


def _current(row: tuple[Any, ...]) -> StoredPatient:
    """A StoredPatient from a row of :data:`_CURRENT_COLUMNS`, in their order."""
    patient_id, version_id, last_updated, deleted, protected, resource = row
    return StoredPatient(patient_id, version_id, last_updated, bool(deleted), bool(protected),
                         resource)


def _stored(row: Any) -> StoredPatient:
    mapping = row._mapping
    return StoredPatient(
        id=mapping["id"],
        version_id=mapping["version_id"],
        last_updated=mapping["last_updated"],
        deleted=bool(mapping["deleted"]),
        protected=bool(mapping["protected"]),
        resource=mapping["resource"],
        method=mapping.get("method", "PUT"),
    )

"""Writing many new Patients with PostgreSQL's ``COPY … FROM STDIN`` (the bulk load).

The rows are those of :func:`app.adapters.patient_repository.patient_rows` — the same rows
``PatientRepository.save`` inserts one statement at a time — encoded in COPY's text format
by :func:`encode` (in the loader's worker processes) and streamed into the tables by
:func:`copy_in` (on the transaction's connection). Nothing here decides what may be
written: the caller has validated the records and checked identifier uniqueness, and the
tables' own constraints (primary keys, the unique index of active identifiers) still hold
against a concurrent writer: a violation fails the whole COPY and its transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, datetime
from operator import itemgetter
from typing import Any

from sqlalchemy import Connection, Index, String, Table
from sqlalchemy.schema import AddConstraint

from app.adapters.patient_repository import PatientRows
from app.adapters.tables import (
    patient,
    patient_history,
    patient_identifier,
    patient_link,
    patient_string,
    patient_token,
)

#: The tables a load COPYs into, the current rows first (the other rows reference them),
#: each with the columns of :func:`~app.adapters.patient_repository.patient_rows`' rows:
#: all but a serial id, which the database assigns.
COPY_TABLES: tuple[Table, ...] = (patient, patient_history, patient_identifier,
                                  patient_string, patient_token, patient_link)
_COLUMNS: tuple[tuple[str, ...], ...] = tuple(
    tuple(column.name for column in table.columns if column is not table.autoincrement_column)
    for table in COPY_TABLES)
#: Per table of :data:`COPY_TABLES`: a row's values in the order of its columns.
_PICKS = tuple(itemgetter(*columns) for columns in _COLUMNS)
#: Per table of :data:`COPY_TABLES`: whether each of its columns holds text, never null.
_PLAIN = tuple(all(isinstance(table.c[name].type, String) and not table.c[name].nullable
                   for name in columns) for table, columns in zip(COPY_TABLES, _COLUMNS,
                                                                  strict=True))
#: The COPY text of one or more records, a bytes string per table of :data:`COPY_TABLES`
#: (empty: no rows).
CopyChunks = tuple[bytes, ...]

_ESCAPES = str.maketrans({"\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"})


def encode(rows: PatientRows) -> CopyChunks:
    """``rows`` as COPY text lines, by table of :data:`COPY_TABLES`."""
    by_table = {patient: [rows.patient], patient_history: [rows.history], **rows.indexes}
    return tuple(_lines([pick(row) for row in by_table.get(table, ())], plain).encode()
                 for table, pick, plain in zip(COPY_TABLES, _PICKS, _PLAIN, strict=True))


def _lines(rows: list[tuple[Any, ...]], plain: bool) -> str:
    """Rows of one table as COPY text lines. The rows of a ``plain`` table (text only) seldom
    hold a character to escape: they are joined as they are and checked once (a call per
    value, then a check per row, were most of the loader's encoding cost)."""
    if plain and rows:
        text = "\n".join(["\t".join(row) for row in rows]) + "\n"
        if (text.count("\t") == len(rows) * (len(rows[0]) - 1)
                and text.count("\n") == len(rows) and "\\" not in text and "\r" not in text):
            return text
    return "".join(["\t".join([_field(value) for value in row]) + "\n" for row in rows])


def copy_in(conn: Connection, records: Iterable[CopyChunks]) -> None:
    """COPY the encoded rows of ``records`` into their tables on ``conn``'s transaction,
    one COPY per table, in the order of :data:`COPY_TABLES`, each written to the server
    at once (a write per record and table cost the loading process ~20 µs a Patient)."""
    by_table = list(zip(*records, strict=True))
    driver = conn.connection.driver_connection
    assert driver is not None
    with driver.cursor() as cursor:
        for table, columns, parts in zip(COPY_TABLES, _COLUMNS, by_table, strict=False):
            if any(parts):
                with cursor.copy(f"COPY {table.name} ({', '.join(columns)}) FROM STDIN") \
                        as copy:
                    copy.write(b"".join(parts))


#: The search indexes a first load builds once at its end instead of row by row (issue 16:
#: with them and :data:`DEFERRED_FOREIGN_KEYS` in place PostgreSQL spent 0.34 ms of CPU per
#: Patient; without them 0.14, plus what building them afterwards costs; the ``*_patient``
#: indexes, kept at first, were more than half of the rest). What the load itself reads by
#: stays: the primary keys (adding one back takes an exclusive lock, which deadlocked with
#: concurrent writers), the unique index of active identifiers and
#: ``ix_patient_identifier_value`` (each batch looks its identifiers up by value: without
#: it every batch would scan the table, and a load would grow with the square of its size).
#: ``patient_link`` keeps all of its indexes: the load's links are read as they come.
DEFERRED_INDEXES: tuple[Index, ...] = tuple(
    index for table in (patient, patient_history, patient_identifier, patient_string,
                        patient_token)
    for index in table.indexes
    if not index.unique and index.name != "ix_patient_identifier_value")
#: The deferred indexes by which a write finds a record's index rows (a new version replaces
#: them): :func:`restore_record_indexes` builds them before a first load writes a new
#: version of a record it has written, which would otherwise scan the tables for its rows.
RECORD_INDEXES: tuple[Index, ...] = tuple(
    index for index in DEFERRED_INDEXES
    if index.name.endswith("_patient"))  # type: ignore[union-attr]
#: The index tables whose foreign key to ``patient`` a first load adds back at its end:
#: checked row by row, it costs ~30 look-ups per Patient. Nothing deletes ``patient`` rows
#: (a delete is logical), so the rows written meanwhile cannot lose their Patient.
DEFERRED_FOREIGN_KEYS: tuple[Table, ...] = (patient_identifier, patient_string,
                                            patient_token)
#: The tables whose indexes and keys a deferral changes, locked in this order.
_DEFERRING_TABLES = "patient, patient_history, patient_identifier, patient_string, " \
    "patient_token"
#: One deferral or build of the search indexes at a time (two loads finishing together,
#: or a load's end and ``db upgrade``, deadlocked on the foreign keys).
_INDEX_LOCK = "SELECT pg_advisory_xact_lock(hashtext('sweid:search-indexes'))"


def defer_search_indexes(conn: Connection) -> bool:
    """For a first load — no Patient stored — drop :data:`DEFERRED_INDEXES` and
    :data:`DEFERRED_FOREIGN_KEYS` until :func:`restore_search_indexes`. Whether it did."""
    stored = "SELECT EXISTS (SELECT 1 FROM patient)"
    if conn.exec_driver_sql(stored).scalar():
        return False  # an incremental load: no lock taken, a live server never waits
    conn.exec_driver_sql(_INDEX_LOCK)
    conn.exec_driver_sql(f"LOCK TABLE {_DEFERRING_TABLES} IN ACCESS EXCLUSIVE MODE")
    if conn.exec_driver_sql(stored).scalar():
        return False  # a Patient came meanwhile
    for index in DEFERRED_INDEXES:
        conn.exec_driver_sql(f'DROP INDEX IF EXISTS "{index.name}"')
    for table, name in _foreign_keys(conn):
        conn.exec_driver_sql(f"ALTER TABLE {table} DROP CONSTRAINT IF EXISTS {_quoted(name)}")
    return True


def missing_search_indexes(conn: Connection) -> list[str]:
    """The deferred indexes and foreign keys the database lacks (empty: none). One catalog query:
    readiness (:mod:`app.services.health`) asks it on every probe."""
    indexes, keyed_tables = conn.exec_driver_sql(
        "SELECT ARRAY(SELECT indexname FROM pg_indexes WHERE schemaname = current_schema()), "
        "ARRAY(SELECT conrelid::regclass::text FROM pg_constraint WHERE contype = 'f' "
        "AND conrelid::regclass::text = ANY(%(tables)s))",
        {"tables": [table.name for table in DEFERRED_FOREIGN_KEYS]}).one()
    present, keyed = set(indexes), set(keyed_tables)
    return ([str(index.name) for index in DEFERRED_INDEXES if index.name not in present]
            + [f"{table.name} → patient" for table in DEFERRED_FOREIGN_KEYS
               if table.name not in keyed])


def restore_search_indexes(conn: Connection) -> list[str]:
    """Build what :func:`defer_search_indexes` dropped and is still missing, as the
    migrations define it (each index sorted once, in memory up to at least 256 MB); what it
    built."""
    missing = _missing_under_lock(conn)
    if not missing:
        return []
    _build_indexes(conn, [index for index in DEFERRED_INDEXES if index.name in missing])
    keyed = {table for table, _name in _foreign_keys(conn)}
    for table in DEFERRED_FOREIGN_KEYS:
        if table.name not in keyed:
            for constraint in table.foreign_key_constraints:
                conn.execute(AddConstraint(constraint))
    return missing


def restore_record_indexes(conn: Connection) -> list[str]:
    """Build the :data:`RECORD_INDEXES` a first load dropped (the others wait for its end);
    what it built. In a transaction of its own: it queues behind another build or deferral
    as :func:`restore_search_indexes` does, and a transaction that had read the tables
    first could deadlock with them."""
    missing = _missing_under_lock(conn)
    built = [index for index in RECORD_INDEXES if index.name in missing]
    _build_indexes(conn, built)
    return [str(index.name) for index in built]


def _missing_under_lock(conn: Connection) -> list[str]:
    """:func:`missing_search_indexes`, asked once no other build runs."""
    conn.exec_driver_sql(_INDEX_LOCK)
    return missing_search_indexes(conn)


def _build_indexes(conn: Connection, indexes: list[Index]) -> None:
    if indexes:
        conn.exec_driver_sql(
            "SELECT set_config('maintenance_work_mem', '256MB', true) WHERE "
            "pg_size_bytes(current_setting('maintenance_work_mem')) < pg_size_bytes('256MB')")
    for index in indexes:
        index.create(conn)


def _quoted(name: str) -> str:
    """An SQL identifier as a quoted one."""
    return '"' + name.replace('"', '""') + '"'


def _foreign_keys(conn: Connection) -> list[tuple[str, str]]:
    """(table, constraint name) of the foreign keys of :data:`DEFERRED_FOREIGN_KEYS`."""
    return [(str(table), str(name)) for table, name in conn.exec_driver_sql(
        "SELECT conrelid::regclass::text, conname FROM pg_constraint WHERE contype = 'f' "
        "AND conrelid::regclass::text = ANY(%(tables)s)",
        {"tables": [table.name for table in DEFERRED_FOREIGN_KEYS]})]


def analyze(conn: Connection) -> None:
    """Refresh the planner's statistics of the tables a load filled: right after a large
    COPY they are missing (a new database) or far from the truth until autovacuum gets
    there, and the hot queries' plans depend on them."""
    conn.exec_driver_sql("ANALYZE patient, patient_history, patient_identifier, "
                         "patient_string, patient_token, patient_link")


def _field(value: Any) -> str:
    """One value in COPY's text format."""
    format_ = _FORMATS.get(type(value))
    return format_(value) if format_ is not None else _other(value)


def _text(value: str) -> str:
    if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
        return value.translate(_ESCAPES)
    return value


def _other(value: Any) -> str:
    """A value of a subclass of the types of :data:`_FORMATS` (or a number)."""
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, bytes):
        return _bytea(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, str):
        return _text(value)
    return str(value)


def _bytea(value: bytes) -> str:
    return "\\\\x" + value.hex()  # bytea's hex form, its backslash escaped for COPY


#: How a value of each type is written, by its exact type (one look-up per value).
_FORMATS: dict[type, Callable[[Any], str]] = {
    str: _text, type(None): lambda _value: "\\N", bool: lambda value: "t" if value else "f",
    bytes: _bytea, datetime: datetime.isoformat, date: date.isoformat, int: str}

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

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection

from app.adapters.patient_repository import PatientRows

#: One table's COPY text of one or more records: (table name, its columns) → bytes.
CopyChunks = dict[tuple[str, tuple[str, ...]], bytes]

_ESCAPES = str.maketrans({"\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"})


def encode(rows: PatientRows) -> CopyChunks:
    """``rows`` as COPY text lines, by table (tables without rows left out)."""
    tables = {"patient": [rows.patient], "patient_history": [rows.history]}
    tables.update({table.name: values for table, values in rows.indexes.items()})
    chunks: CopyChunks = {}
    for name, values in tables.items():
        if values:
            columns = tuple(values[0])
            chunks[(name, columns)] = "".join(
                "\t".join(_field(row[column]) for column in columns) + "\n" for row in values
            ).encode()
    return chunks


def copy_in(conn: Connection, records: Iterable[CopyChunks]) -> None:
    """COPY the encoded rows of ``records`` into their tables on ``conn``'s transaction,
    one COPY per table, the current rows first (the index rows reference them)."""
    merged: dict[tuple[str, tuple[str, ...]], list[bytes]] = {}
    for chunks in records:
        for key, data in chunks.items():
            merged.setdefault(key, []).append(data)
    driver = conn.connection.driver_connection
    assert driver is not None
    with driver.cursor() as cursor:
        for (table, columns), parts in sorted(merged.items(), key=_patient_first):
            with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for part in parts:
                    copy.write(part)


def analyze(conn: Connection) -> None:
    """Refresh the planner's statistics of the tables a load filled: right after a large
    COPY they are missing (a new database) or far from the truth until autovacuum gets
    there, and the hot queries' plans depend on them."""
    conn.exec_driver_sql("ANALYZE patient, patient_history, patient_identifier, "
                         "patient_string, patient_token, patient_link")


def _patient_first(item: tuple[tuple[str, tuple[str, ...]], Any]) -> tuple[bool, str]:
    return item[0][0] != "patient", item[0][0]


def _field(value: Any) -> str:
    """One value in COPY's text format."""
    if type(value) is str:  # most values: plain text, rarely with a character to escape
        if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
            return value.translate(_ESCAPES)
        return value
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, bytes):
        return "\\\\x" + value.hex()  # bytea's hex form, its backslash escaped for COPY
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, str):  # a subclass of str
        return value.translate(_ESCAPES)
    return str(value)

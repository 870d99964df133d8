"""The hottest reads (a Patient by id, a search page, a count) run on the DBAPI cursor.

SQLAlchemy Core costs several times the query itself on these paths: executing one cached
statement on SQLite takes ~17 µs of Python against ~5 µs for the driver, and a unit of work
around it (transaction object, rollback) more again — on a read by id that is half of the
server's own time per request (bench/README.md, ``rest_throughput``).

:class:`RawStatement` keeps the statement a SQLAlchemy Core expression (one definition, both
databases) and compiles it once per dialect; each execution then goes straight to the DBAPI
cursor of the unit of work's connection, with the same bind and result conversions
SQLAlchemy would apply (``TypeEngine.bind_processor`` / ``result_processor``: SQLite keeps
datetimes as text in SQLAlchemy's own format). A statement that needs SQLAlchemy at
execution time (expanding ``IN``, post-compile parameters) is run through SQLAlchemy.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Select
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError


@dataclass(frozen=True)
class _Compiled:
    sql: str
    names: tuple[str, ...]  # parameter names, in order for a positional (qmark) dialect
    positional: bool
    binds: tuple[tuple[str, Callable[[Any], Any]], ...]  # (name, conversion), where one is needed
    fixed: Mapping[str, Any]  # bound values written into the statement (``.limit(5)``)
    results: tuple[tuple[int, Callable[[Any], Any]], ...]  # (column, conversion), where needed


class RawStatement:
    """A SELECT compiled once per dialect, executed on the DBAPI cursor."""

    def __init__(self, statement: Select[Any]) -> None:
        self.statement = statement
        self._compiled: dict[str, _Compiled | None] = {}

    def rows(self, conn: Connection, params: Mapping[str, Any]) -> Sequence[tuple[Any, ...]]:
        """All result rows as tuples of converted values, in the statement's column order."""
        dialect = conn.dialect
        try:
            compiled = self._compiled[dialect.name]
        except KeyError:
            compiled = self._compiled[dialect.name] = _compile(self.statement, dialect)
        if compiled is None:
            return [tuple(row) for row in conn.execute(self.statement, dict(params)).all()]
        values = {**compiled.fixed, **params}
        for name, process in compiled.binds:
            values[name] = process(values[name])
        bound: Sequence[Any] | Mapping[str, Any] = (
            [values[name] for name in compiled.names] if compiled.positional
            else {name: values[name] for name in compiled.names})
        dbapi_connection = conn.connection.dbapi_connection
        cursor = dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.execute(compiled.sql, bound)
            fetched = cursor.fetchall()
        except dialect.loaded_dbapi.Error as error:
            if dialect.is_disconnect(error, dbapi_connection, cursor):
                # The connection is gone: the statement runs once more through SQLAlchemy,
                # which invalidates the connection and the rest of the pool and raises
                # DBAPIError(connection_invalidated=True) — run_read/run_write retry that.
                return [tuple(row) for row in conn.execute(self.statement, dict(params)).all()]
            # Anything else (a deadlock in a write, a value the driver refuses) is raised as
            # SQLAlchemy raises it, so that run_write sees the SQLSTATE and retries 40P01.
            raise DBAPIError.instance(compiled.sql, bound, error, dialect.loaded_dbapi.Error,
                                      dialect=dialect) from error
        finally:
            try:  # noqa: SIM105 — contextlib.suppress would build an object per call here
                cursor.close()
            except dialect.loaded_dbapi.Error:
                pass
        if not compiled.results:
            return fetched
        converted = []
        for row in fetched:
            columns = list(row)
            for index, process in compiled.results:
                columns[index] = process(columns[index])
            converted.append(tuple(columns))
        return converted

    def first(self, conn: Connection, params: Mapping[str, Any]) -> tuple[Any, ...] | None:
        """The first row, or None."""
        found = self.rows(conn, params)
        return found[0] if found else None


def _compile(statement: Select[Any], dialect: Dialect) -> _Compiled | None:
    compiled = statement.compile(dialect=dialect)
    if compiled.literal_execute_params or compiled.post_compile_params:
        return None
    # The dialect's own type does the conversion (SQLite's DATETIME, not the generic one).
    binds = tuple((name, process) for name, bind in compiled.binds.items()
                  if (process := bind.type.dialect_impl(dialect).bind_processor(dialect)))
    fixed = {name: bind.effective_value for name, bind in compiled.binds.items()
             if not bind.required}
    results = tuple(
        (index, process) for index, column in enumerate(statement.selected_columns)
        if (process := column.type.dialect_impl(dialect).result_processor(dialect, None)))
    positional = bool(compiled.positional and compiled.positiontup)
    names = tuple(compiled.positiontup) if positional and compiled.positiontup \
        else tuple(compiled.binds)
    return _Compiled(compiled.string, names, positional, binds, fixed, results)

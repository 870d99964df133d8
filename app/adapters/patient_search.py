"""SQL for Patient searches: one parsed :class:`SearchQuery` → one SELECT over the indexes.

Searches are hot, and building SQLAlchemy expressions costs more than running them, so a
statement is built once per query *shape* — which parameters, modifiers, prefixes and how
many values — with bound parameters, and cached. Every request only extracts its values.
Each parameter type therefore has two halves kept side by side: ``values`` (the shape key
part and the bound values, in order) and ``build`` (the expression over those binds).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Select,
    and_,
    bindparam,
    false,
    func,
    not_,
    or_,
    select,
    true,
)

from app.adapters.raw_statement import RawStatement
from app.adapters.tables import (
    patient,
    patient_identifier,
    patient_link,
    patient_string,
    patient_token,
)
from app.domain.identifiers import IdentifierMatch
from app.domain.patient_index import telecom_code
from app.domain.references import patient_reference_id
from app.domain.search import WITHHELD_PARAMETERS, Clause, DateValue, SearchQuery, TokenValue
from app.domain.text import fold

SORT_COLUMNS: dict[str, list[Any]] = {
    "_id": [patient.c.id],
    "_lastUpdated": [patient.c.last_updated],
    "birthdate": [patient.c.birth_lo],
    "family": [patient.c.sort_family],
    "given": [patient.c.sort_given],
    "name": [patient.c.sort_family, patient.c.sort_given],
    "gender": [patient.c.gender],
    "active": [patient.c.active],
}
CACHED_SHAPES = 512

Binds = Iterator[BindParameter[Any]]


@dataclass(frozen=True)
class ClauseShape:
    """What decides the SQL of one clause (its values are bound)."""

    name: str
    type: str
    modifier: str | None
    values: tuple[Any, ...]
    protected_only_visible: bool


def search_select(query: SearchQuery, *,
                  see_protected: bool) -> tuple[RawStatement, dict[str, Any]]:
    """The SELECT of one page of results (id, resource, protected) and its bound values."""
    shapes, values = _shapes_and_values(query, see_protected)
    values += [query.count, query.offset]
    return _page_statement(shapes, tuple(query.sort)), _named(values)


def count_select(query: SearchQuery, *,
                 see_protected: bool) -> tuple[RawStatement, dict[str, Any]]:
    """The SELECT of the number of matches and its bound values."""
    shapes, values = _shapes_and_values(query, see_protected)
    return _count_statement(shapes), _named(values)


def _shapes_and_values(query: SearchQuery,
                       see_protected: bool) -> tuple[tuple[ClauseShape, ...], list[Any]]:
    shapes, values = [], []
    for clause in query.clauses:
        value_shapes = []
        if clause.modifier == "missing":
            value_shapes.append(bool(clause.values[0]))
        else:
            extract = _TYPES[clause.type][0]
            for value in clause.values:
                shape, bound = extract(clause, value)
                value_shapes.append(shape)
                values += bound
        hidden = clause.name in WITHHELD_PARAMETERS and not see_protected
        shapes.append(ClauseShape(clause.name, clause.type, clause.modifier,
                                  tuple(value_shapes), hidden))
    return tuple(shapes), values


def _named(values: list[Any]) -> dict[str, Any]:
    return {f"p{position}": value for position, value in enumerate(values)}


def _binds() -> Binds:
    position = 0
    while True:
        yield bindparam(f"p{position}")
        position += 1


def _where(shapes: tuple[ClauseShape, ...], binds: Binds) -> ColumnElement[bool]:
    """The WHERE clause; withheld fields never match protected persons for callers who
    may not see them (api.md "Access control")."""
    conditions: list[ColumnElement[bool]] = [patient.c.deleted == false()]
    for shape in shapes:
        condition = _clause_condition(shape, binds)
        if shape.protected_only_visible:
            condition = and_(condition, patient.c.protected == false())
        conditions.append(condition)
    return and_(*conditions)


@lru_cache(maxsize=CACHED_SHAPES)
def _page_statement(shapes: tuple[ClauseShape, ...],
                    sort: tuple[tuple[str, bool], ...]) -> RawStatement:
    binds = _binds()
    where = _where(shapes, binds)
    order: list[Any] = []
    for key, descending in sort:
        for column in SORT_COLUMNS[key]:
            order.append(column.desc().nulls_last() if descending else column.asc().nulls_last())
    order.append(patient.c.id)
    return RawStatement(
        select(patient.c.id, patient.c.resource, patient.c.protected)
        .where(where)
        .order_by(*order)
        .limit(next(binds))
        .offset(next(binds))
    )


@lru_cache(maxsize=CACHED_SHAPES)
def _count_statement(shapes: tuple[ClauseShape, ...]) -> RawStatement:
    return RawStatement(select(func.count()).select_from(patient).where(_where(shapes, _binds())))


def _clause_condition(shape: ClauseShape, binds: Binds) -> ColumnElement[bool]:
    if shape.modifier == "missing":
        return _missing(shape)
    build = _TYPES[shape.type][1]
    condition = or_(*(build(shape, value_shape, binds) for value_shape in shape.values))
    return not_(condition) if shape.modifier == "not" else condition


def _missing(shape: ClauseShape) -> ColumnElement[bool]:
    wanted_missing = bool(shape.values[0])
    column = _COLUMN_OF.get(shape.type)
    if column is not None:
        missing: ColumnElement[bool] = column.is_(None) if wanted_missing else column.is_not(None)
        return missing
    present = patient.c.id.in_(_index_ids(shape))
    return not_(present) if wanted_missing else present


def _index_ids(shape: ClauseShape) -> Select[Any]:
    if shape.type == "identifier":
        return select(patient_identifier.c.patient_id)
    if shape.type == "link":
        return select(patient_link.c.patient_id)
    table = patient_string if shape.type == "string" else patient_token
    return select(table.c.patient_id).where(table.c.param == shape.name)


# --- per parameter type: values (shape, bound values) and build (expression) ----------------

def _one_value(clause: Clause, value: object) -> tuple[Any, list[Any]]:
    return None, [str(value)]


def _id(shape: ClauseShape, value_shape: Any, binds: Binds) -> ColumnElement[bool]:
    return patient.c.id == next(binds)


def _gender(shape: ClauseShape, value_shape: Any, binds: Binds) -> ColumnElement[bool]:
    return patient.c.gender == next(binds)


def _active_values(clause: Clause, value: object) -> tuple[Any, list[Any]]:
    return bool(value), []


def _active(shape: ClauseShape, value_shape: Any, binds: Binds) -> ColumnElement[bool]:
    return patient.c.active == (true() if value_shape else false())


def _link_values(clause: Clause, value: object) -> tuple[Any, list[Any]]:
    target = patient_reference_id(str(value)) or patient_reference_id(f"Patient/{value}") or ""
    return None, [target]


def _link(shape: ClauseShape, value_shape: Any, binds: Binds) -> ColumnElement[bool]:
    return patient.c.id.in_(
        select(patient_link.c.patient_id).where(patient_link.c.target_id == next(binds))
    )


def _date_values(clause: Clause, value: object) -> tuple[Any, list[Any]]:
    assert isinstance(value, DateValue)
    if clause.type == "birthdate":
        return value.prefix, [value.lo.date(), value.hi.date()]
    return value.prefix, [value.lo, value.hi]


def _date(shape: ClauseShape, prefix: Any, binds: Binds) -> ColumnElement[bool]:
    if shape.type == "birthdate":
        column_lo, column_hi = patient.c.birth_lo, patient.c.birth_hi
    else:
        column_lo = column_hi = patient.c.last_updated
    lo, hi = next(binds), next(binds)
    # Stored ranges have lo <= hi, so ``column_lo <= hi`` adds nothing to the meaning; it
    # gives the planner a narrow range on the indexed column_lo. Without it PostgreSQL at
    # 1 M Patients estimated one in ten rows for a birth date and walked the whole table
    # in id order (bench/README.md, "EXPLAIN of the hot queries").
    within = and_(column_lo >= lo, column_lo <= hi, column_hi <= hi)
    conditions: dict[str, Callable[[], ColumnElement[bool]]] = {
        "eq": lambda: within,
        "ne": lambda: not_(within),
        "gt": lambda: column_hi > hi,
        "lt": lambda: column_lo < lo,
        "ge": lambda: or_(column_hi > hi, within),
        "le": lambda: or_(column_lo < lo, within),
        "sa": lambda: column_lo > hi,
        "eb": lambda: column_hi < lo,
        "ap": lambda: and_(column_lo <= hi, column_hi >= lo),
    }
    return and_(column_lo.is_not(None), conditions[prefix]())


def _identifier_values(clause: Clause, value: object) -> tuple[Any, list[Any]]:
    assert isinstance(value, IdentifierMatch)
    codes = sorted(value.codes) if value.codes is not None else None
    bound = ([value.system] if value.system is not None else []) + (codes or [])
    return (value.system is not None, None if codes is None else len(codes)), bound


def _identifier(shape: ClauseShape, value_shape: Any, binds: Binds) -> ColumnElement[bool]:
    has_system, code_count = value_shape
    conditions = []
    if has_system:
        conditions.append(patient_identifier.c.system == next(binds))
    if code_count == 1:
        conditions.append(patient_identifier.c.value == next(binds))
    elif code_count is not None:
        conditions.append(patient_identifier.c.value.in_([next(binds) for _ in range(code_count)]))
    return patient.c.id.in_(select(patient_identifier.c.patient_id).where(*conditions))


def _string_values(clause: Clause, value: object) -> tuple[Any, list[Any]]:
    text = str(value)
    if clause.modifier == "exact":
        return None, [text]
    escaped = fold(text).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    pattern = f"%{escaped}%" if clause.modifier == "contains" else f"{escaped}%"
    return None, [pattern]


def _string(shape: ClauseShape, value_shape: Any, binds: Binds) -> ColumnElement[bool]:
    table = patient_string
    if shape.modifier == "exact":
        match = table.c.exact == next(binds)
    else:
        match = table.c.folded.like(next(binds), escape="\\")
    return patient.c.id.in_(select(table.c.patient_id).where(table.c.param == shape.name, match))


def _token_values(clause: Clause, value: object) -> tuple[Any, list[Any]]:
    assert isinstance(value, TokenValue)
    code = value.code
    if code is not None and clause.type == "telecom":
        code = telecom_code(clause.name, code)
        if clause.name == "telecom" and value.system in ("phone", "email"):
            code = telecom_code(value.system, value.code or "")
    bound = [v for v in (value.system, code) if v is not None]
    return (value.system is not None, code is not None), bound


def _token(shape: ClauseShape, value_shape: Any, binds: Binds) -> ColumnElement[bool]:
    has_system, has_code = value_shape
    table = patient_token
    conditions = [table.c.param == shape.name]
    if has_system:
        conditions.append(table.c.system == next(binds))
    if has_code:
        conditions.append(table.c.code == next(binds))
    return patient.c.id.in_(select(table.c.patient_id).where(*conditions))


Values = Callable[[Clause, object], tuple[Any, list[Any]]]
Build = Callable[[ClauseShape, Any, Binds], ColumnElement[bool]]
_TYPES: dict[str, tuple[Values, Build]] = {
    "id": (_one_value, _id),
    "lastUpdated": (_date_values, _date),
    "birthdate": (_date_values, _date),
    "identifier": (_identifier_values, _identifier),
    "string": (_string_values, _string),
    "telecom": (_token_values, _token),
    "security": (_token_values, _token),
    "token": (_token_values, _token),
    "gender": (_one_value, _gender),
    "active": (_active_values, _active),
    "link": (_link_values, _link),
}
_COLUMN_OF: dict[str, Any] = {
    "birthdate": patient.c.birth_lo,
    "gender": patient.c.gender,
}


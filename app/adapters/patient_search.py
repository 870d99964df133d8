"""SQL for Patient searches: one parsed :class:`SearchQuery` → one SELECT over the indexes.

Searches are hot, and building SQLAlchemy expressions costs more than running them, so a
statement is built once per query *shape* — which parameters, modifiers, prefixes and how
many values — with bound parameters, and cached. Every request only extracts its values.
Each parameter type is one :class:`ParameterType` object whose two halves name their bound
values: ``bind`` gives a value's shape and its values by name, ``condition`` builds the
expression and asks for the binds by those names. The names travel in the shape key, and
one function (:func:`_bind_names`) orders them for both the values and the statement, so
the two halves cannot take each other's values.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
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
    #: Per value: its shape and the names of its bound values.
    values: tuple[tuple[Any, tuple[str, ...]], ...]
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
        value_shapes: list[tuple[Any, tuple[str, ...]]] = []
        if clause.modifier == "missing":
            value_shapes.append((bool(clause.values[0]), ()))
        else:
            for value in clause.values:
                shape, named = TYPES[clause.type].bind(clause, value)
                names = _bind_names(named)
                value_shapes.append((shape, names))
                values += [named[name] for name in names]
        hidden = clause.name in WITHHELD_PARAMETERS and not see_protected
        shapes.append(ClauseShape(clause.name, clause.type, clause.modifier,
                                  tuple(value_shapes), hidden))
    return tuple(shapes), values


def _named(values: list[Any]) -> dict[str, Any]:
    return {f"p{position}": value for position, value in enumerate(values)}


def _bind_names(named: Mapping[str, Any]) -> tuple[str, ...]:
    """The order of one value's bound values, in the list of values and in the statement."""
    return tuple(sorted(named))


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
    parameter_type = TYPES[shape.type]
    condition = or_(*(
        parameter_type.condition(shape, value_shape, {name: next(binds) for name in names})
        for value_shape, names in shape.values))
    return not_(condition) if shape.modifier == "not" else condition


def _missing(shape: ClauseShape) -> ColumnElement[bool]:
    wanted_missing = bool(shape.values[0][0])
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


# --- per parameter type: bind (shape, values by name) and condition (expression) -----------

Named = dict[str, Any]
NamedBinds = Mapping[str, BindParameter[Any]]


@dataclass(frozen=True)
class ParameterType:
    """The SQL of one search parameter type: ``bind`` turns one value of a clause into the
    shape that decides the SQL and its bound values by name; ``condition`` builds the
    expression of one value from the clause shape, that value shape and the binds by the
    same names."""

    bind: Callable[[Clause, object], tuple[Any, Named]]
    condition: Callable[[ClauseShape, Any, NamedBinds], ColumnElement[bool]]


def _one_value(clause: Clause, value: object) -> tuple[Any, Named]:
    return None, {"value": str(value)}


def _id(shape: ClauseShape, value_shape: Any, binds: NamedBinds) -> ColumnElement[bool]:
    return patient.c.id == binds["value"]


def _gender(shape: ClauseShape, value_shape: Any, binds: NamedBinds) -> ColumnElement[bool]:
    return patient.c.gender == binds["value"]


def _active_values(clause: Clause, value: object) -> tuple[Any, Named]:
    return bool(value), {}


def _active(shape: ClauseShape, value_shape: Any, binds: NamedBinds) -> ColumnElement[bool]:
    return patient.c.active == (true() if value_shape else false())


def _link_values(clause: Clause, value: object) -> tuple[Any, Named]:
    target = patient_reference_id(str(value)) or patient_reference_id(f"Patient/{value}") or ""
    return None, {"target": target}


def _link(shape: ClauseShape, value_shape: Any, binds: NamedBinds) -> ColumnElement[bool]:
    return patient.c.id.in_(
        select(patient_link.c.patient_id).where(patient_link.c.target_id == binds["target"])
    )


def _date_values(clause: Clause, value: object) -> tuple[Any, Named]:
    assert isinstance(value, DateValue)
    if clause.type == "birthdate":
        return value.prefix, {"lo": value.lo.date(), "hi": value.hi.date()}
    return value.prefix, {"lo": value.lo, "hi": value.hi}


def _date(shape: ClauseShape, prefix: Any, binds: NamedBinds) -> ColumnElement[bool]:
    if shape.type == "birthdate":
        column_lo, column_hi = patient.c.birth_lo, patient.c.birth_hi
    else:
        column_lo = column_hi = patient.c.last_updated
    lo, hi = binds["lo"], binds["hi"]
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


def _identifier_values(clause: Clause, value: object) -> tuple[Any, Named]:
    assert isinstance(value, IdentifierMatch)
    named: Named = {} if value.system is None else {"system": value.system}
    codes = sorted(value.codes) if value.codes is not None else []
    named.update({f"code{index:03d}": code for index, code in enumerate(codes)})
    return None, named


def _identifier(shape: ClauseShape, value_shape: Any, binds: NamedBinds) -> ColumnElement[bool]:
    conditions = []
    if "system" in binds:
        conditions.append(patient_identifier.c.system == binds["system"])
    codes = [bind for name, bind in binds.items() if name.startswith("code")]
    if len(codes) == 1:
        conditions.append(patient_identifier.c.value == codes[0])
    elif codes:
        conditions.append(patient_identifier.c.value.in_(codes))
    return patient.c.id.in_(select(patient_identifier.c.patient_id).where(*conditions))


def _string_values(clause: Clause, value: object) -> tuple[Any, Named]:
    text = str(value)
    if clause.modifier == "exact":
        return None, {"exact": text}
    escaped = fold(text).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    pattern = f"%{escaped}%" if clause.modifier == "contains" else f"{escaped}%"
    return None, {"pattern": pattern}


def _string(shape: ClauseShape, value_shape: Any, binds: NamedBinds) -> ColumnElement[bool]:
    table = patient_string
    if "exact" in binds:
        match = table.c.exact == binds["exact"]
    else:
        match = table.c.folded.like(binds["pattern"], escape="\\")
    return patient.c.id.in_(select(table.c.patient_id).where(table.c.param == shape.name, match))


def _token_values(clause: Clause, value: object) -> tuple[Any, Named]:
    assert isinstance(value, TokenValue)
    code = value.code
    if code is not None and clause.type == "telecom":
        code = telecom_code(clause.name, code)
        if clause.name == "telecom" and value.system in ("phone", "email"):
            code = telecom_code(value.system, value.code or "")
    named = {"system": value.system, "code": code}
    return None, {name: bound for name, bound in named.items() if bound is not None}


def _token(shape: ClauseShape, value_shape: Any, binds: NamedBinds) -> ColumnElement[bool]:
    table = patient_token
    conditions = [table.c.param == shape.name]
    conditions += [getattr(table.c, name) == bind for name, bind in binds.items()]
    return patient.c.id.in_(select(table.c.patient_id).where(*conditions))


_TOKEN = ParameterType(_token_values, _token)
_DATE = ParameterType(_date_values, _date)
#: Every search parameter type (``Clause.type``) and its SQL.
TYPES: dict[str, ParameterType] = {
    "id": ParameterType(_one_value, _id),
    "lastUpdated": _DATE,
    "birthdate": _DATE,
    "identifier": ParameterType(_identifier_values, _identifier),
    "string": ParameterType(_string_values, _string),
    "telecom": _TOKEN,
    "security": _TOKEN,
    "token": _TOKEN,
    "gender": ParameterType(_one_value, _gender),
    "active": ParameterType(_active_values, _active),
    "link": ParameterType(_link_values, _link),
}
_COLUMN_OF: dict[str, Any] = {
    "birthdate": patient.c.birth_lo,
    "gender": patient.c.gender,
}

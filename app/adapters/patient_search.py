"""SQL for Patient searches: one parsed :class:`SearchQuery` → one SELECT over the indexes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, false, func, not_, or_, select, true

from app.adapters.tables import (
    patient,
    patient_identifier,
    patient_link,
    patient_string,
    patient_token,
)
from app.domain.identifiers import IdentifierMatch
from app.domain.patient_index import link_target_id, telecom_code
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


def search_filter(query: SearchQuery, *, see_protected: bool) -> ColumnElement[bool]:
    """The WHERE clause of a search; withheld fields never match protected persons for
    callers who may not see them (api.md "Access control")."""
    conditions: list[ColumnElement[bool]] = [patient.c.deleted == false()]
    for clause in query.clauses:
        condition = _clause_condition(clause)
        if clause.name in WITHHELD_PARAMETERS and not see_protected:
            condition = and_(condition, patient.c.protected == false())
        conditions.append(condition)
    return and_(*conditions)


def search_select(query: SearchQuery, *, see_protected: bool) -> Select[Any]:
    """SELECT the rows of one page of results."""
    order: list[Any] = []
    for key, descending in query.sort:
        for column in SORT_COLUMNS[key]:
            order.append(column.desc().nulls_last() if descending else column.asc().nulls_last())
    order.append(patient.c.id)
    return (
        select(patient.c.id, patient.c.resource, patient.c.protected)
        .where(search_filter(query, see_protected=see_protected))
        .order_by(*order)
        .limit(query.count)
        .offset(query.offset)
    )


def count_select(query: SearchQuery, *, see_protected: bool) -> Select[Any]:
    """SELECT the number of matches."""
    return select(func.count()).select_from(patient).where(
        search_filter(query, see_protected=see_protected)
    )


def _clause_condition(clause: Clause) -> ColumnElement[bool]:
    if clause.modifier == "missing":
        return _missing(clause)
    build = _BUILDERS[clause.type]
    condition = or_(*(build(clause, value) for value in clause.values))
    return not_(condition) if clause.modifier == "not" else condition


def _missing(clause: Clause) -> ColumnElement[bool]:
    wanted_missing = bool(clause.values[0])
    column = _COLUMN_OF.get(clause.type)
    if column is not None:
        missing: ColumnElement[bool] = column.is_(None) if wanted_missing else column.is_not(None)
        return missing
    present = patient.c.id.in_(_index_ids(clause))
    return not_(present) if wanted_missing else present


def _index_ids(clause: Clause) -> Select[Any]:
    if clause.type == "identifier":
        return select(patient_identifier.c.patient_id)
    if clause.type == "link":
        return select(patient_link.c.patient_id)
    table = patient_string if clause.type == "string" else patient_token
    return select(table.c.patient_id).where(table.c.param == clause.name)


def _id(clause: Clause, value: object) -> ColumnElement[bool]:
    return patient.c.id == str(value)


def _date(column_lo: Any, column_hi: Any, value: DateValue) -> ColumnElement[bool]:
    lo, hi = value.lo, value.hi
    if column_lo.type.python_type is not datetime:
        lo, hi = lo.date(), hi.date()  # type: ignore[assignment]
    within = and_(column_lo >= lo, column_hi <= hi)
    conditions: dict[str, ColumnElement[bool]] = {
        "eq": within,
        "ne": not_(within),
        "gt": column_hi > hi,
        "lt": column_lo < lo,
        "ge": or_(column_hi > hi, within),
        "le": or_(column_lo < lo, within),
        "sa": column_lo > hi,
        "eb": column_hi < lo,
        "ap": and_(column_lo <= hi, column_hi >= lo),
    }
    return and_(column_lo.is_not(None), conditions[value.prefix])


def _last_updated(clause: Clause, value: object) -> ColumnElement[bool]:
    assert isinstance(value, DateValue)
    return _date(patient.c.last_updated, patient.c.last_updated, value)


def _birthdate(clause: Clause, value: object) -> ColumnElement[bool]:
    assert isinstance(value, DateValue)
    return _date(patient.c.birth_lo, patient.c.birth_hi, value)


def _identifier(clause: Clause, value: object) -> ColumnElement[bool]:
    assert isinstance(value, IdentifierMatch)
    conditions = []
    if value.system is not None:
        conditions.append(patient_identifier.c.system == value.system)
    if value.codes is not None:
        conditions.append(patient_identifier.c.value.in_(sorted(value.codes)))
    return patient.c.id.in_(select(patient_identifier.c.patient_id).where(*conditions))


def _string(clause: Clause, value: object) -> ColumnElement[bool]:
    text = str(value)
    table = patient_string
    if clause.modifier == "exact":
        match = table.c.exact == text
    elif clause.modifier == "contains":
        match = table.c.folded.contains(fold(text), autoescape=True)
    else:
        match = table.c.folded.startswith(fold(text), autoescape=True)
    return patient.c.id.in_(select(table.c.patient_id).where(table.c.param == clause.name, match))


def _token(clause: Clause, value: object) -> ColumnElement[bool]:
    assert isinstance(value, TokenValue)
    table = patient_token
    conditions = [table.c.param == clause.name]
    if value.system is not None:
        conditions.append(table.c.system == value.system)
    if value.code is not None:
        code = telecom_code(clause.name, value.code) if clause.type == "telecom" else value.code
        if clause.name == "telecom" and value.system in ("phone", "email"):
            code = telecom_code(value.system, value.code)
        conditions.append(table.c.code == code)
    return patient.c.id.in_(select(table.c.patient_id).where(*conditions))


def _gender(clause: Clause, value: object) -> ColumnElement[bool]:
    return patient.c.gender == str(value)


def _active(clause: Clause, value: object) -> ColumnElement[bool]:
    return patient.c.active == (true() if value else false())


def _link(clause: Clause, value: object) -> ColumnElement[bool]:
    target = link_target_id(str(value)) or link_target_id(f"Patient/{value}") or ""
    return patient.c.id.in_(
        select(patient_link.c.patient_id).where(patient_link.c.target_id == target)
    )


_BUILDERS: dict[str, Callable[[Clause, object], ColumnElement[bool]]] = {
    "id": _id,
    "lastUpdated": _last_updated,
    "birthdate": _birthdate,
    "identifier": _identifier,
    "string": _string,
    "telecom": _token,
    "security": _token,
    "token": _token,
    "gender": _gender,
    "active": _active,
    "link": _link,
}
_COLUMN_OF: dict[str, Any] = {
    "birthdate": patient.c.birth_lo,
    "gender": patient.c.gender,
}

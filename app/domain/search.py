"""Patient search parameters: parsing a query string into a :class:`SearchQuery`.

FHIR semantics (R4 §3.1.1): repeated parameters are ANDed, comma-separated values ORed,
``:modifier`` after the name. The storage layer turns the query into SQL.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from app.domain.errors import InvalidRequest
from app.domain.fhirdate import parse_range
from app.domain.limits import MAX_PARAMETER_VALUES, MAX_SEARCH_PARAMETERS, MAX_SEARCH_VALUES

ParamType = Literal["id", "lastUpdated", "identifier", "birthdate", "string", "gender",
                    "active", "link", "telecom", "security", "token"]

PARAMETERS: dict[str, ParamType] = {
    "_id": "id",
    "_lastUpdated": "lastUpdated",
    "identifier": "identifier",
    "birthdate": "birthdate",
    "name": "string",
    "family": "string",
    "given": "string",
    "address": "string",
    "address-city": "string",
    "address-postalcode": "string",
    "address-country": "string",
    "address-state": "string",
    "mothersMaidenName": "string",
    "gender": "gender",
    "active": "active",
    "link": "link",
    "telecom": "telecom",
    "phone": "telecom",
    "email": "telecom",
    "_security": "security",
    "patient-type": "token",
    "patient-group": "token",
}
PARAMETER_DOCS: dict[str, tuple[str, str]] = {
    "_id": ("token", "Logical id of the Patient"),
    "_lastUpdated": ("date", "When the current version was written"),
    "identifier": ("token", "system|value; Swedish identities are normalised first"),
    "birthdate": ("date", "Birth date, partial dates and prefixes eq/ne/lt/le/gt/ge/sa/eb/ap"),
    "name": ("string", "Any part of any name; case- and accent-insensitive prefix"),
    "family": ("string", "Family name; case- and accent-insensitive prefix"),
    "given": ("string", "Given name; case- and accent-insensitive prefix"),
    "address": ("string", "Any part of any address"),
    "address-city": ("string", "City of any address"),
    "address-postalcode": ("string", "Postal code of any address"),
    "address-country": ("string", "Country of any address (IHE PDQm)"),
    "address-state": ("string", "State (Swedish county, län) of any address (IHE PDQm)"),
    "mothersMaidenName": ("string", "Mother's maiden name (extension "
                                    "patient-mothersMaidenName; IHE PDQm)"),
    "gender": ("token", "male | female | other | unknown"),
    "active": ("token", "true | false (absent counts as true)"),
    "link": ("reference", "Patient linked to this one"),
    "telecom": ("token", "Any telecom value, system|value"),
    "phone": ("token", "Phone number, spacing ignored"),
    "email": ("token", "E-mail address, case-insensitive"),
    "_security": ("token", "Security label system|code"),
    "patient-type": ("token", "Patient type (extension patient-type), e.g. oklar; "
                              "never matches protected persons without protected-identity"),
    "patient-group": ("token", "Patient group of reserve-number patients (extension "
                               "patient-group), e.g. 01/99 asylsökande; never matches protected "
                               "persons without protected-identity"),
}
#: Parameters on elements masked for protected persons (domain.md §3.6).
WITHHELD_PARAMETERS = frozenset(
    {"address", "address-city", "address-postalcode", "address-country", "telecom", "phone",
     "email", "patient-type", "patient-group", "mothersMaidenName"}
)
SORT_KEYS = frozenset(
    {"_id", "_lastUpdated", "birthdate", "family", "given", "name", "gender", "active"}
)
RESULT_PARAMETERS = frozenset(
    {"_count", "_offset", "_sort", "_total", "_summary", "_elements", "_include", "_format",
     "_pretty"}
)
DATE_PREFIXES = ("eq", "ne", "gt", "lt", "ge", "le", "sa", "eb", "ap")
MODIFIERS: dict[ParamType, frozenset[str]] = {
    "id": frozenset({"not"}),
    "lastUpdated": frozenset({"missing"}),
    "identifier": frozenset({"not", "missing"}),
    "birthdate": frozenset({"missing"}),
    "string": frozenset({"exact", "contains", "missing"}),
    "gender": frozenset({"not", "missing"}),
    "active": frozenset({"not", "missing"}),
    "link": frozenset({"missing", "Patient"}),
    "telecom": frozenset({"not", "missing"}),
    "security": frozenset({"not", "missing"}),
    "token": frozenset({"not", "missing"}),
}


@dataclass(frozen=True)
class DateValue:
    """A date search value: prefix and the interval it covers."""

    prefix: str
    lo: datetime
    hi: datetime


@dataclass(frozen=True)
class TokenValue:
    """A token search value: ``system`` None means any system, "" means no system."""

    system: str | None
    code: str | None


@dataclass
class Clause:
    """One parameter occurrence; its values are ORed."""

    name: str
    type: ParamType
    modifier: str | None
    values: list[object]


@dataclass
class SearchQuery:
    """A parsed Patient search."""

    clauses: list[Clause] = field(default_factory=list)
    sort: list[tuple[str, bool]] = field(default_factory=list)
    count: int = 20
    offset: int = 0
    total: str | None = None
    summary: str | None = None
    elements: list[str] | None = None
    include_links: bool = False
    ignored: list[str] = field(default_factory=list)
    #: IHE PDQm: the identity domains named by ``identifier=<system>|`` (no value); the
    #: returned Patients show only their identifiers of these domains (set by the service).
    identifier_domains: list[str] = field(default_factory=list)


def parse_search(
    args: list[tuple[str, str]],
    *,
    default_count: int,
    max_count: int,
    strict: bool = False,
) -> SearchQuery:
    """Parse query-string pairs into a SearchQuery; ``strict`` refuses unknown parameters."""
    if len(args) > MAX_SEARCH_PARAMETERS:
        raise InvalidRequest(f"A search takes at most {MAX_SEARCH_PARAMETERS} parameters "
                             f"({len(args)} given)")
    query = SearchQuery(count=default_count)
    for raw_name, raw_value in args:
        name, _, modifier = raw_name.partition(":")
        if name in RESULT_PARAMETERS:
            _apply_result_parameter(query, name, raw_value, max_count)
            continue
        ptype = PARAMETERS.get(name)
        if ptype is None:
            if strict:
                raise InvalidRequest(f"Unknown search parameter '{name}' for Patient")
            query.ignored.append(name)
            continue
        if modifier and modifier not in MODIFIERS[ptype]:
            raise InvalidRequest(f"Modifier ':{modifier}' is not supported on '{name}'")
        query.clauses.append(
            Clause(name, ptype, modifier or None, _parse_values(name, ptype, modifier, raw_value))
        )
    values = sum(len(clause.values) for clause in query.clauses)
    if values > MAX_SEARCH_VALUES:
        raise InvalidRequest(f"A search takes at most {MAX_SEARCH_VALUES} values in all "
                             f"({values} given)")
    return query


def _split(raw: str) -> list[str]:
    """Split on commas that are not escaped with a backslash (FHIR §3.1.1.5.7)."""
    values, current, escaped = [], [], False
    for ch in raw:
        if escaped:
            current.append(ch)
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == ",":
            values.append("".join(current))
            current = []
        else:
            current.append(ch)
    values.append("".join(current))
    return values


def _parse_values(name: str, ptype: ParamType, modifier: str, raw: str) -> list[object]:
    if modifier == "missing":
        if raw not in ("true", "false"):
            raise InvalidRequest(f"':missing' on '{name}' takes true or false")
        return [raw == "true"]
    values = [v for v in _split(raw) if v != ""]
    if not values:
        raise InvalidRequest(f"Search parameter '{name}' has no value")
    _check_values(name, values)
    if ptype in ("birthdate", "lastUpdated"):
        return [_parse_date(name, v) for v in values]
    if ptype in ("identifier", "telecom", "security", "token"):
        return [_parse_token(v) for v in values]
    if ptype == "active":
        for value in values:
            if value not in ("true", "false"):
                raise InvalidRequest(f"'{name}' takes true or false")
        return [v == "true" for v in values]
    if ptype == "gender":
        for value in values:
            if value not in ("male", "female", "other", "unknown"):
                raise InvalidRequest("'gender' takes male, female, other or unknown")
    return list(values)


def _check_values(name: str, values: list[str]) -> None:
    if len(values) > MAX_PARAMETER_VALUES:
        raise InvalidRequest(f"Search parameter '{name}' takes at most {MAX_PARAMETER_VALUES} "
                             f"values ({len(values)} given)")


def _parse_token(value: str) -> TokenValue:
    if "|" not in value:
        return TokenValue(None, value)
    system, _, code = value.partition("|")
    return TokenValue(system, code or None)


def _parse_date(name: str, value: str) -> DateValue:
    prefix = value[:2] if value[:2] in DATE_PREFIXES else "eq"
    body = value[2:] if value[:2] in DATE_PREFIXES else value
    try:
        lo, hi = parse_range(body)
    except ValueError:
        raise InvalidRequest(f"'{name}' value is not a valid FHIR date") from None
    return DateValue(prefix, lo, hi)


def _apply_result_parameter(query: SearchQuery, name: str, value: str, max_count: int) -> None:
    if name == "_count":
        query.count = min(_non_negative_int(name, value), max_count)
    elif name == "_offset":
        query.offset = _non_negative_int(name, value)
    elif name == "_sort":
        keys = [key for key in value.split(",") if key]
        _check_values(name, keys)
        query.sort = [_parse_sort_key(key) for key in keys]
    elif name == "_total":
        if value not in ("none", "estimate", "accurate"):
            raise InvalidRequest("'_total' takes none, estimate or accurate")
        query.total = value
    elif name == "_summary":
        if value not in ("true", "false", "count", "data", "text"):
            raise InvalidRequest("'_summary' takes true, false, count, data or text")
        query.summary = None if value == "false" else value
    elif name == "_elements":
        query.elements = [e.strip() for e in value.split(",") if e.strip()]
        _check_values(name, query.elements)
    elif name == "_include":
        if value not in ("Patient:link", "Patient:link:Patient", "*"):
            raise InvalidRequest("'_include' takes Patient:link")
        query.include_links = True


def _non_negative_int(name: str, value: str) -> int:
    if not value.isdigit() or len(value) > 9:
        raise InvalidRequest(f"'{name}' takes a non-negative integer below 10^9")
    return int(value)


def _parse_sort_key(key: str) -> tuple[str, bool]:
    descending = key.startswith("-")
    name = key.lstrip("-")
    if name not in SORT_KEYS:
        raise InvalidRequest(f"'_sort' takes {', '.join(sorted(SORT_KEYS))} (each may "
                             "start with -)")
    return name, descending

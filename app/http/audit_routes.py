"""Read and search of Provenance and AuditEvent (written by the server, never by clients:
no route writes them, so werkzeug answers a write with 405)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import orjson
from flask import Response, current_app, request
from flask_smorest import Blueprint

from app.domain.errors import InvalidRequest, NotFound
from app.domain.fhirdate import instant, parse_range, utc_now
from app.http.auth import requires
from app.http.fhir_io import base_url, fhir_response
from app.http.openapi_schemas import AUTH, FORMAT_VALUES, PAGING, fhir_doc, query_parameter
from app.http.presentation import search_url
from app.http.query import parse_paging
from app.services.transactions import run_read

blp = Blueprint("audit", __name__, url_prefix="/fhir",
                description="Provenance and AuditEvent, written by the server")

#: Search parameters per type: name → index param (references are stored as "Patient/<id>").
SEARCH_PARAMETERS: dict[str, dict[str, str]] = {
    "Provenance": {"target": "target", "agent": "agent", "patient": "target"},
    "AuditEvent": {"entity": "entity", "agent": "agent", "patient": "entity",
                   "type": "type", "subtype": "subtype", "outcome": "outcome"},
}
DATE_PARAMETER = {"Provenance": "recorded", "AuditEvent": "date"}
#: A value of the date parameter, as /openapi.json gives it: a prefix this search answers
#: (:data:`DATE_PREFIXES`) and a FHIR date.
DATE_VALUE = {"type": "string",
              "pattern": "^(?:eq|gt|lt|ge|le|sa|eb)?[0-9]{4}(?:-(?:0[1-9]|1[0-2])"
                         "(?:-(?:0[1-9]|[12][0-9]|3[01]))?)?$"}


def _engine() -> Any:
    return current_app.extensions["sweid"].engine


def _reference_values(value: str) -> list[str]:
    """``Patient/1``, ``1`` and an absolute URL all name the same record."""
    tail = value.rsplit("/fhir/", 1)[-1]
    return [tail] if "/" in tail else [tail, f"Patient/{tail}"]


@requires("<resource_type>", "s", interaction="search-type")
def search(resource_type: str) -> Response:
    """Search the server's own records about Patients."""
    pairs = list(request.args.items(multi=True))
    paging = parse_paging(pairs)
    params = SEARCH_PARAMETERS[resource_type]
    conditions: list[tuple[str, list[str]]] = []
    lo: datetime | None = None
    hi: datetime | None = None
    for name, value in pairs:
        if name in ("_count", "_offset", "_format"):
            continue
        if name == DATE_PARAMETER[resource_type]:
            # Repeated date parameters are ANDed (FHIR R4 §3.1.1.5.1): the bounds narrow.
            lo, hi = _narrow(lo, hi, *_date_bounds(value))
        elif name in params:
            values = [v for part in value.split(",") for v in _reference_values(part)]
            conditions.append((params[name], values))
        else:
            raise InvalidRequest(f"Unknown search parameter {name[:40]!r} for {resource_type}")
    rows, total = run_read(_engine(), lambda uow: uow.audit.search(
        resource_type, conditions, recorded_from=lo, recorded_to=hi,
        count=paging.count, offset=paging.offset))
    base = base_url()
    entries = [{"fullUrl": f"{base}/{resource_type}/{orjson.loads(row)['id']}",
                "resource": orjson.Fragment(row), "search": {"mode": "match"}} for row in rows]
    bundle = {"resourceType": "Bundle", "type": "searchset", "total": total,
              "meta": {"lastUpdated": instant(utc_now())},
              "link": [{"relation": "self",
                        "url": search_url(f"{base}/{resource_type}", pairs)}],
              "entry": entries}
    return fhir_response(orjson.dumps(bundle))


@requires("<resource_type>", "r", interaction="read")
def read(resource_type: str, resource_id: str) -> Response:
    """Read."""
    row = run_read(_engine(), lambda uow: uow.audit.get(resource_type, resource_id))
    if row is None:
        raise NotFound(f"{resource_type}/{resource_id[:64]} is not known")
    return fhir_response(row)


def _register(resource_type: str) -> None:
    """Search and read routes of one type, each documented with its own parameters (the
    type is the routes' default value of ``resource_type``, which ``requires`` reads)."""
    parameters = [query_parameter(name, {"type": "string"})
                  for name in SEARCH_PARAMETERS[resource_type]]
    parameters += [query_parameter(DATE_PARAMETER[resource_type], DATE_VALUE),
                   query_parameter("_count", PAGING), query_parameter("_offset", PAGING),
                   query_parameter("_format", FORMAT_VALUES)]
    names = ", ".join([*SEARCH_PARAMETERS[resource_type], DATE_PARAMETER[resource_type]])
    lower = resource_type.lower()
    blp.route(f"/{resource_type}", methods=["GET"], endpoint=f"search_{lower}",
              defaults={"resource_type": resource_type})(
        blp.doc(summary=f"Search {resource_type} ({names})", parameters=parameters,
                **fhir_doc(ok={200: "Bundle"}, errors=AUTH))(search))
    blp.route(f"/{resource_type}/<resource_id:resource_id>", methods=["GET"],
              endpoint=f"read_{lower}", defaults={"resource_type": resource_type})(
        blp.doc(summary=f"Read one {resource_type}",
                **fhir_doc(ok={200: "Resource"}, errors=(*AUTH, 404)))(read))


#: The date prefixes this search answers (FHIR R4 §3.1.1.4.5.1); ``ne`` and ``ap`` are
#: refused (400) rather than read as ``eq``.
DATE_PREFIXES = ("eq", "ne", "gt", "lt", "ge", "le", "sa", "eb", "ap")
_MICROSECOND = timedelta(microseconds=1)
#: A range no instant is in (after the last or before the first representable one).
_NOTHING = (datetime.max, datetime.min)


def _date_bounds(value: str) -> tuple[datetime | None, datetime | None]:
    """The inclusive [from, to] of ``recorded`` one date parameter asks for (None: open).

    ``recorded`` is an instant and the parameter a range ``[lo, hi]`` (``2026-03`` is all
    of March): ``eq`` = inside it, ``ge`` = not before ``lo``, ``le`` = not after ``hi``,
    ``gt``/``sa`` = after ``hi`` and ``lt``/``eb`` = before ``lo`` — exclusive, so
    ``gt2026-03`` starts in April."""
    prefix = value[:2] if value[:2] in DATE_PREFIXES else "eq"
    body = value[2:] if value[:2] in DATE_PREFIXES else value
    if prefix in ("ne", "ap"):
        raise InvalidRequest(f"The date prefix {prefix!r} is not supported here; use eq, gt, "
                             "lt, ge, le, sa or eb")
    try:
        lo, hi = parse_range(body)
    except ValueError:
        raise InvalidRequest("The date parameter is not a valid FHIR date") from None
    if prefix == "ge":
        return lo, None
    if prefix == "le":
        return None, hi
    if prefix in ("gt", "sa"):
        return (hi + _MICROSECOND, None) if hi < datetime.max else _NOTHING
    if prefix in ("lt", "eb"):
        return (None, lo - _MICROSECOND) if lo > datetime.min else _NOTHING
    return lo, hi


def _narrow(lo: datetime | None, hi: datetime | None, new_lo: datetime | None,
            new_hi: datetime | None) -> tuple[datetime | None, datetime | None]:
    """The intersection of two inclusive ranges (None: open on that side)."""
    if new_lo is not None and (lo is None or new_lo > lo):
        lo = new_lo
    if new_hi is not None and (hi is None or new_hi < hi):
        hi = new_hi
    return lo, hi


for _type in SEARCH_PARAMETERS:
    _register(_type)

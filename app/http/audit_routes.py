"""Read and search of Provenance and AuditEvent (written by the server, never by clients)."""

from __future__ import annotations

from typing import Any

import orjson
from flask import Response, current_app, request
from flask_smorest import Blueprint

from app.domain.errors import InvalidRequest, MethodNotAllowed, NotFound
from app.domain.fhirdate import instant, parse_range, utc_now
from app.http.auth import authenticated, requires
from app.http.fhir_io import base_url, fhir_response
from app.http.query import parse_query
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


def _engine() -> Any:
    return current_app.extensions["sweid"].engine


def _reference_values(value: str) -> list[str]:
    """``Patient/1``, ``1`` and an absolute URL all name the same record."""
    tail = value.rsplit("/fhir/", 1)[-1]
    return [tail] if "/" in tail else [tail, f"Patient/{tail}"]


@blp.route("/<any(Provenance, AuditEvent):resource_type>", methods=["GET"])
@blp.doc(summary="Search Provenance (target, agent, recorded) or AuditEvent (entity, agent, "
                 "date, type, subtype, outcome)")
@requires("<resource_type>", "s", interaction="search-type")
def search(resource_type: str) -> Response:
    """Search the server's own records about Patients."""
    pairs = list(request.args.items(multi=True))
    paging = parse_query([(k, v) for k, v in pairs if k in ("_count", "_offset")])
    params = SEARCH_PARAMETERS[resource_type]
    conditions: list[tuple[str, list[str]]] = []
    lo = hi = None
    for name, value in pairs:
        if name in ("_count", "_offset", "_format"):
            continue
        if name == DATE_PARAMETER[resource_type]:
            lo, hi = _date_bounds(value)
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
              "link": [{"relation": "self", "url": request.url}], "entry": entries}
    return fhir_response(orjson.dumps(bundle))


@blp.route("/<any(Provenance, AuditEvent):resource_type>/<resource_id>", methods=["GET"])
@blp.doc(summary="Read one Provenance or AuditEvent")
@requires("<resource_type>", "r", interaction="read")
def read(resource_type: str, resource_id: str) -> Response:
    """Read."""
    row = run_read(_engine(), lambda uow: uow.audit.get(resource_type, resource_id))
    if row is None:
        raise NotFound(f"{resource_type}/{resource_id[:64]} is not known")
    return fhir_response(row)


@blp.route("/<any(Provenance, AuditEvent):resource_type>", methods=["POST", "PUT", "DELETE"])
@blp.doc(summary="Refused: only the server writes these records")
@authenticated()
def refuse_write(resource_type: str) -> Response:
    """Clients cannot write the server's records."""
    raise MethodNotAllowed(f"{resource_type} is written by the server only")


def _date_bounds(value: str) -> tuple[Any, Any]:
    prefix = value[:2] if value[:2] in ("ge", "le", "gt", "lt", "eq") else "eq"
    body = value[2:] if prefix != "eq" or value.startswith("eq") else value
    try:
        lo, hi = parse_range(body)
    except ValueError:
        raise InvalidRequest("The date parameter is not a valid FHIR date") from None
    if prefix in ("ge", "gt"):
        return lo, None
    if prefix in ("le", "lt"):
        return None, hi
    return lo, hi



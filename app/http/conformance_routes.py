"""Read and search for the conformance resources of ``fhir_profiles/`` (read-only).

Each file is served verbatim by resourceType and id. Search supports ``_id``, ``url``,
``name``, ``version``, ``status`` on every type (R4 NamingSystem has no url or version, so
the CapabilityStatement does not offer those two for it), plus ``NamingSystem?value=`` (an
OID or URI among its uniqueIds), ``OperationDefinition?code=``,
``StructureDefinition?type=``, ``CodeSystem?system=``, ``SearchParameter?code=&base=&type=``
(api.md "Conformance resources"). No route writes them (werkzeug answers 405): the files
ship with the server.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Response, request
from flask_smorest import Blueprint

from app import conformance
from app.domain.errors import NotFound
from app.http.auth import public
from app.http.fhir_io import base_url, fhir_response
from app.http.openapi_schemas import FORMAT_VALUES, fhir_doc, query_parameter
from app.http.presentation import search_url

blp = Blueprint("conformance", __name__, url_prefix="/fhir",
                description="Conformance resources (read-only)")

Matcher = Callable[[dict[str, Any], str], bool]


def _field(name: str) -> Matcher:
    return lambda resource, wanted: str(resource.get(name, "")) == wanted


def _unique_id(resource: dict[str, Any], wanted: str) -> bool:
    values = {unique.get("value") for unique in resource.get("uniqueId", [])}
    return wanted in values or (wanted.startswith("urn:oid:") and wanted[8:] in values)


def _name(resource: dict[str, Any], wanted: str) -> bool:
    # FHIR string search: case-insensitive prefix.
    return str(resource.get("name", "")).lower().startswith(wanted.lower())


COMMON: dict[str, Matcher] = {"_id": _field("id"), "url": _field("url"), "name": _name,
                              "version": _field("version"), "status": _field("status")}
#: R4 NamingSystem has no url or version (they came in R5): searching them matches nothing,
#: and the CapabilityStatement does not offer them (R4 defines no such SearchParameter).
WITHOUT_CANONICAL = {"NamingSystem"}
SPECIFIC: dict[str, dict[str, Matcher]] = {
    "NamingSystem": {"value": _unique_id, "kind": _field("kind")},
    "OperationDefinition": {"code": _field("code"), "kind": _field("kind")},
    "StructureDefinition": {"type": _field("type"), "kind": _field("kind"),
                            "base": _field("baseDefinition"),
                            "derivation": _field("derivation")},
    "CodeSystem": {"system": _field("url")},
    "ValueSet": {},
    "SearchParameter": {"code": _field("code"),
                        "base": lambda res, wanted: wanted in res.get("base", []),
                        "type": _field("type")},
}
#: Result parameters that only shape the answer and never filter.
IGNORED = {"_format", "_pretty", "_count", "_summary", "_total", "_elements", "_sort"}


def search_parameters(resource_type: str) -> dict[str, Matcher]:
    """The search parameters one conformance type supports (for the CapabilityStatement)."""
    common = {name: matcher for name, matcher in COMMON.items()
              if resource_type not in WITHOUT_CANONICAL or name not in ("url", "version")}
    return {**common, **SPECIFIC[resource_type]}


def _search(resource_type: str) -> Response:
    matchers = {**COMMON, **SPECIFIC[resource_type]}
    found = conformance.of_type(resource_type)
    for key, value in request.args.items(multi=True):
        name = key.partition(":")[0]
        if name in IGNORED or name not in matchers:
            continue
        alternatives = value.split(",")
        found = [res for res in found
                 if any(matchers[name](res, alt) for alt in alternatives)]
    base = base_url()
    bundle = {
        "resourceType": "Bundle", "type": "searchset", "total": len(found),
        "link": [{"relation": "self", "url": search_url(f"{base}/{resource_type}",
                                                        list(request.args.items(multi=True)))}],
        "entry": [{"fullUrl": f"{base}/{resource_type}/{res['id']}", "resource": res,
                   "search": {"mode": "match"}} for res in found],
    }
    if not bundle["entry"]:
        del bundle["entry"]
    return fhir_response(bundle)


def _read(resource_type: str, resource_id: str) -> Response:
    resource = conformance.resources().get((resource_type, resource_id))
    if resource is None:
        raise NotFound(f"{resource_type}/{resource_id[:64]} is not known")
    version = str(resource.get("version", "1"))
    return fhir_response(resource, 200, {"ETag": f'W/"{version}"'})


def _register(resource_type: str) -> None:
    # One endpoint per type and interaction, so OpenAPI lists each with its own summary.
    def search() -> Response:
        return _search(resource_type)

    def read(resource_id: str) -> Response:
        return _read(resource_type, resource_id)

    lower = resource_type.lower()
    search.__name__, read.__name__ = f"search_{lower}", f"read_{lower}"
    search.__doc__ = f"Search {resource_type} (read-only)."
    read.__doc__ = f"Read one {resource_type}."
    parameters = [query_parameter(name, {"type": "string"})
                  for name in search_parameters(resource_type)]
    parameters.append(query_parameter("_format", FORMAT_VALUES))
    blp.route(f"/{resource_type}", methods=["GET"])(
        blp.doc(summary=f"Search {resource_type}", parameters=parameters,
                **fhir_doc(ok={200: "Bundle"}))(public(search)))
    blp.route(f"/{resource_type}/<resource_id:resource_id>", methods=["GET"])(
        blp.doc(summary=f"Read a {resource_type}",
                **fhir_doc(ok={200: "Resource"}, errors=(404,)))(public(read)))


for _type in conformance.TYPES:
    _register(_type)

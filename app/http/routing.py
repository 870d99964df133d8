"""The URL converters of the route table, its catch-all for other resource types, and what
``/openapi.json`` says each converter takes.

The route table (Flask's URL map) is the one truth about which path answers which method:
werkzeug answers a method a path does not have with 405 and an ``Allow`` header listing the
methods of the rules that match the path, ``OPTIONS`` lists the same, and flask-smorest
documents the same rules. So no route exists only to refuse (``Allow`` and ``OPTIONS``
would advertise its methods), and two converters keep rules from matching paths that
belong to others:

* ``resource_id`` — a path segment naming a resource or a version: not one that starts
  with ``_`` or ``$`` (FHIR's ``_history``, ``_search`` and ``$operation``, which no id
  can start with), so that ``Patient/_history`` or ``Patient/$match`` is never read as the
  id of a Patient; nor a dot segment, which clients resolve away (RFC 3986 §5.2.4). Whether
  the segment is a valid FHIR id is the service's check (400 for a malformed one).
* ``resource_type`` — a resource type that no other rule serves, for the catch-all
  :data:`other_types` (404 for every type this server holds nothing of); a served type's
  missing method is then a 405 like any other path's.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, Response
from flask_smorest import Api, Blueprint
from werkzeug.routing import BaseConverter, Map

from app.domain.errors import NotFound
from app.http.auth import authenticated
from app.http.openapi_schemas import AUTH, fhir_doc

#: A path segment that may name a resource: see the module docstring.
RESOURCE_ID = "(?![_$]|\\.\\.?$)[^/]+"
RESOURCE_TYPE = "[A-Z][A-Za-z]{1,63}"
PREFIX = "/fhir/"


class ResourceIdConverter(BaseConverter):
    """A logical or version id in a URL (:data:`RESOURCE_ID`)."""

    regex = RESOURCE_ID


class ResourceTypeConverter(BaseConverter):
    """A resource type name (capitalised, so that lower-case system paths such as
    ``metadata`` keep their own 405 answers) that none of the rules already in the map
    serves. The regex excludes them rather than ``to_python`` refusing them, because
    werkzeug gathers ``Allow`` from every rule whose regex matches the path."""

    def __init__(self, map: Map, *args: Any, **kwargs: Any) -> None:  # noqa: A002 — werkzeug's
        super().__init__(map, *args, **kwargs)
        excluded = "|".join(served_types(map))
        self.regex = f"(?!(?:{excluded})$){RESOURCE_TYPE}" if excluded else RESOURCE_TYPE


def served_types(url_map: Map) -> list[str]:
    """The resource types the rules of ``url_map`` serve: the first path segment after
    ``/fhir/`` of every rule where that segment is a fixed resource type name."""
    types = set()
    for rule in url_map.iter_rules():
        if rule.rule.startswith(PREFIX):
            first = rule.rule[len(PREFIX):].split("/", 1)[0]
            if first[:1].isupper() and first.isalpha():
                types.add(first)
    return sorted(types)


def resource_id_schema(_converter: ResourceIdConverter) -> dict[str, Any]:
    """The OpenAPI schema of a ``resource_id`` path parameter."""
    return {"type": "string", "pattern": f"^{RESOURCE_ID}$"}


def resource_type_schema(converter: ResourceTypeConverter) -> dict[str, Any]:
    """The OpenAPI schema of a ``resource_type`` path parameter: the converter's own regex,
    a type name that is not one of the types served elsewhere."""
    return {"type": "string", "pattern": f"^{converter.regex}$"}


def install(app: Flask, api: Api) -> None:
    """Make the converters known to the app's URL map and to the Api's spec (before any
    blueprint is registered)."""
    app.url_map.converters["resource_id"] = ResourceIdConverter
    app.url_map.converters["resource_type"] = ResourceTypeConverter
    api.register_converter(ResourceIdConverter, resource_id_schema)
    api.register_converter(ResourceTypeConverter, resource_type_schema)


#: Registered after every other blueprint: its converter excludes the types they serve.
other_types = Blueprint("other_types", __name__, url_prefix="/fhir",
                        description="Resource types this server holds nothing of")


@other_types.route("/<resource_type:resource_type>",
                   methods=["GET", "POST", "PUT", "DELETE", "PATCH"])
@other_types.doc(summary="Any other resource type: 404 OperationOutcome",
                 **fhir_doc(errors=(400, *AUTH, 404)))
@authenticated()
def unknown_type(resource_type: str) -> Response:
    """Resource types this server does not hold."""
    raise NotFound(f"Resource type {resource_type[:40]!r} is not supported")

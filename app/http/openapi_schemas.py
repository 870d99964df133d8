"""What ``/openapi.json`` says the FHIR routes take and give (api.md "Start and test").

Component schemas — a generic FHIR ``Resource``, ``Patient``, ``Bundle``, ``Parameters``,
``OperationOutcome`` and the data types they use — and :func:`fhir_doc`, which route
decorations spread into ``@blp.doc(...)`` to reference them from their ``requestBody`` and
``responses``. Documentation only: requests are never validated against these schemas (the
services and the operations' OperationDefinitions do that), so the schemas describe the
main elements and allow the rest of FHIR R4 (``additionalProperties``).

``create_app`` adds the components to its Api's spec with :func:`register` (before the
blueprints) and :func:`use_operation_outcome_errors` (after them); nothing happens at import
time.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from apispec import BasePlugin

from app.domain.search import PARAMETER_DOCS, RESULT_PARAMETERS

#: The media types every FHIR body is accepted and answered in.
FHIR_MEDIA = ("application/fhir+json", "application/fhir+xml")
JSON_PATCH = "application/json-patch+json"
FORM = "application/x-www-form-urlencoded"

#: Why a route answers with each error status (api.md "REST": every error is an
#: OperationOutcome).
ERRORS: dict[int, str] = {
    400: "Bad request: unparseable body, unknown or malformed parameter",
    401: "No valid bearer token (only when the server is configured with auth)",
    403: "The token lacks the scope this interaction needs",
    404: "Unknown resource, id or resource type",
    405: "Method not allowed on this resource",
    406: "Neither application/fhir+json nor application/fhir+xml is acceptable",
    409: "Conflict: the identifier is held by another Patient, or a concurrent write",
    410: "The resource is deleted",
    412: "If-Match does not match the current version, or conditional criteria match "
         "more than one resource",
    413: "The body is too large",
    415: "Unsupported Content-Type",
    422: "Business rule broken (identifier rule, merge priority rule …)",
}
#: Errors any authenticated FHIR route can give before it runs.
AUTH = (401, 403, 406)


def ref(name: str) -> dict[str, str]:
    """A reference to a component schema."""
    return {"$ref": f"#/components/schemas/{name}"}


def _array(item: dict[str, Any]) -> dict[str, Any]:
    return {"type": "array", "items": item}


_STRING = {"type": "string"}
_URI = {"type": "string", "format": "uri"}
_ID = {"type": "string", "pattern": "^[A-Za-z0-9\\-.]{1,64}$"}
_DATE = {"type": "string", "pattern": "^[0-9]{4}(-[0-9]{2}(-[0-9]{2})?)?$",
         "example": "1998-01-01"}
_INSTANT = {"type": "string", "format": "date-time"}


def _object(properties: dict[str, Any], *, required: Iterable[str] = (),
            description: str | None = None) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "properties": properties,
                              "additionalProperties": True}
    if required:
        schema["required"] = list(required)
    if description:
        schema["description"] = description
    return schema


def _resource(resource_type: str, properties: dict[str, Any], description: str,
              required: Iterable[str] = ()) -> dict[str, Any]:
    return _object({"resourceType": {"type": "string", "enum": [resource_type]},
                    "id": _ID, "meta": ref("Meta"), **properties},
                   required=["resourceType", *required], description=description)


SCHEMAS: dict[str, dict[str, Any]] = {
    "Coding": _object({"system": _URI, "version": _STRING, "code": _STRING,
                       "display": _STRING}),
    "CodeableConcept": _object({"coding": _array(ref("Coding")), "text": _STRING}),
    "Period": _object({"start": _STRING, "end": _STRING}),
    "Extension": _object({"url": _URI}, required=["url"],
                         description="An extension: url and one value[x]"),
    "Meta": _object({"versionId": _STRING, "lastUpdated": _INSTANT,
                     "profile": _array(_URI), "security": _array(ref("Coding")),
                     "tag": _array(ref("Coding"))}),
    "Reference": _object({"reference": _STRING, "type": _URI,
                          "identifier": ref("Identifier"), "display": _STRING}),
    "Identifier": _object({
        "use": {"type": "string", "enum": ["usual", "official", "temp", "secondary", "old"]},
        "type": ref("CodeableConcept"),
        "system": {**_URI, "example": "urn:oid:1.2.752.129.2.1.3.1"},
        "value": {**_STRING, "example": "199801019802"},
        "period": ref("Period")},
        description="system urn:oid:<OID> of the identity kind (domain.md §2); value in "
                    "the stored 12-character form"),
    "HumanName": _object({
        "use": _STRING, "text": _STRING, "family": _STRING, "given": _array(_STRING),
        "prefix": _array(_STRING), "suffix": _array(_STRING), "period": ref("Period")}),
    "ContactPoint": _object({
        "system": {"type": "string",
                   "enum": ["phone", "fax", "email", "pager", "url", "sms", "other"]},
        "value": _STRING, "use": _STRING, "rank": {"type": "integer"},
        "period": ref("Period")}),
    "Address": _object({
        "use": _STRING, "type": _STRING, "text": _STRING, "line": _array(_STRING),
        "city": _STRING, "district": _STRING, "state": _STRING, "postalCode": _STRING,
        "country": _STRING, "period": ref("Period")}),
    "Resource": _object({"resourceType": {**_STRING, "example": "Patient"}, "id": _ID,
                         "meta": ref("Meta")}, required=["resourceType"],
                        description="Any FHIR R4 resource"),
    "Patient": _resource("Patient", {
        "extension": _array(ref("Extension")),
        "identifier": _array(ref("Identifier")),
        "active": {"type": "boolean"},
        "name": _array(ref("HumanName")),
        "telecom": _array(ref("ContactPoint")),
        "gender": {"type": "string", "enum": ["male", "female", "other", "unknown"]},
        "birthDate": _DATE,
        "deceasedBoolean": {"type": "boolean"},
        "deceasedDateTime": _STRING,
        "address": _array(ref("Address")),
        "link": _array(_object({
            "other": ref("Reference"),
            "type": {"type": "string", "enum": ["replaced-by", "replaces", "refer", "seealso"]},
        }, required=["other", "type"])),
    }, "FHIR R4 Patient (profile http://sweid.example/fhir/StructureDefinition/sweid-patient)"),
    "BundleEntry": _object({
        "fullUrl": _URI,
        "resource": ref("Resource"),
        "search": _object({"mode": {"type": "string", "enum": ["match", "include", "outcome"]},
                           "score": {"type": "number"},
                           "extension": _array(ref("Extension"))}),
        "request": _object({
            "method": {"type": "string", "enum": ["GET", "HEAD", "POST", "PUT", "DELETE",
                                                  "PATCH"]},
            "url": _STRING, "ifNoneExist": _STRING, "ifMatch": _STRING,
            "ifNoneMatch": _STRING}, required=["method", "url"]),
        "response": _object({"status": _STRING, "location": _STRING, "etag": _STRING,
                             "lastModified": _INSTANT, "outcome": ref("Resource")},
                            required=["status"]),
    }),
    "Bundle": _resource("Bundle", {
        "type": {"type": "string", "enum": [
            "document", "message", "transaction", "transaction-response", "batch",
            "batch-response", "history", "searchset", "collection"]},
        "total": {"type": "integer", "minimum": 0},
        "link": _array(_object({"relation": _STRING, "url": _URI},
                               required=["relation", "url"])),
        "entry": _array(ref("BundleEntry")),
    }, "FHIR R4 Bundle: searchset, history, batch/transaction and their responses",
        required=["type"]),
    "ParametersParameter": _object({
        "name": _STRING,
        "resource": ref("Resource"),
        "part": _array({"$ref": "#/components/schemas/ParametersParameter"}),
    }, required=["name"], description="One parameter: name and one value[x] "
                                      "(valueString, valueIdentifier, valueReference …), "
                                      "a resource or parts"),
    "Parameters": _resource("Parameters", {"parameter": _array(ref("ParametersParameter"))},
                            "FHIR R4 Parameters: operation input and output"),
    "OperationOutcome": _resource("OperationOutcome", {
        "issue": {"type": "array", "minItems": 1, "items": _object({
            "severity": {"type": "string",
                         "enum": ["fatal", "error", "warning", "information"]},
            "code": {**_STRING, "example": "business-rule"},
            "details": ref("CodeableConcept"),
            "diagnostics": _STRING,
            "expression": _array(_STRING),
        }, required=["severity", "code"])},
    }, "Every error, and information answers (Prefer: return=OperationOutcome)",
        required=["issue"]),
    "CapabilityStatement": _resource("CapabilityStatement", {
        "status": _STRING, "date": _STRING, "kind": _STRING, "fhirVersion": _STRING,
        "format": _array(_STRING), "rest": _array(_object({}))},
        "What this server supports (FHIR 4.0.1)",
        required=["status", "date", "kind", "fhirVersion", "format"]),
    "Health": _object({
        "status": {"type": "string", "enum": ["pass", "fail", "warn"]},
        "output": _STRING,
        "checks": {"type": "object", "additionalProperties": _array(_object({
            "status": {"type": "string", "enum": ["pass", "fail", "warn"]},
            "observedValue": _STRING}))}},
        required=["status"], description="draft-inadarei-api-health-check "
                                         "(application/health+json): /healthz and /readyz"),
    "JsonPatch": _array(_object({
        "op": {"type": "string", "enum": ["add", "remove", "replace", "move", "copy", "test"]},
        "path": _STRING, "from": _STRING, "value": {}}, required=["op", "path"])),
}


def _content(schema: dict[str, Any], media_types: Iterable[str] = FHIR_MEDIA
             ) -> dict[str, Any]:
    return {media: {"schema": schema} for media in media_types}


def _schema(names: str | tuple[str, ...]) -> dict[str, Any]:
    if isinstance(names, str):
        return ref(names)
    return {"oneOf": [ref(name) for name in names]}


def fhir_doc(*, ok: dict[int, str | tuple[str, ...]] | None = None,
             empty: dict[int, str] | None = None, errors: Iterable[int] = (),
             body: str | None = None, body_media: Iterable[str] = FHIR_MEDIA
             ) -> dict[str, Any]:
    """``@blp.doc`` keywords for a FHIR route: success responses ``ok`` (status → schema
    name, or names for oneOf), bodiless responses ``empty`` (status → description), error
    ``errors`` answered with an OperationOutcome, and the request ``body`` schema."""
    responses: dict[str, Any] = {}
    for status, names in (ok or {}).items():
        described = names if isinstance(names, str) else " or ".join(names)
        responses[str(status)] = {"description": described,
                                  "content": _content(_schema(names))}
    for status, description in (empty or {}).items():
        responses[str(status)] = {"description": description}
    for status in sorted(set(errors)):
        responses[str(status)] = {"description": ERRORS[status],
                                  "content": _content(ref("OperationOutcome"))}
    doc: dict[str, Any] = {"responses": responses}
    if body is not None:
        doc["requestBody"] = {"required": True,
                              "content": _content(_schema(body), body_media)}
    return doc


def form_body() -> dict[str, Any]:
    """``requestBody`` of ``POST Patient/_search``: the search parameters, form-encoded."""
    return {"requestBody": {"required": False, "content": {FORM: {"schema": {
        "type": "object", "additionalProperties": {"type": "string"},
        "properties": {name: {"type": "string", "description": doc}
                       for name, (_, doc) in PARAMETER_DOCS.items()}}}}}}


def search_parameters() -> list[dict[str, Any]]:
    """The query parameters of ``GET Patient`` (app.domain.search)."""
    return [{"in": "query", "name": name, "required": False, "schema": {"type": "string"},
             "description": f"{ptype}: {doc}"}
            for name, (ptype, doc) in PARAMETER_DOCS.items()] + [
        {"in": "query", "name": name, "required": False, "schema": {"type": "string"}}
        for name in sorted(RESULT_PARAMETERS)]


class SharedPaths(BasePlugin):
    """Keep both routes of one OpenAPI path. ``/fhir/<any(Provenance, AuditEvent):…>``
    (app.http.audit_routes) and ``/fhir/<resource_type:…>`` (any other type: 404) are both
    ``/fhir/{resource_type}``, and apispec keeps only the operation registered last; here a
    method documented twice documents the responses of either route."""

    def init_spec(self, spec: Any) -> None:
        self.spec = spec

    def operation_helper(self, path: str | None = None,
                         operations: dict[str, Any] | None = None, **kwargs: Any) -> None:
        earlier = getattr(self.spec, "_paths", {}).get(path, {})
        for method, operation in (operations or {}).items():
            before = earlier.get(method)
            if not isinstance(before, dict) or not isinstance(operation, dict):
                continue
            operation["summary"] = " | ".join(
                filter(None, (before.get("summary"), operation.get("summary"))))
            responses = {**operation.get("responses", {}), **before.get("responses", {})}
            operation["responses"] = dict(sorted(responses.items()))
            operation["tags"] = sorted({*before.get("tags", []), *operation.get("tags", [])})
            for key in ("requestBody", "parameters"):
                if key in before and key not in operation:
                    operation[key] = before[key]


def register(spec: Any) -> None:
    """Add the component schemas to an Api's spec (once) and keep both routes of a shared
    path (:class:`SharedPaths`); before the blueprints are registered."""
    if "OperationOutcome" in spec.components.schemas:
        return
    for name, schema in SCHEMAS.items():
        spec.components.schema(name, component=schema)
    plugin = SharedPaths()
    plugin.init_spec(spec)
    spec.plugins.append(plugin)


def use_operation_outcome_errors(spec: Any) -> None:
    """Make the default error response an OperationOutcome instead of flask-smorest's own
    error shape (whose schema, "Error", the server never sends); after the blueprints are
    registered, as flask-smorest resolves its own default while they register."""
    spec.components.schemas.pop("Error", None)
    spec.components.responses["DEFAULT_ERROR"] = {
        "description": "Any other error: an OperationOutcome",
        "content": _content(ref("OperationOutcome")),
    }

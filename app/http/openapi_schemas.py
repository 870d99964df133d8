"""What ``/openapi.json`` says the FHIR routes take and give (api.md "Start and test").

Component schemas — a generic FHIR ``Resource``, ``Patient``, ``Bundle``, ``Parameters``,
``OperationOutcome`` and the data types they use — and :func:`fhir_doc`, which route
decorations spread into ``@blp.doc(...)`` to reference them from their ``requestBody`` and
``responses``; the query parameters of the searches and of ``$ihe-pix``. Documentation
only: requests are never validated against these schemas (the services and the operations'
OperationDefinitions do that), so the body schemas describe the main elements and allow the
rest of FHIR R4 (``additionalProperties``). What a route answers is listed exactly: every
status it can give, no catch-all ``default`` response.

``create_app`` adds the components to its Api's spec with :func:`register` before the
blueprints; nothing happens at import time.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from app.domain.search import (
    PARAMETER_DOCS,
    PARAMETERS,
    RESULT_PARAMETERS,
    SORT_KEYS,
    ParamType,
)
from app.http.fhir_io import FORMAT_ALIASES

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
    406: "Neither application/fhir+json nor application/fhir+xml is acceptable",
    409: "Conflict: the identifier is held by another Patient, or a concurrent write",
    410: "The resource is deleted",
    412: "If-Match does not match the current version, or conditional criteria match "
         "more than one resource",
    413: "The body is too large",
    415: "Unsupported Content-Type",
    422: "Business rule broken (identifier rule, merge priority rule …)",
    429: "Too many requests: as many $export jobs running as a limit allows; retry later",
}
#: Errors any authenticated FHIR route can give before it runs (app.http.auth).
AUTH = (401, 403)
#: Errors every FHIR route can give before it runs (app.http.create_app's request hook): a
#: control character in the query string (400) and content negotiation (406).
REQUEST_CHECKS = (400, 406)


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
    "Subscription": _resource("Subscription", {
        "status": {"type": "string", "enum": ["requested", "active", "error", "off"]},
        "reason": _STRING, "criteria": _URI, "error": _STRING,
        "channel": _object({
            "type": {"type": "string", "enum": ["rest-hook"]}, "endpoint": _URI,
            "payload": {"type": "string", "enum": ["application/fhir+json"]},
            "header": _array(_STRING)}, required=["type"]),
    }, "Topic-based Subscription (Subscriptions R5 Backport IG); channel.header is never "
       "returned", required=["criteria", "channel"]),
    "Basic": _resource("Basic", {"code": ref("CodeableConcept"),
                                 "extension": _array(_object({}))},
                       "A SubscriptionTopic, as the Subscriptions Backport IG serves them in R4"),
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
            "observedValue": _STRING, "output": _STRING}))}},
        required=["status"], description="draft-inadarei-api-health-check "
                                         "(application/health+json): /healthz and /readyz"),
    "BulkDataManifest": _object({
        "transactionTime": _STRING, "request": _URI, "requiresAccessToken": {"type": "boolean"},
        "output": _array(_object({"type": _STRING, "url": _URI, "count": {"type": "integer"}},
                                 required=["type", "url"])),
        "error": _array(_object({"type": _STRING, "url": _URI}))},
        required=["transactionTime", "request", "requiresAccessToken", "output", "error"],
        description="Bulk Data Access IG: the completion manifest of an $export"),
    "Ndjson": {"type": "string", "description": "Newline-delimited JSON: one FHIR resource "
                                                "a line (application/fhir+ndjson)"},
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
    ``errors`` answered with an OperationOutcome (with :data:`REQUEST_CHECKS`, which every
    route can give), and the request ``body`` schema."""
    responses: dict[str, Any] = {}
    for status, names in (ok or {}).items():
        described = names if isinstance(names, str) else " or ".join(names)
        responses[str(status)] = {"description": described,
                                  "content": _content(_schema(names))}
    for status, description in (empty or {}).items():
        responses[str(status)] = {"description": description}
    for status in sorted({*errors, *REQUEST_CHECKS}):
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
        "properties": {name: {**schema, "description": doc}
                       for name, schema, doc in _patient_parameters()}}}}}}


def search_parameters() -> list[dict[str, Any]]:
    """The query parameters of ``GET Patient`` (app.domain.search)."""
    return [query_parameter(name, schema, doc) for name, schema, doc in _patient_parameters()]


def query_parameter(name: str, schema: dict[str, Any], description: str | None = None,
                    *, required: bool = False) -> dict[str, Any]:
    """One query parameter of an operation."""
    parameter = {"in": "query", "name": name, "required": required, "schema": schema}
    if description:
        parameter["description"] = description
    return parameter


def operation_query_parameters(definition: dict[str, Any]) -> list[dict[str, Any]]:
    """The query parameters of an operation invoked with GET: its string input parameters
    (app.operations.parameters reads each as a non-empty value; ``min`` 1 is required)."""
    return [query_parameter(param["name"], {"type": "string", "minLength": 1},
                            param.get("documentation"), required=int(param.get("min", 0)) > 0)
            for param in definition["parameter"]
            if param.get("use") == "in" and param.get("type") == "string"]


def _words(words: Iterable[str]) -> dict[str, Any]:
    return {"type": "string", "enum": list(words)}


def _listed(words: Iterable[str], *, item: str = "{}", empty: bool = False) -> dict[str, Any]:
    """A comma-separated list of ``words`` (each shaped by ``item``), or nothing at all
    when ``empty`` (the server then reads no value)."""
    one = item.format("(?:" + "|".join(words) + ")")
    listed = f"{one}(?:,{one})*"
    return {"type": "string", "pattern": f"^(?:{listed})?$" if empty else f"^{listed}$"}


#: A search value the server reads as at least one value (app.domain.search: items are
#: comma-separated, empty ones dropped, ``\`` escapes the next character): some character
#: that is neither a comma nor a backslash, or an escaped one. A value with none is a 400.
SEARCH_VALUE = {"type": "string", "pattern": "[^,\\\\]|\\\\."}
#: A FHIR date search value: an optional prefix and a year, year-month or date.
DATE_VALUE = {"type": "string",
              "pattern": "^(?:eq|ne|gt|lt|ge|le|sa|eb|ap)?[0-9]{4}(?:-(?:0[1-9]|1[0-2])"
                         "(?:-(?:0[1-9]|[12][0-9]|3[01]))?)?$"}
#: ``_format`` values answered in the documented media types (app.http.fhir_io); an empty
#: one is not read.
FORMAT_VALUES = _words(["", *(name for name, media in FORMAT_ALIASES.items()
                              if media in FHIR_MEDIA)])
#: Paging: the server reads a non-negative integer below 10^9 (app.domain.search).
PAGING = {"type": "integer", "minimum": 0, "maximum": 999_999_999}
_SEARCH_SCHEMAS: dict[ParamType, dict[str, Any]] = {
    "birthdate": DATE_VALUE, "lastUpdated": DATE_VALUE,
    "gender": _listed(("male", "female", "other", "unknown")),
    "active": _listed(("true", "false")),
}
_RESULT_SCHEMAS: dict[str, dict[str, Any]] = {
    "_count": PAGING, "_offset": PAGING,
    "_sort": _listed(sorted(SORT_KEYS), item="-?{}", empty=True),
    "_total": _words(("none", "estimate", "accurate")),
    "_summary": _words(("true", "false", "count", "data", "text")),
    "_include": _words(("Patient:link", "Patient:link:Patient", "*")),
    "_format": FORMAT_VALUES,
}


def _patient_parameters() -> list[tuple[str, dict[str, Any], str]]:
    """(name, schema, description) of every Patient search and result parameter."""
    found = [(name, _SEARCH_SCHEMAS.get(PARAMETERS[name], SEARCH_VALUE), f"{ptype}: {doc}")
             for name, (ptype, doc) in PARAMETER_DOCS.items()]
    return found + [(name, _RESULT_SCHEMAS.get(name, {"type": "string"}), "")
                    for name in sorted(RESULT_PARAMETERS)]


def register(spec: Any) -> None:
    """Add the component schemas to an Api's spec (once), before the blueprints are
    registered; flask-smorest's own error schema goes, as the server never sends it (every
    error is an OperationOutcome), and so does its pagination schema (searches page with
    Bundle links)."""
    if "OperationOutcome" in spec.components.schemas:
        return
    for unused in ("Error", "PaginationMetadata"):
        spec.components.schemas.pop(unused, None)
    for name, schema in SCHEMAS.items():
        spec.components.schema(name, component=schema)

"""Reading FHIR request bodies and writing FHIR responses (JSON; content negotiation)."""

from __future__ import annotations

from datetime import UTC
from typing import Any

import orjson
from flask import Response, current_app, request
from werkzeug.http import http_date

from app.adapters.patient_repository import StoredPatient
from app.domain.errors import InvalidRequest, NotAcceptable, UnsupportedMediaType

FHIR_JSON = "application/fhir+json"
JSON_TYPES = ("application/fhir+json", "application/json", "application/json-patch+json")
ACCEPTED_OUTPUT = ("application/fhir+json", "application/json", "application/*", "*/*", "json",
                   "text/json")
FORMAT_ALIASES = {"json": FHIR_JSON, "application/json": "application/json",
                  "application/fhir+json": FHIR_JSON}


def read_json_body() -> Any:
    """Parse the request body as JSON; 415 for other media types, 400 when unparseable."""
    mimetype = request.mimetype
    if mimetype and mimetype not in JSON_TYPES:
        raise UnsupportedMediaType(
            f"Content-Type {mimetype[:60]!r} is not supported; send application/fhir+json"
        )
    data = request.get_data(cache=True)
    if not data.strip():
        raise InvalidRequest("The request has no body")
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        raise InvalidRequest("The body is not valid JSON") from None


def response_type() -> str:
    """The media type to answer with, from ``_format`` or ``Accept`` (406 when neither fits)."""
    wanted = request.args.get("_format")
    if wanted:
        if wanted in FORMAT_ALIASES:
            return FORMAT_ALIASES[wanted]
        raise NotAcceptable(f"_format {wanted[:40]!r} is not supported; use json")
    if "Accept" not in request.headers:
        return FHIR_JSON
    accept = request.accept_mimetypes
    if not accept or accept.provided is False:
        return FHIR_JSON
    for offered in accept.values():
        base = offered.split(";")[0].strip()
        if base in ACCEPTED_OUTPUT:
            return "application/json" if base == "application/json" else FHIR_JSON
    raise NotAcceptable("The server answers in application/fhir+json only")


def fhir_response(body: bytes | dict[str, Any] | None, status: int = 200,
                  headers: dict[str, str] | None = None) -> Response:
    """A response with a FHIR JSON body (or none for 204/``return=minimal``)."""
    payload = body if isinstance(body, bytes | None) else orjson.dumps(body)
    response = Response(payload or b"", status=status, headers=headers or {})
    if payload:
        response.content_type = f"{_safe_response_type()}; charset=utf-8"
    return response


def _safe_response_type() -> str:
    try:
        return response_type()
    except NotAcceptable:
        return FHIR_JSON


def base_url() -> str:
    """The absolute base of the FHIR API, as clients reach it (BASE_URL or the request)."""
    configured: str | None = current_app.config["SETTINGS"].base_url
    # Built from scheme and host (ProxyFix applies X-Forwarded-*) rather than
    # request.host_url, which re-encodes the whole URL on every call.
    return configured or f"{request.scheme}://{request.host}{request.script_root}/fhir"


def version_headers(stored: StoredPatient, *, location: bool = True) -> dict[str, str]:
    """ETag, Last-Modified and (for writes) Location of a stored version."""
    headers = {
        "ETag": f'W/"{stored.version_id}"',
        "Last-Modified": http_date(stored.last_updated.replace(tzinfo=UTC)),
    }
    if location:
        headers["Location"] = f"{base_url()}/Patient/{stored.id}/_history/{stored.version_id}"
    return headers


def operation_outcome(severity: str, code: str, text: str,
                      expression: list[str] | None = None) -> dict[str, Any]:
    """An OperationOutcome with one issue."""
    issue: dict[str, Any] = {"severity": severity, "code": code, "diagnostics": text,
                             "details": {"text": text}}
    if expression:
        issue["expression"] = expression
    return {"resourceType": "OperationOutcome", "issue": [issue]}

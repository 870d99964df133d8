"""Reading FHIR request bodies and writing FHIR responses (JSON or XML; content negotiation).

JSON is the native form; XML (``app.xml``) is converted to and from it at this edge only.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson
from flask import Request, Response, current_app, g, request

from app.adapters.patient_repository import StoredPatient
from app.domain.errors import InvalidRequest, NotAcceptable, UnsupportedMediaType
from app.domain.text import CONTROL_CHARACTERS_MESSAGE, has_control_characters, parse_json
from app.masking import redact
from app.xml import XmlError, from_xml, to_xml

FHIR_JSON = "application/fhir+json"
FHIR_XML = "application/fhir+xml"
JSON_TYPES = ("application/fhir+json", "application/json", "application/json-patch+json")
XML_TYPES = ("application/fhir+xml", "application/xml", "text/xml")
# What each Accept entry is answered with (application/json and application/xml are echoed).
ACCEPTED_OUTPUT = {"application/fhir+json": FHIR_JSON, "application/json": "application/json",
                   "application/*": FHIR_JSON, "*/*": FHIR_JSON, "json": FHIR_JSON,
                   "text/json": FHIR_JSON, "application/fhir+xml": FHIR_XML,
                   "application/xml": "application/xml", "text/xml": FHIR_XML, "xml": FHIR_XML,
                   # Bulk Data file downloads ask for NDJSON; their errors come as FHIR JSON.
                   "application/fhir+ndjson": FHIR_JSON, "application/ndjson": FHIR_JSON}
FORMAT_ALIASES = {"json": FHIR_JSON, "application/json": "application/json",
                  "application/fhir+json": FHIR_JSON, "xml": FHIR_XML,
                  "application/fhir+xml": FHIR_XML, "application/xml": "application/xml",
                  "text/xml": FHIR_XML}
XML_OUTPUT = frozenset((FHIR_XML, "application/xml"))


def read_json_body() -> Any:
    """The request body as FHIR JSON (FHIR XML is converted; JSON Patch stays JSON only);
    415 for other media types, 400 when unparseable or hostile."""
    mimetype = request.mimetype
    if mimetype and mimetype not in JSON_TYPES:
        if mimetype in XML_TYPES and request.method != "PATCH":
            return _read_xml_body()
        raise UnsupportedMediaType(
            f"Content-Type {mimetype[:60]!r} is not supported; send "
            + ("a JSON Patch as application/json-patch+json" if request.method == "PATCH"
               else "application/fhir+json or application/fhir+xml")
        )
    data = request.get_data(cache=True)
    if not data.strip():
        raise InvalidRequest("The request has no body")
    try:
        document = parse_json(data)
    except ValueError:
        raise InvalidRequest("The body is not valid JSON") from None
    if has_control_characters(document):
        raise InvalidRequest(CONTROL_CHARACTERS_MESSAGE)
    return document


def _read_xml_body() -> dict[str, Any]:
    data = request.get_data(cache=True)
    if not data.strip():
        raise InvalidRequest("The request has no body")
    try:
        document = from_xml(data)
    except XmlError as error:
        raise InvalidRequest(str(error)) from None
    if has_control_characters(document):
        raise InvalidRequest(CONTROL_CHARACTERS_MESSAGE)
    return document


def response_type() -> str:
    """The media type to answer with, from ``_format`` or ``Accept`` (406 when neither fits)."""
    current: Request = request._get_current_object()  # type: ignore[attr-defined]
    # The query string is parsed only when it may hold _format (also as %5Fformat).
    wanted = current.args.get("_format") if b"format" in current.query_string else None
    if wanted:
        if wanted in FORMAT_ALIASES:
            return FORMAT_ALIASES[wanted]
        raise NotAcceptable("_format takes json or xml (or their media types)")
    header = current.environ.get("HTTP_ACCEPT")
    if not header:
        return FHIR_JSON
    if header in ACCEPTED_OUTPUT:  # one plain media type (most clients): nothing to parse
        return ACCEPTED_OUTPUT[header]
    accept = current.accept_mimetypes
    if not accept or accept.provided is False:
        return FHIR_JSON
    for offered in accept.values():
        answer = ACCEPTED_OUTPUT.get(offered.split(";")[0].strip())
        if answer:
            return answer
    raise NotAcceptable("The server answers in application/fhir+json or application/fhir+xml")


def fhir_response(body: bytes | dict[str, Any] | None, status: int = 200,
                  headers: dict[str, str] | None = None) -> Response:
    """A response with a FHIR body (or none for 204/``return=minimal``): the JSON given, or
    the same as XML when the client negotiated XML."""
    payload = body if isinstance(body, bytes | None) else orjson.dumps(body)
    if not payload:
        return Response(b"", status=status, headers=headers)
    media_type = _safe_response_type()
    if media_type in XML_OUTPUT:
        payload = to_xml(orjson.loads(payload))
    return Response(payload, status=status, headers=headers,
                    content_type=f"{media_type}; charset=utf-8")


def _safe_response_type() -> str:
    negotiated: str | None = g.get("media_type")
    if negotiated is not None:
        return negotiated
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
        "Last-Modified": http_date(stored.last_updated),
    }
    if location:
        headers["Location"] = f"{base_url()}/Patient/{stored.id}/_history/{stored.version_id}"
    return headers


_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def http_date(moment: datetime) -> str:
    """An HTTP date (RFC 9110 IMF-fixdate) of a UTC time given without a zone: what
    ``werkzeug.http.http_date`` writes, in a quarter of its time (every read sends one)."""
    return (f"{_WEEKDAYS[moment.weekday()]}, {moment.day:02d} {_MONTHS[moment.month - 1]} "
            f"{moment.year:04d} {moment.hour:02d}:{moment.minute:02d}:{moment.second:02d} GMT")


def operation_outcome(severity: str, code: str, text: str,
                      expression: list[str] | None = None) -> dict[str, Any]:
    """An OperationOutcome with one issue. Texts and expressions are redacted here, the one
    place every error body is made: they never carry a full personnummer."""
    text = redact(text)
    issue: dict[str, Any] = {"severity": severity, "code": code, "diagnostics": text,
                             "details": {"text": text}}
    if expression:
        issue["expression"] = [redact(e) for e in expression]
    return {"resourceType": "OperationOutcome", "issue": [issue]}

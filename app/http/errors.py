"""The one error path: every failure becomes an OperationOutcome with the right status.

A table maps each domain error class to its HTTP status; werkzeug's HTTP exceptions (404
route, 405, 413…) keep their status. Anything unexpected is a 500 with fixed text; the
traceback goes to the log only, never into the body.
"""

from __future__ import annotations

import logging

from flask import Flask, Response
from gunicorn.http.errors import ParseException
from werkzeug.exceptions import HTTPException

from app.domain import errors as domain
from app.http.fhir_io import fhir_response, operation_outcome
from app.http.protocol_errors import protocol_error_outcome

log = logging.getLogger(__name__)

STATUS_OF: dict[type[domain.DomainError], int] = {
    domain.InvalidRequest: 400,
    domain.Unauthorized: 401,
    domain.Forbidden: 403,
    domain.NotFound: 404,
    domain.NotAcceptable: 406,
    domain.Conflict: 409,
    domain.Gone: 410,
    domain.PreconditionFailed: 412,
    domain.PayloadTooLarge: 413,
    domain.UnsupportedMediaType: 415,
    domain.TooManyRequests: 429,
    domain.BusinessRuleViolation: 422,
}
HTTP_ISSUE_CODES = {400: "invalid", 401: "login", 403: "forbidden", 404: "not-found",
                    405: "not-supported", 406: "not-supported", 409: "conflict",
                    410: "deleted", 412: "conflict", 413: "too-costly", 415: "not-supported",
                    422: "processable", 429: "throttled"}


def status_of(error: domain.DomainError) -> int:
    """The HTTP status of a domain error (most specific class in the table wins)."""
    for cls in type(error).__mro__:
        if cls in STATUS_OF:
            return STATUS_OF[cls]
    return 500


def domain_error_response(error: domain.DomainError) -> Response:
    """OperationOutcome for a domain error."""
    outcome = operation_outcome(error.severity, error.code, error.message, error.expression)
    response = fhir_response(outcome, status_of(error))
    if isinstance(error, domain.Unauthorized):
        # RFC 6750 §3: the challenge names the scheme, and the error when a token was sent.
        challenge = 'Bearer realm="sweid-fhir"'
        if error.error:
            challenge += f', error="{error.error}"'
        response.headers["WWW-Authenticate"] = challenge
    return response


def http_error_response(error: HTTPException) -> Response:
    """OperationOutcome for a werkzeug/flask-smorest HTTP exception."""
    status = error.code or 500
    text = {404: "No such resource type or route",
            405: "This interaction is not supported on this URL",
            413: "The request body is larger than the server accepts"}.get(
        status, error.name)
    response = fhir_response(
        operation_outcome("error", HTTP_ISSUE_CODES.get(status, "exception"), text), status
    )
    if status == 405 and error.get_response().headers.get("Allow"):
        response.headers["Allow"] = error.get_response().headers["Allow"]
    return response


def protocol_error_body_response(error: ParseException) -> Response:
    """OperationOutcome for a request body gunicorn cannot read (a malformed chunk)."""
    status, _, outcome = protocol_error_outcome(error)
    return fhir_response(outcome, status)


def unexpected_error_response(error: Exception) -> Response:
    """500 with fixed text; the details go to the log."""
    log.exception("unexpected error", exc_info=error)
    return fhir_response(
        operation_outcome("fatal", "exception", "Internal server error; see the server log"),
        500,
    )


def register_error_handlers(app: Flask) -> None:
    """Install the handlers on the app."""
    app.register_error_handler(domain.DomainError, domain_error_response)
    app.register_error_handler(HTTPException, http_error_response)
    app.register_error_handler(ParseException, protocol_error_body_response)
    app.register_error_handler(Exception, unexpected_error_response)

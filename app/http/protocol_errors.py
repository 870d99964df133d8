"""The answers to requests that never reach the application: what gunicorn refuses while
reading the request line and headers (RFC 9112), as OperationOutcomes.

api.md: every error is an OperationOutcome with a fitting status, also when the WSGI server
answers on its own. gunicorn writes an HTML page for these; ``app.gunicorn_conf.FhirWorker``
writes the response made here. The texts say what to do and never quote the request: its
line may hold a personnummer in the query string.

A malformed chunked body is found only while the application reads it: the application's
error handler answers it from the same table.
"""

from __future__ import annotations

from typing import Any

import orjson
from gunicorn.http import errors as http

from app import gunicorn_conf
from app.http.fhir_io import operation_outcome

#: Anything else: the application failed before its response started (as the app's own
#: error handler answers an unexpected error; the details go to the log).
UNEXPECTED = (500, "Internal Server Error", "exception",
              "Internal server error; see the server log")
#: Status, reason phrase, issue code and text for each error gunicorn raises; the most
#: specific class wins.
ANSWERS: dict[type[Exception], tuple[int, str, str, str]] = {
    # A header the application tried to send is the application's fault (gunicorn: 500).
    http.InvalidResponseHeader: UNEXPECTED,
    http.InvalidResponseHeaderName: UNEXPECTED,
    http.ConfigurationProblem: UNEXPECTED,
    http.InvalidRequestLine: (
        400, "Bad Request", "invalid",
        "The request line is not valid HTTP (RFC 9112 §3): a URL may hold only printable "
        "ASCII characters, every other character percent-encoded as UTF-8 (RFC 3986 §2.1, "
        "e.g. Å as %C3%85). curl encodes a search parameter with -G --data-urlencode "
        "'given=Åsa'"),
    http.InvalidRequestMethod: (
        400, "Bad Request", "invalid", "The request method is not valid HTTP (RFC 9110 §9)"),
    http.InvalidHTTPVersion: (
        400, "Bad Request", "invalid", "The HTTP version is not valid; send HTTP/1.1"),
    http.InvalidHeader: (
        400, "Bad Request", "invalid",
        "A request header is not valid HTTP (RFC 9110 §5): a value may not hold control "
        "characters, and a header that may appear once appeared twice"),
    http.InvalidHeaderName: (
        400, "Bad Request", "invalid",
        "A request header name is not valid HTTP (RFC 9110 §5.1)"),
    http.ObsoleteFolding: (
        400, "Bad Request", "invalid",
        "A request header is folded over several lines, which HTTP/1.1 no longer allows "
        "(RFC 9112 §5.2)"),
    http.LimitRequestLine: (
        414, "URI Too Long", "too-costly",
        f"The request line is longer than {gunicorn_conf.limit_request_line} bytes: send a "
        "long search as POST "
        "[base]/Patient/_search with its parameters in an "
        "application/x-www-form-urlencoded body"),
    http.LimitRequestHeaders: (
        431, "Request Header Fields Too Large", "too-costly",
        f"The request has more than {gunicorn_conf.limit_request_fields} header fields, or "
        f"one longer than {gunicorn_conf.limit_request_field_size} bytes"),
    http.UnsupportedTransferCoding: (
        501, "Not Implemented", "not-supported",
        "The request's Transfer-Encoding is not supported; send chunked or a Content-Length"),
    http.InvalidChunkSize: (
        400, "Bad Request", "invalid", "The chunked request body is malformed (RFC 9112 §7.1)"),
    http.ChunkMissingTerminator: (
        400, "Bad Request", "invalid", "The chunked request body is malformed (RFC 9112 §7.1)"),
    http.InvalidChunkExtension: (
        400, "Bad Request", "invalid", "The chunked request body is malformed (RFC 9112 §7.1)"),
    http.ExpectationFailed: (
        417, "Expectation Failed", "not-supported",
        "The request's Expect header asks for something other than 100-continue"),
    http.InvalidProxyLine: (
        400, "Bad Request", "invalid", "The PROXY protocol line is not valid"),
    http.InvalidProxyHeader: (
        400, "Bad Request", "invalid", "The PROXY protocol header is not valid"),
    http.ForbiddenProxyRequest: (
        403, "Forbidden", "forbidden", "PROXY protocol requests are not accepted from here"),
    http.InvalidSchemeHeaders: (
        400, "Bad Request", "invalid", "The request's scheme headers contradict each other"),
    http.InvalidH2CPreface: (
        400, "Bad Request", "invalid", "The HTTP/2 connection preface is not valid"),
    http.ParseException: (
        400, "Bad Request", "invalid", "The request is not valid HTTP/1.1 (RFC 9112)"),
}


def protocol_error_outcome(error: Exception) -> tuple[int, str, dict[str, Any]]:
    """The status, reason phrase and OperationOutcome for an error gunicorn raised."""
    status, reason, code, text = next(
        (ANSWERS[cls] for cls in type(error).__mro__ if cls in ANSWERS), UNEXPECTED)
    severity = "fatal" if status >= 500 and status != 501 else "error"
    return status, reason, operation_outcome(severity, code, text)


def protocol_error_response(error: Exception) -> tuple[int, bytes]:
    """The status and the complete HTTP/1.1 response (status line, headers, OperationOutcome
    body) for an error gunicorn raised; the connection is closed after it, as gunicorn
    does."""
    status, reason, outcome = protocol_error_outcome(error)
    body = orjson.dumps(outcome)
    head = (f"HTTP/1.1 {status} {reason}\r\nConnection: close\r\n"
            f"Content-Type: application/fhir+json; charset=utf-8\r\n"
            f"Content-Length: {len(body)}\r\n\r\n")
    return status, head.encode("ascii") + body

"""What gunicorn answers itself — a request line or headers it cannot parse or that are over
its limits — is an OperationOutcome with the right status, never its HTML page (issue 15).
Sent over a raw socket: an HTTP client library would percent-encode or refuse these."""

from __future__ import annotations

import inspect
import json
import socket
from urllib.parse import urlsplit

import pytest
from gunicorn.http import errors as gunicorn_errors

from app.http.protocol_errors import ANSWERS, protocol_error_response
from tests.support import make_pnr


def exchange(base: str, request: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send raw bytes, read until the server closes; status, headers, body."""
    address = urlsplit(base)
    with socket.create_connection((address.hostname, address.port), timeout=30) as sock:
        sock.sendall(request)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {name.lower(): value.strip()
               for name, _, value in (line.partition(":") for line in lines)}
    return int(status_line.split()[1]), headers, body


def outcome(headers: dict[str, str], body: bytes) -> dict[str, object]:
    assert headers["content-type"].startswith("application/fhir+json")
    document = json.loads(body)
    assert document["resourceType"] == "OperationOutcome"
    return document


def test_raw_utf8_in_the_request_line_is_400_saying_how_to_encode_it(base: str) -> None:
    pnr = make_pnr()
    request = (f"GET /fhir/Patient?identifier={pnr}&given:exact=Åsa HTTP/1.1\r\n"
               "Host: test\r\n\r\n").encode()
    status, headers, body = exchange(base, request)
    assert status == 400
    issue = outcome(headers, body)["issue"][0]  # type: ignore[index]
    assert issue["code"] == "invalid"
    assert "percent-encoded" in issue["diagnostics"] and "--data-urlencode" in issue["diagnostics"]
    assert pnr.encode() not in body


def test_the_same_search_percent_encoded_is_answered_by_the_application(base: str) -> None:
    status, _, body = exchange(base, b"GET /fhir/Patient?given:exact=%C3%85sa HTTP/1.1\r\n"
                                     b"Host: test\r\nConnection: close\r\n\r\n")
    assert status == 200
    assert json.loads(body)["resourceType"] == "Bundle"


def test_a_10_kb_query_string_is_414_pointing_at_post_search(base: str) -> None:
    request = b"GET /fhir/Patient?family=" + b"a" * 10_000 + b" HTTP/1.1\r\nHost: test\r\n\r\n"
    status, headers, body = exchange(base, request)
    assert status == 414
    issue = outcome(headers, body)["issue"][0]  # type: ignore[index]
    assert issue["code"] == "too-costly" and "_search" in issue["diagnostics"]


@pytest.mark.parametrize("extra", [
    b"X-Big: " + b"a" * 40_000 + b"\r\n",
    b"".join(b"X-Header-%d: a\r\n" % number for number in range(120)),
], ids=["one header over 32 KiB", "120 headers"])
def test_headers_over_the_limits_are_431(base: str, extra: bytes) -> None:
    status, headers, body = exchange(
        base, b"GET /fhir/metadata HTTP/1.1\r\nHost: test\r\n" + extra + b"\r\n")
    assert status == 431
    assert outcome(headers, body)["issue"][0]["code"] == "too-costly"  # type: ignore[index]


def test_a_bearer_token_of_20_kb_reaches_the_application(base: str) -> None:
    # Open development server: the token is not checked, but gunicorn must let it through.
    request = (b"GET /fhir/metadata HTTP/1.1\r\nHost: test\r\nConnection: close\r\n"
               b"Authorization: Bearer " + b"a" * 20_000 + b"\r\n\r\n")
    status, _, body = exchange(base, request)
    assert status == 200 and json.loads(body)["resourceType"] == "CapabilityStatement"


@pytest.mark.parametrize("request_bytes", [
    b"get /fhir/metadata HTTP/1.1\r\nHost: test\r\n\r\n",
    b"GET /fhir/metadata HTTP/9.9\r\nHost: test\r\n\r\n",
    b"GET /fhir/metadata HTTP/1.1\r\nHost: test\r\nBad Name: x\r\n\r\n",
    b"GET /fhir/metadata HTTP/1.1\r\nHost: test\r\nX-A: a\r\n folded\r\n\r\n",
    b"POST /fhir HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
], ids=["lower-case method", "HTTP/9.9", "space in a header name", "folded header",
        "bad chunk size"])
def test_other_malformed_requests_are_400_operation_outcomes(base: str,
                                                              request_bytes: bytes) -> None:
    status, headers, body = exchange(base, request_bytes)
    assert 400 <= status < 500
    assert outcome(headers, body)["issue"][0]["severity"] == "error"  # type: ignore[index]


def test_every_error_gunicorn_raises_has_its_own_answer() -> None:
    raised = [cls for _, cls in inspect.getmembers(gunicorn_errors, inspect.isclass)
              if issubclass(cls, gunicorn_errors.ParseException)]
    assert len(raised) > 10
    for cls in raised:
        assert cls in ANSWERS, cls.__name__


def test_an_unexpected_error_is_a_500_with_fixed_text() -> None:
    status, response = protocol_error_response(RuntimeError("secret detail"))
    assert status == 500 and b"secret detail" not in response
    assert response.startswith(b"HTTP/1.1 500 Internal Server Error\r\n")

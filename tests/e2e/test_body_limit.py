"""MAX_BODY_BYTES through the running server, whatever the framing (issue 14): a chunked body
over the limit was cut at 5 MB and answered as if it were the whole body (a create 400 "not
valid JSON", a form search 200). Now every body over the limit is a 413 OperationOutcome,
the client gets it, and the connection serves the next request; a body at the limit works."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest

from app.config import Settings
from tests.e2e.test_errors import assert_outcome
from tests.support import patient, unique_name

LIMIT = Settings.max_body_bytes  # the server's default
FHIR_JSON = {"Content-Type": "application/fhir+json"}
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def chunks(body: bytes, size: int = 64 * 1024) -> Iterator[bytes]:
    """The body in pieces: ``requests`` sends a generator with Transfer-Encoding: chunked."""
    for start in range(0, len(body), size):
        yield body[start:start + size]


def padded(document: bytes, size: int, filler: bytes) -> bytes:
    """``document`` followed by ``filler`` bytes up to exactly ``size`` bytes (JSON allows
    trailing whitespace; a form ignores empty ``&`` fields)."""
    assert len(document) <= size
    return document + filler * (size - len(document))


def create_body(family: str, size: int) -> bytes:
    return padded(json.dumps(patient(family)).encode(), size, b" ")


def transaction_body(family: str, size: int) -> bytes:
    bundle = {"resourceType": "Bundle", "type": "transaction", "entry": [
        {"resource": patient(family), "request": {"method": "POST", "url": "Patient"}}]}
    return padded(json.dumps(bundle).encode(), size, b" ")


def search_body(family: str, size: int) -> bytes:
    return padded(f"family={family}".encode(), size, b"&")


# (path, content type, body maker, status of a body at the limit)
ROUTES = {
    "create": ("/Patient", FHIR_JSON, create_body, 201),
    "transaction": ("", FHIR_JSON, transaction_body, 200),
    "form search": ("/Patient/_search", FORM, search_body, 200),
}


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("framing", ["chunked", "content-length"])
def test_a_body_one_byte_over_the_limit_is_a_413(base, http, route, framing):
    path, headers, make, _ = ROUTES[route]
    family = unique_name("Overlimit")
    body = make(family, LIMIT + 1)
    response = http.post(base + path, data=chunks(body) if framing == "chunked" else body,
                         headers=headers)
    issue = assert_outcome(response, 413)["issue"][0]
    assert issue["code"] == "too-costly"
    assert f"{LIMIT} bytes" in issue["diagnostics"]
    assert http.get(f"{base}/Patient", params={"family": family}).json()["total"] == 0


def test_a_chunked_60_mb_form_search_is_a_413(base, http):
    """It was answered 200 on its first 5 MB, and the connection often reset."""
    body = search_body(unique_name("Chunked"), 60 * 1000 * 1000)
    assert_outcome(http.post(f"{base}/Patient/_search", data=chunks(body), headers=FORM), 413)


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("framing", ["chunked", "content-length"])
def test_a_body_of_exactly_the_limit_works(base, http, route, framing):
    path, headers, make, status = ROUTES[route]
    family = unique_name("Atlimit")
    body = make(family, LIMIT)
    response = http.post(base + path, data=chunks(body) if framing == "chunked" else body,
                         headers=headers)
    assert response.status_code == status, response.text
    if route == "form search":
        assert response.json()["total"] == 0
    else:
        assert http.get(f"{base}/Patient", params={"family": family}).json()["total"] == 1


def _exchange(connection: socket.socket, request: bytes) -> tuple[int, bytes]:
    """Send one HTTP/1.1 request and read its answer (status, body by Content-Length)."""
    connection.sendall(request)
    received = b""
    while b"\r\n\r\n" not in received:
        received += connection.recv(65536) or b"EOF"
        assert not received.endswith(b"EOF"), "the server closed the connection"
    head, _, body = received.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {name.lower(): value.strip() for name, _, value in
               (line.partition(":") for line in lines[1:])}
    while len(body) < int(headers["content-length"]):
        more = connection.recv(65536)
        assert more, "the server closed the connection mid-answer"
        body += more
    return int(lines[0].split()[1]), body


def test_the_connection_serves_the_next_request_after_a_413(base):
    """The rest of the refused body is read and dropped: the client, which sends it all
    before reading, gets the 413 (not a reset), and the connection stays usable."""
    url = urlsplit(base)
    body = create_body(unique_name("Chunked"), 6 * 1024 * 1024)
    framed = b"".join(b"%x\r\n%s\r\n" % (len(piece), piece) for piece in chunks(body))
    head = (f"POST {url.path}/Patient HTTP/1.1\r\nHost: {url.netloc}\r\n"
            "Content-Type: application/fhir+json\r\nTransfer-Encoding: chunked\r\n\r\n")
    with socket.create_connection((url.hostname, url.port), timeout=30) as connection:
        status, answer = _exchange(connection, head.encode() + framed + b"0\r\n\r\n")
        assert status == 413
        assert json.loads(answer)["resourceType"] == "OperationOutcome"
        status, _ = _exchange(connection, f"GET {url.path}/metadata HTTP/1.1\r\n"
                                          f"Host: {url.netloc}\r\n\r\n".encode())
        assert status == 200


def test_a_broken_chunked_body_is_a_400(base):
    url = urlsplit(base)
    head = (f"POST {url.path}/Patient HTTP/1.1\r\nHost: {url.netloc}\r\n"
            "Content-Type: application/fhir+json\r\nTransfer-Encoding: chunked\r\n\r\n")
    with socket.create_connection((url.hostname, url.port), timeout=30) as connection:
        status, answer = _exchange(connection, head.encode() + b"zz\r\n{}\r\n0\r\n\r\n")
    assert status == 400
    assert json.loads(answer)["resourceType"] == "OperationOutcome"

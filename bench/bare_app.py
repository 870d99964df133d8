"""The baseline for ``rest_throughput``: a bare Flask app that serves canned bytes.

``create_bare_app()`` fetches, once at start-up, the body and headers of one Patient read
and of one identifier search from the real server (``BENCH_REAL_BASE``), then answers the
same URLs with exactly those bytes and the same Content-Type — no database, no parsing.
Run under the same gunicorn config and environment as the real server, the difference
in throughput is what the FHIR layer costs on top of Flask + gunicorn themselves.

Environment: ``BENCH_REAL_BASE`` (e.g. ``http://127.0.0.1:8123/fhir``),
``BENCH_PATIENT_ID``, ``BENCH_SEARCH_QUERY`` (the query string of the search, unencoded
``identifier=system|value`` is fine), ``BENCH_AUTHORIZATION`` (the Authorization header for
those fetches when the real server verifies tokens).
"""

from __future__ import annotations

import os
import urllib.request
from urllib.parse import quote

from flask import Flask, Response, abort, request

#: Response headers copied from the real server (besides the body).
COPIED_HEADERS = ("Content-Type", "ETag", "Last-Modified")


def _fetch(url: str) -> tuple[bytes, dict[str, str]]:
    authorization = os.environ.get("BENCH_AUTHORIZATION")
    request_ = urllib.request.Request(
        url, headers={"Authorization": authorization} if authorization else {})
    with urllib.request.urlopen(request_, timeout=30) as response:
        body = response.read()
        headers = {h: response.headers[h] for h in COPIED_HEADERS if response.headers[h]}
    return body, headers


def create_bare_app() -> Flask:
    """The baseline app; reads what it serves from the real server once, at start-up."""
    base = os.environ["BENCH_REAL_BASE"].rstrip("/")
    patient_id = os.environ["BENCH_PATIENT_ID"]
    search_query = os.environ["BENCH_SEARCH_QUERY"]
    read = _fetch(f"{base}/Patient/{patient_id}")
    search = _fetch(f"{base}/Patient?{quote(search_query, safe='=&')}")
    return serving(patient_id, read, search)


def serving(patient_id: str, read: tuple[bytes, dict[str, str]],
            search: tuple[bytes, dict[str, str]]) -> Flask:
    """A Flask app answering the read of ``patient_id`` and any identifier search with the
    (body, headers) given."""
    read_body, read_headers = read
    search_body, search_headers = search
    app = Flask(__name__)

    @app.get("/fhir/Patient/<pid>")
    def read_view(pid: str) -> Response:
        if pid != patient_id:
            abort(404)
        return Response(read_body, status=200, headers=read_headers)

    @app.get("/fhir/Patient")
    def search_view() -> Response:
        if not request.args.get("identifier"):
            abort(404)
        return Response(search_body, status=200, headers=search_headers)

    @app.get("/fhir/metadata")
    def metadata() -> Response:
        return Response(b'{"resourceType":"CapabilityStatement"}',
                        content_type="application/fhir+json")

    return app

"""A WSGI app for the request-timeout test, served by gunicorn with the project's config:
``/fhir/metadata`` answers at once (the test server waits for it); ``/fhir/spin?seconds=N``
keeps the CPU busy for N seconds, as one over-large request did (issue 14)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qs


def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    """Spin for ``seconds`` on ``/fhir/spin``, then answer 200 ``ok``."""
    if environ["PATH_INFO"] == "/fhir/spin":
        seconds = float(parse_qs(environ["QUERY_STRING"])["seconds"][0])
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            pass
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]

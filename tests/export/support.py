"""Helpers of the Bulk Data ``$export`` tests: a client that follows the Bulk Data Access
IG (v2) step by step over plain HTTP — kick-off with ``Prefer: respond-async``, polling the
``Content-Location`` while it answers 202 (honouring ``Retry-After``), the manifest, then
each output file with the same bearer token (``requiresAccessToken``)."""

from __future__ import annotations

import time
from typing import Any

import orjson
import requests

from tests.security.conftest import SECURE_ENV, make_token

#: Settings of the export test servers: quick polling, small pages and files (so that a
#: few Patients make several files).
FAST_EXPORT = {"EXPORT_POLL_SECONDS": "0.2", "EXPORT_PAGE_SIZE": "3",
               "EXPORT_FILE_MAX_RESOURCES": "5", "EXPORT_RETRY_AFTER_SECONDS": "1"}
ENV = {**SECURE_ENV, **FAST_EXPORT}
FULL = "system/*.cruds system/AuditEvent.rs protected-identity"
MASKED = "system/*.cruds"
KICKOFF = {"Accept": "application/fhir+json", "Prefer": "respond-async"}


def session_with(scope: str = MASKED, sub: str = "exporter") -> requests.Session:
    """A session with a bearer token of ``scope`` for ``sub``."""
    session = requests.Session()
    session.headers.update({"Authorization": f"Bearer {make_token(scope, sub=sub)}"})
    return session


def kickoff(session: requests.Session, base: str, path: str = "Patient/$export",
            **params: str) -> str:
    """Start an export; the status URL (``Content-Location``)."""
    answer = session.get(f"{base}/{path}", params=params, headers=KICKOFF, timeout=30)
    assert answer.status_code == 202, answer.text
    location = answer.headers["Content-Location"]
    assert location.startswith("http://")
    return location


def wait_manifest(session: requests.Session, status_url: str,
                  timeout: float = 60) -> dict[str, Any]:
    """Poll until the export completes; its manifest."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        answer = session.get(status_url, headers={"Accept": "application/json"}, timeout=30)
        if answer.status_code == 200:
            assert answer.headers["Content-Type"].startswith("application/json")
            manifest: dict[str, Any] = answer.json()
            return manifest
        assert answer.status_code == 202, answer.text
        assert answer.headers["X-Progress"]
        time.sleep(min(float(answer.headers["Retry-After"]), 0.2))
    raise AssertionError(f"export not done within {timeout} s")


def download(session: requests.Session, manifest: dict[str, Any]) -> list[dict[str, Any]]:
    """Every resource of every output file, in order."""
    resources = []
    for output in manifest["output"]:
        answer = session.get(output["url"], headers={"Accept": "application/fhir+ndjson"},
                             timeout=30)
        assert answer.status_code == 200, answer.text
        assert answer.headers["Content-Type"] == "application/fhir+ndjson"
        lines = answer.content.splitlines()
        assert len(lines) == output["count"]
        resources += [orjson.loads(line) for line in lines]
    return resources


def export_all(session: requests.Session, base: str, path: str = "Patient/$export",
               **params: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Kick-off, wait, download: the manifest and the resources."""
    manifest = wait_manifest(session, kickoff(session, base, path, **params))
    return manifest, download(session, manifest)

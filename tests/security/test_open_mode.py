"""Open development mode: the session's plain server (tests/conftest.py, no JWT_* setting)
says loudly at start-up that authentication is off, answers without a token, and still
never shows protected persons unmasked."""

from __future__ import annotations

import requests

from tests.security.conftest import FHIR_JSON, SECURITY_LABEL_SYSTEM
from tests.support import Server, make_pnr, patient


def test_the_server_warns_loudly_at_start_up_that_authentication_is_off(server: Server) -> None:
    log = server.log_path.read_text(errors="replace")
    warnings = [line for line in log.splitlines() if "AUTHENTICATION IS OFF" in line]
    assert warnings, log[-2000:]
    assert " WARNING app.http.auth AUTHENTICATION IS OFF" in warnings[0]
    assert "never run like this in production" in warnings[0]


def test_open_mode_needs_no_token_and_still_masks_protected_persons(server: Server) -> None:
    resource = patient(pnr=make_pnr(), meta={"security": [
        {"system": SECURITY_LABEL_SYSTEM, "code": "sekretessmarkering"}]},
        telecom=[{"system": "phone", "value": "070-000 00 03"}])
    created = requests.post(f"{server.base}/Patient", json=resource, headers=FHIR_JSON,
                            timeout=10)
    assert created.status_code == 201, created.text
    read = requests.get(f"{server.base}/Patient/{created.json()['id']}", headers=FHIR_JSON,
                        timeout=10)
    assert read.status_code == 200
    assert "070-000 00 03" not in read.text
    assert read.json()["meta"]["tag"][0]["code"] == "SUBSETTED"


def test_metadata_in_open_mode_says_the_server_runs_open(server: Server) -> None:
    """Nothing to log in to: no SMART-on-FHIR service is advertised, and the description
    says the server is open (the secured server's statement is checked in test_scopes)."""
    security = requests.get(f"{server.base}/metadata", timeout=10).json()["rest"][0]["security"]
    assert security["description"].startswith("Open development mode")
    assert "never run like this in production" in security["description"].lower()
    assert "service" not in security and "extension" not in security

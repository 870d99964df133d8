"""Authorisation: SMART scope parsing (pure) and the scope each interaction needs, checked
through the server."""

from __future__ import annotations

import orjson
import pytest
import requests

from app.domain.scopes import parse_requirement, parse_scopes
from tests.security.conftest import headers
from tests.support import patient


@pytest.mark.parametrize(("claim", "resource_type", "requirement", "allowed"), [
    ("system/Patient.rs", "Patient", "r", True),
    ("system/Patient.rs", "Patient", "s", True),
    ("system/Patient.rs", "Patient", "u", False),
    ("system/Patient.cruds", "Patient", "cu", True),
    ("system/Patient.r", "Patient", "r|s", True),
    ("system/Patient.s", "Patient", "c|u", False),
    ("system/*.rs", "AuditEvent", "s", True),
    ("system/*.rs", "Patient", "d", False),
    ("system/Patient.read", "Patient", "s", True),
    ("system/Patient.read", "Patient", "u", False),
    ("system/Patient.write", "Patient", "u", True),
    ("system/*.*", "Provenance", "r", True),
    ("system/Patient.rs", "AuditEvent", "r", False),
    ("user/Patient.cruds patient/*.rs", "Patient", "r", False),
    ("system/Patient.sr", "Patient", "r", False),          # v2 letters must be in order
    ("system/Patient.rs?identifier=x", "Patient", "r", False),  # fine-grained: not granted
    ("system/patient.rs", "Patient", "r", False),
    ("", "Patient", "r", False),
])
def test_scope_matching(claim: str, resource_type: str, requirement: str, allowed: bool) -> None:
    assert parse_scopes(claim).satisfies(resource_type, requirement) is allowed


def test_protected_identity_scope() -> None:
    assert parse_scopes("system/Patient.rs protected-identity").protected_identity
    assert not parse_scopes("system/Patient.rs protected-identity-x").protected_identity
    assert parse_scopes(["system/Patient.r", "protected-identity"]).protected_identity


def test_requirement_typos_are_refused() -> None:
    with pytest.raises(ValueError):
        parse_requirement("rw")
    with pytest.raises(ValueError):
        parse_requirement("r|")


def _status(method: str, url: str, scope: str, **kwargs: object) -> int:
    return requests.request(method, url, headers=headers(scope), timeout=10,
                            **kwargs).status_code  # type: ignore[arg-type]


def test_each_interaction_needs_its_letter(sbase: str) -> None:
    created = requests.post(f"{sbase}/Patient", json=patient(), timeout=10,
                            headers=headers("system/Patient.c"))
    assert created.status_code == 201
    pid = created.json()["id"]
    body = {**created.json()}
    cases = [
        ("GET", f"{sbase}/Patient/{pid}", "r", {}),
        ("GET", f"{sbase}/Patient/{pid}/_history/1", "r", {}),
        ("GET", f"{sbase}/Patient/{pid}/_history", "r", {}),
        ("GET", f"{sbase}/Patient/_history", "r", {}),
        ("GET", f"{sbase}/Patient?_id={pid}", "s", {}),
        ("POST", f"{sbase}/Patient/_search", "s", {"data": {"_id": pid}}),
        ("POST", f"{sbase}/Patient", "c", {"json": patient()}),
        ("PUT", f"{sbase}/Patient/{pid}", "u", {"json": body}),
        ("PATCH", f"{sbase}/Patient/{pid}", "u",
         {"data": orjson.dumps([{"op": "replace", "path": "/gender", "value": "other"}])}),
        ("GET", f"{sbase}/AuditEvent?agent=nobody", "s", {}),
        ("GET", f"{sbase}/Provenance?agent=nobody", "s", {}),
    ]
    for method, url, letter, kwargs in cases:
        rtype = "AuditEvent" if "AuditEvent" in url else (
            "Provenance" if "Provenance" in url else "Patient")
        others = "".join(p for p in "cruds" if p != letter)
        denied = _status(method, url, f"system/{rtype}.{others}", **kwargs)
        assert denied == 403, (method, url)
        if method == "PATCH":
            hdrs = {**headers(f"system/{rtype}.{letter}"),
                    "Content-Type": "application/json-patch+json"}
            allowed = requests.patch(url, headers=hdrs, data=kwargs["data"], timeout=10)
            allowed_status = allowed.status_code
        else:
            allowed_status = _status(method, url, f"system/{rtype}.{letter}", **kwargs)
        assert allowed_status in (200, 201), (method, url, allowed_status)
    assert _status("DELETE", f"{sbase}/Patient/{pid}", "system/Patient.crus") == 403
    assert _status("DELETE", f"{sbase}/Patient/{pid}", "system/Patient.d") == 204


def test_reserve_id_generation_needs_write(sbase: str) -> None:
    params = {"resourceType": "Parameters", "parameter": [
        {"name": "system", "valueUri": "urn:oid:1.2.752.74.9.1"},
        {"name": "birthDate", "valueDate": "1990-01-01"},
        {"name": "gender", "valueCode": "female"}]}
    url = f"{sbase}/Patient/$generate-reserve-id"
    assert _status("POST", url, "system/Patient.rs", json=params) == 403
    assert _status("POST", url, "system/Patient.c", json=params) == 200


def test_batch_checks_each_entry(sbase: str) -> None:
    pid = requests.post(f"{sbase}/Patient", json=patient(), timeout=10,
                        headers=headers("system/Patient.c")).json()["id"]
    batch = {"resourceType": "Bundle", "type": "batch", "entry": [
        {"request": {"method": "GET", "url": f"Patient/{pid}"}},
        {"request": {"method": "POST", "url": "Patient"}, "resource": patient()},
        {"request": {"method": "GET", "url": f"Patient?_id={pid}"}},
    ]}
    response = requests.post(sbase, json=batch, headers=headers("system/Patient.r"), timeout=10)
    assert response.status_code == 200
    statuses = [e["response"]["status"][:3] for e in response.json()["entry"]]
    assert statuses == ["200", "403", "403"]
    transaction = {**batch, "type": "transaction"}
    response = requests.post(sbase, json=transaction, headers=headers("system/Patient.rs"),
                             timeout=10)
    assert response.status_code == 403
    assert response.json()["resourceType"] == "OperationOutcome"


def test_every_route_declares_what_it_needs() -> None:
    """Undeclared routes are closed when authentication is on: every route of the app (but
    the always-open documentation paths) carries a @requires/@authenticated/@public."""
    from app.config import Settings
    from app.http import create_app
    from app.http.auth import OPEN_PATHS, OPEN_PREFIXES, _requirement_of

    app = create_app(Settings(database_url="sqlite://"))
    undeclared = [
        rule.rule for rule in app.url_map.iter_rules()
        if rule.rule not in OPEN_PATHS and not rule.rule.startswith((*OPEN_PREFIXES, "/static"))
        and _requirement_of(app.view_functions[rule.endpoint]) is None
    ]
    assert undeclared == []

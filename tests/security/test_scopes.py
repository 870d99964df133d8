"""Authorisation: SMART scope parsing (pure) and the scope each interaction needs, checked
through the server."""

from __future__ import annotations

import base64

import orjson
import pytest
import requests

from app.domain.scopes import parse_requirement, parse_scopes
from app.http.interactions import TABLE, Interaction, Shape
from tests.operations.merge_helpers import LRID_SYSTEM, PNR_SYSTEM, make_lrid, params
from tests.security.conftest import headers
from tests.support import make_pnr, patient


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


def _forbidden(response: requests.Response) -> None:
    assert response.status_code == 403, response.text
    body = response.json()
    assert body["resourceType"] == "OperationOutcome"
    assert body["issue"][0]["code"] == "forbidden"


def _post(url: str, scope: str, body: object) -> requests.Response:
    return requests.post(url, json=body, headers=headers(scope), timeout=10)


def _create(sbase: str, resource: dict[str, object]) -> str:
    created = _post(f"{sbase}/Patient", "system/Patient.c", resource)
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


def test_match_and_ihe_pix_need_patient_read_or_search(sbase: str) -> None:
    pnr = make_pnr()
    pid = _create(sbase, patient(pnr=pnr))
    match = {"resourceType": "Parameters", "parameter": [
        {"name": "resource", "resource": patient(pnr=pnr)}]}
    pix_post = {"resourceType": "Parameters", "parameter": [
        {"name": "sourceIdentifier", "valueString": f"{PNR_SYSTEM}|{pnr}"}]}
    calls = {
        "$match": lambda scope: _post(f"{sbase}/Patient/$match", scope, match),
        "$ihe-pix GET": lambda scope: requests.get(
            f"{sbase}/Patient/$ihe-pix", params={"sourceIdentifier": f"{PNR_SYSTEM}|{pnr}"},
            headers=headers(scope), timeout=10),
        "$ihe-pix POST": lambda scope: _post(f"{sbase}/Patient/$ihe-pix", scope, pix_post),
    }
    for name, call in calls.items():
        _forbidden(call("system/Patient.cud system/AuditEvent.rs"))
        for scope in ("system/Patient.r", "system/Patient.s"):
            response = call(scope)
            assert response.status_code == 200, (name, scope, response.text)
            assert f"Patient/{pid}" in response.text, (name, scope)  # an answer, not a 200 shell


def test_merge_and_unmerge_need_patient_update(sbase: str) -> None:
    source = _create(sbase, patient(identifier=[{"system": LRID_SYSTEM, "value": make_lrid()}]))
    target = _create(sbase, patient(pnr=make_pnr()))
    body = params(source, target)
    reader = headers("system/Patient.r")

    def replaced_by() -> list[object]:
        links = requests.get(f"{sbase}/Patient/{source}", headers=reader, timeout=10).json()
        return [link for link in links.get("link", []) if link["type"] == "replaced-by"]

    _forbidden(_post(f"{sbase}/Patient/$merge", "system/Patient.crds", body))
    assert replaced_by() == []  # refused before anything was written
    assert _post(f"{sbase}/Patient/$merge", "system/Patient.u", body).status_code == 200
    assert replaced_by() != []
    _forbidden(_post(f"{sbase}/Patient/$unmerge", "system/Patient.crds", body))
    assert replaced_by() != []
    assert _post(f"{sbase}/Patient/$unmerge", "system/Patient.u", body).status_code == 200
    assert replaced_by() == []


def test_reserve_id_generation_needs_create_or_update(sbase: str) -> None:
    order = {"resourceType": "Parameters", "parameter": [
        {"name": "birthDate", "valueDate": "1990-01-01"},
        {"name": "gender", "valueCode": "female"}]}
    url = f"{sbase}/Patient/$generate-reserve-id"
    _forbidden(_post(url, "system/Patient.rds", order))
    for scope in ("system/Patient.c", "system/Patient.u"):
        response = _post(url, scope, order)
        assert response.status_code == 200, (scope, response.text)
    # Instance level (adds an NRID to an existing record) needs the same.
    instance = f"{sbase}/Patient/{_create(sbase, patient())}/$generate-reserve-id"
    empty = {"resourceType": "Parameters", "parameter": [
        {"name": "system", "valueUri": "urn:oid:1.2.752.74.9.1"}]}
    _forbidden(_post(instance, "system/Patient.rds", empty))
    response = _post(instance, "system/Patient.u", empty)
    assert response.status_code == 200, response.text


def test_audit_records_need_the_audit_event_scope(sbase: str) -> None:
    url = f"{sbase}/AuditEvent"
    assert _post(f"{sbase}/Patient/$generate-reserve-id", "system/Patient.c",  # one event
                 {"resourceType": "Parameters"}).status_code == 200
    for scope in ("system/Patient.cruds protected-identity", "system/AuditEvent.r",
                  "system/Provenance.rs"):
        _forbidden(requests.get(url, headers=headers(scope), timeout=10))
    found = requests.get(url, params={"_count": "1"}, headers=headers("system/AuditEvent.rs"),
                         timeout=10)
    assert found.status_code == 200, found.text
    assert found.json()["resourceType"] == "Bundle"
    event_id = found.json()["entry"][0]["resource"]["id"]
    _forbidden(requests.get(f"{url}/{event_id}", headers=headers("system/AuditEvent.s"),
                            timeout=10))
    assert requests.get(f"{url}/{event_id}", headers=headers("system/AuditEvent.rs"),
                        timeout=10).status_code == 200


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


def _entry_request(row: Interaction, pid: str, body: dict[str, object]) -> dict[str, object]:
    """A batch entry for ``row`` on the Patient ``pid``."""
    url = {Shape.TYPE: "Patient", Shape.CONDITIONAL: f"Patient?_id={pid}",
           Shape.INSTANCE: f"Patient/{pid}", Shape.VERSION: f"Patient/{pid}/_history/1",
           Shape.INSTANCE_HISTORY: f"Patient/{pid}/_history",
           Shape.TYPE_HISTORY: "Patient/_history"}[row.shape]
    if row.shape is Shape.TYPE and row.method == "GET":
        url = f"Patient?_id={pid}"
    entry: dict[str, object] = {"request": {"method": row.method, "url": url}}
    if row.method == "PATCH":
        patch = orjson.dumps([{"op": "replace", "path": "/gender", "value": "other"}])
        entry["resource"] = {"resourceType": "Binary", "contentType": "application/json-patch+json",
                             "data": base64.b64encode(patch).decode()}
    elif row.method in ("POST", "PUT"):
        entry["resource"] = patient() if row.method == "POST" else {**body, "id": pid}
    return entry


@pytest.mark.parametrize("row", list(TABLE.values()), ids=lambda r: f"{r.method} {r.shape.value}")
def test_bundle_entries_need_the_letters_of_the_interaction_table(sbase: str,
                                                                   row: Interaction) -> None:
    """A batch entry is authorised by the same table row as the REST route: refused without
    the row's letter, run with it alone."""
    created = requests.post(f"{sbase}/Patient", json=patient(), timeout=10,
                            headers=headers("system/Patient.c"))
    pid = created.json()["id"]
    batch = {"resourceType": "Bundle", "type": "batch",
             "entry": [_entry_request(row, pid, created.json())]}
    others = "".join(p for p in "cruds" if p != row.permission)
    for scope, expected in ((f"system/Patient.{others}", ("403",)),
                            (f"system/Patient.{row.permission}", ("200", "201", "204"))):
        answer = requests.post(sbase, json=batch, headers=headers(scope), timeout=10)
        assert answer.status_code == 200, answer.text
        status = answer.json()["entry"][0]["response"]["status"]
        assert status.split()[0] in expected, (scope, answer.text)


def test_rest_routes_declare_the_interaction_table() -> None:
    """Every Patient route of the REST API declares a row of the table (scope and AuditEvent
    subtype), so the two ways in cannot drift."""
    from app.http import create_app
    from app.http.auth import REQUIREMENT_ATTRIBUTE

    app = create_app()
    rows = {(r.code, r.permission) for r in TABLE.values()}
    declared = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("patient."):
            need = getattr(app.view_functions[rule.endpoint], REQUIREMENT_ATTRIBUTE)
            declared.add((need.interaction, need.requirement))
    assert declared == rows

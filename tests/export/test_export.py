"""``$export`` end to end over real HTTP (Bulk Data Access IG v2): kick-off, polling, the
manifest, files equal to the stored Patients, ``_since``, cancel, owner-only access,
scopes, masking and its audit, and parameters refused with 400."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import pytest
import requests

from tests.export.support import (
    FULL,
    KICKOFF,
    MASKED,
    download,
    export_all,
    kickoff,
    session_with,
    wait_manifest,
)
from tests.security.conftest import FHIR_JSON, SECURITY_LABEL_SYSTEM
from tests.support import make_pnr, patient


def _create(session: requests.Session, base: str, resource: dict) -> dict:
    answer = session.post(f"{base}/Patient", json=resource, headers=FHIR_JSON, timeout=30)
    assert answer.status_code == 201, answer.text
    return answer.json()


def _server_now(session: requests.Session, base: str) -> str:
    """A ``_since`` just before the Patients created next (the server's clock: a throwaway
    Patient's lastUpdated)."""
    marker = _create(session, base, patient(birth="1998-01-01"))
    session.delete(f"{base}/Patient/{marker['id']}", timeout=30)
    return marker["meta"]["lastUpdated"]


@pytest.fixture()
def owner() -> requests.Session:
    with session_with(FULL, sub=f"owner-{uuid.uuid4().hex[:8]}") as session:
        yield session


def test_kickoff_poll_manifest_and_files_equal_the_stored_patients(ebase, owner):
    since = _server_now(owner, ebase)
    created = [_create(owner, ebase, patient(pnr=make_pnr(), birth="1998-02-02"))
               for _ in range(11)]
    target = _create(owner, ebase, patient(pnr=make_pnr(), birth="1998-03-03"))
    source = _create(owner, ebase, patient(birth="1998-03-03"))
    merged = owner.post(f"{ebase}/Patient/$merge", headers=FHIR_JSON, timeout=30, json={
        "resourceType": "Parameters", "parameter": [
            {"name": "source-patient", "valueReference": {"reference": f"Patient/{source['id']}"}},
            {"name": "target-patient", "valueReference": {"reference": f"Patient/{target['id']}"}},
        ]})
    assert merged.status_code == 200, merged.text
    deleted = _create(owner, ebase, patient(birth="1998-04-04"))
    assert owner.delete(f"{ebase}/Patient/{deleted['id']}", timeout=30).status_code in (200, 204)

    status_url = kickoff(owner, ebase, "Patient/$export", _since=since,
                         _outputFormat="application/fhir+ndjson")
    manifest = wait_manifest(owner, status_url)

    assert manifest["request"].startswith(f"{ebase}/Patient/$export?_since=")
    assert manifest["request"].endswith("&_outputFormat=application%2Ffhir%2Bndjson")
    assert manifest["requiresAccessToken"] is True
    assert manifest["error"] == []
    assert manifest["transactionTime"] >= since
    assert {o["type"] for o in manifest["output"]} == {"Patient"}
    assert [o["count"] for o in manifest["output"]] == [5, 5, 3]  # EXPORT_FILE_MAX_RESOURCES

    resources = download(owner, manifest)
    exported = {r["id"]: r for r in resources}
    assert len(exported) == len(resources) == 13
    assert deleted["id"] not in exported  # deleted records are not exported
    for stored in [*created, target, source]:
        read = owner.get(f"{ebase}/Patient/{stored['id']}", headers=FHIR_JSON, timeout=30)
        assert exported[stored["id"]] == read.json()  # the stored resource, byte for byte
    merged_away = exported[source["id"]]
    assert merged_away["active"] is False
    assert {"other": {"reference": f"Patient/{target['id']}"}, "type": "replaced-by"} in \
        merged_away["link"]


def test_system_level_export_and_the_type_parameter(ebase, owner):
    since = _server_now(owner, ebase)
    one = _create(owner, ebase, patient(pnr=make_pnr()))
    _manifest, resources = export_all(owner, ebase, "$export", _type="Patient", _since=since,
                                      _outputFormat="ndjson")
    assert [r["id"] for r in resources] == [one["id"]]


def test_since_leaves_out_patients_stored_before_it(ebase, owner):
    before = _create(owner, ebase, patient(pnr=make_pnr()))
    time.sleep(0.05)
    after = _create(owner, ebase, patient(pnr=make_pnr()))
    _manifest, resources = export_all(owner, ebase, _since=after["meta"]["lastUpdated"])
    ids = {r["id"] for r in resources}
    assert after["id"] in ids and before["id"] not in ids


def test_delete_cancels_and_removes_the_files(ebase, owner, export_directory: Path):
    since = _server_now(owner, ebase)
    _create(owner, ebase, patient(pnr=make_pnr()))
    status_url = kickoff(owner, ebase, _since=since)
    manifest = wait_manifest(owner, status_url)
    job_id = status_url.rsplit("/", 1)[1]
    assert (export_directory / job_id).is_dir()
    cancelled = owner.delete(status_url, timeout=30)
    assert cancelled.status_code == 202
    assert cancelled.json()["resourceType"] == "OperationOutcome"
    assert owner.get(status_url, timeout=30).status_code == 404
    assert owner.get(manifest["output"][0]["url"], timeout=30).status_code == 404
    assert not (export_directory / job_id).exists()
    assert owner.delete(status_url, timeout=30).status_code == 404


def test_only_the_owner_may_poll_download_or_cancel(ebase, owner):
    since = _server_now(owner, ebase)
    _create(owner, ebase, patient(pnr=make_pnr()))
    status_url = kickoff(owner, ebase, _since=since)
    manifest = wait_manifest(owner, status_url)
    with session_with(FULL, sub="someone-else") as other:
        for answer in (other.get(status_url, timeout=30),
                       other.get(manifest["output"][0]["url"], timeout=30),
                       other.delete(status_url, timeout=30)):
            assert answer.status_code == 404
            assert answer.json()["issue"][0]["code"] == "not-found"
    assert owner.get(status_url, timeout=30).status_code == 200  # not cancelled by the other


def test_unknown_jobs_and_files_are_404(ebase, owner):
    assert owner.get(f"{ebase}/$export-status/{uuid.uuid4()}", timeout=30).status_code == 404
    status_url = kickoff(owner, ebase, _since="2999-01-01T00:00:00Z")
    manifest = wait_manifest(owner, status_url)
    assert manifest["output"] == []  # nothing stored after 2999
    file_url = status_url.replace("$export-status", "$export-file")
    for name in ("Patient-1.ndjson", "..%2Ffhir.db", "Patient-9.ndjson"):
        assert owner.get(f"{file_url}/{name}", timeout=30).status_code == 404


@pytest.mark.parametrize(("scope", "expected"), [
    (None, 401), ("system/Patient.s", 403), ("system/Patient.r", 403),
    ("system/Observation.rs", 403), ("system/Patient.read", 202), ("system/Patient.rs", 202),
    ("system/*.rs", 202)])
def test_scopes_of_the_kickoff(ebase, scope, expected):
    headers = dict(KICKOFF)
    if scope is not None:
        headers["Authorization"] = f"Bearer {session_with(scope).headers['Authorization'][7:]}"
    answer = requests.get(f"{ebase}/Patient/$export", params={"_since": "2999-01-01T00:00:00Z"},
                          headers=headers, timeout=30)
    assert answer.status_code == expected, answer.text
    if expected != 202:
        assert answer.json()["resourceType"] == "OperationOutcome"


def test_status_and_files_need_the_scope_too(ebase):
    with session_with(MASKED, sub="scoped") as owner:
        manifest_url = kickoff(owner, ebase, _since="2999-01-01T00:00:00Z")
        wait_manifest(owner, manifest_url)
    with session_with("system/Patient.c", sub="scoped") as same_sub_without_scope:
        assert same_sub_without_scope.get(manifest_url, timeout=30).status_code == 403
        assert same_sub_without_scope.delete(manifest_url, timeout=30).status_code == 403
    assert requests.get(manifest_url, timeout=30).status_code == 401


def _protected_person(session: requests.Session, base: str) -> dict:
    return _create(session, base, patient(
        pnr=make_pnr(), birth="1998-05-05",
        meta={"security": [{"system": SECURITY_LABEL_SYSTEM, "code": "sekretessmarkering"}]},
        telecom=[{"system": "phone", "value": "070-0000000"}],
        address=[{"line": ["Hemliga gatan 1"], "city": "Ort", "district": "Län"}]))


def _audited(session: requests.Session, base: str, patient_id: str, sub: str) -> list[dict]:
    found = session.get(f"{base}/AuditEvent", params={"entity": f"Patient/{patient_id}",
                                                      "subtype": "export"},
                        headers=FHIR_JSON, timeout=30)
    assert found.status_code == 200, found.text
    return [e["resource"] for e in found.json().get("entry", [])
            if e["resource"]["agent"][0]["who"]["identifier"]["value"] == sub]


def test_protected_persons_are_masked_without_protected_identity(ebase, owner):
    since = _server_now(owner, ebase)
    secret = _protected_person(owner, ebase)
    with session_with(MASKED, sub="masked-exporter") as masked:
        _manifest, resources = export_all(masked, ebase, _since=since)
        read = masked.get(f"{ebase}/Patient/{secret['id']}", headers=FHIR_JSON, timeout=30)
    [exported] = [r for r in resources if r["id"] == secret["id"]]
    assert exported == read.json()  # masked exactly as a read is
    assert "telecom" not in exported and "line" not in exported["address"][0]
    assert any(t.get("code") == "SUBSETTED" for t in exported["meta"]["tag"])
    assert _audited(owner, ebase, secret["id"], "masked-exporter") == []


def test_protected_persons_are_exported_unmasked_with_protected_identity_and_audited(
        ebase, owner):
    since = _server_now(owner, ebase)
    secret = _protected_person(owner, ebase)
    with session_with(FULL, sub="full-exporter") as full:
        _manifest, resources = export_all(full, ebase, _since=since)
    [exported] = [r for r in resources if r["id"] == secret["id"]]
    assert exported["telecom"] == [{"system": "phone", "value": "070-0000000"}]
    assert exported["address"][0]["line"] == ["Hemliga gatan 1"]
    [event] = _audited(owner, ebase, secret["id"], "full-exporter")
    assert event["action"] == "R"
    assert event["subtype"][0]["code"] == "export"


@pytest.mark.parametrize(("params", "headers"), [
    ({"_outputFormat": "text/csv"}, KICKOFF),
    ({"_type": "Observation"}, KICKOFF),
    ({"_type": "Patient,Group"}, KICKOFF),
    ({"_since": "yesterday"}, KICKOFF),
    ({"_since": "2026-01-01"}, KICKOFF),
    ({"_since": "2026-13-45T00:00:00Z"}, KICKOFF),
    ({"_typeFilter": "Patient?active=true"}, KICKOFF),
    ({"patient": "Patient/1"}, KICKOFF),
    ({}, {"Accept": "application/fhir+json"}),  # no Prefer: respond-async
])
def test_bad_kickoffs_are_400_operation_outcomes(ebase, owner, params, headers):
    answer = owner.get(f"{ebase}/Patient/$export", params=params, headers=headers, timeout=30)
    assert answer.status_code == 400, answer.text
    assert answer.json()["issue"][0]["code"] == "invalid"


def test_lenient_handling_ignores_unsupported_parameters(ebase, owner):
    answer = owner.get(f"{ebase}/Patient/$export", params={
        "_typeFilter": "Patient?active=true", "_since": "2999-01-01T00:00:00Z"},
        headers={**KICKOFF, "Prefer": "respond-async, handling=lenient"}, timeout=30)
    assert answer.status_code == 202
    wait_manifest(owner, answer.headers["Content-Location"])


def test_capability_statement_lists_the_export_operations(ebase):
    statement = requests.get(f"{ebase}/metadata", timeout=30).json()
    rest = statement["rest"][0]
    system = {op["name"]: op["definition"] for op in rest["operation"]}
    assert system["export"] == "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/export"
    patient_resource = next(r for r in rest["resource"] if r["type"] == "Patient")
    operations = {op["name"]: op["definition"] for op in patient_resource["operation"]}
    assert operations["export"] == \
        "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/patient-export"

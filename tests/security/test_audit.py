"""Audit: every response that shows a protected record unmasked (read, vread, history,
search and its ``_include``, ``$match``, batch and transaction) and every ``$merge``,
``$unmerge`` and ``$generate-reserve-id`` writes an AuditEvent (who = token sub, what =
Patient/<id>, when, outcome, interaction), searchable by entity, agent and date (FHIR prefix
semantics), readable only with the AuditEvent scope and never changed; masked reads write
none."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests

from app.services import audit_events
from tests.operations.merge_helpers import LRID_SYSTEM, NRID_SYSTEM, make_lrid, params
from tests.security.conftest import FULL, MASKED, SECURITY_LABEL_SYSTEM, headers
from tests.support import make_pnr, patient, unique_name

LABEL = {"system": SECURITY_LABEL_SYSTEM, "code": "sekretessmarkering"}
AUDITOR = "system/AuditEvent.rs system/Provenance.rs"


def _events(sbase: str, **params: str) -> list[dict[str, Any]]:
    response = requests.get(f"{sbase}/AuditEvent", params={**params, "_count": "100"},
                            headers=headers(AUDITOR), timeout=10)
    assert response.status_code == 200, response.text
    return [e["resource"] for e in response.json().get("entry", [])]


def _one_event(sbase: str, sub: str, subtype: str, patient_id: str) -> dict[str, Any]:
    """The one AuditEvent of this caller and interaction that names the Patient."""
    found = _events(sbase, entity=f"Patient/{patient_id}", agent=sub, subtype=subtype)
    assert len(found) == 1, (subtype, found)
    event = found[0]
    assert event["agent"][0]["who"]["identifier"]["value"] == sub
    assert event["outcome"] == "0"
    assert f"Patient/{patient_id}" in [e["what"]["reference"] for e in event["entity"]]
    return event


def _protected(sbase: str) -> dict[str, Any]:
    """A fresh protected Patient, as its creator (with protected-identity) sees it."""
    resource = patient(unique_name("Audit"), pnr=make_pnr(), meta={"security": [LABEL]},
                       telecom=[{"system": "phone", "value": "070-000 00 02"}])
    created = requests.post(f"{sbase}/Patient", json=resource, headers=headers(FULL),
                            timeout=10)
    assert created.status_code == 201, created.text
    return dict(created.json())


def _caller() -> tuple[str, dict[str, str]]:
    sub = f"auditor-{uuid.uuid4().hex[:8]}"
    return sub, headers(FULL, sub=sub)


@pytest.fixture(scope="module")
def protected_id(sbase: str) -> str:
    resource = patient(unique_name("Audit"), pnr=make_pnr(), meta={"security": [LABEL]},
                       telecom=[{"system": "phone", "value": "070-000 00 01"}])
    created = requests.post(f"{sbase}/Patient", json=resource, headers=headers(FULL),
                            timeout=10)
    return str(created.json()["id"])


def test_every_privileged_read_path_is_audited(sbase: str, protected_id: str) -> None:
    sub = f"auditor-{uuid.uuid4().hex[:8]}"
    hdrs = headers(FULL, sub=sub)
    since = (datetime.now(UTC) - timedelta(seconds=5)).strftime("%Y-%m-%dT%H:%M:%SZ")
    paths = [
        ("read", lambda: requests.get(f"{sbase}/Patient/{protected_id}", headers=hdrs)),
        ("vread", lambda: requests.get(f"{sbase}/Patient/{protected_id}/_history/1",
                                       headers=hdrs)),
        ("history-instance", lambda: requests.get(f"{sbase}/Patient/{protected_id}/_history",
                                                  headers=hdrs)),
        ("search-type", lambda: requests.get(f"{sbase}/Patient", params={"_id": protected_id},
                                             headers=hdrs)),
        ("batch", lambda: requests.post(sbase, headers=hdrs, json={
            "resourceType": "Bundle", "type": "batch",
            "entry": [{"request": {"method": "GET", "url": f"Patient/{protected_id}"}}]})),
    ]
    for subtype, call in paths:
        assert call().status_code == 200
        found = _events(sbase, entity=f"Patient/{protected_id}", agent=sub, subtype=subtype)
        assert len(found) == 1, subtype
        event = found[0]
        assert event["type"]["code"] == "rest"
        assert event["outcome"] == "0"
        assert event["agent"][0]["who"]["identifier"]["value"] == sub
        assert {"reference": f"Patient/{protected_id}"} in [e["what"] for e in event["entity"]]
    # Searchable by entity, agent and date together; by the bare id too.
    assert len(_events(sbase, entity=f"Patient/{protected_id}", agent=sub,
                       date=f"ge{since}")) == len(paths)
    assert len(_events(sbase, patient=protected_id, agent=sub)) == len(paths)
    future = (datetime.now(UTC) + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert _events(sbase, agent=sub, date=f"ge{future}") == []
    one = requests.get(f"{sbase}/AuditEvent/{found[0]['id']}", headers=headers(AUDITOR),
                       timeout=10)
    assert one.status_code == 200 and one.json()["id"] == found[0]["id"]


def test_masked_reads_are_not_audited(sbase: str, protected_id: str) -> None:
    sub = f"masked-{uuid.uuid4().hex[:8]}"
    assert requests.get(f"{sbase}/Patient/{protected_id}", headers=headers(MASKED, sub=sub),
                        timeout=10).status_code == 200
    assert _events(sbase, agent=sub) == []


def test_audit_records_need_their_scope_and_are_read_only(sbase: str) -> None:
    assert requests.get(f"{sbase}/AuditEvent", headers=headers(
        "system/Patient.cruds protected-identity"), timeout=10).status_code == 403
    assert requests.get(f"{sbase}/Provenance", headers=headers("system/Patient.rs"),
                        timeout=10).status_code == 403
    assert requests.get(f"{sbase}/AuditEvent", headers=headers("system/*.rs"),
                        timeout=10).status_code == 200
    assert requests.post(f"{sbase}/AuditEvent", json={"resourceType": "AuditEvent"},
                         headers=headers("system/*.cruds"), timeout=10).status_code == 405


def test_merge_is_audited(sbase: str) -> None:
    sub = f"merger-{uuid.uuid4().hex[:8]}"
    hdrs = headers(FULL, sub=sub)
    family = unique_name("Merge")
    source = requests.post(f"{sbase}/Patient", json=patient(family), headers=hdrs,
                           timeout=10).json()
    target = requests.post(f"{sbase}/Patient", json=patient(family, pnr=make_pnr()),
                           headers=hdrs, timeout=10).json()
    response = requests.post(f"{sbase}/Patient/$merge", headers=hdrs, timeout=10, json={
        "resourceType": "Parameters", "parameter": [
            {"name": "source-patient", "valueReference": {"reference": f"Patient/{source['id']}"}},
            {"name": "target-patient", "valueReference": {"reference": f"Patient/{target['id']}"}},
        ]})
    assert response.status_code == 200, response.text
    _one_event(sbase, sub, "merge", source["id"])
    _one_event(sbase, sub, "merge", target["id"])


def test_record_validates_its_arguments() -> None:
    with pytest.raises(ValueError):
        audit_events.record(None, None, "X", [], "0", "read")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        audit_events.record(None, None, "R", [], "1", "read")  # type: ignore[arg-type]


def test_reserve_id_generation_is_audited(sbase: str) -> None:
    sub = f"reserver-{uuid.uuid4().hex[:8]}"
    response = requests.post(f"{sbase}/Patient/$generate-reserve-id",
                             headers=headers("system/Patient.c", sub=sub), timeout=10, json={
        "resourceType": "Parameters", "parameter": [
            {"name": "birthDate", "valueDate": "1991-02-03"},
            {"name": "gender", "valueCode": "male"},
            {"name": "patient", "resource": patient(birth="1991-02-03", gender="male")}]})
    assert response.status_code == 200, response.text
    created = [p["valueReference"]["reference"] for p in response.json()["parameter"]
               if p["name"] == "patient"]
    found = _events(sbase, agent=sub, subtype="generate-reserve-id")
    assert len(found) == 1
    assert found[0]["action"] == "C"
    assert [e["what"]["reference"] for e in found[0]["entity"]] == created


def test_unmerge_is_audited(sbase: str) -> None:
    sub, hdrs = _caller()
    source = requests.post(f"{sbase}/Patient", headers=hdrs, timeout=10, json=patient(
        identifier=[{"system": LRID_SYSTEM, "value": make_lrid()}])).json()["id"]
    target = requests.post(f"{sbase}/Patient", json=patient(pnr=make_pnr()), headers=hdrs,
                           timeout=10).json()["id"]
    body = params(source, target)
    assert requests.post(f"{sbase}/Patient/$merge", json=body, headers=hdrs,
                         timeout=10).status_code == 200
    assert _events(sbase, agent=sub, subtype="unmerge") == []
    response = requests.post(f"{sbase}/Patient/$unmerge", json=body, headers=hdrs, timeout=10)
    assert response.status_code == 200, response.text
    event = _one_event(sbase, sub, "unmerge", source)
    assert event["action"] == "U"
    _one_event(sbase, sub, "unmerge", target)


def test_type_history_showing_a_protected_record_is_audited(sbase: str) -> None:
    since = (datetime.now(UTC) - timedelta(seconds=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    shown = _protected(sbase)["id"]
    sub, hdrs = _caller()
    history = requests.get(f"{sbase}/Patient/_history", headers=hdrs, timeout=10,
                           params={"_since": since, "_count": "1000"})
    assert history.status_code == 200, history.text
    assert "070-000 00 02" in history.text  # unmasked
    _one_event(sbase, sub, "history-type", shown)


def test_match_showing_a_protected_record_is_audited(sbase: str) -> None:
    shown = _protected(sbase)
    sub, hdrs = _caller()
    wanted = {key: shown[key] for key in ("name", "identifier", "birthDate", "gender")}
    response = requests.post(f"{sbase}/Patient/$match", headers=hdrs, timeout=10, json={
        "resourceType": "Parameters", "parameter": [
            {"name": "resource", "resource": {"resourceType": "Patient", **wanted}}]})
    assert response.status_code == 200, response.text
    assert "070-000 00 02" in response.text  # unmasked
    _one_event(sbase, sub, "match", shown["id"])


def test_a_protected_record_shown_only_as_include_is_audited(sbase: str) -> None:
    shown = _protected(sbase)["id"]
    linker = requests.post(f"{sbase}/Patient", headers=headers(FULL), timeout=10, json=patient(
        link=[{"other": {"reference": f"Patient/{shown}"}, "type": "seealso"}]))
    assert linker.status_code == 201, linker.text
    sub, hdrs = _caller()
    found = requests.get(f"{sbase}/Patient", headers=hdrs, timeout=10, params={
        "_id": linker.json()["id"], "_include": "Patient:link"})
    assert found.status_code == 200, found.text
    modes = {e["resource"]["id"]: e["search"]["mode"] for e in found.json()["entry"]}
    assert modes == {linker.json()["id"]: "match", shown: "include"}
    assert "070-000 00 02" in found.text  # unmasked
    _one_event(sbase, sub, "search-type", shown)


def test_a_transaction_reading_and_writing_a_protected_record_is_audited(sbase: str) -> None:
    shown = _protected(sbase)
    sub, hdrs = _caller()
    changed = {**shown, "gender": "other"}
    response = requests.post(sbase, headers=hdrs, timeout=10, json={
        "resourceType": "Bundle", "type": "transaction", "entry": [
            {"request": {"method": "PUT", "url": f"Patient/{shown['id']}"},
             "resource": changed},
            {"request": {"method": "GET", "url": f"Patient/{shown['id']}"}}]})
    assert response.status_code == 200, response.text
    assert "070-000 00 02" in response.text  # unmasked
    _one_event(sbase, sub, "transaction", shown["id"])


def test_instance_reserve_id_generation_is_audited(sbase: str) -> None:
    holder = requests.post(f"{sbase}/Patient", json=patient(pnr=make_pnr()),
                           headers=headers(FULL), timeout=10).json()["id"]
    sub = f"reserver-{uuid.uuid4().hex[:8]}"
    response = requests.post(f"{sbase}/Patient/{holder}/$generate-reserve-id",
                             headers=headers("system/Patient.u", sub=sub), timeout=10,
                             json={"resourceType": "Parameters", "parameter": [
                                 {"name": "system", "valueUri": NRID_SYSTEM}]})
    assert response.status_code == 200, response.text
    event = _one_event(sbase, sub, "generate-reserve-id", holder)
    assert event["action"] == "U"
    assert [e["what"]["reference"] for e in event["entity"]] == [f"Patient/{holder}"]


def _fresh_event(sbase: str) -> dict[str, Any]:
    """A new AuditEvent of its own agent (a reserve id generated without a Patient)."""
    sub = f"fresh-{uuid.uuid4().hex[:8]}"
    assert requests.post(f"{sbase}/Patient/$generate-reserve-id", timeout=10,
                         headers=headers("system/Patient.c", sub=sub),
                         json={"resourceType": "Parameters"}).status_code == 200
    [event] = _events(sbase, agent=sub)
    return event


def test_audit_events_cannot_be_changed_or_deleted(sbase: str) -> None:
    event = _fresh_event(sbase)
    url = f"{sbase}/AuditEvent/{event['id']}"
    writer = headers("system/*.cruds protected-identity")
    before = requests.get(url, headers=headers(AUDITOR), timeout=10)
    assert before.status_code == 200
    edited = {**event, "outcome": "8", "agent": [{"who": {"display": "someone else"},
                                                  "requestor": True}]}
    attempts = [
        requests.put(url, json=edited, headers=writer, timeout=10),
        requests.delete(url, headers=writer, timeout=10),
        requests.patch(url, headers={**writer, "Content-Type": "application/json-patch+json"},
                       timeout=10, json=[{"op": "replace", "path": "/outcome", "value": "8"}]),
        requests.patch(f"{sbase}/AuditEvent", headers=writer, timeout=10, json=[]),
        requests.put(f"{sbase}/AuditEvent", json=edited, headers=writer, timeout=10),
        requests.delete(f"{sbase}/AuditEvent", headers=writer, timeout=10,
                        params={"_id": event["id"]}),
    ]
    for response in attempts:
        assert response.status_code == 405, (response.request.method, response.request.url)
        outcome = response.json()
        assert outcome["resourceType"] == "OperationOutcome"
        assert outcome["issue"][0]["code"] == "not-supported"
    after = requests.get(url, headers=headers(AUDITOR), timeout=10)
    assert after.status_code == 200
    assert after.content == before.content
    assert after.json() == event


def test_date_search_prefixes_follow_fhir_semantics(sbase: str) -> None:
    """``recorded`` is an instant; gt/lt (and sa/eb) exclude the parameter's own range,
    ge/le/eq include it, repeated date parameters narrow the search (FHIR R4 §3.1.1.4.5)."""
    event = _fresh_event(sbase)
    agent = event["agent"][0]["who"]["identifier"]["value"]
    recorded = event["recorded"]  # a millisecond instant, e.g. 2026-03-04T05:06:07.089Z
    second = recorded[:19] + "Z"
    moment = datetime.fromisoformat(recorded.replace("Z", "+00:00"))
    before = (moment - timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    after = (moment + timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%SZ")

    def found(*dates: str) -> bool:
        response = requests.get(f"{sbase}/AuditEvent", headers=headers(AUDITOR), timeout=10,
                                params=[("agent", agent), *[("date", d) for d in dates]])
        assert response.status_code == 200, (dates, response.text)
        return bool(response.json()["total"])

    for value in (recorded, f"eq{recorded}", f"ge{recorded}", f"le{recorded}", second,
                  f"gt{before}", f"sa{before}", f"lt{after}", f"eb{after}", recorded[:10]):
        assert found(value), value
    for value in (f"gt{recorded}", f"lt{recorded}", f"sa{recorded}", f"eb{recorded}",
                  f"gt{second}", f"lt{second}", f"gt{recorded[:10]}", f"lt{recorded[:10]}",
                  "gt9999", "lt0001"):
        assert not found(value), value
    assert found(f"ge{recorded}", f"le{recorded}")
    assert not found(f"ge{after}", f"le{recorded}")  # both apply, not only the last
    assert not found(f"le{recorded}", f"ge{after}")
    for value in (f"ne{recorded}", f"ap{recorded}", "xx2026", "2026-13"):
        response = requests.get(f"{sbase}/AuditEvent", headers=headers(AUDITOR), timeout=10,
                                params={"agent": agent, "date": value})
        assert response.status_code == 400, value
        assert response.json()["resourceType"] == "OperationOutcome"

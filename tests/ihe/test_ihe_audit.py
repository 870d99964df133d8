"""AuditEvents of ITI-104, ITI-83, ITI-78 and ITI-119 as the IGs' audit profiles shape them
(after PIXm's ``input/fsh/audit-104.fsh``/``audit-83.fsh`` and their examples, PDQm's
``input/fsh/audit.fsh`` and ``ex-audit-78.fsh``/``ex-audit-119.fsh``), on a server with
QUERY_AUDIT=on."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from tests.ihe.mohr import FHIR_JSON, RED, criteria, fresh, patient
from tests.support import Database, Server

IHE = "urn:ihe:event-type-code"
REST = "http://hl7.org/fhir/restful-interaction"
DCM = "http://dicom.nema.org/resources/ontology/DCM"


@pytest.fixture(scope="module")
def abase(database: Database) -> Iterator[str]:
    srv = Server(database, env={"QUERY_AUDIT": "on"}, upgrade=False).start()
    yield srv.base
    srv.stop()


def events(base: str, **params: str) -> list[dict[str, Any]]:
    bundle = requests.get(f"{base}/AuditEvent", params={**params, "_count": "100"},
                          headers=FHIR_JSON, timeout=30).json()
    return [e["resource"] for e in bundle.get("entry", [])]


def check_shape(event: dict[str, Any], transaction: str, interaction: str,
                action: str, outcome: str = "0") -> None:
    subtypes = {(s["system"], s["code"]) for s in event["subtype"]}
    assert subtypes == {(REST, interaction), (IHE, transaction)}
    assert event["action"] == action and event["outcome"] == outcome
    assert event["type"]["code"] == "rest"
    client, server = event["agent"]
    assert client["type"]["coding"][0]["code"] == "110153" and client["requestor"] is True
    assert server["type"]["coding"][0]["code"] == "110152" and server["requestor"] is False
    assert server["network"]["address"].endswith("/fhir")


def entity(event: dict[str, Any], role: str) -> dict[str, Any]:
    return next(e for e in event["entity"] if e["role"]["code"] == role)


def test_iti104_add_revise_remove(abase: str) -> None:
    value = fresh("IHERED")
    url = f"{abase}/Patient?{criteria(RED, value)}"
    added = requests.put(url, json=patient(RED, value, "ALISSA"), headers=FHIR_JSON, timeout=30)
    requests.put(url, json=patient(RED, value, "ALICE"), headers=FHIR_JSON, timeout=30)
    assert requests.delete(url, timeout=30).status_code == 204
    found = events(abase, subtype="ITI-104", entity=f"Patient/{added.json()['id']}")
    assert sorted(e["action"] for e in found) == ["C", "D", "U"]
    for event in found:
        interaction = {"C": "create", "U": "update", "D": "delete"}[event["action"]]
        check_shape(event, "ITI-104", interaction, event["action"])
        assert entity(event, "1")["what"] == {"identifier": {"system": RED, "value": value}}
        assert entity(event, "4")["what"] == {"reference": f"Patient/{added.json()['id']}"}


def feed_events(base: str, value: str, **params: str) -> list[dict[str, Any]]:
    """The ITI-104 AuditEvents about the identifier ``value``."""
    return [e for e in events(base, subtype="ITI-104", **params)
            if entity(e, "1")["what"]["identifier"]["value"] == value]


def test_iti104_refused_messages_are_audited_with_outcome_4(abase: str) -> None:
    value = fresh("IHERED")
    url = f"{abase}/Patient?{criteria(RED, value)}"
    invalid = {**patient(RED, value, "ALICE"), "gender": "nonsense"}
    assert requests.put(url, json=invalid, headers=FHIR_JSON, timeout=30).status_code == 400
    unknown_survivor = {**patient(RED, value, "ALICE"), "active": False, "link": [
        {"other": {"reference": "Patient/no-such-survivor"}, "type": "replaced-by"}]}
    refused = requests.put(url, json=unknown_survivor, headers=FHIR_JSON, timeout=30)
    assert refused.status_code in (404, 409, 422), refused.text
    unreadable = requests.put(url, data=b'{"resourceType": "Patient", ', headers=FHIR_JSON,
                              timeout=30)
    assert unreadable.status_code == 400
    assert requests.get(url.replace("Patient?", "Patient?_summary=count&"),
                        timeout=30).json()["total"] == 0  # nothing stored
    found = feed_events(abase, value, outcome="4")
    assert len(found) == 3
    for event in found:
        check_shape(event, "ITI-104", "update", "U", outcome="4")
        assert [e["role"]["code"] for e in event["entity"]] == ["1"]  # nothing written
    assert feed_events(abase, value, outcome="0") == []


def test_iti104_in_a_transaction_bundle_is_audited_like_a_request(abase: str) -> None:
    value = fresh("IHERED")
    bundle = {"resourceType": "Bundle", "type": "transaction", "entry": [{
        "resource": patient(RED, value, "ALICE"),
        "request": {"method": "PUT", "url": f"Patient?{criteria(RED, value)}"}}]}
    answer = requests.post(abase, json=bundle, headers=FHIR_JSON, timeout=30)
    assert answer.status_code == 200, answer.text
    location = answer.json()["entry"][0]["response"]["location"]
    (event,) = feed_events(abase, value)
    check_shape(event, "ITI-104", "create", "C")
    assert location.startswith(entity(event, "4")["what"]["reference"])


def feed_entry(value: str, resource: dict[str, Any]) -> dict[str, Any]:
    """A Bundle entry shaped like an ITI-104 Add/Revise Patient message."""
    return {"resource": resource,
            "request": {"method": "PUT", "url": f"Patient?{criteria(RED, value)}"}}


def test_iti104_entries_of_a_refused_transaction_bundle_are_audited_with_outcome_4(
        abase: str) -> None:
    good, bad, plain = fresh("IHERED"), fresh("IHERED"), fresh("IHERED")
    bundle = {"resourceType": "Bundle", "type": "transaction", "entry": [
        feed_entry(good, patient(RED, good, "ALICE")),
        feed_entry(bad, {**patient(RED, bad, "ALICE"), "gender": "nonsense"}),
        {"resource": patient(RED, plain, "ALICE"),
         "request": {"method": "POST", "url": "Patient"}}]}
    answer = requests.post(abase, json=bundle, headers=FHIR_JSON, timeout=30)
    assert answer.status_code == 400, answer.text
    for value in (good, bad):
        (event,) = feed_events(abase, value)  # the good entry's success audit rolled back
        check_shape(event, "ITI-104", "update", "U", outcome="4")
        assert [e["role"]["code"] for e in event["entity"]] == ["1"]  # nothing written
        assert entity(event, "1")["what"] == {"identifier": {"system": RED, "value": value}}
    assert feed_events(abase, plain) == []  # a create is no ITI-104 message


def test_iti104_entries_of_a_batch_bundle_are_audited_each_by_its_outcome(abase: str) -> None:
    good, bad = fresh("IHERED"), fresh("IHERED")
    bundle = {"resourceType": "Bundle", "type": "batch", "entry": [
        feed_entry(good, patient(RED, good, "ALICE")),
        feed_entry(bad, {**patient(RED, bad, "ALICE"), "gender": "nonsense"})]}
    answer = requests.post(abase, json=bundle, headers=FHIR_JSON, timeout=30)
    assert answer.status_code == 200, answer.text
    assert [e["response"]["status"][:3] for e in answer.json()["entry"]] == ["201", "400"]
    (succeeded,) = feed_events(abase, good)
    check_shape(succeeded, "ITI-104", "create", "C")
    (refused,) = feed_events(abase, bad)
    check_shape(refused, "ITI-104", "update", "U", outcome="4")
    assert [e["role"]["code"] for e in refused["entity"]] == ["1"]


@pytest.mark.parametrize("kind", ["transaction", "batch"])
def test_iti104_entries_of_a_bundle_refused_for_an_unreadable_entry_are_audited_with_outcome_4(
        abase: str, kind: str) -> None:
    value = fresh("IHERED")
    bundle = {"resourceType": "Bundle", "type": kind, "entry": [
        feed_entry(value, patient(RED, value, "ALICE")),
        {"resource": patient(RED, fresh("IHERED"), "ALICE")}]}  # no request
    answer = requests.post(abase, json=bundle, headers=FHIR_JSON, timeout=30)
    assert answer.status_code == 400, answer.text
    (event,) = feed_events(abase, value)
    check_shape(event, "ITI-104", "update", "U", outcome="4")
    assert entity(event, "1")["what"] == {"identifier": {"system": RED, "value": value}}


def test_a_refusal_whose_audit_fails_keeps_its_answer(database: Database) -> None:
    """Request, transaction and batch alike (tests/ihe/audit_failing_app.py)."""
    srv = Server(database, upgrade=False, app="tests.ihe.audit_failing_app:app").start()
    try:
        good, bad = fresh("IHERED"), fresh("IHERED")
        invalid = {**patient(RED, bad, "ALICE"), "gender": "nonsense"}
        single = requests.put(f"{srv.base}/Patient?{criteria(RED, bad)}", json=invalid,
                              headers=FHIR_JSON, timeout=30)
        assert single.status_code == 400, single.text
        entries = [feed_entry(good, patient(RED, good, "ALICE")), feed_entry(bad, invalid)]
        transaction = requests.post(srv.base, json={
            "resourceType": "Bundle", "type": "transaction", "entry": entries},
            headers=FHIR_JSON, timeout=30)
        assert transaction.status_code == 400, transaction.text
        assert transaction.json()["resourceType"] == "OperationOutcome"
        batch = requests.post(srv.base, json={
            "resourceType": "Bundle", "type": "batch", "entry": entries},
            headers=FHIR_JSON, timeout=30)
        assert batch.status_code == 200, batch.text
        assert [e["response"]["status"][:3] for e in batch.json()["entry"]] == ["201", "400"]
    finally:
        srv.stop()
    log = srv.log_path.read_text(errors="replace")
    assert log.count("the AuditEvent of a refused message could not be recorded") == 3


def test_iti83_query(abase: str) -> None:
    value = fresh("IHERED")
    requests.put(f"{abase}/Patient?{criteria(RED, value)}", json=patient(RED, value, "ALICE"),
                 headers=FHIR_JSON, timeout=30)
    answer = requests.get(f"{abase}/Patient/$ihe-pix",
                          params={"sourceIdentifier": f"{RED}|{value}"}, timeout=30)
    assert answer.status_code == 200
    event = next(e for e in events(abase, subtype=f"{IHE}|ITI-83")
                 if value in entity(e, "24")["description"])
    check_shape(event, "ITI-83", "search", "E")
    assert entity(event, "1")["what"] == {"identifier": {"system": RED, "value": value}}
    query = entity(event, "24")
    assert base64.b64decode(query["query"]).decode() == query["description"]
    assert query["description"].startswith("http") and "$ihe-pix?sourceIdentifier=" in \
        query["description"]


def test_iti78_query_get_and_post(abase: str) -> None:
    family = fresh("MOHR").replace("-", "")
    requests.get(f"{abase}/Patient", params={"family": family}, timeout=30)
    requests.post(f"{abase}/Patient/_search", data={"family": family, "gender": "female"},
                  timeout=30)
    found = [e for e in events(abase, subtype="ITI-78")
             if family in entity(e, "24")["description"]]
    assert len(found) == 2
    for event in found:
        check_shape(event, "ITI-78", "search", "E")
    assert {entity(e, "24")["description"].split("?")[-1] for e in found} >= {
        f"family={family}&gender=female"}


def test_iti119_match(abase: str) -> None:
    given = fresh("ALICE").replace("-", "")
    body = patient(RED, fresh("IHERED"), given)
    assert requests.post(f"{abase}/Patient/$match", json=body, headers=FHIR_JSON,
                         timeout=30).status_code == 200
    event = next(e for e in events(abase, subtype="ITI-119")
                 if given in entity(e, "24")["description"])
    check_shape(event, "ITI-119", "search", "E")


def test_no_query_audit_when_switched_off(base: str) -> None:
    """The module's default server (QUERY_AUDIT off) shares the database: none of its."""
    family = fresh("MOHR").replace("-", "")
    assert requests.get(f"{base}/Patient", params={"family": family},
                        timeout=30).status_code == 200
    assert not [e for e in events(base, subtype="ITI-78")
                if family in entity(e, "24")["description"]]

"""Batch and transaction Bundles posted to the base."""

from __future__ import annotations

import base64
import json

from tests.support import PNR_SYSTEM, make_pnr, patient


def post_bundle(http, base, kind, entries):
    return http.post(base, json={"resourceType": "Bundle", "type": kind, "entry": entries})


def test_transaction_creates_linked_records_and_resolves_urn_uuid_references(base, http):
    pnr = make_pnr()
    entries = [
        {"fullUrl": "urn:uuid:11111111-1111-4111-8111-111111111111",
         "resource": patient(pnr=pnr),
         "request": {"method": "POST", "url": "Patient"}},
        {"fullUrl": "urn:uuid:22222222-2222-4222-8222-222222222222",
         "resource": patient(link=[{"other": {"reference":
                                              "urn:uuid:11111111-1111-4111-8111-111111111111"},
                                    "type": "seealso"}]),
         "request": {"method": "POST", "url": "Patient"}},
    ]
    response = post_bundle(http, base, "transaction", entries)
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["type"] == "transaction-response"
    assert [e["response"]["status"] for e in result["entry"]] == ["201 Created", "201 Created"]
    first_id = result["entry"][0]["resource"]["id"]
    second = result["entry"][1]["resource"]
    assert second["link"][0]["other"]["reference"] == f"Patient/{first_id}"


def test_a_failing_transaction_entry_rolls_back_every_entry(base, http):
    pnr = make_pnr()
    entries = [
        {"resource": patient(pnr=pnr), "request": {"method": "POST", "url": "Patient"}},
        {"resource": patient(identifier=[{"system": PNR_SYSTEM, "value": "199801019815"}]),
         "request": {"method": "POST", "url": "Patient"}},
    ]
    response = post_bundle(http, base, "transaction", entries)
    assert response.status_code == 422
    assert "Bundle.entry[1]" in response.json()["issue"][0]["diagnostics"]
    assert http.get(f"{base}/Patient", params={"identifier": pnr}).json()["total"] == 0


def test_transaction_with_two_records_claiming_one_identifier_is_a_409(base, http):
    pnr = make_pnr()
    entries = [{"resource": patient(pnr=pnr), "request": {"method": "POST", "url": "Patient"}}
               for _ in range(2)]
    assert post_bundle(http, base, "transaction", entries).status_code == 409
    assert http.get(f"{base}/Patient", params={"identifier": pnr}).json()["total"] == 0


def test_batch_runs_each_entry_on_its_own(base, http):
    created = http.post(f"{base}/Patient", json=patient()).json()
    patch = base64.b64encode(json.dumps(
        [{"op": "replace", "path": "/gender", "value": "other"}]).encode()).decode()
    entries = [
        {"request": {"method": "GET", "url": f"Patient/{created['id']}"}},
        {"request": {"method": "GET", "url": "Patient/does-not-exist"}},
        {"resource": {"resourceType": "Binary", "contentType": "application/json-patch+json",
                      "data": patch},
         "request": {"method": "PATCH", "url": f"Patient/{created['id']}"}},
        {"request": {"method": "GET", "url": f"Patient?_id={created['id']}"}},
        {"request": {"method": "DELETE", "url": f"Patient/{created['id']}"}},
    ]
    response = post_bundle(http, base, "batch", entries)
    assert response.status_code == 200
    result = response.json()["entry"]
    assert result[0]["response"]["status"] == "200 OK"
    assert result[0]["resource"]["id"] == created["id"]
    assert result[1]["response"]["status"] == "404"
    assert result[1]["response"]["outcome"]["resourceType"] == "OperationOutcome"
    assert result[2]["resource"]["gender"] == "other"
    assert result[3]["resource"]["total"] == 1
    assert result[4]["response"]["status"] == "204 No Content"


def test_transaction_with_conditional_create_and_update_by_identifier(base, http):
    pnr = make_pnr()
    entries = [
        {"resource": patient(pnr=pnr, gender="male"),
         "request": {"method": "PUT", "url": f"Patient?identifier={PNR_SYSTEM}|{pnr}"}},
    ]
    first = post_bundle(http, base, "transaction", entries).json()
    assert first["entry"][0]["response"]["status"] == "201 Created"
    entries[0]["resource"]["gender"] = "female"
    second = post_bundle(http, base, "transaction", entries).json()
    assert second["entry"][0]["response"]["status"] == "200 OK"
    assert second["entry"][0]["resource"]["gender"] == "female"


def test_bundles_of_the_wrong_type_are_refused(base, http):
    assert post_bundle(http, base, "collection", []).status_code == 400
    assert http.post(base, json=patient()).status_code == 400
    bad_entry = post_bundle(http, base, "batch", [{"request": {"url": "Patient"}}])
    assert bad_entry.status_code == 400

"""Batch and transaction Bundles posted to the base."""

from __future__ import annotations

import base64
import json

from tests.support import PNR_SYSTEM, make_pnr, patient, unique_name


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


def test_malformed_bundle_shapes_are_400_operation_outcomes(base, http):
    cases = [
        {"resourceType": "Bundle", "type": "batch", "entry": 5},
        {"resourceType": "Bundle", "type": "transaction", "entry": [
            {"fullUrl": 5, "resource": patient(), "request": {"method": "POST",
                                                              "url": "Patient"}}]},
        {"resourceType": "Bundle", "type": "transaction", "entry": [
            {"resource": patient(), "request": {"method": "POST", "url": "Patient",
                                                "ifNoneExist": ["family=X"]}}]},
        {"resourceType": "Bundle", "type": "transaction", "entry": [
            {"resource": patient(), "request": {"method": "PUT", "url": "Patient/x",
                                                "ifMatch": {}}}]},
        {"resourceType": "Bundle", "type": "transaction", "entry": [
            {"request": {"method": "GET", "url": "http://[::1"}}]},
    ]
    for bundle in cases:
        response = http.post(base, json=bundle)
        assert response.status_code == 400, (bundle, response.text)
        assert response.json()["resourceType"] == "OperationOutcome"


def test_a_batch_patch_with_a_broken_binary_fails_only_that_entry(base, http):
    created = http.post(f"{base}/Patient", json=patient()).json()
    entries = [
        {"resource": {"resourceType": "Binary", "contentType": "application/json-patch+json",
                      "data": 5},
         "request": {"method": "PATCH", "url": f"Patient/{created['id']}"}},
        {"request": {"method": "GET", "url": f"Patient/{created['id']}"}},
    ]
    result = post_bundle(http, base, "batch", entries).json()["entry"]
    assert result[0]["response"]["status"] == "400"
    assert result[1]["response"]["status"] == "200 OK"


def test_references_to_a_conditional_create_that_matched_resolve_to_the_existing_record(
        base, http):
    pnr = make_pnr()
    existing = http.post(f"{base}/Patient", json=patient(pnr=pnr)).json()
    entries = [
        {"fullUrl": "urn:uuid:33333333-3333-4333-8333-333333333333",
         "resource": patient(pnr=pnr),
         "request": {"method": "POST", "url": "Patient",
                     "ifNoneExist": f"identifier={PNR_SYSTEM}|{pnr}"}},
        {"resource": patient(link=[{"other": {
            "reference": "urn:uuid:33333333-3333-4333-8333-333333333333"}, "type": "seealso"}]),
         "request": {"method": "POST", "url": "Patient"}},
    ]
    response = post_bundle(http, base, "transaction", entries)
    assert response.status_code == 200, response.text
    result = response.json()["entry"]
    assert result[0]["response"]["status"] == "200 OK"
    assert result[1]["resource"]["link"][0]["other"]["reference"] == f"Patient/{existing['id']}"


def test_a_link_to_a_later_entry_resolves_and_is_mirrored(base, http):
    # R4 §3.1.0.11.2: references between entries resolve whatever their order (issue 15).
    first, second = "urn:uuid:33333333-3333-4333-8333-333333333333", \
        "urn:uuid:44444444-4444-4444-8444-444444444444"
    entries = [
        {"fullUrl": first, "request": {"method": "POST", "url": "Patient"},
         "resource": patient(pnr=make_pnr(), link=[{"other": {"reference": second},
                                                     "type": "seealso"}])},
        {"fullUrl": second, "resource": patient(), "request": {"method": "POST",
                                                               "url": "Patient"}},
    ]
    response = post_bundle(http, base, "transaction", entries)
    assert response.status_code == 200, response.text
    created = [entry["resource"]["id"] for entry in response.json()["entry"]]
    linker = http.get(f"{base}/Patient/{created[0]}").json()
    target = http.get(f"{base}/Patient/{created[1]}").json()
    assert linker["link"] == [{"other": {"reference": f"Patient/{created[1]}"},
                               "type": "seealso"}]
    assert target["link"] == [{"other": {"reference": f"Patient/{created[0]}"},
                               "type": "seealso"}]
    # The response shows each record as the transaction left it, the mirrored link too.
    assert response.json()["entry"][1]["resource"] == target


def test_two_entries_linked_to_each_other_are_created_in_one_transaction(base, http):
    first, second = "urn:uuid:55555555-5555-4555-8555-555555555555", \
        "urn:uuid:66666666-6666-4666-8666-666666666666"
    entries = [
        {"fullUrl": url, "request": {"method": "POST", "url": "Patient"},
         "resource": patient(link=[{"other": {"reference": other}, "type": "seealso"}])}
        for url, other in ((first, second), (second, first))
    ]
    response = post_bundle(http, base, "transaction", entries)
    assert response.status_code == 200, response.text
    created = [entry["resource"]["id"] for entry in response.json()["entry"]]
    for own, other in (created, reversed(created)):
        links = http.get(f"{base}/Patient/{own}").json()["link"]
        assert links == [{"other": {"reference": f"Patient/{other}"}, "type": "seealso"}]


def test_a_link_to_a_later_contradicting_entry_is_refused_and_nothing_is_written(base, http):
    second = "urn:uuid:77777777-7777-4777-8777-777777777777"
    family = unique_name()
    entries = [
        {"request": {"method": "POST", "url": "Patient"},
         "resource": patient(family, pnr=make_pnr(), link=[{"other": {"reference": second},
                                                            "type": "seealso"}])},
        {"fullUrl": second, "resource": patient(family, pnr=make_pnr()),
         "request": {"method": "POST", "url": "Patient"}},
    ]
    response = post_bundle(http, base, "transaction", entries)
    assert response.status_code == 422, response.text
    assert http.get(f"{base}/Patient", params={"family": family}).json()["total"] == 0


def test_a_conditional_patch_entry_patches_the_match(base, http):
    pnr = make_pnr()
    http.post(f"{base}/Patient", json=patient(pnr=pnr))
    operations = [{"op": "replace", "path": "/gender", "value": "other"}]
    entries = [{"request": {"method": "PATCH", "url": f"Patient?identifier={PNR_SYSTEM}|{pnr}"},
                "resource": {"resourceType": "Binary", "contentType": "application/json-patch+json",
                             "data": base64.b64encode(json.dumps(operations).encode()).decode()}}]
    response = post_bundle(http, base, "transaction", entries)
    assert response.status_code == 200, response.text
    assert response.json()["entry"][0]["resource"]["gender"] == "other"


def test_a_batch_reads_history_as_the_rest_api_does(base, http):
    created = http.post(f"{base}/Patient", json=patient()).json()
    http.put(f"{base}/Patient/{created['id']}", json={**created, "gender": "other"})
    entries = [
        {"request": {"method": "GET", "url": f"Patient/{created['id']}/_history?_count=1"}},
        {"request": {"method": "GET", "url": f"Patient/{created['id']}/_history/1"}},
        {"request": {"method": "GET", "url": "Patient/$everything"}},
    ]
    result = post_bundle(http, base, "batch", entries).json()["entry"]
    history = result[0]["resource"]
    rest = http.get(f"{base}/Patient/{created['id']}/_history", params={"_count": 1}).json()
    assert history["type"] == "history" and history["total"] == rest["total"] == 2
    assert [e["resource"]["meta"]["versionId"] for e in history["entry"]] == ["2"]
    assert result[1]["resource"]["gender"] == created["gender"]
    assert result[2]["response"]["status"] == "400"

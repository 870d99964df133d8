"""Create, read, vread, update, patch, delete and history through a running server."""

from __future__ import annotations

import requests

from tests.support import PNR_SYSTEM, make_pnr, patient


def test_create_returns_201_with_location_etag_and_canonical_identifier(base, http):
    pnr = make_pnr()
    display = f"{pnr[:8]}-{pnr[8:]}"
    body = patient(identifier=[{"system": "http://electronichealth.se/identifier/personnummer",
                                "value": display}])
    response = http.post(f"{base}/Patient", json=body)
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["identifier"] == [{"system": PNR_SYSTEM, "value": pnr}]
    assert created["meta"]["versionId"] == "1"
    assert response.headers["ETag"] == 'W/"1"'
    assert response.headers["Location"] == f"{base}/Patient/{created['id']}/_history/1"
    assert response.headers["Content-Type"].startswith("application/fhir+json")


def test_read_serves_the_stored_version_and_honours_if_none_match(base, http):
    created = http.post(f"{base}/Patient", json=patient()).json()
    read = http.get(f"{base}/Patient/{created['id']}")
    assert read.status_code == 200
    assert read.json() == created
    assert read.headers["ETag"] == 'W/"1"'
    again = http.get(f"{base}/Patient/{created['id']}", headers={"If-None-Match": 'W/"1"'})
    assert again.status_code == 304


def test_update_increments_the_version_and_vread_returns_each_version(base, http):
    created = http.post(f"{base}/Patient", json=patient(given="Ett")).json()
    changed = {**created, "name": [{"family": created["name"][0]["family"], "given": ["Två"]}]}
    updated = http.put(f"{base}/Patient/{created['id']}", json=changed)
    assert updated.status_code == 200
    assert updated.json()["meta"]["versionId"] == "2"
    first = http.get(f"{base}/Patient/{created['id']}/_history/1").json()
    second = http.get(f"{base}/Patient/{created['id']}/_history/2").json()
    assert first["name"][0]["given"] == ["Ett"]
    assert second["name"][0]["given"] == ["Två"]
    assert http.get(f"{base}/Patient/{created['id']}/_history/3").status_code == 404


def test_update_with_a_stale_if_match_is_refused_with_412(base, http):
    created = http.post(f"{base}/Patient", json=patient()).json()
    url = f"{base}/Patient/{created['id']}"
    assert http.put(url, json=created, headers={"If-Match": 'W/"1"'}).status_code == 200
    stale = http.put(url, json=created, headers={"If-Match": 'W/"1"'})
    assert stale.status_code == 412
    assert stale.json()["resourceType"] == "OperationOutcome"
    assert http.get(url).json()["meta"]["versionId"] == "2"


def test_update_as_create_uses_the_client_id(base, http):
    client_id = "client-" + make_pnr()
    response = http.put(f"{base}/Patient/{client_id}", json=patient(id=client_id))
    assert response.status_code == 201
    assert http.get(f"{base}/Patient/{client_id}").json()["id"] == client_id


def test_update_with_a_body_id_other_than_the_url_is_a_400(base, http):
    response = http.put(f"{base}/Patient/abc", json=patient(id="xyz"))
    assert response.status_code == 400
    assert response.json()["issue"][0]["code"] == "invalid"


def test_json_patch_changes_one_element(base, http):
    created = http.post(f"{base}/Patient", json=patient(gender="female")).json()
    ops = [{"op": "replace", "path": "/gender", "value": "other"}]
    response = http.patch(f"{base}/Patient/{created['id']}", json=ops,
                          headers={"Content-Type": "application/json-patch+json"})
    assert response.status_code == 200, response.text
    assert response.json()["gender"] == "other"
    assert response.json()["meta"]["versionId"] == "2"


def test_json_patch_that_cannot_apply_is_a_422_and_changes_nothing(base, http):
    created = http.post(f"{base}/Patient", json=patient()).json()
    ops = [{"op": "remove", "path": "/telecom/5"}]
    response = http.patch(f"{base}/Patient/{created['id']}", json=ops,
                          headers={"Content-Type": "application/json-patch+json"})
    assert response.status_code == 422
    assert http.get(f"{base}/Patient/{created['id']}").json()["meta"]["versionId"] == "1"


def test_delete_makes_reads_answer_410_and_history_keeps_the_versions(base, http):
    created = http.post(f"{base}/Patient", json=patient()).json()
    url = f"{base}/Patient/{created['id']}"
    assert http.delete(url).status_code == 204
    gone = http.get(url)
    assert gone.status_code == 410
    assert gone.json()["issue"][0]["code"] == "deleted"
    assert http.delete(url).status_code == 204
    history = http.get(f"{url}/_history").json()
    assert history["type"] == "history"
    assert [e["request"]["method"] for e in history["entry"]] == ["DELETE", "POST"]
    assert "resource" not in history["entry"][0]
    assert http.get(f"{url}/_history/1").status_code == 200


def test_type_history_lists_new_versions_since_a_time(base, http):
    created = http.post(f"{base}/Patient", json=patient()).json()
    since = created["meta"]["lastUpdated"]
    history = http.get(f"{base}/Patient/_history", params={"_since": since}).json()
    assert created["id"] in {e["resource"]["id"] for e in history["entry"] if "resource" in e}


def test_prefer_return_minimal_and_operation_outcome(base, http):
    minimal = http.post(f"{base}/Patient", json=patient(), headers={"Prefer": "return=minimal"})
    assert minimal.status_code == 201 and minimal.text == ""
    assert minimal.headers["Location"]
    outcome = http.post(f"{base}/Patient", json=patient(),
                        headers={"Prefer": "return=OperationOutcome"})
    assert outcome.json()["resourceType"] == "OperationOutcome"


def test_a_second_active_patient_with_the_same_identifier_is_refused_with_409(base, http):
    pnr = make_pnr()
    assert http.post(f"{base}/Patient", json=patient(pnr=pnr)).status_code == 201
    second = http.post(f"{base}/Patient", json=patient(pnr=pnr))
    assert second.status_code == 409
    assert second.json()["issue"][0]["code"] == "duplicate"
    assert pnr not in second.text


def test_plain_json_content_type_is_accepted_too(base):
    response = requests.post(f"{base}/Patient", json=patient(),
                             headers={"Accept": "application/json"})
    assert response.status_code == 201
    assert response.headers["Content-Type"].startswith("application/json")


def test_create_ignores_the_id_in_the_body_even_a_malformed_one(base, http):
    # FHIR R4 §3.1.0.8: the server assigns the id of a created resource.
    for sent in ("not a valid id!", "x" * 100, 42):
        response = http.post(f"{base}/Patient", json=patient(id=sent))
        assert response.status_code == 201, response.text
        assert response.json()["id"] != sent


def test_a_merge_patch_body_gets_415_naming_json_patchs_media_type(base, http):
    created = http.post(f"{base}/Patient", json=patient()).json()
    response = http.patch(f"{base}/Patient/{created['id']}", data=b'{"gender": "other"}',
                          headers={"Content-Type": "application/merge-patch+json"})
    assert response.status_code == 415
    assert "application/json-patch+json" in response.json()["issue"][0]["diagnostics"]

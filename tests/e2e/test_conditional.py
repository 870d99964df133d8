"""Conditional create, update and delete."""

from __future__ import annotations

from tests.support import PNR_SYSTEM, make_pnr, patient, unique_name


def test_conditional_create_returns_the_existing_record_with_200(base, http):
    pnr = make_pnr()
    condition = {"If-None-Exist": f"identifier={PNR_SYSTEM}|{pnr}"}
    first = http.post(f"{base}/Patient", json=patient(pnr=pnr), headers=condition)
    second = http.post(f"{base}/Patient", json=patient(pnr=pnr), headers=condition)
    assert (first.status_code, second.status_code) == (201, 200)
    assert second.json()["id"] == first.json()["id"]


def test_conditional_create_matching_several_is_a_412(base, http):
    family = unique_name()
    for _ in range(2):
        http.post(f"{base}/Patient", json=patient(family=family))
    response = http.post(f"{base}/Patient", json=patient(family=family),
                         headers={"If-None-Exist": f"family={family}"})
    assert response.status_code == 412


def test_conditional_create_with_unknown_criteria_is_a_400(base, http):
    response = http.post(f"{base}/Patient", json=patient(),
                         headers={"If-None-Exist": "shoe-size=42"})
    assert response.status_code == 400


def test_conditional_update_creates_then_updates_the_match(base, http):
    pnr = make_pnr()
    url = f"{base}/Patient?identifier={PNR_SYSTEM}|{pnr}"
    created = http.put(url, json=patient(pnr=pnr, gender="female"))
    assert created.status_code == 201
    updated = http.put(url, json=patient(pnr=pnr, gender="other"))
    assert updated.status_code == 200
    assert updated.json()["id"] == created.json()["id"]
    assert updated.json()["gender"] == "other"


def test_conditional_delete_removes_the_one_match(base, http):
    pnr = make_pnr()
    created = http.post(f"{base}/Patient", json=patient(pnr=pnr)).json()
    response = http.delete(f"{base}/Patient?identifier={PNR_SYSTEM}|{pnr}")
    assert response.status_code == 204
    assert http.get(f"{base}/Patient/{created['id']}").status_code == 410
    assert http.delete(f"{base}/Patient?identifier={PNR_SYSTEM}|{pnr}").status_code == 204


def test_a_deleted_patient_frees_its_identifier(base, http):
    pnr = make_pnr()
    created = http.post(f"{base}/Patient", json=patient(pnr=pnr)).json()
    http.delete(f"{base}/Patient/{created['id']}")
    assert http.post(f"{base}/Patient", json=patient(pnr=pnr)).status_code == 201


def test_an_inactive_patient_does_not_block_its_identifier(base, http):
    pnr = make_pnr()
    assert http.post(f"{base}/Patient", json=patient(pnr=pnr, active=False)).status_code == 201
    assert http.post(f"{base}/Patient", json=patient(pnr=pnr)).status_code == 201
    both = http.get(f"{base}/Patient", params={"identifier": pnr}).json()
    assert both["total"] == 2
    active = http.get(f"{base}/Patient", params={"identifier": pnr, "active": "true"}).json()
    assert active["total"] == 1


def test_conditional_patch_patches_the_one_match(base, http):
    pnr = make_pnr()
    created = http.post(f"{base}/Patient", json=patient(pnr=pnr)).json()
    response = http.patch(f"{base}/Patient", params={"identifier": f"{PNR_SYSTEM}|{pnr}"},
                          json=[{"op": "replace", "path": "/gender", "value": "other"}],
                          headers={"Content-Type": "application/json-patch+json"})
    assert response.status_code == 200, response.text
    assert (response.json()["id"], response.json()["gender"]) == (created["id"], "other")
    assert response.headers["ETag"] == 'W/"2"'


def test_conditional_patch_matching_nothing_is_404_and_several_412(base, http):
    family = unique_name()
    operations = [{"op": "replace", "path": "/gender", "value": "other"}]
    headers = {"Content-Type": "application/json-patch+json"}
    none = http.patch(f"{base}/Patient", params={"family": family}, json=operations,
                      headers=headers)
    assert (none.status_code, none.json()["issue"][0]["code"]) == (404, "not-found")
    for _ in range(2):
        http.post(f"{base}/Patient", json=patient(family=family))
    several = http.patch(f"{base}/Patient", params={"family": family}, json=operations,
                         headers=headers)
    assert several.status_code == 412

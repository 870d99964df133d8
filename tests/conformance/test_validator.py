"""Every kind of resource the server emits passes an independent FHIR R4 validator
(@medplum/core's validateResource run by node, against the base R4 definitions): REST
answers, the outputs of every operation, Provenance, history and the conformance resources.
Each test makes and checks its own resources, in any order."""

from __future__ import annotations

import json
from typing import Any

import requests

from app import conformance
from tests.operations.merge_helpers import make_nrid, params
from tests.support import LRID_SYSTEM, NRID_SYSTEM, PNR_SYSTEM, make_pnr, patient, unique_name


def assert_valid(validate: Any, resources: list[dict[str, Any]]) -> None:
    problems = {
        f"{i}: {res.get('resourceType')}/{res.get('id', '')}": issues
        for i, (res, issues) in enumerate(zip(resources, validate(resources), strict=True))
        if issues
    }
    assert not problems, json.dumps(problems, indent=1, ensure_ascii=False)[:4000]


def answer(response: requests.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text[:2000]
    body: dict[str, Any] = response.json()
    return body


def test_the_validator_catches_invalid_resources_also_inside_bundles_and_parameters(validate):
    broken = [{"resourceType": "Patient", "birthDate": "1990-13-01", "gender": 1},
              {"resourceType": "Bundle", "type": "searchset", "entry": [{"x": 1}]},
              {"resourceType": "Bundle", "type": "searchset", "entry": [
                  {"resource": {"resourceType": "Patient", "birthDate": "1990-13-01"}}]},
              {"resourceType": "Parameters", "parameter": [
                  {"name": "result", "resource": {"resourceType": "Patient", "foo": 1}}]}]
    assert all(validate(broken))
    assert validate([{"resourceType": "Patient", "birthDate": "1990-12-01"}]) == [[]]


def test_every_conformance_resource_the_server_serves_is_valid(base, fhir, validate):
    served: list[dict[str, Any]] = []
    for resource_type in conformance.TYPES:
        bundle = answer(fhir.get(f"{base}/{resource_type}"), 200)
        files = conformance.of_type(resource_type)
        assert bundle["total"] == len(files) and len(bundle["entry"]) == len(files)
        served.append(bundle)
        served += [answer(fhir.get(f"{base}/{resource_type}/{res['id']}"), 200)
                   for res in files]
    assert {res["resourceType"] for res in served} == {"Bundle", *conformance.TYPES}
    assert len(served) == len(conformance.TYPES) + len(conformance.resources())
    assert_valid(validate, served)


def test_patients_bundles_history_and_outcomes_from_rest_interactions_are_valid(base, fhir,
                                                                                 validate):
    pnr = make_pnr()
    family = unique_name("Validator")
    body = patient(family, pnr=pnr, telecom=[{"system": "phone", "value": "070-1234567"}],
                   address=[{"city": "Göteborg", "postalCode": "41345"}])
    created = answer(fhir.post(f"{base}/Patient", json=body), 201)
    emitted = [created]
    emitted.append(answer(fhir.put(f"{base}/Patient/{created['id']}",
                                   json={**created, "active": True}), 200))
    emitted.append(answer(fhir.get(f"{base}/Patient/{created['id']}/_history/1"), 200))
    emitted.append(answer(fhir.get(f"{base}/Patient/{created['id']}/_history"), 200))
    emitted.append(answer(fhir.get(f"{base}/Patient/_history", params={"_count": 5}), 200))
    emitted.append(answer(fhir.get(f"{base}/Patient", params={
        "family": family, "_count": 1, "_total": "accurate"}), 200))
    emitted.append(answer(fhir.get(f"{base}/Patient", params={
        "identifier": f"{PNR_SYSTEM}|{pnr}", "_include": "Patient:link"}), 200))
    emitted.append(answer(fhir.get(f"{base}/Patient", params={"_summary": "count"}), 200))
    emitted.append(answer(fhir.post(f"{base}/Patient", json=body), 409))
    emitted.append(answer(fhir.post(f"{base}/Patient", json={**body, "identifier": [
        {"system": PNR_SYSTEM, "value": "196512073246"}]}), 422))
    emitted.append(answer(fhir.get(f"{base}/Patient/does-not-exist"), 404))
    emitted.append(answer(fhir.get(f"{base}/Patient", params={"birthdate": "xx"}), 400))
    batch = {"resourceType": "Bundle", "type": "batch", "entry": [
        {"request": {"method": "POST", "url": "Patient"}, "resource": patient()},
        {"request": {"method": "GET", "url": f"Patient/{created['id']}"}},
    ]}
    emitted.append(answer(fhir.post(base, json=batch), 200))
    emitted.append(answer(fhir.get(f"{base}/metadata"), 200))
    history = [res for res in emitted if res.get("type") == "history"]
    assert len(history) == 2 and all(bundle["entry"] for bundle in history)
    assert {res["resourceType"] for res in emitted} == {
        "Patient", "Bundle", "OperationOutcome", "CapabilityStatement"}
    assert_valid(validate, emitted)


def test_parameters_from_generate_reserve_id_are_valid(base, fhir, validate):
    request = {"resourceType": "Parameters", "parameter": [
        {"name": "system", "valueUri": LRID_SYSTEM},
        {"name": "count", "valueInteger": 2},
        {"name": "patient", "resource": patient("Reservsson", birth="2019-01-01")},
    ]}
    made = answer(fhir.post(f"{base}/Patient/$generate-reserve-id", json=request), 200)
    records = [answer(fhir.get(f"{base}/{p['valueReference']['reference']}"), 200)
               for p in made["parameter"] if p["name"] == "patient"]
    assert len(records) == 2
    # The LRID → NRID transition (domain.md §3.3) on one of them.
    transition = answer(fhir.post(f"{base}/Patient/{records[0]['id']}/$generate-reserve-id",
                                  json={"resourceType": "Parameters"}), 200)
    refused = answer(fhir.post(f"{base}/Patient/$generate-reserve-id", json={
        "resourceType": "Parameters", "parameter": [{"name": "system",
                                                     "valueUri": PNR_SYSTEM}]}), 422)
    assert_valid(validate, [made, *records, transition, refused])


def test_the_match_bundle_is_valid(base, fhir, validate):
    pnr = make_pnr()
    person = answer(fhir.post(f"{base}/Patient", json=patient(
        unique_name("Matchad"), pnr=pnr, telecom=[{"system": "phone", "value": "0701234567"}])),
        201)
    query = {"resourceType": "Parameters", "parameter": [
        {"name": "resource", "resource": patient(person["name"][0]["family"], pnr=pnr)},
        {"name": "count", "valueInteger": 5}]}
    matched = answer(fhir.post(f"{base}/Patient/$match", json=query), 200)
    assert person["id"] in {e["resource"]["id"] for e in matched["entry"]}
    assert all(e["search"]["mode"] == "match" for e in matched["entry"])
    refused = answer(fhir.post(f"{base}/Patient/$match", json={"resourceType": "Parameters"}),
                     400)
    assert_valid(validate, [matched, refused])


def test_merge_preview_merge_unmerge_and_their_provenance_are_valid(base, fhir, validate):
    reserve = answer(fhir.post(f"{base}/Patient", json=patient(identifier=[
        {"system": NRID_SYSTEM, "value": make_nrid()}])), 201)
    person = answer(fhir.post(f"{base}/Patient", json=patient(pnr=make_pnr())), 201)
    preview = answer(fhir.post(f"{base}/Patient/$merge",
                               json=params(reserve, person, preview=True)), 200)
    # The priority rule (domain.md §3.5): a PNR record never merges into a reserve record.
    refused = answer(fhir.post(f"{base}/Patient/$merge", json=params(person, reserve)), 422)
    merged = answer(fhir.post(f"{base}/Patient/$merge",
                              json=params(reserve, person, reason="Same person")), 200)
    provenance = answer(fhir.get(f"{base}/Provenance",
                                 params={"target": f"Patient/{person['id']}"}), 200)
    assert provenance["total"] == 1
    record = answer(fhir.get(f"{base}/Provenance/{provenance['entry'][0]['resource']['id']}"),
                    200)
    undone = answer(fhir.post(f"{base}/Patient/$unmerge", json=params(reserve, person)), 200)
    both = answer(fhir.get(f"{base}/Provenance",
                           params={"target": f"Patient/{reserve['id']}"}), 200)
    assert both["total"] == 2
    outputs = [preview, merged, undone]
    assert all({p["name"] for p in out["parameter"]} == {"input", "outcome", "result"}
               for out in outputs)
    assert_valid(validate, [*outputs, refused, provenance, record, both])


def test_ihe_pix_parameters_and_its_outcomes_are_valid(base, fhir, validate):
    pnr, nrid = make_pnr(), make_nrid()
    answer(fhir.post(f"{base}/Patient", json=patient(identifier=[
        {"system": PNR_SYSTEM, "value": pnr}, {"system": NRID_SYSTEM, "value": nrid}])), 201)
    everything = answer(fhir.get(f"{base}/Patient/$ihe-pix",
                                 params={"sourceIdentifier": f"{PNR_SYSTEM}|{pnr}"}), 200)
    names = [p["name"] for p in everything["parameter"]]
    assert names.count("targetIdentifier") == 2 and "targetId" in names
    one_domain = answer(fhir.post(f"{base}/Patient/$ihe-pix", json={
        "resourceType": "Parameters", "parameter": [
            {"name": "sourceIdentifier", "valueString": f"{PNR_SYSTEM}|{pnr}"},
            {"name": "targetSystem", "valueString": NRID_SYSTEM}]}), 200)
    unknown = answer(fhir.get(f"{base}/Patient/$ihe-pix",
                              params={"sourceIdentifier": f"{PNR_SYSTEM}|{make_pnr()}"}), 404)
    assert_valid(validate, [everything, one_domain, unknown])

"""Every kind of resource the server emits passes an independent FHIR R4 validator
(@medplum/core's validateResource run by node, against the base R4 definitions)."""

from __future__ import annotations

import json
from typing import Any

from app import conformance
from tests.support import NRID_SYSTEM, PNR_SYSTEM, make_pnr, patient


def assert_valid(validate: Any, resources: list[dict[str, Any]]) -> None:
    problems = {
        f"{res.get('resourceType')}/{res.get('id', i)}": issues
        for i, (res, issues) in enumerate(zip(resources, validate(resources), strict=True))
        if issues
    }
    assert not problems, json.dumps(problems, indent=1, ensure_ascii=False)[:4000]


def test_the_validator_catches_an_invalid_resource(validate):
    broken = [{"resourceType": "Patient", "birthDate": "1990-13-01", "gender": 1},
              {"resourceType": "Bundle", "type": "searchset", "entry": [{"x": 1}]}]
    assert all(validate(broken))


def test_every_conformance_file_is_valid_fhir_r4(validate):
    assert_valid(validate, list(conformance.resources().values()))


def test_patients_bundles_and_outcomes_from_rest_interactions_are_valid(base, fhir, validate):
    pnr = make_pnr()
    family = "Validatorsson"
    body = patient(family, pnr=pnr, telecom=[{"system": "phone", "value": "070-1234567"}],
                   address=[{"city": "Göteborg", "postalCode": "41345"}])
    created = fhir.post(f"{base}/Patient", json=body).json()
    emitted = [created]
    emitted.append(fhir.put(f"{base}/Patient/{created['id']}",
                            json={**created, "active": True}).json())
    emitted.append(fhir.get(f"{base}/Patient/{created['id']}/_history").json())
    emitted.append(fhir.get(f"{base}/Patient", params={"family": family, "_count": 1,
                                                       "_total": "accurate"}).json())
    emitted.append(fhir.get(f"{base}/Patient", params={"identifier": f"{PNR_SYSTEM}|{pnr}",
                                                       "_include": "Patient:link"}).json())
    emitted.append(fhir.get(f"{base}/Patient", params={"_summary": "count"}).json())
    emitted.append(fhir.post(f"{base}/Patient", json=body).json())  # 409 OperationOutcome
    emitted.append(fhir.post(f"{base}/Patient", json={**body, "identifier": [
        {"system": PNR_SYSTEM, "value": "196512073246"}]}).json())  # 422
    emitted.append(fhir.get(f"{base}/Patient/does-not-exist").json())  # 404
    emitted.append(fhir.get(f"{base}/Patient", params={"birthdate": "xx"}).json())
    batch = {"resourceType": "Bundle", "type": "batch", "entry": [
        {"request": {"method": "POST", "url": "Patient"}, "resource": patient()},
        {"request": {"method": "GET", "url": f"Patient/{created['id']}"}},
    ]}
    emitted.append(fhir.post(base, json=batch).json())
    emitted.append(fhir.get(f"{base}/metadata").json())
    emitted.append(fhir.get(f"{base}/NamingSystem", params={"value": "1.2.752.74.9.1"}).json())
    assert {res["resourceType"] for res in emitted} >= {
        "Patient", "Bundle", "OperationOutcome", "CapabilityStatement"}
    assert_valid(validate, emitted)


def test_parameters_from_generate_reserve_id_are_valid(base, fhir, validate):
    request = {"resourceType": "Parameters", "parameter": [
        {"name": "system", "valueUri": NRID_SYSTEM},
        {"name": "count", "valueInteger": 2},
        {"name": "patient", "resource": patient("Reservsson", birth="2019-01-01")},
    ]}
    answer = fhir.post(f"{base}/Patient/$generate-reserve-id", json=request)
    assert answer.status_code == 200, answer.text
    made = [fhir.get(f"{base}/{p['valueReference']['reference']}").json()
            for p in answer.json()["parameter"] if p["name"] == "patient"]
    assert_valid(validate, [answer.json(), *made])


def test_every_resource_recorded_in_this_session_is_valid(recorded, validate):
    # Runs after the other conformance test files (alphabetical order): everything the
    # `fhir` sessions received there is validated here too.
    assert recorded
    assert_valid(validate, recorded)

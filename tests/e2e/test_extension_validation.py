"""Issue 14: a patient type written in a shape its StructureDefinition does not allow — a
valueCodeableConcept, a valueString, the code in capitals, another system — is refused with
422 on every way a Patient is written (REST, conditional, PATCH, Bundle entries,
``$generate-reserve-id``'s patient, ``$merge``'s result-patient), the OperationOutcome
pointing at the extension and naming the rule, and nothing is stored. Before, each was
stored and read as "no patient type": the person went unprotected."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
import requests

from tests.operations.merge_helpers import create, ident, make_lrid, make_nrid, params
from tests.operations.reserve_helpers import parameters
from tests.support import LRID_SYSTEM, NRID_SYSTEM, PNR_SYSTEM, make_pnr, patient, unique_name

TYPE_URL = "http://sweid.example/fhir/StructureDefinition/patient-type"
TYPE_SYSTEM = "http://sweid.example/fhir/CodeSystem/patient-type"
#: Each shape and the rule its refusal names.
SHAPES: dict[str, tuple[dict[str, Any], str]] = {
    "valueCodeableConcept": (
        {"url": TYPE_URL, "valueCodeableConcept": {"coding": [{"system": TYPE_SYSTEM,
                                                               "code": "oklar"}]}},
        "patient-type takes exactly one valueCoding (Coding), not valueCodeableConcept"),
    "valueString": ({"url": TYPE_URL, "valueString": "oklar"},
                    "patient-type takes exactly one valueCoding (Coding), not valueString"),
    "OKLAR": ({"url": TYPE_URL, "valueCoding": {"system": TYPE_SYSTEM, "code": "OKLAR"}},
              "the code must be one of folkbokford, samordningsnummer, reservnummer, oklar "
              "(CodeSystem patient-type; codes are case-sensitive)"),
    "wrong system": ({"url": TYPE_URL, "valueCoding": {"system": "http://example.org/types",
                                                       "code": "oklar"}},
                     f"patient-type: valueCoding.system must be {TYPE_SYSTEM}"),
}

#: One way to write a Patient: (status, OperationOutcome or resource) of the write.
Write = Callable[[requests.Session, str, dict[str, Any]], tuple[int, dict[str, Any]]]


def _answer(response: requests.Response) -> tuple[int, dict[str, Any]]:
    return response.status_code, response.json()


def _bundle(kind: str, body: dict[str, Any]) -> dict[str, Any]:
    return {"resourceType": "Bundle", "type": kind, "entry": [
        {"resource": body, "request": {"method": "POST", "url": "Patient"}}]}


def _stored(http: requests.Session, base: str, body: dict[str, Any]) -> dict[str, Any]:
    """A valid version of ``body`` (without the extension), stored."""
    created = http.post(f"{base}/Patient", json={k: v for k, v in body.items()
                                                  if k != "extension"})
    assert created.status_code == 201, created.text
    stored: dict[str, Any] = created.json()
    return stored


def _create(http: requests.Session, base: str, body: dict[str, Any]) -> tuple[int, dict]:
    return _answer(http.post(f"{base}/Patient", json=body))


def _conditional_create(http: requests.Session, base: str,
                        body: dict[str, Any]) -> tuple[int, dict]:
    criteria = f"identifier={PNR_SYSTEM}|{body['identifier'][0]['value']}"
    return _answer(http.post(f"{base}/Patient", json=body, headers={"If-None-Exist": criteria}))


def _update(http: requests.Session, base: str, body: dict[str, Any]) -> tuple[int, dict]:
    stored = _stored(http, base, body)
    return _answer(http.put(f"{base}/Patient/{stored['id']}", json={**stored, **body,
                                                                    "id": stored["id"]}))


def _update_creating(http: requests.Session, base: str, body: dict[str, Any]) -> tuple[int, dict]:
    new_id = str(uuid.uuid4())
    return _answer(http.put(f"{base}/Patient/{new_id}", json={**body, "id": new_id}))


def _conditional_update(http: requests.Session, base: str,
                        body: dict[str, Any]) -> tuple[int, dict]:
    criteria = f"{PNR_SYSTEM}|{body['identifier'][0]['value']}"
    return _answer(http.put(f"{base}/Patient", params={"identifier": criteria}, json=body))


def _patch(http: requests.Session, base: str, body: dict[str, Any]) -> tuple[int, dict]:
    stored = _stored(http, base, body)
    return _answer(http.patch(
        f"{base}/Patient/{stored['id']}",
        json=[{"op": "add", "path": "/extension", "value": body["extension"]}],
        headers={"Content-Type": "application/json-patch+json"}))


def _transaction(http: requests.Session, base: str, body: dict[str, Any]) -> tuple[int, dict]:
    return _answer(http.post(base, json=_bundle("transaction", body)))


def _batch(http: requests.Session, base: str, body: dict[str, Any]) -> tuple[int, dict]:
    """A batch answers 200; its entry carries the refusal."""
    answer = http.post(base, json=_bundle("batch", body))
    assert answer.status_code == 200, answer.text
    entry = answer.json()["entry"][0]["response"]
    return int(entry["status"].split()[0]), entry["outcome"]


def _generate_reserve_id(http: requests.Session, base: str,
                         body: dict[str, Any]) -> tuple[int, dict]:
    template = {k: v for k, v in body.items() if k != "identifier"}
    return _answer(http.post(f"{base}/Patient/$generate-reserve-id",
                             json=parameters(patient=template)))


def _merge_result(http: requests.Session, base: str, body: dict[str, Any]) -> tuple[int, dict]:
    source = create(http, base, ident(LRID_SYSTEM, make_lrid()))
    target = create(http, base, ident(NRID_SYSTEM, make_nrid()))
    result = {**target, "extension": body["extension"]}
    return _answer(http.post(f"{base}/Patient/$merge",
                             json=params(source, target, result_patient=result)))


WRITES: dict[str, Write] = {
    "create": _create,
    "conditional create": _conditional_create,
    "update": _update,
    "update creating": _update_creating,
    "conditional update": _conditional_update,
    "patch": _patch,
    "transaction": _transaction,
    "batch": _batch,
    "$generate-reserve-id patient": _generate_reserve_id,
    "$merge result-patient": _merge_result,
}


@pytest.mark.parametrize("shape", list(SHAPES))
@pytest.mark.parametrize("write", list(WRITES))
def test_a_patient_type_of_the_wrong_shape_is_refused_on_every_write(
        base: str, http: requests.Session, write: str, shape: str) -> None:
    extension, rule = SHAPES[shape]
    family = unique_name("Typ")
    body = patient(family, pnr=make_pnr(), extension=[extension])
    status, outcome = WRITES[write](http, base, body)
    assert status == 422, (write, shape, outcome)
    issue = outcome["issue"][0]
    assert issue["code"] == "business-rule"
    assert issue["expression"] == ["Patient.extension[0]"]
    assert rule in issue["diagnostics"]
    # Nothing with the extension was stored (it would show, or be masked as protected).
    for entry in http.get(f"{base}/Patient", params={"family": family}).json().get("entry", []):
        assert "extension" not in entry["resource"]
        assert "tag" not in entry["resource"]["meta"]

"""IHE PDQm Patient Demographics Match (ITI-119) through a running server: the input as a
Parameters (resource, onlyCertainMatches, count) or a bare Patient, JSON and XML; the output
a searchset Bundle of the PDQm Match Output profile with score and match-grade per entry.
Input resources after the IG's ex-match-input examples (IHE/ITI.PDQm
``input/fsh/ex-match-input*.fsh``), with the Mohr people of tests/ihe/mohr.py."""

from __future__ import annotations

from datetime import date
from typing import Any
from xml.etree import ElementTree

import pytest
import requests

from tests.ihe.mohr import FHIR_JSON, RED, fresh, patient
from tests.support import PNR_SYSTEM, make_pnr

MATCH = "Patient/$match"
MATCH_GRADE = "http://hl7.org/fhir/StructureDefinition/match-grade"
OUTPUT_PROFILE = "https://profiles.ihe.net/ITI/PDQm/StructureDefinition/IHE.PDQm.MatchParametersOut"
FHIR_NS = "{http://hl7.org/fhir}"


@pytest.fixture(scope="module")
def alice(base: str) -> dict[str, Any]:
    value, pnr = fresh("IHERED"), make_pnr(date(1958, 1, 30), female=True)
    body = patient(RED, value, "ALICE", address=True)
    body["identifier"].append({"system": PNR_SYSTEM, "value": pnr})
    body["telecom"] = [{"system": "phone", "value": "630-555-0134"}]
    answer = requests.post(f"{base}/Patient", json=body, headers=FHIR_JSON, timeout=30)
    assert answer.status_code == 201
    return {"id": answer.json()["id"], "value": value, "pnr": pnr}


def query(pnr: str | None = None) -> dict[str, Any]:
    """Alice's demographics; with her personnummer a certain match (certain needs an
    identifier of a known kind)."""
    body = patient(PNR_SYSTEM, pnr or "", "ALICE", address=True)
    body["telecom"] = [{"system": "phone", "value": "630-555-0134"}]
    if pnr is None:
        del body["identifier"]
    return body


def parameters(resource: dict[str, Any], **options: Any) -> dict[str, Any]:
    params: list[dict[str, Any]] = [{"name": "resource", "resource": resource}]
    for name, value in options.items():
        key = "valueBoolean" if isinstance(value, bool) else "valueInteger"
        params.append({"name": name, key: value})
    return {"resourceType": "Parameters", "parameter": params}


def post(base: str, body: dict[str, Any]) -> dict[str, Any]:
    answer = requests.post(f"{base}/{MATCH}", json=body, headers=FHIR_JSON, timeout=30)
    assert answer.status_code == 200, answer.text
    bundle = answer.json()
    assert bundle["resourceType"] == "Bundle" and bundle["type"] == "searchset"
    assert bundle["meta"]["profile"] == [OUTPUT_PROFILE]
    assert bundle["total"] == len(bundle.get("entry", []))
    for entry in bundle.get("entry", []):
        assert entry["search"]["mode"] == "match"
        assert 0 <= entry["search"]["score"] <= 1
        grades = [e["valueCode"] for e in entry["search"]["extension"]
                  if e["url"] == MATCH_GRADE]
        assert len(grades) == 1 and grades[0] in ("certain", "probable", "possible")
    return bundle


def grades(bundle: dict[str, Any]) -> list[tuple[str, str]]:
    return [(e["resource"]["id"], next(x["valueCode"] for x in e["search"]["extension"]
                                       if x["url"] == MATCH_GRADE))
            for e in bundle.get("entry", [])]


def test_case1_patient_only_in_parameters(base: str, alice: dict[str, Any]) -> None:
    bundle = post(base, parameters(query()))
    assert grades(bundle)[0][0] == alice["id"]


def test_bare_patient_body_is_the_resource_parameter(base: str, alice: dict[str, Any]) -> None:
    assert grades(post(base, query()))[0][0] == alice["id"]


def test_case3_only_certain_matches(base: str, alice: dict[str, Any]) -> None:
    assert grades(post(base, parameters(query(alice["pnr"]), onlyCertainMatches=True))) == [
        (alice["id"], "certain")]


def test_case4_only_certain_without_a_certain_match(base: str, alice: dict[str, Any]) -> None:
    bundle = post(base, parameters(query(), onlyCertainMatches=True))
    assert bundle["total"] == 0 and "entry" not in bundle


def test_case6_count(base: str, alice: dict[str, Any]) -> None:
    other = query()
    other["identifier"] = [{"system": RED, "value": fresh("IHERED")}]
    other["name"][0]["given"] = ["ALISON"]
    requests.post(f"{base}/Patient", json=other, headers=FHIR_JSON, timeout=30)
    assert len(post(base, parameters(query(), count=1)).get("entry", [])) == 1


def test_case7_nothing_found(base: str) -> None:
    nobody = query()
    nobody["name"] = [{"family": "QWERTYSSON", "given": ["ZEBULON"]}]
    nobody["birthDate"] = "1901-02-03"
    nobody["gender"] = "male"
    del nobody["address"], nobody["telecom"]
    bundle = post(base, parameters(nobody))
    assert bundle["total"] == 0 and "entry" not in bundle


def test_case9_bad_input_is_an_operation_outcome(base: str) -> None:
    answer = requests.post(f"{base}/{MATCH}", json={"resourceType": "Parameters",
                                                      "parameter": [{"name": "count",
                                                                     "valueInteger": 2}]},
                           headers=FHIR_JSON, timeout=30)
    assert answer.status_code in (400, 422)
    assert answer.json()["resourceType"] == "OperationOutcome"


def test_xml_in_and_out(base: str, alice: dict[str, Any]) -> None:
    body = f"""<Parameters xmlns="http://hl7.org/fhir">
  <parameter><name value="resource"/><resource><Patient>
    <identifier><system value="{PNR_SYSTEM}"/><value value="{alice['pnr']}"/></identifier>
    <name><family value="MOHR"/><given value="ALICE"/></name>
    <gender value="female"/><birthDate value="1958-01-30"/>
  </Patient></resource></parameter>
  <parameter><name value="onlyCertainMatches"/><valueBoolean value="true"/></parameter>
</Parameters>"""
    answer = requests.post(f"{base}/{MATCH}", data=body.encode(), timeout=30, headers={
        "Content-Type": "application/fhir+xml", "Accept": "application/fhir+xml"})
    assert answer.status_code == 200, answer.text
    root = ElementTree.fromstring(answer.content)
    assert root.tag == f"{FHIR_NS}Bundle"
    assert root.find(f"{FHIR_NS}meta/{FHIR_NS}profile").get("value") == OUTPUT_PROFILE
    entry = root.find(f"{FHIR_NS}entry")
    assert entry.find(f"{FHIR_NS}resource/{FHIR_NS}Patient/{FHIR_NS}id").get("value") == \
        alice["id"]
    grade = entry.find(f"{FHIR_NS}search/{FHIR_NS}extension[@url='{MATCH_GRADE}']")
    assert grade.find(f"{FHIR_NS}valueCode").get("value") == "certain"

"""IHE PDQm Patient Demographics Query (ITI-78) through a running server: every parameter
PDQm lists, ``:exact``, AND/OR, GET and POST, JSON and XML, the identifier domain
restriction (Case 2) and the unknown domain (Case 4: 404 "targetSystem not found").

The people are the IG's Mohr examples (tests/ihe/mohr.py) plus two invented neighbours."""

from __future__ import annotations

from typing import Any
from xml.etree import ElementTree

import pytest
import requests

from tests.ihe.mohr import BLUE, FHIR_JSON, GREEN, RED, fresh, patient
from tests.support import PNR_SYSTEM

MMN = "http://hl7.org/fhir/StructureDefinition/patient-mothersMaidenName"
FHIR_NS = "{http://hl7.org/fhir}"


@pytest.fixture(scope="module")
def people(base: str) -> dict[str, Any]:
    """Alice (red and blue, USA), Alissa (red, Sweden), Alicia Mohring (green, male)."""
    values = {"red-a": fresh("IHERED"), "blue-a": fresh("IHEBLUE"), "red-b": fresh("IHERED"),
              "green-c": fresh("IHEGREEN")}
    alice = patient(RED, values["red-a"], "ALICE", address=True)
    alice["identifier"].append({"system": BLUE, "value": values["blue-a"]})
    alice["address"][0]["country"] = "USA"
    alice["extension"] = [{"url": MMN, "valueString": "SMITH"}]
    alissa = patient(RED, values["red-b"], "ALISSA")
    alissa["birthDate"] = "1960-05-17"
    alissa["address"] = [{"city": "Göteborg", "state": "Västra Götaland", "country": "SE"}]
    alissa["extension"] = [{"url": MMN, "valueString": "SMITHSON"}]
    alicia = patient(GREEN, values["green-c"], "ALICIA")
    alicia["name"][0]["family"] = "MOHRING"
    alicia["gender"] = "male"
    ids = {}
    with requests.Session() as http:
        http.headers.update(FHIR_JSON)
        for key, body in (("alice", alice), ("alissa", alissa), ("alicia", alicia)):
            answer = http.post(f"{base}/Patient", json=body, timeout=30)
            assert answer.status_code == 201, answer.text
            ids[key] = answer.json()["id"]
    return {"ids": ids, "values": values}


def found(base: str, people: dict[str, Any], params: Any, *, post: bool = False) -> set[str]:
    """The people (by key) a search finds, GET or POST _search."""
    if post:
        answer = requests.post(f"{base}/Patient/_search", data=params,
                               headers={"Accept": "application/fhir+json"}, timeout=30)
    else:
        answer = requests.get(f"{base}/Patient", params=params, headers=FHIR_JSON, timeout=30)
    assert answer.status_code == 200, answer.text
    bundle = answer.json()
    names = {v: k for k, v in people["ids"].items()}
    hits = {names[e["resource"]["id"]] for e in bundle.get("entry", [])
            if e["resource"]["id"] in names}
    assert bundle["total"] == len(bundle.get("entry", []))
    return hits


CASES = [
    ({"family": "MOHR"}, {"alice", "alissa", "alicia"}),
    ({"family:exact": "MOHR"}, {"alice", "alissa"}),
    ({"given": "ALIC"}, {"alice", "alicia"}),
    ({"given:exact": "ALIC"}, set()),
    ({"mothersMaidenName": "SMITH"}, {"alice", "alissa"}),
    ({"mothersMaidenName:exact": "SMITH"}, {"alice"}),
    ({"mothersMaidenName": "smiths"}, {"alissa"}),
    ({"address-country": "USA"}, {"alice"}),
    ({"address-country:exact": "SE"}, {"alissa"}),
    ({"address-state": "IL"}, {"alice"}),
    ({"address-state": "vastra gotaland"}, {"alissa"}),
    ({"address-state:exact": "il"}, set()),
    ({"address-city": "OAK"}, {"alice"}),
    ({"address-postalcode": "60523"}, {"alice"}),
    ({"address": "820 JORIE"}, {"alice"}),
    ({"gender": "male"}, {"alicia"}),
    ({"birthdate": "1958-01-30"}, {"alice", "alicia"}),
    ({"active": "true", "family": "MOHR"}, {"alice", "alissa", "alicia"}),
    # PDQm's required combinations: family AND gender, birthdate AND family.
    ({"family": "MOHR", "gender": "female"}, {"alice", "alissa"}),
    ({"birthdate": "1958-01-30", "family:exact": "MOHR"}, {"alice"}),
    # OR within one parameter, AND across repeats.
    ({"given": "ALISSA,ALICIA"}, {"alissa", "alicia"}),
    ([("given", "ALI"), ("given", "ALISSA")], {"alissa"}),
    ([("family:exact", "MOHR,MOHRING"), ("address-country", "SE,USA")], {"alice", "alissa"}),
]


@pytest.mark.parametrize("post", [False, True], ids=["GET", "POST"])
@pytest.mark.parametrize(("params", "expected"), CASES)
def test_parameters(base: str, people: dict[str, Any], params: Any, expected: set[str],
                    post: bool) -> None:
    assert found(base, people, params, post=post) == expected


def test_identifier_by_value(base: str, people: dict[str, Any]) -> None:
    value = people["values"]["blue-a"]
    assert found(base, people, {"identifier": f"{BLUE}|{value}"}) == {"alice"}


def test_domain_restriction_returns_only_that_domains_identifiers(base: str,
                                                                  people: dict[str, Any]) -> None:
    """PDQm Case 2: the matches hold the domain, and show only its identifiers."""
    answer = requests.get(f"{base}/Patient", params={"family": "MOHR", "identifier": f"{BLUE}|"},
                          headers=FHIR_JSON, timeout=30)
    assert answer.status_code == 200
    entries = answer.json()["entry"]
    assert [e["resource"]["id"] for e in entries] == [people["ids"]["alice"]]
    assert entries[0]["resource"]["identifier"] == [
        {"system": BLUE, "value": people["values"]["blue-a"]}]
    # Identifiers left out: the record is shown in part, and says so.
    assert "SUBSETTED" in {t["code"] for t in entries[0]["resource"]["meta"]["tag"]}
    # OR of two domains (PDQm's "&identifier=urn:oid:1.2.3|,urn:oid:4.5.6|").
    either = requests.get(f"{base}/Patient", params={"identifier": f"{BLUE}|,{GREEN}|"},
                          headers=FHIR_JSON, timeout=30).json()
    shown = {e["resource"]["id"]: {i["system"] for i in e["resource"]["identifier"]}
             for e in either["entry"]}
    assert shown == {people["ids"]["alice"]: {BLUE}, people["ids"]["alicia"]: {GREEN}}


def test_unknown_domain_is_404_target_system_not_found(base: str,
                                                       people: dict[str, Any]) -> None:
    """PDQm Case 4, the preferred answer."""
    answer = requests.get(f"{base}/Patient",
                          params={"family": "MOHR", "identifier": "urn:oid:1.2.3.4.5.999|"},
                          headers=FHIR_JSON, timeout=30)
    assert answer.status_code == 404
    issue = answer.json()["issue"][0]
    assert (issue["severity"], issue["code"]) == ("warning", "not-found")
    assert issue["diagnostics"] == "targetSystem not found"
    # A domain the server knows (a Swedish identity kind) without any holder: 200, none.
    known = requests.get(f"{base}/Patient", params={"identifier": f"{PNR_SYSTEM}|"},
                         headers=FHIR_JSON, timeout=30)
    assert known.status_code == 200 and known.json()["total"] == 0


def test_xml_search_and_mothers_maiden_name_returned(base: str, people: dict[str, Any]) -> None:
    answer = requests.get(f"{base}/Patient", params={"mothersMaidenName:exact": "SMITH"},
                          headers={"Accept": "application/fhir+xml"}, timeout=30)
    assert answer.status_code == 200
    assert answer.headers["Content-Type"].startswith("application/fhir+xml")
    root = ElementTree.fromstring(answer.content)
    assert root.tag == f"{FHIR_NS}Bundle"
    assert root.find(f"{FHIR_NS}total").get("value") == "1"
    extension = root.find(f".//{FHIR_NS}Patient/{FHIR_NS}extension")
    assert extension is not None and extension.get("url") == MMN
    assert extension.find(f"{FHIR_NS}valueString").get("value") == "SMITH"
    unknown = requests.get(f"{base}/Patient", params={"identifier": "urn:oid:1.2.3.4.5.999|"},
                           headers={"Accept": "application/fhir+xml"}, timeout=30)
    assert unknown.status_code == 404
    assert ElementTree.fromstring(unknown.content).tag == f"{FHIR_NS}OperationOutcome"

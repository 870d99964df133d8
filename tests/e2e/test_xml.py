"""FHIR XML (application/fhir+xml) in and out through the running server."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import requests

from app.xml import FHIR_NS, XHTML_NS, from_xml, to_xml
from tests.operations.reserve_helpers import NRID_SYSTEM, fresh_date
from tests.support import PNR_SYSTEM, make_pnr, patient, unique_name

F = "{" + FHIR_NS + "}"
XML = {"Content-Type": "application/fhir+xml", "Accept": "application/fhir+xml"}
CALL_NAME = "http://example.org/fhir/StructureDefinition/call-name"


def patient_xml(family: str, pnr: str) -> bytes:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<Patient xmlns="http://hl7.org/fhir">
  <!-- a comment is not content -->
  <text>
    <status value="generated"/>
    <div xmlns="http://www.w3.org/1999/xhtml"><p>Testa <b>{family}</b></p></div>
  </text>
  <identifier>
    <system value="{PNR_SYSTEM}"/>
    <value value="{pnr}"/>
  </identifier>
  <active value="true"/>
  <name>
    <family value="{family}"/>
    <given value="Testa"/>
    <given value="Maria">
      <extension url="{CALL_NAME}">
        <valueBoolean value="true"/>
      </extension>
    </given>
  </name>
  <gender value="female"/>
  <birthDate value="1998-01-01"/>
  <multipleBirthInteger value="2"/>
</Patient>""".encode()


def xml_root(response: requests.Response, status: int, content_type: str = "application/fhir+xml"
             ) -> ET.Element:
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"] == f"{content_type}; charset=utf-8"
    return ET.fromstring(response.content)


def test_a_patient_posted_as_xml_reads_back_as_the_same_xml_and_json(base, http):
    family, pnr = unique_name("Xml"), make_pnr()
    created = requests.post(f"{base}/Patient", data=patient_xml(family, pnr), headers=XML,
                            timeout=30)
    root = xml_root(created, 201)
    assert root.tag == F + "Patient"
    patient_id = root.find(F + "id").get("value")
    assert created.headers["Location"].endswith(f"/Patient/{patient_id}/_history/1")

    as_json = http.get(f"{base}/Patient/{patient_id}").json()
    assert as_json["active"] is True
    assert as_json["multipleBirthInteger"] == 2
    assert as_json["name"][0]["given"] == ["Testa", "Maria"]
    assert as_json["name"][0]["_given"] == [
        None, {"extension": [{"url": CALL_NAME, "valueBoolean": True}]}]
    assert as_json["text"]["div"] == (
        f'<div xmlns="{XHTML_NS}"><p>Testa <b>{family}</b></p></div>')
    assert as_json["identifier"] == [{"system": PNR_SYSTEM, "value": pnr}]

    read = requests.get(f"{base}/Patient/{patient_id}", headers={"Accept": "application/fhir+xml"},
                        timeout=30)
    root = xml_root(read, 200)
    assert root.find(F + "active").get("value") == "true"
    assert root.find(F + "multipleBirthInteger").get("value") == "2"
    assert root.find(f"{F}text/{{{XHTML_NS}}}div/{{{XHTML_NS}}}p/{{{XHTML_NS}}}b").text == family
    assert from_xml(read.content) == as_json  # the same values with the same JSON types

    by_format = requests.get(f"{base}/Patient/{patient_id}", params={"_format": "xml"},
                             timeout=30)
    xml_root(by_format, 200)
    assert from_xml(by_format.content) == as_json
    plain = requests.get(f"{base}/Patient/{patient_id}", headers={"Accept": "application/xml"},
                         timeout=30)
    xml_root(plain, 200, "application/xml")
    assert from_xml(plain.content) == as_json


def test_update_with_an_xml_body(base, http):
    created = http.post(f"{base}/Patient", json=patient()).json()
    changed = {**created, "active": False}
    response = requests.put(f"{base}/Patient/{created['id']}", data=to_xml(changed),
                            headers={"Content-Type": "application/fhir+xml"}, timeout=30)
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("application/fhir+json")
    assert response.json()["active"] is False


def test_a_search_bundle_as_xml_embeds_the_resources(base, http):
    family = unique_name("Xmlsearch")
    created = http.post(f"{base}/Patient", json=patient(family, pnr=make_pnr())).json()
    response = requests.get(f"{base}/Patient", params={"family": family, "_format": "xml"},
                            timeout=30)
    root = xml_root(response, 200)
    assert root.tag == F + "Bundle"
    assert root.find(F + "type").get("value") == "searchset"
    assert root.find(F + "total").get("value") == "1"
    embedded = root.find(f"{F}entry/{F}resource/{F}Patient")
    assert embedded.find(F + "id").get("value") == created["id"]
    bundle = from_xml(response.content)
    assert bundle["total"] == 1
    assert bundle["entry"][0]["resource"] == created
    assert bundle["entry"][0]["search"] == {"mode": "match"}


def test_generate_reserve_id_takes_and_answers_xml_parameters(base):
    born = fresh_date()
    body = f"""<Parameters xmlns="http://hl7.org/fhir">
  <parameter><name value="system"/><valueUri value="{NRID_SYSTEM}"/></parameter>
  <parameter><name value="birthDate"/><valueDate value="{born.isoformat()}"/></parameter>
  <parameter><name value="gender"/><valueCode value="male"/></parameter>
  <parameter><name value="count"/><valueInteger value="2"/></parameter>
</Parameters>"""
    response = requests.post(f"{base}/Patient/$generate-reserve-id", data=body.encode(),
                             headers=XML, timeout=60)
    root = xml_root(response, 200)
    assert root.tag == F + "Parameters"
    output = from_xml(response.content)
    identifiers = [p["valueIdentifier"] for p in output["parameter"] if p["name"] == "identifier"]
    assert len(identifiers) == 2
    assert {i["system"] for i in identifiers} == {NRID_SYSTEM}
    assert len({i["value"] for i in identifiers}) == 2


def test_errors_are_operation_outcomes_in_xml_when_xml_is_asked_for(base):
    missing = requests.get(f"{base}/Patient/no-such-id", headers={"Accept": "application/fhir+xml"},
                           timeout=30)
    root = xml_root(missing, 404)
    assert root.tag == F + "OperationOutcome"
    assert root.find(f"{F}issue/{F}code").get("value") == "not-found"

    bad = patient_xml(unique_name("Xml"), "199801019815")  # wrong check digit
    invalid = requests.post(f"{base}/Patient", data=bad, headers=XML, timeout=30)
    root = xml_root(invalid, 422)
    issue = from_xml(invalid.content)["issue"][0]
    assert issue["expression"] == ["Patient.identifier[0].value"]
    assert "check digit" in issue["diagnostics"]
    assert [c.tag.removeprefix(F) for c in root.find(F + "issue")] == [
        "severity", "code", "details", "diagnostics", "expression"]  # FHIR element order


HOSTILE = {
    "billion laughs": b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<Patient xmlns="http://hl7.org/fhir"><name><family value="&lol3;"/></name></Patient>""",
    "external entity": b"""<?xml version="1.0"?>
<!DOCTYPE p [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<Patient xmlns="http://hl7.org/fhir"><name><family value="&xxe;"/></name></Patient>""",
}


def test_hostile_xml_is_refused_with_400(base):
    for name, body in HOSTILE.items():
        as_json = requests.post(f"{base}/Patient", data=body,
                                headers={"Content-Type": "application/fhir+xml"}, timeout=30)
        assert as_json.status_code == 400, name
        assert as_json.headers["Content-Type"].startswith("application/fhir+json")
        outcome = as_json.json()
        assert outcome["resourceType"] == "OperationOutcome"
        assert "DTD" in outcome["issue"][0]["diagnostics"]
        as_xml = requests.post(f"{base}/Patient", data=body, headers=XML, timeout=30)
        assert xml_root(as_xml, 400).tag == F + "OperationOutcome"


def test_malformed_and_non_fhir_xml_is_400(base):
    for body in (b"<Patient xmlns='http://hl7.org/fhir'><active value='true'>",
                 b"<Patient><active value='true'/></Patient>",
                 b"<Patient xmlns='http://hl7.org/fhir'><active value='maybe'/></Patient>",
                 b"<Patient xmlns='http://hl7.org/fhir'><shoeSize value='42'/></Patient>"):
        response = requests.post(f"{base}/Patient", data=body, headers=XML, timeout=30)
        assert xml_root(response, 400).tag == F + "OperationOutcome"


def test_json_patch_stays_json_only_and_406_stays_json(base, http):
    created = http.post(f"{base}/Patient", json=patient()).json()
    patch = requests.patch(f"{base}/Patient/{created['id']}", data=b"<Parameters/>",
                           headers={"Content-Type": "application/fhir+xml"}, timeout=30)
    assert patch.status_code == 415
    refused = requests.get(f"{base}/Patient", headers={"Accept": "text/html"}, timeout=30)
    assert refused.status_code == 406
    assert refused.headers["Content-Type"].startswith("application/fhir+json")


def test_json_is_still_the_default_and_the_capability_statement_lists_xml(base, http):
    assert requests.get(f"{base}/metadata", timeout=30).headers["Content-Type"].startswith(
        "application/fhir+json")
    statement = http.get(f"{base}/metadata").json()
    assert "application/fhir+xml" in statement["format"]
    as_xml = requests.get(f"{base}/metadata", params={"_format": "application/fhir+xml"},
                          timeout=30)
    root = xml_root(as_xml, 200)
    assert root.tag == F + "CapabilityStatement"
    assert "application/fhir+xml" in [f.get("value") for f in root.findall(F + "format")]

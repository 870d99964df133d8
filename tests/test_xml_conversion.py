"""FHIR JSON ⇄ XML conversion (``app.xml``, http://hl7.org/fhir/R4/xml.html)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from app.xml import FHIR_NS, XHTML_NS, XmlError, from_xml, to_xml

F = "{" + FHIR_NS + "}"
BIRTH_TIME = "http://hl7.org/fhir/StructureDefinition/patient-birthTime"
DIV = f'<div xmlns="{XHTML_NS}"><p>Testa <b>Testsson</b> &amp; co</p></div>'

PATIENT = {
    "resourceType": "Patient",
    "id": "p1",
    "meta": {"versionId": "3", "lastUpdated": "2024-05-01T10:00:00.000Z",
             "security": [{"system": "http://terminology.hl7.org/CodeSystem/v3-Confidentiality",
                           "code": "R"}]},
    "text": {"status": "generated", "div": DIV},
    "contained": [{"resourceType": "Organization", "id": "org", "name": "Vårdcentral\nNorr"}],
    "extension": [{"url": "http://example.org/decimal", "valueDecimal": 1.25},
                  {"url": "http://example.org/int", "valueInteger": -4}],
    "identifier": [{"system": "urn:oid:1.2.752.129.2.1.3.1", "value": "199801019802"}],
    "active": True,
    "name": [{"use": "official", "family": "Testsson", "given": ["Testa", "Maria"],
              "_given": [None, {"id": "g2", "extension": [
                  {"url": "http://example.org/call-name", "valueBoolean": True}]}]}],
    "gender": "female",
    "birthDate": "1998-01-01",
    "_birthDate": {"extension": [{"url": BIRTH_TIME,
                                  "valueDateTime": "1998-01-01T14:35:45+01:00"}]},
    "deceasedBoolean": False,
    "multipleBirthInteger": 2,
    "managingOrganization": {"reference": "#org"},
}


def roundtrip(resource: dict) -> dict:
    return from_xml(to_xml(resource))


def test_patient_round_trips_with_types_extensions_and_narrative():
    assert roundtrip(PATIENT) == PATIENT
    root = ET.fromstring(to_xml(PATIENT))
    assert root.tag == F + "Patient"
    assert root.find(F + "active").get("value") == "true"
    assert root.find(F + "id").get("value") == "p1"  # a resource id is an element
    given = root.findall(f"{F}name/{F}given")
    assert [g.get("value") for g in given] == ["Testa", "Maria"]
    assert given[1].get("id") == "g2"  # an element id is an attribute
    assert given[1].find(F + "extension").get("url") == "http://example.org/call-name"
    assert root.find(f"{F}text/{{{XHTML_NS}}}div/{{{XHTML_NS}}}p") is not None
    contained = root.find(f"{F}contained/{F}Organization")
    assert contained.find(F + "name").get("value") == "Vårdcentral\nNorr"


def test_elements_are_written_in_fhir_order_whatever_the_json_order():
    shuffled = {"resourceType": "OperationOutcome", "issue": [
        {"diagnostics": "x", "details": {"text": "x"}, "code": "invalid", "severity": "error"}]}
    root = ET.fromstring(to_xml(shuffled))
    assert [child.tag.removeprefix(F) for child in root.find(F + "issue")] == [
        "severity", "code", "details", "diagnostics"]


def test_bundle_with_entries_round_trips():
    bundle = {
        "resourceType": "Bundle", "id": "b1", "meta": {"lastUpdated": "2024-05-01T10:00:00Z"},
        "type": "batch-response", "total": 2,
        "link": [{"relation": "self", "url": "http://x/fhir/Patient?family=a&_count=10"}],
        "entry": [
            {"fullUrl": "http://x/fhir/Patient/p1", "resource": PATIENT,
             "search": {"mode": "match", "score": 0.75}},
            {"response": {"status": "404", "outcome": {
                "resourceType": "OperationOutcome",
                "issue": [{"severity": "error", "code": "not-found", "diagnostics": "gone"}]}}},
            {"fullUrl": "urn:uuid:1", "request": {"method": "DELETE", "url": "Patient/p2"},
             "response": {"status": "204", "etag": 'W/"2"'}},
        ],
    }
    assert roundtrip(bundle) == bundle
    root = ET.fromstring(to_xml(bundle))
    assert root.find(f"{F}entry/{F}resource/{F}Patient") is not None
    assert root.find(f"{F}entry/{F}response/{F}outcome/{F}OperationOutcome") is not None
    assert root.find(F + "total").get("value") == "2"


def test_parameters_with_nested_resource_and_parts_round_trip():
    parameters = {"resourceType": "Parameters", "parameter": [
        {"name": "patient", "resource": {"resourceType": "Patient", "gender": "male"}},
        {"name": "count", "valueInteger": 3},
        {"name": "system", "valueUri": "urn:oid:1.2.752.74.9.1"},
        {"name": "identifier", "valueIdentifier": {"system": "urn:x", "value": "1"}},
        {"name": "match", "part": [
            {"name": "score", "valueDecimal": 0.5},
            {"name": "certain", "valueBoolean": False},
            {"name": "deep", "part": [{"name": "date", "valueDate": "2001-02-03"}]},
        ]},
    ]}
    assert roundtrip(parameters) == parameters


def test_operation_outcome_round_trips():
    outcome = {"resourceType": "OperationOutcome", "issue": [
        {"severity": "error", "code": "processable", "details": {"text": "Bad <check> & digit"},
         "diagnostics": "Bad <check> & digit", "expression": ["Patient.identifier[0].value"]},
        {"severity": "information", "code": "informational",
         "location": ["/f:Patient", "/f:Patient/f:name"]},
    ]}
    assert roundtrip(outcome) == outcome


OFFICIAL_XML = """<?xml version="1.0" encoding="UTF-8"?>
<Patient xmlns="http://hl7.org/fhir" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
    xsi:schemaLocation="http://hl7.org/fhir ../../schema/patient.xsd">
  <id value="example"/>
  <!--   MRN assigned by ACME healthcare on 6-May 2001   -->
  <text>
    <status value="generated"/>
    <div xmlns="http://www.w3.org/1999/xhtml"><p>Peter James Chalmers</p></div>
  </text>
  <identifier>
    <use value="usual"/>
    <type>
      <coding>
        <system value="http://terminology.hl7.org/CodeSystem/v2-0203"/>
        <code value="MR"/>
      </coding>
    </type>
    <system value="urn:oid:1.2.36.146.595.217.0.1"/>
    <value value="12345"/>
    <period>
      <start value="2001-05-06"/>
    </period>
  </identifier>
  <active value="true"/>
  <name>
    <use value="official"/>
    <family value="Chalmers"/>
    <given value="Peter"/>
    <given value="James"/>
  </name>
  <gender value="male"/>
  <!--   The following is an example of an extension on a primitive   -->
  <birthDate value="1974-12-25">
    <extension url="http://hl7.org/fhir/StructureDefinition/patient-birthTime">
      <valueDateTime value="1974-12-25T14:35:45-05:00"/>
    </extension>
  </birthDate>
  <deceasedBoolean value="false"/>
  <contact>
    <name>
      <family value="du Marché">
        <extension url="http://hl7.org/fhir/StructureDefinition/humanname-own-prefix">
          <valueString value="VV"/>
        </extension>
      </family>
      <given value="Bénédicte"/>
    </name>
  </contact>
  <managingOrganization>
    <reference value="Organization/1"/>
  </managingOrganization>
</Patient>
"""

OFFICIAL_JSON = {
    "resourceType": "Patient",
    "id": "example",
    "text": {"status": "generated",
             "div": '<div xmlns="http://www.w3.org/1999/xhtml"><p>Peter James Chalmers</p></div>'},
    "identifier": [{
        "use": "usual",
        "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203",
                             "code": "MR"}]},
        "system": "urn:oid:1.2.36.146.595.217.0.1",
        "value": "12345",
        "period": {"start": "2001-05-06"},
    }],
    "active": True,
    "name": [{"use": "official", "family": "Chalmers", "given": ["Peter", "James"]}],
    "gender": "male",
    "birthDate": "1974-12-25",
    "_birthDate": {"extension": [{"url": "http://hl7.org/fhir/StructureDefinition/patient-birthTime",
                                  "valueDateTime": "1974-12-25T14:35:45-05:00"}]},
    "deceasedBoolean": False,
    "contact": [{"name": {
        "family": "du Marché",
        "_family": {"extension": [{
            "url": "http://hl7.org/fhir/StructureDefinition/humanname-own-prefix",
            "valueString": "VV"}]},
        "given": ["Bénédicte"],
    }}],
    "managingOrganization": {"reference": "Organization/1"},
}


def test_the_official_example_shape_reads_as_the_official_json():
    assert from_xml(OFFICIAL_XML.encode()) == OFFICIAL_JSON
    assert roundtrip(OFFICIAL_JSON) == OFFICIAL_JSON


def test_an_element_with_only_extensions_has_no_json_value():
    resource = {"resourceType": "Patient", "_gender": {"extension": [
        {"url": "http://hl7.org/fhir/StructureDefinition/data-absent-reason",
         "valueCode": "unknown"}]}}
    assert roundtrip(resource) == resource
    assert "gender" not in from_xml(to_xml(resource))


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<Patient xmlns="http://hl7.org/fhir"><id value="&lol3;"/></Patient>"""
EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE p [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<Patient xmlns="http://hl7.org/fhir"><id value="&xxe;"/></Patient>"""


@pytest.mark.parametrize("data, message", [
    (BILLION_LAUGHS, "DTD"),
    (EXTERNAL_ENTITY, "DTD"),
    (b"<Patient xmlns='http://hl7.org/fhir'><active value='true'>", "well-formed"),
    (b"<Patient><active value='true'/></Patient>", "namespace"),
    (b"<Observation xmlns='http://hl7.org/fhir'/>".replace(b"Observation", b"Nonsense"),
     "not a FHIR resource type"),
    (b"<HumanName xmlns='http://hl7.org/fhir'/>", "not a FHIR resource type"),
    (b"<Patient xmlns='http://hl7.org/fhir'><active value='yes'/></Patient>", "true or false"),
    (b"<Patient xmlns='http://hl7.org/fhir'><multipleBirthInteger value='1.5'/></Patient>",
     "integer"),
    (b"<Patient xmlns='http://hl7.org/fhir'><shoeSize value='42'/></Patient>", "not a known"),
    (b"<Patient xmlns='http://hl7.org/fhir'><gender value='male'/><gender value='female'/>"
     b"</Patient>", "only once"),
    (b"<Patient xmlns='http://hl7.org/fhir'><gender>male</gender></Patient>", "text"),
    (b"<Patient xmlns='http://hl7.org/fhir'><text><status value='generated'/><div/></text>"
     b"</Patient>", "XHTML"),
])
def test_hostile_or_invalid_xml_is_refused(data, message):
    with pytest.raises(XmlError, match=message):
        from_xml(data)


def test_attribute_values_keep_whitespace_and_markup_characters():
    resource = {"resourceType": "Patient", "id": "a",
                "name": [{"text": 'Tab\there "quoted" <b> & line\nbreak\r'}]}
    assert roundtrip(resource) == resource

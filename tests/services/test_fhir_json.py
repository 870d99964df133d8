"""``canonical_json`` writes what fhir_core's own dump writes, byte for byte
(app/services/fhir_json.py): on the example resources, a synthetic population, odd shapes
and generated Patients."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fhir.resources.R4B.patient import Patient
from fhir.resources.R4B.subscription import Subscription
from hypothesis import given, reject, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from app.services.fhir_json import canonical_json
from bench.swedish_population import generate

ROOT = Path(__file__).resolve().parents[2]


def text(resource: dict[str, Any]) -> str:
    """JSON text in key order (the standard library's: orjson takes no integer beyond 64
    bits, which a large decimal becomes)."""
    return json.dumps(resource, ensure_ascii=False)


def assert_same(resource: dict[str, Any], model_type: Any = Patient) -> None:
    model = model_type.model_validate(resource)
    library = model.model_dump(mode="json", exclude_none=True, by_alias=True)
    assert text(canonical_json(model)) == text(library)


def resources_in(node: Any) -> list[dict[str, Any]]:
    """Every Patient anywhere in a JSON document (a Bundle's entries included)."""
    found = []
    if isinstance(node, dict):
        if node.get("resourceType") == "Patient":
            found.append(node)
        for value in node.values():
            found += resources_in(value)
    elif isinstance(node, list):
        for item in node:
            found += resources_in(item)
    return found


#: The examples' Patients (an id the walkthrough fills in left out).
EXAMPLES = [{key: value for key, value in resource.items() if value != "{id}"}
            for path in sorted((ROOT / "examples").glob("*.json"))
            for resource in resources_in(json.loads(path.read_text()))]

#: Shapes the population has none of: primitive extensions with aligned nulls, comments,
#: a contained resource, every date, time and number type, base64 and uuid values.
ODD_SHAPES: list[dict[str, Any]] = [
    {"resourceType": "Patient", "id": "odd-1", "active": True,
     "meta": {"versionId": "3", "lastUpdated": "2020-01-01T10:00:00.000+01:00",
              "security": [{"system": "urn:x", "code": "c"}]},
     "name": [{"family": "Berg", "given": ["Anna", None, "Lena"],
               "_given": [None, {"extension": [{"url": "http://x/e", "valueString": "n"}]},
                          None], "period": {"start": "2001", "end": "2002-03"}}],
     "_gender": {"extension": [{"url": "http://x/g", "valueCode": "f"}]}, "gender": "female",
     "birthDate": "1998-07", "_birthDate": {"extension": [
         {"url": "http://hl7.org/fhir/StructureDefinition/patient-birthTime",
          "valueDateTime": "1998-07-01T12:30:15.123456-05:00"}]},
     "deceasedDateTime": "2020-02-29T23:59:59Z", "multipleBirthInteger": 2,
     "extension": [{"url": "http://x/d", "valueDecimal": 1.50},
                   {"url": "http://x/d0", "valueDecimal": 2},
                   {"url": "http://x/d1", "valueDecimal": 0.000001},
                   {"url": "http://x/i", "valueInstant": "2020-01-01T10:00:00.5Z"},
                   {"url": "http://x/t", "valueTime": "10:00:00"},
                   {"url": "http://x/da", "valueDate": "2020-02-29"},
                   {"url": "http://x/b", "valueBase64Binary": "aGVsbG8="},
                   {"url": "http://x/u",
                    "valueUuid": "urn:uuid:c757873d-ec9a-4326-a141-556f43239520"},
                   {"url": "http://x/o", "valueOid": "urn:oid:1.2.752.129.2.1.3.1"},
                   {"url": "http://x/p", "valuePositiveInt": 7},
                   {"url": "http://x/q", "valueQuantity": {"value": 70.250, "unit": "kg"}},
                   {"url": "http://x/s", "valueString": " spaced  text "}],
     "photo": [{"contentType": "image/png", "data": "iVBORw0KGgo=", "size": 8,
                "creation": "2019-12-31T23:00:00+14:00"}],
     "contained": [{"resourceType": "Organization", "id": "o1", "name": "Vårdcentralen"}],
     "managingOrganization": {"reference": "#o1"},
     "telecom": [{"system": "phone", "value": "070-123 45 67", "rank": 1,
                  "period": {"start": "2010-01-01T00:00:00Z"}}],
     "contact": [{"relationship": [{"coding": [{"system": "urn:x", "code": "N",
                                                "userSelected": False}]}],
                  "name": {"text": "Kontakt"}, "gender": "other"}],
     "communication": [{"language": {"text": "sv"}, "preferred": True}],
     "link": [{"other": {"reference": "Patient/x"}, "type": "seealso"}],
     "fhir_comments": ["a comment"]},
    {"resourceType": "Patient", "deceasedBoolean": False, "multipleBirthBoolean": True,
     "_active": {"id": "a1"}, "birthDate": "1950",
     "address": [{"line": ["Storgatan 1", None], "_line": [None, {"id": "l2"}],
                  "postalCode": "123 45", "country": "SE"}]},
    {"resourceType": "Patient", "_gender": {"id": "g"},
     "name": [{"given": ["Å"], "_given": [{"id": "n"}]}]},
]

SUBSCRIPTION = {
    "resourceType": "Subscription", "status": "requested", "reason": "test",
    "criteria": "Patient?identifier=urn:oid:1.2.752.129.2.1.3.1|",
    "end": "2030-01-01T00:00:00.000Z",
    "channel": {"type": "rest-hook", "endpoint": "https://example.org/hook",
                "payload": "application/fhir+json", "header": ["Authorization: Bearer x"],
                "_payload": {"extension": [{
                    "url": "http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/"
                           "backport-payload-content", "valueCode": "id-only"}]}},
}


@pytest.mark.parametrize("resource", EXAMPLES + ODD_SHAPES,
                         ids=lambda r: str(r.get("id", "odd")))
def test_the_same_json_as_the_library_for_examples_and_odd_shapes(resource):
    assert_same(resource)


def test_the_same_json_as_the_library_for_a_subscription():
    assert_same(SUBSCRIPTION, Subscription)


def test_the_same_json_as_the_library_for_a_synthetic_population():
    population = generate(500, 11, queries=0).patients
    for person in population:
        assert_same(person)


#: Text a FHIR string may hold: no control characters, and no whitespace but the space
#: (a string of only U+00A0 breaks the pattern ``[ \r\n\t\S]+``).
_TEXT = st.text(alphabet=st.characters(codec="utf-8", include_characters=" ",
                                       exclude_categories=("Cs", "Cc", "Zs", "Zl", "Zp")),
                min_size=1, max_size=12)
_DATE = st.sampled_from(["1998", "1998-07", "1998-07-31", "2000-02-29"])
_DATETIME = st.sampled_from(["2020", "2020-01", "2020-01-02", "2020-01-02T03:04:05Z",
                             "2020-01-02T03:04:05.1+01:00", "2020-01-02T03:04:05.123456-12:00",
                             "2020-01-02T03:04:05.000Z"])
_NUMBER = st.one_of(st.integers(-10**6, 10**6),
                    st.floats(allow_nan=False, allow_infinity=False, width=32))
_EXTENSION = st.one_of(
    st.builds(lambda v: {"url": "http://x/s", "valueString": v}, _TEXT),
    st.builds(lambda v: {"url": "http://x/d", "valueDecimal": v}, _NUMBER),
    st.builds(lambda v: {"url": "http://x/t", "valueDateTime": v}, _DATETIME),
    st.builds(lambda v: {"url": "http://x/b", "valueBoolean": v}, st.booleans()),
    st.builds(lambda v: {"url": "http://x/c", "valueCode": v},
              st.text(alphabet="abcXYZ09-", min_size=1, max_size=5)),
)


@st.composite
def patients(draw: st.DrawFn) -> dict[str, Any]:
    """Patients of generated values in many of the elements a client sends."""
    resource: dict[str, Any] = {"resourceType": "Patient"}
    if draw(st.booleans()):
        givens = draw(st.lists(st.one_of(st.none(), _TEXT), min_size=1, max_size=3))
        name: dict[str, Any] = {"family": draw(_TEXT), "given": givens}
        if None in givens:
            name["_given"] = [{"extension": [draw(_EXTENSION)]} if g is None else None
                              for g in givens]
        resource["name"] = [name]
    if draw(st.booleans()):
        resource["birthDate"] = draw(_DATE)
    choice = draw(st.sampled_from(["none", "bool", "datetime"]))
    if choice == "bool":
        resource["deceasedBoolean"] = draw(st.booleans())
    elif choice == "datetime":
        resource["deceasedDateTime"] = draw(_DATETIME)
    if draw(st.booleans()):
        resource["extension"] = draw(st.lists(_EXTENSION, min_size=1, max_size=4))
    if draw(st.booleans()):
        resource["meta"] = {"lastUpdated": draw(st.sampled_from(
            ["2020-01-02T03:04:05Z", "2020-01-02T03:04:05.120+02:00"]))}
    if draw(st.booleans()):
        resource["telecom"] = [{"system": "email", "value": draw(_TEXT),
                                "rank": draw(st.integers(1, 9))}]
    return resource


@settings(max_examples=300, deadline=None)
@given(patients())
def test_the_same_json_as_the_library_for_generated_patients(resource):
    try:
        Patient.model_validate(resource)
    except ValidationError:
        reject()  # only what the library accepts has a dump to compare with
    assert_same(resource)

"""The one protection decision fails closed (issue 14): a patient-type extension protects
unless it is exactly a well-formed Coding of a non-protecting type on the Patient itself,
and a security label protects unless it is a readable label of another system —
whatever shape either comes in."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.domain.protection import SECURITY_LABEL_SYSTEM, group_is_protected, is_protected

TYPE_URL = "http://sweid.example/fhir/StructureDefinition/patient-type"
TYPE_SYSTEM = "http://sweid.example/fhir/CodeSystem/patient-type"
GROUP_URL = "http://sweid.example/fhir/StructureDefinition/patient-group"
LABELS = "http://hl7.se/fhir/ig/base/CodeSystem/SecurityLabel"
#: The patient types domain.md §3.6 leaves unprotected; "oklar" protects.
UNPROTECTED = ("folkbokford", "samordningsnummer", "reservnummer")


def typed(extension: dict[str, Any]) -> dict[str, Any]:
    return {"resourceType": "Patient", "extension": [extension]}


def type_coding(code: str, system: str = TYPE_SYSTEM) -> dict[str, Any]:
    return {"url": TYPE_URL, "valueCoding": {"system": system, "code": code}}


@pytest.mark.parametrize("code", UNPROTECTED)
def test_a_well_formed_unprotected_type_does_not_protect(code: str) -> None:
    assert not is_protected(typed(type_coding(code)))
    assert not is_protected(typed({"url": TYPE_URL, "valueCoding": {
        "system": TYPE_SYSTEM, "code": code, "display": code.title()}}))


@pytest.mark.parametrize("extension", [
    type_coding("oklar"),
    {"url": TYPE_URL, "valueCodeableConcept": {"coding": [{"system": TYPE_SYSTEM,
                                                           "code": "oklar"}]}},
    {"url": TYPE_URL, "valueString": "oklar"},
    {"url": TYPE_URL, "valueCode": "oklar"},
    type_coding("OKLAR"),
    type_coding("Oklar"),
    type_coding("oklar", "http://example.org/types"),
    # Failing closed: a non-protecting code is not read as one in any other shape either.
    type_coding("folkbokford", "http://example.org/types"),
    {"url": TYPE_URL, "valueString": "folkbokford"},
    {"url": TYPE_URL, "valueCodeableConcept": {"coding": [{"system": TYPE_SYSTEM,
                                                           "code": "folkbokford"}]}},
    {"url": TYPE_URL, "valueCoding": {"code": "folkbokford"}},
    {"url": TYPE_URL, "valueCoding": {"system": TYPE_SYSTEM, "code": "folkbokford"},
     "valueString": "oklar"},
    {"url": TYPE_URL},
    type_coding("hemlig"),
], ids=lambda extension: str(extension)[60:110])
def test_any_other_patient_type_shape_protects(extension: dict[str, Any]) -> None:
    assert is_protected(typed(extension))


@pytest.mark.parametrize("resource", [
    {"identifier": [{"value": "1", "extension": [type_coding("folkbokford")]}]},
    {"modifierExtension": [type_coding("folkbokford")]},
    {"extension": [{"url": "http://example.org/x", "extension": [type_coding("folkbokford")]}]},
    {"name": [{"_family": {"extension": [type_coding("folkbokford")]}}]},
    {"contained": [{"resourceType": "Patient", "extension": [type_coding("oklar")]}]},
])
def test_a_patient_type_anywhere_but_on_the_patient_protects(resource: dict[str, Any]) -> None:
    assert is_protected({"resourceType": "Patient", **resource})


def test_one_protecting_type_among_others_protects() -> None:
    assert is_protected({"extension": [type_coding("folkbokford"), type_coding("oklar")]})


def test_nothing_to_protect() -> None:
    assert not is_protected({"resourceType": "Patient"})
    assert not is_protected({"resourceType": "Patient", "meta": {"versionId": "1"}})
    assert not is_protected(typed({"url": GROUP_URL, "valueString": "oklar"}))
    assert not is_protected({"resourceType": "Patient", "meta": {"security": [
        {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "DEMO"}]}})


@pytest.mark.parametrize("labels", [
    [{"system": LABELS, "code": "sekretessmarkering"}],
    [{"system": LABELS, "code": "skyddadFolkbokforing"}],
    [{"system": LABELS, "code": "Sekretessmarkering"}],
    [{"system": LABELS}],
    [{"code": "sekretessmarkering"}],
    [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": None}],
    ["sekretessmarkering"],
    {"system": LABELS, "code": "sekretessmarkering"},
    None,
], ids=str)
def test_a_protection_label_or_one_that_cannot_be_read_protects(labels: Any) -> None:
    assert is_protected({"resourceType": "Patient", "meta": {"security": labels}})


@pytest.mark.parametrize("resource", [None, [], "Patient", {"resourceType": "Patient",
                                                             "meta": []}])
def test_what_is_not_a_patient_object_protects(resource: Any) -> None:
    assert is_protected(resource)


# --- whatever the shape -----------------------------------------------------------------

JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=5),
                    lambda inner: st.lists(inner, max_size=2)
                    | st.dictionaries(st.text(max_size=4), inner, max_size=2), max_leaves=5)
CODES = st.sampled_from([*UNPROTECTED, "oklar", "OKLAR", "Folkbokford", " folkbokford", ""])
SYSTEMS = st.sampled_from([TYPE_SYSTEM, TYPE_SYSTEM.upper(), TYPE_SYSTEM + "/",
                           "http://sweid.example/fhir/CodeSystem/patient-group"])
CODINGS = st.fixed_dictionaries({}, optional={
    "system": SYSTEMS | JSON, "code": CODES | JSON, "display": st.text(max_size=5)})
VALUES = st.fixed_dictionaries({}, optional={
    "valueCoding": CODINGS | JSON,
    "valueCodeableConcept": st.fixed_dictionaries({"coding": st.lists(CODINGS, max_size=2)}),
    "valueString": CODES | JSON,
    "valueCode": CODES,
    "extension": st.lists(st.fixed_dictionaries({"url": st.just("x"), "valueString": CODES}),
                          max_size=1),
    "id": st.text(max_size=3),
})


def exactly_an_unprotected_type(extension: dict[str, Any]) -> bool:
    """The only patient-type extension that does not protect: one valueCoding, nothing
    inside, the project's system and a non-protecting code, exactly as spelt."""
    values = [key for key in extension if key.startswith("value")]
    coding = extension.get("valueCoding")
    return (values == ["valueCoding"] and not extension.get("extension")
            and isinstance(coding, dict) and coding.get("system") == TYPE_SYSTEM
            and coding.get("code") in UNPROTECTED)


@settings(max_examples=300, deadline=None)
@given(VALUES)
def test_a_patient_type_protects_unless_exactly_an_unprotected_code(
        value: dict[str, Any]) -> None:
    extension = {"url": TYPE_URL, **value}
    assert is_protected(typed(extension)) == (not exactly_an_unprotected_type(extension))


@settings(max_examples=100, deadline=None)
@given(VALUES, st.sampled_from(["identifier", "modifierExtension", "nested", "contained"]))
def test_a_patient_type_elsewhere_always_protects(value: dict[str, Any], where: str) -> None:
    extension = {"url": TYPE_URL, **value}
    placed: dict[str, Any] = {
        "identifier": {"identifier": [{"value": "1", "extension": [extension]}]},
        "modifierExtension": {"modifierExtension": [extension]},
        "nested": {"extension": [{"url": "http://example.org/x", "extension": [extension]}]},
        "contained": {"contained": [typed(extension)]},
    }[where]
    assert is_protected({"resourceType": "Patient", **placed})


@settings(max_examples=200, deadline=None)
@given(st.lists(st.fixed_dictionaries({}, optional={
    "system": st.sampled_from([LABELS, "http://terminology.hl7.org/CodeSystem/v3-ActCode"])
    | JSON, "code": st.sampled_from(["sekretessmarkering", "skyddadFolkbokforing", "DEMO"])
    | JSON}) | JSON, max_size=3))
def test_labels_protect_unless_each_is_a_readable_label_of_another_system(
        labels: list[Any]) -> None:
    readable_other = all(
        isinstance(label, dict) and isinstance(label.get("code"), str)
        and isinstance(label.get("system"), str) and label["system"] != LABELS
        for label in labels)
    assert is_protected({"resourceType": "Patient", "meta": {"security": labels}}) \
        == (not readable_other)


@settings(max_examples=200, deadline=None)
@given(JSON)
def test_any_json_at_all_gets_an_answer(document: Any) -> None:
    assert isinstance(is_protected(document), bool)
    assert isinstance(is_protected({"extension": [{"url": TYPE_URL, "valueCoding": document},
                                                  document]}), bool)


def test_a_linked_group_is_protected_when_any_record_of_it_is() -> None:
    plain = {"resourceType": "Patient", "gender": "female"}
    labelled = {"resourceType": "Patient", "meta": {"security": [
        {"system": SECURITY_LABEL_SYSTEM, "code": "skyddadFolkbokforing"}]}}
    assert not group_is_protected([plain, plain, None], complete=True)
    assert group_is_protected([plain, None, labelled], complete=True)
    assert group_is_protected(["not a resource"], complete=True)  # unreadable: fails closed


def test_a_group_too_large_to_walk_to_its_end_is_protected() -> None:
    assert group_is_protected([{"resourceType": "Patient"}], complete=False)

"""The one check of the server's own extensions against their definitions (issue 14): every
rule of the StructureDefinitions in fhir_profiles/ — value[x] type, CodeSystem system and
code (case-sensitive), cardinality, context, closed parts — refused with the extension as
the expression and the rule in the text."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app import conformance
from app.domain.errors import BusinessRuleViolation
from app.domain.extensions import EXTENSIONS, _walk, check_extensions, placed_extensions

BASE = "http://sweid.example/fhir/StructureDefinition/"
TYPE_URL = BASE + "patient-type"
TYPE_SYSTEM = "http://sweid.example/fhir/CodeSystem/patient-type"
GROUP_URL = BASE + "patient-group"
GROUP_SYSTEM = "http://sweid.example/fhir/CodeSystem/patient-group"
SNR_URL = BASE + "snr-status"


def coding(code: str, system: str = TYPE_SYSTEM) -> dict[str, Any]:
    return {"system": system, "code": code}


def patient_type(code: str = "folkbokford", **value: Any) -> dict[str, Any]:
    """A patient-type extension: valueCoding of ``code`` unless ``value`` says otherwise."""
    return {"url": TYPE_URL, **(value or {"valueCoding": coding(code)})}


def refusal(resource: dict[str, Any]) -> BusinessRuleViolation:
    with pytest.raises(BusinessRuleViolation) as raised:
        check_extensions({"resourceType": "Patient", **resource})
    return raised.value


VALID = [
    [patient_type("folkbokford")],
    [patient_type("oklar"), {"url": GROUP_URL, "valueCoding": coding("07/99", GROUP_SYSTEM)}],
    [{"url": TYPE_URL, "valueCoding": {**coding("reservnummer"), "display": "Reservnummer"}}],
    [{"url": SNR_URL, "extension": [{"url": "status", "valueCode": "dormant"},
                                    {"url": "deregistrationReason", "valueCode": "AN"}]}],
    [{"url": "http://example.org/other", "valueString": "anything"}],
]


@pytest.mark.parametrize("extensions", VALID)
def test_extensions_that_keep_their_definitions_pass(extensions: list[dict[str, Any]]) -> None:
    check_extensions({"resourceType": "Patient", "extension": extensions})


def test_snr_status_may_stand_on_an_identifier() -> None:
    check_extensions({"resourceType": "Patient", "identifier": [{"value": "x", "extension": [
        {"url": SNR_URL, "extension": [{"url": "status", "valueCode": "active"}]}]}]})


#: (extension, words the message must hold); each stands at Patient.extension[1].
BROKEN = {
    "valueCodeableConcept": (
        patient_type(valueCodeableConcept={"coding": [coding("oklar")]}),
        "patient-type takes exactly one valueCoding (Coding), not valueCodeableConcept"),
    "valueString": (patient_type(valueString="oklar"),
                    "patient-type takes exactly one valueCoding (Coding), not valueString"),
    "valueCode": (patient_type(valueCode="oklar"), "not valueCode"),
    "two values": (patient_type(valueCoding=coding("folkbokford"), valueString="oklar"),
                   "not valueCoding, valueString"),
    "no value": ({"url": TYPE_URL, "extension": [{"url": "x", "valueString": "oklar"}]},
                 "not no value"),
    "OKLAR": (patient_type("OKLAR"), "the code must be one of folkbokford, samordningsnummer, "
                                     "reservnummer, oklar (CodeSystem patient-type; codes are "
                                     "case-sensitive)"),
    "unknown code": (patient_type("hemlig"), "CodeSystem patient-type"),
    "no code": (patient_type(valueCoding={"system": TYPE_SYSTEM}), "the code must be one of"),
    "wrong system": (patient_type(valueCoding=coding("oklar", "http://example.org/types")),
                     f"patient-type: valueCoding.system must be {TYPE_SYSTEM}"),
    "no system": (patient_type(valueCoding={"code": "oklar"}), "valueCoding.system must be"),
    "group system on type": (patient_type(valueCoding=coding("oklar", GROUP_SYSTEM)),
                             "valueCoding.system must be"),
    "group code": ({"url": GROUP_URL, "valueCoding": coding("07/98", GROUP_SYSTEM)},
                   "CodeSystem patient-group"),
    "extension inside": (patient_type(valueCoding=coding("oklar"),
                                      extension=[{"url": "x", "valueString": "y"}]),
                         "patient-type is a simple extension: no extensions inside it"),
    "unknown url of ours": ({"url": BASE + "patient-typ", "valueString": "oklar"},
                            "the url names no extension this server defines"),
    "snr-status value": ({"url": SNR_URL, "valueCode": "active"},
                         "snr-status is a complex extension: no value[x], only its parts "
                         "(status, deregistrationReason)"),
    "snr-status empty": ({"url": SNR_URL},
                         "snr-status needs at least one of its parts"),
    "snr-status unknown part": ({"url": SNR_URL, "extension": [{"url": "reason",
                                                                 "valueCode": "AN"}]},
                                "snr-status: a part that is not one of status, "
                                "deregistrationReason"),
    "snr-status part twice": ({"url": SNR_URL, "extension": [
        {"url": "status", "valueCode": "active"}, {"url": "status", "valueCode": "dormant"}]},
        "snr-status: part status may occur only once"),
    "snr-status code": ({"url": SNR_URL, "extension": [{"url": "status",
                                                         "valueCode": "Active"}]},
                        "snr-status.status: the code must be one of active, dormant"),
    "snr-status part type": ({"url": SNR_URL, "extension": [
        {"url": "status", "valueCoding": {"code": "active"}}]},
        "snr-status.status takes exactly one valueCode (code), not valueCoding"),
}


@pytest.mark.parametrize("case", list(BROKEN))
def test_a_broken_extension_is_refused_naming_the_rule_at_the_extension(case: str) -> None:
    extension, words = BROKEN[case]
    group = {"url": GROUP_URL, "valueCoding": coding("01/99", GROUP_SYSTEM)}
    error = refusal({"extension": [group, extension]})
    assert error.expression == ["Patient.extension[1]"]
    assert error.message.startswith("Patient.extension[1]: ")
    assert words in error.message
    assert error.code == "business-rule"


def test_the_message_never_quotes_the_value() -> None:
    error = refusal({"extension": [patient_type(valueString="hemlig-19121212-1212")]})
    assert "hemlig" not in error.message and "1212" not in error.message


def test_each_extension_occurs_at_most_once_on_an_element() -> None:
    error = refusal({"extension": [patient_type("folkbokford"), patient_type("folkbokford")]})
    assert error.expression == ["Patient.extension[1]"]
    assert "patient-type may occur only once on Patient" in error.message
    snr = {"url": SNR_URL, "extension": [{"url": "status", "valueCode": "active"}]}
    error = refusal({"identifier": [{"value": "1", "extension": [snr]},
                                    {"value": "2", "extension": [snr, snr]}]})
    assert error.expression == ["Patient.identifier[1].extension[1]"]
    assert "snr-status may occur only once on Patient.identifier" in error.message


@pytest.mark.parametrize(("resource", "where"), [
    ({"identifier": [{"value": "1", "extension": [patient_type()]}]},
     "Patient.identifier[0].extension[0]"),
    ({"name": [{"_family": {"extension": [patient_type()]}}]},
     "Patient.name[0].family.extension[0]"),
    ({"name": [{"given": [None], "_given": [{"extension": [patient_type()]}]}]},
     "Patient.name[0].given[0].extension[0]"),
    ({"extension": [{"url": "http://example.org/x", "extension": [patient_type()]}]},
     "Patient.extension[0].extension[0]"),
    ({"telecom": [{"value": "1", "extension": [{"url": GROUP_URL,
                                               "valueCoding": coding("01/99", GROUP_SYSTEM)}]}]},
     "Patient.telecom[0].extension[0]"),
])
def test_an_extension_outside_its_context_is_refused(resource: dict[str, Any],
                                                     where: str) -> None:
    error = refusal(resource)
    assert error.expression == [where]
    assert "may only be used on Patient" in error.message


def test_a_modifier_extension_of_ours_is_refused() -> None:
    error = refusal({"modifierExtension": [patient_type()]})
    assert error.expression == ["Patient.modifierExtension[0]"]
    assert "patient-type is not a modifier extension" in error.message


def test_every_extension_definition_in_fhir_profiles_is_one_the_check_knows() -> None:
    served = {sd["url"] for sd in conformance.of_type("StructureDefinition")
              if sd["type"] == "Extension"
              and any(c["expression"].startswith("Patient") for c in sd.get("context", []))}
    assert served == {definition.url for definition in EXTENSIONS}
    assert {TYPE_URL, GROUP_URL, SNR_URL} <= served


def test_the_definitions_say_what_the_check_enforces() -> None:
    definition = conformance.resources()[("StructureDefinition", "patient-type")]
    elements = {el["id"]: el for el in definition["differential"]["element"]}
    assert elements["Extension.value[x]"]["type"] == [{"code": "Coding"}]
    assert elements["Extension"]["max"] == "1"
    assert [c["expression"] for c in definition["context"]] == ["Patient"]
    codes = conformance.resources()[("CodeSystem", "patient-type")]
    assert codes["caseSensitive"] is True
    assert [c["code"] for c in codes["concept"]] == ["folkbokford", "samordningsnummer",
                                                     "reservnummer", "oklar"]


#: Documents of any shape, their keys often the ones extensions hide under.
KEYS = st.sampled_from(["extension", "modifierExtension", "_given", "given", "url"]) \
    | st.text(max_size=4)
DOCUMENTS = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=4),
    lambda inner: st.lists(inner, max_size=3) | st.tuples(inner)
    | st.dictionaries(KEYS, inner, max_size=3)
    | st.dictionaries(st.integers(), inner, max_size=1),
    max_leaves=15)


@given(DOCUMENTS)
def test_the_shortcut_finds_every_extension_the_walk_finds(document: Any) -> None:
    """Most Patients hold no extension, and placed_extensions says so from their JSON text
    without walking them: it must never miss one, whatever the shape."""
    expected = [(p.expression, p.context, p.modifier) for p in _walk(document, "Patient",
                                                                      "Patient")]
    assert [(p.expression, p.context, p.modifier)
            for p in placed_extensions(document)] == expected

"""The CapabilityStatement names the IHE actors this server plays and their profiles, and
``$ihe-pix`` resolves under IHE's canonical (PIXm 3.1.0 ``input/fsh/capability.fsh`` and
``PIXm.fsh``; PDQm 3.2.0 ``input/fsh/capability.fsh``, repositories IHE/ITI.PIXm and
IHE/ITI.PDQm)."""

from __future__ import annotations

import requests

from tests.ihe.mohr import FHIR_JSON

PIX_OPERATION = "https://profiles.ihe.net/ITI/PIXm/OperationDefinition/IHE.PIXm.pix"


def test_instantiates_the_ihe_actors(base: str) -> None:
    statement = requests.get(f"{base}/metadata", headers=FHIR_JSON, timeout=30).json()
    assert set(statement["instantiates"]) == {
        "https://profiles.ihe.net/ITI/PIXm/CapabilityStatement/IHE.PIXm.Manager",
        "https://profiles.ihe.net/ITI/PDQm/CapabilityStatement/"
        "IHE.PDQm.PatientDemographicsSupplier",
        "https://profiles.ihe.net/ITI/PDQm/CapabilityStatement/"
        "IHE.PDQm.PatientDemographicsSupplierMatch",
    }
    patient = next(r for r in statement["rest"][0]["resource"] if r["type"] == "Patient")
    assert "https://profiles.ihe.net/ITI/PIXm/StructureDefinition/IHE.PIXm.Patient" in \
        patient["supportedProfile"]
    # ITI-104 needs conditional update and (Remove Patient Option) conditional delete.
    assert patient["conditionalUpdate"] is True
    assert patient["conditionalDelete"] in ("single", "multiple")
    assert {o["name"]: o["definition"] for o in patient["operation"]}["ihe-pix"] == PIX_OPERATION
    # ITI-78's parameters, each with its definition.
    params = {p["name"]: p for p in patient["searchParam"]}
    for name in ("_id", "active", "family", "given", "identifier", "telecom", "birthdate",
                 "address", "address-city", "address-country", "address-postalcode",
                 "address-state", "gender", "mothersMaidenName"):
        assert params[name]["type"] in ("string", "token", "date"), name
    assert params["mothersMaidenName"]["definition"] == (
        "http://hl7.org/fhir/SearchParameter/patient-extensions-Patient-mothersMaidenName")


def test_the_pix_operation_definition_resolves_by_its_ihe_canonical(base: str) -> None:
    found = requests.get(f"{base}/OperationDefinition", params={"url": PIX_OPERATION},
                         headers=FHIR_JSON, timeout=30).json()
    assert [e["resource"]["code"] for e in found["entry"]] == ["ihe-pix"]

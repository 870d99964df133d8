"""fhir_profiles/ against the identity registry, the served copies and the
CapabilityStatement (api.md "Conformance resources")."""

from __future__ import annotations

import json
import re

import pytest

from app import conformance
from app.identity.registry import KINDS
from app.operations import MODULES

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
    referenced = {op["definition"] for op in patient["operation"]}
    assert {od["url"] for od in conformance.of_type("OperationDefinition")} == referenced
    assert len(patient["operation"]) == len(MODULES)
    for op in patient["operation"]:
        code = op["name"]
        found = fhir.get(f"{base}/OperationDefinition", params={"code": code}).json()
        assert found["entry"][0]["resource"]["url"] == op["definition"]
    served_types = {r["type"] for r in statement["rest"][0]["resource"]}
    assert set(conformance.TYPES) <= served_types


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

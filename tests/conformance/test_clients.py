"""Real FHIR clients nobody here wrote, unmodified, against the running server: fhirpy and
fhirclient (Python) and fhir-kit-client (node). Create, read, update, search with paging,
conditional create and the custom operations the server lists in its CapabilityStatement."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from fhirclient import client as smart_client
from fhirclient.models.bundle import Bundle
from fhirclient.models.patient import Patient
from fhirpy import SyncFHIRClient

from tests.support import NRID_SYSTEM, PNR_SYSTEM, make_pnr, patient, unique_name


def operations(base: str, fhir) -> set[str]:
    statement = fhir.get(f"{base}/metadata").json()
    patient_rest = next(r for r in statement["rest"][0]["resource"] if r["type"] == "Patient")
    return {op["name"] for op in patient_rest.get("operation", [])}


def test_fhirpy_create_read_update_search_with_paging(base):
    client = SyncFHIRClient(base)
    family = unique_name("Fhirpy")
    for given in ("Ett", "Två", "Tre"):
        client.resource("Patient", **patient(family, given=given)).save()
    created = client.resource("Patient", **patient(family, pnr=make_pnr(), given="Fyra"))
    created.save()
    assert created.id and created["meta"]["versionId"] == "1"
    read = client.reference("Patient", created.id).to_resource()
    assert read["identifier"][0]["system"] == PNR_SYSTEM
    read["active"] = True
    read.save()
    assert client.reference("Patient", created.id).to_resource()["meta"]["versionId"] == "2"
    # limit(2) pages through the server's absolute next links.
    everyone = client.resources("Patient").search(family=family).limit(2).fetch_all()
    assert sorted(p["name"][0]["given"][0] for p in everyone) == ["Ett", "Fyra", "Tre", "Två"]
    assert client.resources("Patient").search(family=family).count() == 4


def test_fhirpy_conditional_create_gets_or_creates(base):
    client = SyncFHIRClient(base)
    pnr = make_pnr()
    search = client.resources("Patient").search(identifier=f"{PNR_SYSTEM}|{pnr}")
    first, created = search.get_or_create(client.resource("Patient", **patient(pnr=pnr)))
    second, created_again = search.get_or_create(client.resource("Patient", **patient(pnr=pnr)))
    assert (created, created_again) == (True, False)
    assert first.id == second.id


def test_fhirpy_runs_generate_reserve_id(base):
    client = SyncFHIRClient(base)
    answer = client.execute("Patient/$generate-reserve-id", method="post", data={
        "resourceType": "Parameters", "parameter": [
            {"name": "birthDate", "valueDate": "1995-06-06"},
            {"name": "gender", "valueCode": "female"}]})
    identifier = answer["parameter"][0]["valueIdentifier"]
    assert identifier["system"] == NRID_SYSTEM and identifier["value"].startswith("22950606")


def _smart(base: str) -> smart_client.FHIRClient:
    return smart_client.FHIRClient(settings={"app_id": "sweid-tests", "api_base": base + "/"})


def test_fhirclient_create_read_update_search_with_paging(base):
    server = _smart(base).server
    family = unique_name("Fhirclient")
    ids = []
    for given in ("Ett", "Två", "Tre"):
        made = Patient(patient(family, given=given)).create(server)
        ids.append(made["id"])
    read = Patient.read(ids[0], server)  # parsed by fhirclient's strict R4 models
    assert read.name[0].family == family
    read.active = False
    read.update(server)
    assert Patient.read(ids[0], server).meta.versionId == "2"
    found = Patient.where(struct={"family": family, "_count": "2"})
    pages = list(found.perform_iter(server))
    assert len(pages) == 2
    names = sorted(p.name[0].given[0] for p in found.perform_resources_iter(server))
    assert names == ["Ett", "Tre", "Två"]


def test_fhirclient_conditional_create_in_a_transaction(base):
    server = _smart(base).server
    pnr = make_pnr()
    entry = {"request": {"method": "POST", "url": "Patient",
                         "ifNoneExist": f"identifier={PNR_SYSTEM}|{pnr}"},
             "resource": patient(pnr=pnr)}
    bundle = Bundle({"resourceType": "Bundle", "type": "transaction", "entry": [entry]})
    first = Bundle(server.post_json("", bundle.as_json()).json())
    second = Bundle(server.post_json("", bundle.as_json()).json())
    assert first.entry[0].response.status.startswith("201")
    assert second.entry[0].response.status.startswith("200")
    assert first.entry[0].response.location.split("/")[1] == \
        second.entry[0].response.location.split("/")[1]


def test_fhirclient_runs_generate_reserve_id_with_a_patient(base):
    server = _smart(base).server
    params = {"resourceType": "Parameters", "parameter": [
        {"name": "count", "valueInteger": 2},
        {"name": "patient", "resource": patient("Driftstopp", birth="2019-01-01")}]}
    from fhirclient.models.parameters import Parameters

    answer = Parameters(server.post_json("Patient/$generate-reserve-id", params).json())
    refs = [p.valueReference.reference for p in answer.parameter if p.name == "patient"]
    assert len(refs) == 2
    for ref in refs:
        assert Patient.read(ref.split("/")[1], server).identifier[0].system == NRID_SYSTEM


def test_fhirpy_match_and_merge_when_the_server_offers_them(base, fhir):
    offered = operations(base, fhir)
    client = SyncFHIRClient(base)
    if "match" not in offered and "merge" not in offered:
        pytest.skip("the server lists neither $match nor $merge yet")
    pnr = make_pnr()
    person = client.resource("Patient", **patient(pnr=pnr, birth="1970-02-03"))
    person.save()
    if "match" in offered:
        found = client.execute("Patient/$match", method="post", data={
            "resourceType": "Parameters",
            "parameter": [{"name": "resource", "resource": patient(pnr=pnr)}]})
        assert found["resourceType"] == "Bundle"
        assert any(e["resource"]["id"] == person.id for e in found.get("entry", []))
    if "merge" in offered:
        reserve = client.resource("Patient", **patient(birth="1970-02-03"))
        reserve.save()
        source = {"reference": f"Patient/{reserve.id}"}
        target = {"reference": f"Patient/{person.id}"}
        merged = client.execute("Patient/$merge", method="post", data={
            "resourceType": "Parameters", "parameter": [
                {"name": "source-patient", "valueReference": source},
                {"name": "target-patient", "valueReference": target}]})
        assert merged["resourceType"] in ("Parameters", "Patient", "OperationOutcome")
        assert client.reference("Patient", reserve.id).to_resource()["active"] is False


def test_fhir_kit_client_from_node(base, node: Path, fhir):
    done = subprocess.run(
        ["node", "clients.mjs", base, json.dumps(sorted(operations(base, fhir))), make_pnr()],
        cwd=node, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    steps = [line for line in done.stdout.splitlines() if line.startswith("ok ")]
    assert len(steps) >= 6, done.stdout

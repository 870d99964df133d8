"""Real FHIR clients nobody here wrote, unmodified, against the running server: fhirpy and
fhirclient (Python) and fhir-kit-client (node). Create, read, update, search with paging,
conditional create, $generate-reserve-id, $match and $merge — each client parses the
answers itself (fhirclient with its strict R4 models)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from fhirclient import client as smart_client
from fhirclient.models.bundle import Bundle
from fhirclient.models.parameters import Parameters
from fhirclient.models.patient import Patient
from fhirpy import SyncFHIRClient

from tests.operations.merge_helpers import make_nrid
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
    answer = Parameters(server.post_json("Patient/$generate-reserve-id", params).json())
    refs = [p.valueReference.reference for p in answer.parameter if p.name == "patient"]
    assert len(refs) == 2
    for ref in refs:
        assert Patient.read(ref.split("/")[1], server).identifier[0].system == NRID_SYSTEM


def test_the_capability_statement_offers_match_and_merge(base, fhir):
    # The clients below call them unconditionally; this names the cause if they vanish.
    assert {"match", "merge", "unmerge", "generate-reserve-id"} <= operations(base, fhir)


def test_fhirpy_match_and_merge(base):
    client = SyncFHIRClient(base)
    pnr = make_pnr()
    person = client.resource("Patient", **patient(pnr=pnr, birth="1970-02-03"))
    person.save()
    found = client.execute("Patient/$match", method="post", data={
        "resourceType": "Parameters",
        "parameter": [{"name": "resource", "resource": patient(pnr=pnr, birth="1970-02-03")}]})
    assert found["resourceType"] == "Bundle" and found["type"] == "searchset"
    best = found["entry"][0]
    assert best["resource"]["id"] == person.id and best["search"]["mode"] == "match"
    reserve = client.resource("Patient", **patient(birth="1970-02-03"))
    reserve.save()
    merged = client.execute("Patient/$merge", method="post", data={
        "resourceType": "Parameters", "parameter": [
            {"name": "source-patient", "valueReference": {"reference": f"Patient/{reserve.id}"}},
            {"name": "target-patient", "valueReference": {"reference": f"Patient/{person.id}"}}]})
    assert merged["resourceType"] == "Parameters"
    outputs = {p["name"]: p for p in merged["parameter"]}
    assert outputs["outcome"]["resource"]["issue"][0]["severity"] == "information"
    result = outputs["result"]["resource"]
    assert result["id"] == person.id
    assert {"other": {"reference": f"Patient/{reserve.id}"}, "type": "replaces"} in result["link"]
    assert client.reference("Patient", reserve.id).to_resource()["active"] is False


def test_fhirclient_match_and_merge(base):
    server = _smart(base).server
    pnr = make_pnr()
    person = Patient(patient(unique_name("Smartmatch"), pnr=pnr)).create(server)
    reserve = Patient(patient(person["name"][0]["family"], identifier=[
        {"system": NRID_SYSTEM, "value": make_nrid()}])).create(server)
    query = Parameters({"resourceType": "Parameters", "parameter": [
        {"name": "resource", "resource": patient(pnr=pnr)},
        {"name": "onlyCertainMatches", "valueBoolean": True}]})
    found = Bundle(server.post_json("Patient/$match", query.as_json()).json())
    assert [e.resource.id for e in found.entry] == [person["id"]]
    assert found.entry[0].search.mode == "match" and found.entry[0].search.score == 1
    request = Parameters({"resourceType": "Parameters", "parameter": [
        {"name": "source-patient", "valueReference": {"reference": f"Patient/{reserve['id']}"}},
        {"name": "target-patient", "valueReference": {"reference": f"Patient/{person['id']}"}},
        {"name": "preview", "valueBoolean": False}]})
    merged = Parameters(server.post_json("Patient/$merge", request.as_json()).json())
    result = next(p.resource for p in merged.parameter if p.name == "result")
    assert isinstance(result, Patient) and result.id == person["id"]
    assert [(link.other.reference, link.type) for link in result.link] == [
        (f"Patient/{reserve['id']}", "replaces")]
    assert Patient.read(reserve["id"], server).active is False


def test_fhir_kit_client_from_node(base, node: Path):
    done = subprocess.run(
        ["node", "clients.mjs", base, make_pnr()],
        cwd=node, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    steps = [line[3:] for line in done.stdout.splitlines() if line.startswith("ok ")]
    assert steps == ["create", "read", "update", "search with paging", "conditional create",
                     "$generate-reserve-id", "$generate-reserve-id on an instance", "$match",
                     "$merge", "$merge made the source inactive"], done.stdout

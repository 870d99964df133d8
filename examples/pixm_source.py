"""IHE PIXm: a Patient Identity Source feeding the Manager (ITI-104) and asking it back
(ITI-83) — the IG's Alissa/Alice Mohr sequence (https://profiles.ihe.net/ITI/PIXm/,
ITI-104 "Example"s), with fresh values in the IHE red test domain so that every run is its
own. With FHIR_TOKEN the token should carry system/Patient.cruds and
source-domain:urn:oid:1.3.6.1.4.1.21367.13.20.1000 (README "IHE PIXm and PDQm")."""

import random

from _fhir import call, expect

RED = "urn:oid:1.3.6.1.4.1.21367.13.20.1000"
run = f"{random.randrange(16 ** 6):06X}"
ALICE, MAIDEN, GONE = f"IHERED-994-{run}", f"IHERED-m94-{run}", f"IHERED-995-{run}"


def mohr(value: str, given: str, **extra: object) -> dict:
    return {"resourceType": "Patient", "identifier": [{"system": RED, "value": value}],
            "active": True, "name": [{"family": "MOHR", "given": [given]}],
            "gender": "female", "birthDate": "1958-01-30", **extra}


def feed(value: str, body: dict) -> tuple[int, dict]:
    """ITI-104: PUT Patient?identifier=<domain>|<value> (add, revise, resolve duplicate)."""
    status, answer, _ = call("PUT", "Patient", body, params={"identifier": f"{RED}|{value}"})
    return status, answer


def pix(value: str) -> tuple[int, dict]:
    """ITI-83: the person's identifiers and records for one of its identifiers."""
    status, answer, _ = call("GET", "Patient/$ihe-pix",
                             params={"sourceIdentifier": f"{RED}|{value}"})
    return status, answer


print("1. Add Patient: Alissa Mohr")
status, alissa = feed(ALICE, mohr(ALICE, "ALISSA"))
expect(status == 201, "added (201)")

print("2. Revise Patient: her given name is Alice")
status, alice = feed(ALICE, mohr(ALICE, "ALICE"))
expect(status == 200 and alice["id"] == alissa["id"], "revised the same record (200)")

print("3. Add Patient: Maiden Mohr, a duplicate of Alice in the Source")
status, maiden = feed(MAIDEN, mohr(MAIDEN, "MAIDEN"))
expect(status == 201, "added (201)")

print("4. Resolve Duplicate Patient: Maiden replaced-by Alice, named by identifier")
status, resolved = feed(MAIDEN, mohr(MAIDEN, "MAIDEN", active=False, link=[
    {"other": {"identifier": {"system": RED, "value": ALICE}}, "type": "replaced-by"}]))
expect(status == 200 and resolved["active"] is False, "subsumed record inactive (200)")
expect(resolved["link"][0]["other"] == {"reference": f"Patient/{alice['id']}"},
       "merged into Alice's record")
status, answer = pix(MAIDEN)
records = [p["valueReference"]["reference"] for p in answer.get("parameter", [])
           if p["name"] == "targetId"]
expect(status == 200 and records[0] == f"Patient/{alice['id']}",
       "ITI-83: the subsumed identifier resolves to Alice's record first")

print("5. Remove Patient (Remove Patient Option): a record added by mistake")
status, _ = feed(GONE, mohr(GONE, "ALICE"))
expect(status == 201, "added (201)")
status, _, _ = call("DELETE", "Patient", params={"identifier": f"{RED}|{GONE}"})
expect(status == 204, "removed (204)")
status, _ = pix(GONE)
expect(status == 404, "ITI-83: the removed identifier is not found (404)")

"""Routine 3.2: the central service generates a reserve identity (NRID) and creates the
Patient holding it in one call — nobody invents reserve numbers locally."""

from _fhir import NRID, call, expect, parameters, unique_family

family = unique_family("Okand")
template = {"resourceType": "Patient", "name": [{"family": family, "given": ["Okänd"]}],
            "gender": "male", "birthDate": "1978-04-04"}
print("1. $generate-reserve-id with a patient: one NRID and one new record")
status, out, _ = call("POST", "Patient/$generate-reserve-id",
                      parameters({"name": "patient", "resource": template}))
expect(status == 200, "the operation answers 200")
identifier = next(p["valueIdentifier"] for p in out["parameter"] if p["name"] == "identifier")
reference = next(p["valueReference"] for p in out["parameter"] if p["name"] == "patient")
print(f"   generated {identifier['value']} for {reference['reference']}")
expect(identifier["system"] == NRID, "an NRID (urn:oid:1.2.752.74.9.1)")
expect(identifier["value"][2:8] == "780404", "its date part is the birth date")

print("2. The new record is found by its reserve identity")
status, found, _ = call("GET", "Patient",
                        params={"identifier": f"{NRID}|{identifier['value']}"})
ids = [f"Patient/{e['resource']['id']}" for e in found.get("entry", [])]
expect(ids == [reference["reference"]], "search by identifier finds it")

print("3. A personnummer cannot be generated: 422")
status, outcome, _ = call("POST", "Patient/$generate-reserve-id", parameters(
    {"name": "system", "valueUri": "urn:oid:1.2.752.129.2.1.3.1"}))
expect(status == 422 and outcome["resourceType"] == "OperationOutcome", "refused with 422")

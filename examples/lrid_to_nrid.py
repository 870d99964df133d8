"""Routine 3.5 (seed 001): a person with a local VGR reserve number (LRID) gets a national
one (NRID) linked to it, personal data copied; afterwards either number finds the person."""

from _fhir import LRID, NRID, call, expect, parameters, unique_family

family = unique_family("Reserv")
template = {"resourceType": "Patient", "name": [{"family": family, "given": ["Lisa"]}],
            "gender": "female", "birthDate": "1981-08-29"}
print("1. The person is first registered with an LRID VGR")
status, out, _ = call("POST", "Patient/$generate-reserve-id", parameters(
    {"name": "system", "valueUri": LRID}, {"name": "patient", "resource": template}))
expect(status == 200, "LRID generated")
lrid = next(p["valueIdentifier"]["value"] for p in out["parameter"] if p["name"] == "identifier")
ref = next(p["valueReference"]["reference"] for p in out["parameter"] if p["name"] == "patient")
print(f"   LRID {lrid} on {ref}")

print("2. The transition: $generate-reserve-id on that Patient adds an NRID")
status, out, _ = call("POST", f"{ref}/$generate-reserve-id", parameters())
expect(status == 200, "NRID generated for the existing record")
nrid = next(p["valueIdentifier"] for p in out["parameter"] if p["name"] == "identifier")
expect(nrid["system"] == NRID, "an NRID")
print(f"   NRID {nrid['value']}")

print("3. Both numbers lead to the person, whose data was kept")
for system, value in ((LRID, lrid), (NRID, nrid["value"])):
    status, found, _ = call("GET", "Patient", params={"identifier": f"{system}|{value}"})
    entries = found.get("entry", [])
    expect(len(entries) >= 1 and entries[0]["resource"]["name"][0]["family"] == family,
           f"found by {value}")

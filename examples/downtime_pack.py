"""Routine 3.3: a downtime pack — 5 women and 5 men with reserve numbers, family name
DRIFTSTOPP, ready at the emergency desk before planned downtime (seeds 003/004).
(The same is `python -m app downtime-pack` with CSV and a printable list.)"""

from _fhir import NRID, call, expect, parameters

numbers = []
for gender in ("female", "male"):
    template = {"resourceType": "Patient", "gender": gender, "birthDate": "2019-01-01",
                "name": [{"family": "DRIFTSTOPP", "given": ["AKUTEN", "SÄS"]}]}
    print(f"1. Five {gender} records in one request")
    status, out, _ = call("POST", "Patient/$generate-reserve-id", parameters(
        {"name": "count", "valueInteger": 5}, {"name": "patient", "resource": template}))
    expect(status == 200, "the operation answers 200")
    ids = [p["valueIdentifier"]["value"] for p in out["parameter"] if p["name"] == "identifier"]
    refs = [p for p in out["parameter"] if p["name"] == "patient"]
    expect(len(ids) == 5 and len(refs) == 5, "five identifiers and five records")
    numbers += ids

print("2. The printable pack")
for number, value in enumerate(numbers, start=1):
    print(f"   {number:>2}  {value[:8]}-{value[8:]}")
expect(len(set(numbers)) == 10, "ten different numbers")
print("3. Every pack record is a real, searchable Patient")
for value in numbers[:2]:
    status, found, _ = call("GET", "Patient", params={"identifier": f"{NRID}|{value}"})
    expect(len(found.get("entry", [])) == 1, f"{value} is found")

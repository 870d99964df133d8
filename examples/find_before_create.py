"""Routine 3.1: search by birth date and name before creating, then create atomically
only if nobody holds the identity (conditional create) — never a duplicate."""

from _fhir import PNR, call, expect, test_pnr, unique_family

family, birth = unique_family("Andersson"), "1984-03-12"
pnr = test_pnr()

print(f"1. Search for {family}, born {birth}, before registering anything")
status, found, _ = call("GET", "Patient", params={"birthdate": birth, "family": family})
expect(status == 200 and found["resourceType"] == "Bundle", "search answers a Bundle")
expect(not found.get("entry"), "nobody is registered yet")

print("2. Conditional create: create only if no Patient holds this personnummer")
person = {"resourceType": "Patient", "identifier": [{"system": PNR, "value": pnr}],
          "name": [{"family": family, "given": ["Anna"]}], "gender": "female",
          "birthDate": birth}
condition = {"If-None-Exist": f"identifier={PNR}|{pnr}"}
status, created, _ = call("POST", "Patient", person, condition)
expect(status == 201, "the first request creates the Patient (201)")

print("3. The same request again (a second desk, a retry) returns the existing record")
status, again, _ = call("POST", "Patient", person, condition)
expect(status == 200 and again["id"] == created["id"], "200 with the same id, no duplicate")

print("4. The search by birth date and name now finds exactly that record")
status, found, _ = call("GET", "Patient", params={"birthdate": birth, "name": family})
ids = [entry["resource"]["id"] for entry in found.get("entry", [])]
expect(ids == [created["id"]], "found by birth date + name")

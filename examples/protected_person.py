"""Routine 3.6: a person with skyddad folkbokföring. A caller without the
protected-identity scope (here: anyone, the server runs without auth settings) sees only
identity, name, gender, birth date and the security labels; address and phone are withheld
and the resource is tagged SUBSETTED — on read and on search."""

from _fhir import PNR, call, expect, test_pnr, unique_family

LABELS = "http://hl7.se/fhir/ig/base/CodeSystem/SecurityLabel"
pnr = test_pnr()
family = unique_family("Skyddad")
person = {"resourceType": "Patient",
          "meta": {"security": [{"system": LABELS, "code": "skyddadFolkbokforing"}]},
          "identifier": [{"system": PNR, "value": pnr}],
          "name": [{"family": family, "given": ["Sara"]}], "gender": "female",
          "birthDate": f"{pnr[:4]}-{pnr[4:6]}-{pnr[6:8]}",
          "telecom": [{"system": "phone", "value": "070-0000000"}],
          "address": [{"line": ["Hemlig gata 1"], "city": "Göteborg"}]}
print("1. Register the protected person")
status, created, _ = call("POST", "Patient", person)
expect(status == 201, "created")

print("2. Read without the protected-identity scope")
status, seen, _ = call("GET", f"Patient/{created['id']}")
expect(status == 200, "read answers")
expect(seen["name"][0]["family"] == family and seen["identifier"][0]["value"] == pnr,
       "identity and name are shown")
expect("telecom" not in seen and all("line" not in a for a in seen.get("address", [])),
       "phone and street address are withheld")
tags = {(c.get("code")) for c in seen.get("meta", {}).get("tag", [])}
expect("SUBSETTED" in tags, "the resource is tagged SUBSETTED")

print("3. Searching on the withheld address never reveals the person")
status, found, _ = call("GET", "Patient", params={"address": "Hemlig gata"})
ids = [e["resource"]["id"] for e in found.get("entry", [])]
expect(created["id"] not in ids, "not found by the withheld street")

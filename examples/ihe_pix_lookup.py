"""IHE PIXm: which identifiers does this person have in domain X? An EHR integration
asks by OID (domain.md §4)."""

from _fhir import NRID, PNR, call, expect, parameters, test_pnr, unique_family

pnr = test_pnr()
person = {"resourceType": "Patient", "identifier": [{"system": PNR, "value": pnr}],
          "name": [{"family": unique_family("Pix"), "given": ["Eva"]}], "gender": "female",
          "birthDate": f"{pnr[:4]}-{pnr[4:6]}-{pnr[6:8]}"}
print("1. A person with a personnummer who also gets an NRID")
status, created, _ = call("POST", "Patient", person)
expect(status == 201, "created")
status, out, _ = call("POST", f"Patient/{created['id']}/$generate-reserve-id", parameters())
expect(status == 200, "NRID added")
nrid = next(p["valueIdentifier"]["value"] for p in out["parameter"] if p["name"] == "identifier")

print("2. $ihe-pix: the NRID domain's identifier for this personnummer")
status, answer, _ = call("GET", "Patient/$ihe-pix", params={
    "sourceIdentifier": f"{PNR}|{pnr}", "targetSystem": NRID})
expect(status == 200 and answer["resourceType"] == "Parameters", "answers Parameters")
targets = [p["valueIdentifier"] for p in answer.get("parameter", [])
           if p["name"] == "targetIdentifier"]
expect({"system": NRID, "value": nrid} in [{"system": t["system"], "value": t["value"]}
                                           for t in targets], f"NRID {nrid} returned")

print("3. An unknown source identifier: 404 (PIXm)")
status, _, _ = call("GET", "Patient/$ihe-pix",
                    params={"sourceIdentifier": f"{PNR}|{test_pnr()}"})
expect(status == 404, "404 for a person nobody registered")

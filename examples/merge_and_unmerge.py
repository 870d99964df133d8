"""Routine 3.5: link a reserve-number record into the person's PNR record (the main
record by the priority rule PNR > SNR > NRID > LRID > …), refuse the wrong direction,
then undo the merge exactly ($unmerge)."""

from _fhir import PNR, call, expect, parameters, test_pnr, unique_family

family = unique_family("Merge")
person = {"resourceType": "Patient", "name": [{"family": family, "given": ["Karl"]}],
          "gender": "male", "birthDate": "1965-12-07"}
print("1. A reserve-number record from downtime and the person's PNR record")
status, out, _ = call("POST", "Patient/$generate-reserve-id",
                      parameters({"name": "patient", "resource": person}))
expect(status == 200, "reserve record created")
reserve = next(p["valueReference"]["reference"] for p in out["parameter"]
               if p["name"] == "patient")
pnr = test_pnr(female=False)
status, main, _ = call("POST", "Patient", {**person, "identifier": [{"system": PNR,
                                                                     "value": pnr}]})
expect(status == 201, "PNR record created")
main_ref = f"Patient/{main['id']}"


def merge_params(source: str, target: str) -> dict:
    return parameters({"name": "source-patient", "valueReference": {"reference": source}},
                      {"name": "target-patient", "valueReference": {"reference": target}})


print("2. Merging the PNR record into the reserve record breaks the priority rule: 422")
status, outcome, _ = call("POST", "Patient/$merge", merge_params(main_ref, reserve))
expect(status == 422, "refused, nothing changed")

print("3. Merge the reserve record into the PNR record")
status, _, _ = call("POST", "Patient/$merge", merge_params(reserve, main_ref))
expect(status == 200, "merged")
status, source, _ = call("GET", reserve)
expect(source["active"] is False and any(link["type"] == "replaced-by"
                                         for link in source.get("link", [])),
       "the reserve record is inactive and replaced-by the PNR record")
status, target, _ = call("GET", main_ref)
expect(any(i.get("use") == "old" for i in target["identifier"]),
       "the PNR record carries the reserve number as use=old")

print("4. Undo it: $unmerge")
status, _, _ = call("POST", "Patient/$unmerge", merge_params(reserve, main_ref))
expect(status == 200, "unmerged")
status, source, _ = call("GET", reserve)
expect(source.get("active") is not False and not source.get("link"),
       "the reserve record is active again without links")
status, target, _ = call("GET", main_ref)
expect(all(i.get("use") != "old" for i in target["identifier"]),
       "the copied identifier is gone from the PNR record")

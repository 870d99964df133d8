"""``$ihe-pix`` (IHE PIXm ITI-83) end to end across PNR, SNR, NRID and LRID: one person with
four records — an SNR record merged into the PNR record, an LRID record merged into an NRID
record, and the NRID record kept as a record of its own with a ``seealso`` link."""

from __future__ import annotations

from typing import Any

import pytest

from tests.operations.merge_helpers import (
    LRID_SYSTEM,
    NRID_SYSTEM,
    PNR_SYSTEM,
    SNR_SYSTEM,
    create,
    ident,
    make_lrid,
    make_nrid,
    make_pnr,
    merge,
    params,
)

PIX = "Patient/$ihe-pix"
GRID_SYSTEM = "urn:oid:1.2.752.113.11.0.2.1.1.4"


@pytest.fixture(scope="module")
def person(base: str) -> dict[str, Any]:
    import requests

    with requests.Session() as http:
        http.headers.update({"Content-Type": "application/fhir+json"})
        values = {"pnr": make_pnr(), "snr": make_pnr(snr=True), "nrid": make_nrid(),
                  "lrid": make_lrid()}
        main = create(http, base, ident(PNR_SYSTEM, values["pnr"]))
        snr = create(http, base, ident(SNR_SYSTEM, values["snr"]))
        nrid = create(http, base, ident(NRID_SYSTEM, values["nrid"]))
        lrid = create(http, base, ident(LRID_SYSTEM, values["lrid"]))
        assert merge(http, base, params(snr, main)).status_code == 200
        assert merge(http, base, params(lrid, nrid)).status_code == 200
        nrid = http.get(f"{base}/Patient/{nrid['id']}").json()
        nrid["link"].append({"other": {"reference": f"Patient/{main['id']}"},
                             "type": "seealso"})
        assert http.put(f"{base}/Patient/{nrid['id']}", json=nrid).status_code == 200
        ids = {"main": main["id"], "snr": snr["id"], "nrid": nrid["id"], "lrid": lrid["id"]}
    return {"values": values, "ids": ids}


def _identifiers(response: Any) -> dict[str, str]:
    return {p["valueIdentifier"]["system"]: p["valueIdentifier"]["value"]
            for p in response.json().get("parameter", []) if p["name"] == "targetIdentifier"}


def _ids(response: Any) -> list[str]:
    return [p["valueReference"]["reference"].split("/")[1]
            for p in response.json().get("parameter", []) if p["name"] == "targetId"]


@pytest.mark.parametrize(("system", "key"), [(PNR_SYSTEM, "pnr"), (SNR_SYSTEM, "snr"),
                                             (NRID_SYSTEM, "nrid"), (LRID_SYSTEM, "lrid")])
def test_every_identifier_of_the_person_leads_to_all_of_them(base, http, person, system, key):
    response = http.get(f"{base}/{PIX}", params={
        "sourceIdentifier": f"{system}|{person['values'][key]}"})
    assert response.status_code == 200, response.text
    assert response.json()["resourceType"] == "Parameters"
    assert _identifiers(response) == {PNR_SYSTEM: person["values"]["pnr"],
                                      SNR_SYSTEM: person["values"]["snr"],
                                      NRID_SYSTEM: person["values"]["nrid"],
                                      LRID_SYSTEM: person["values"]["lrid"]}
    ids = _ids(response)
    assert ids[0] == person["ids"]["main"]
    assert sorted(ids) == sorted(person["ids"].values())


def test_target_systems_select_domains_by_oid_bare_oid_or_alias(base, http, person):
    response = http.get(f"{base}/{PIX}", params=[
        ("sourceIdentifier", f"{LRID_SYSTEM}|{person['values']['lrid']}"),
        ("targetSystem", PNR_SYSTEM),
        ("targetSystem", "1.2.752.129.2.1.3.3"),
    ])
    assert response.status_code == 200, response.text
    assert _identifiers(response) == {PNR_SYSTEM: person["values"]["pnr"],
                                      SNR_SYSTEM: person["values"]["snr"]}
    alias = http.get(f"{base}/{PIX}", params={
        "sourceIdentifier": f"{PNR_SYSTEM}|{person['values']['pnr']}",
        "targetSystem": "http://electronichealth.se/identifier/nationelltReservnummer"})
    assert _identifiers(alias) == {NRID_SYSTEM: person["values"]["nrid"]}


def test_source_identifier_in_display_form_and_alias_system_is_normalised(base, http, person):
    pnr = person["values"]["pnr"]
    response = http.get(f"{base}/{PIX}", params={
        "sourceIdentifier": f"http://electronichealth.se/identifier/personnummer|"
                            f"{pnr[:8]}-{pnr[8:]}",
        "targetSystem": LRID_SYSTEM})
    assert _identifiers(response) == {LRID_SYSTEM: person["values"]["lrid"]}


def test_post_with_parameters_answers_the_same(base, http, person):
    body = {"resourceType": "Parameters", "parameter": [
        {"name": "sourceIdentifier",
         "valueIdentifier": ident(NRID_SYSTEM, person["values"]["nrid"])},
        {"name": "targetSystem", "valueUri": PNR_SYSTEM}]}
    response = http.post(f"{base}/{PIX}", json=body)
    assert response.status_code == 200, response.text
    assert _identifiers(response) == {PNR_SYSTEM: person["values"]["pnr"]}
    as_string = {"resourceType": "Parameters", "parameter": [
        {"name": "sourceIdentifier",
         "valueString": f"{NRID_SYSTEM}|{person['values']['nrid']}"},
        {"name": "targetSystem", "valueString": PNR_SYSTEM}]}
    assert _identifiers(http.post(f"{base}/{PIX}", json=as_string)) == _identifiers(response)


def test_no_identifiers_in_the_requested_domain_is_an_empty_parameters(base, http, person):
    response = http.get(f"{base}/{PIX}", params={
        "sourceIdentifier": f"{PNR_SYSTEM}|{person['values']['pnr']}",
        "targetSystem": GRID_SYSTEM})
    assert response.status_code == 200
    assert response.json() == {"resourceType": "Parameters"}


def test_a_stored_opaque_domain_is_recognised(base, http):
    local = "urn:oid:1.2.752.999.77"
    pnr = make_pnr()
    create(http, base, ident(local, "A-1"), ident(PNR_SYSTEM, pnr))
    response = http.get(f"{base}/{PIX}", params={"sourceIdentifier": f"{local}|A-1",
                                                 "targetSystem": PNR_SYSTEM})
    assert response.status_code == 200, response.text
    assert _identifiers(response) == {PNR_SYSTEM: pnr}


def test_an_unknown_source_domain_is_400(base, http):
    for token in ("urn:oid:1.2.3.999999|x", "no-system-at-all", "|x"):
        response = http.get(f"{base}/{PIX}", params={"sourceIdentifier": token})
        assert response.status_code == 400, token
        issue = response.json()["issue"][0]
        assert issue["code"] == "code-invalid"
        assert issue["details"]["text"] == "sourceIdentifier Assigning Authority not found"


def test_an_unknown_target_system_is_403(base, http, person):
    response = http.get(f"{base}/{PIX}", params={
        "sourceIdentifier": f"{PNR_SYSTEM}|{person['values']['pnr']}",
        "targetSystem": "urn:oid:1.2.3.999999"})
    assert response.status_code == 403
    issue = response.json()["issue"][0]
    assert issue["code"] == "code-invalid"
    assert issue["details"]["text"] == "targetSystem not found"


def test_an_unknown_identifier_is_404(base, http):
    for value in (make_pnr(), "000000000000"):
        response = http.get(f"{base}/{PIX}", params={"sourceIdentifier": f"{PNR_SYSTEM}|{value}"})
        assert response.status_code == 404
        issue = response.json()["issue"][0]
        assert issue["code"] == "not-found"
        assert issue["details"]["text"] == "sourceIdentifier Patient Identifier not found"


def test_source_identifier_is_required(base, http):
    response = http.get(f"{base}/{PIX}")
    assert response.status_code == 400
    assert response.json()["issue"][0]["code"] == "invalid"

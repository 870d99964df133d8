"""Transaction and batch Bundles posted as FHIR XML (Content-Type application/fhir+xml) work
end to end: urn:uuid references, conditional create, all or nothing, per-entry outcomes,
answered in XML or JSON as asked (api.md "REST": application/fhir+xml). The request XML is
written by hand and the answers read with ElementTree, not with the server's converter."""

from __future__ import annotations

import uuid
import xml.etree.ElementTree as ET

import requests

from tests.support import PNR_SYSTEM, make_pnr, unique_name

NS = "http://hl7.org/fhir"
F = "{" + NS + "}"
XML = {"Content-Type": "application/fhir+xml", "Accept": "application/fhir+xml"}


def value(element: ET.Element, path: str) -> str | None:
    """The value attribute of the element at ``path`` (tags without the namespace)."""
    found = element.find("/".join(F + part for part in path.split("/")))
    return None if found is None else found.get("value")


def patient_xml(family: str, *, pnr: str | None = None, link_to: str | None = None) -> str:
    identifier = (f'<identifier><system value="{PNR_SYSTEM}"/><value value="{pnr}"/>'
                  "</identifier>" if pnr else "")
    link = (f'<link><other><reference value="{link_to}"/></other><type value="seealso"/>'
            "</link>" if link_to else "")
    return (f"<Patient>{identifier}<name><family value=\"{family}\"/><given value=\"Åsa\"/>"
            f'</name><gender value="female"/><birthDate value="1998-01-01"/>{link}</Patient>')


def entry_xml(resource: str, *, full_url: str | None = None,
              if_none_exist: str | None = None) -> str:
    full = f'<fullUrl value="{full_url}"/>' if full_url else ""
    condition = f'<ifNoneExist value="{if_none_exist}"/>' if if_none_exist else ""
    return (f"<entry>{full}<resource>{resource}</resource><request><method value=\"POST\"/>"
            f'<url value="Patient"/>{condition}</request></entry>')


def bundle_xml(kind: str, *entries: str) -> bytes:
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<Bundle xmlns="{NS}">'
            f'<type value="{kind}"/>{"".join(entries)}</Bundle>').encode()


def xml_answer(response: requests.Response, status: int, root: str) -> ET.Element:
    assert response.status_code == status, response.text[:2000]
    assert response.headers["Content-Type"].startswith("application/fhir+xml")
    tree = ET.fromstring(response.content)
    assert tree.tag == F + root
    return tree


def test_an_xml_transaction_resolves_urn_uuids_and_conditional_creates(base, fhir):
    family, pnr = unique_name("Xmltx"), make_pnr()
    person = f"urn:uuid:{uuid.uuid4()}"
    body = bundle_xml(
        "transaction",
        entry_xml(patient_xml(family, pnr=pnr), full_url=person,
                  if_none_exist=f"identifier={PNR_SYSTEM}|{pnr}"),
        entry_xml(patient_xml(family, link_to=person), full_url=f"urn:uuid:{uuid.uuid4()}"))
    first = xml_answer(requests.post(base, data=body, headers=XML, timeout=30), 200, "Bundle")
    assert value(first, "type") == "transaction-response"
    entries = first.findall(F + "entry")
    assert [value(e, "response/status") for e in entries] == ["201 Created", "201 Created"]
    person_id, other_id = (value(e, "response/location").split("/")[1] for e in entries)
    assert value(entries[1], "resource/Patient/link/other/reference") == f"Patient/{person_id}"
    # The same XML again: the conditional entry finds the person, the other one is new and
    # its urn:uuid reference resolves to the person found (FHIR R4 §3.1.0.11.2).
    second = xml_answer(requests.post(base, data=body, headers=XML, timeout=30), 200, "Bundle")
    again = second.findall(F + "entry")
    assert [value(e, "response/status")[:3] for e in again] == ["200", "201"]
    assert value(again[0], "response/location").split("/")[1] == person_id
    third_id = value(again[1], "response/location").split("/")[1]
    assert third_id != other_id
    stored = fhir.get(f"{base}/Patient/{third_id}").json()
    assert stored["link"] == [{"other": {"reference": f"Patient/{person_id}"},
                               "type": "seealso"}]
    assert stored["name"][0]["given"] == ["Åsa"]
    found = fhir.get(f"{base}/Patient", params={"family": family, "_total": "accurate"}).json()
    assert found["total"] == 3


def test_an_xml_transaction_is_all_or_nothing_and_its_error_is_xml(base, fhir):
    family = unique_name("Xmlfail")
    body = bundle_xml(
        "transaction",
        entry_xml(patient_xml(family, pnr=make_pnr())),
        entry_xml(patient_xml(family, pnr="196512073246")))  # check digit broken
    outcome = xml_answer(requests.post(base, data=body, headers=XML, timeout=30), 422,
                         "OperationOutcome")
    assert value(outcome, "issue/severity") == "error"
    assert "Bundle.entry[1]" in value(outcome, "issue/diagnostics")
    found = fhir.get(f"{base}/Patient", params={"family": family, "_total": "accurate"}).json()
    assert found["total"] == 0


def test_an_xml_batch_answers_each_entry_and_json_when_json_is_accepted(base, fhir):
    family = unique_name("Xmlbatch")
    body = bundle_xml("batch", entry_xml(patient_xml(family, pnr=make_pnr())),
                      entry_xml(patient_xml(family, pnr="196512073246")))
    as_xml = xml_answer(requests.post(base, data=body, headers=XML, timeout=30), 200, "Bundle")
    assert value(as_xml, "type") == "batch-response"
    good, bad = as_xml.findall(F + "entry")
    assert value(good, "response/status") == "201 Created"
    assert value(bad, "response/status") == "422"
    assert value(bad, "response/outcome/OperationOutcome/issue/severity") == "error"
    as_json = requests.post(base, data=bundle_xml("batch", entry_xml(patient_xml(family))),
                            headers={**XML, "Accept": "application/fhir+json"}, timeout=30)
    assert as_json.status_code == 200
    assert as_json.headers["Content-Type"].startswith("application/fhir+json")
    assert as_json.json()["entry"][0]["response"]["status"] == "201 Created"
    found = fhir.get(f"{base}/Patient", params={"family": family, "_total": "accurate"}).json()
    assert found["total"] == 2

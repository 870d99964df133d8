"""IHE PIXm in FHIR XML, as both transactions require of the Manager: ITI-104 add, resolve
duplicate (the IG's Maiden Alice message, by identifier) and remove with XML bodies and
answers, and ITI-83 answered in XML (``pixm-request-mohralice-red-to-blue.xml`` and
``pixm-response-mohralice-red-to-blue.xml`` of IHE/ITI.PIXm, with values of our own)."""

from __future__ import annotations

from xml.etree import ElementTree

import requests

from tests.ihe.mohr import BLUE, RED, criteria, fresh

XML = {"Content-Type": "application/fhir+xml", "Accept": "application/fhir+xml"}
NS = "{http://hl7.org/fhir}"


def xml_patient(system: str, value: str, given: str, *, active: bool = True,
                extra: str = "", link: str = "") -> bytes:
    return f"""<Patient xmlns="http://hl7.org/fhir">
  <identifier><system value="{system}"/><value value="{value}"/></identifier>{extra}
  <active value="{'true' if active else 'false'}"/>
  <name><family value="MOHR"/><given value="{given}"/></name>
  <gender value="female"/>
  <birthDate value="1958-01-30"/>{link}
</Patient>""".encode()


def value_of(root: ElementTree.Element, path: str) -> str | None:
    """The value attribute of the element at ``path`` (``link/other/reference``)."""
    found = root.find("/".join(NS + step for step in path.split("/")))
    return None if found is None else found.get("value")


def test_iti104_and_iti83_in_xml(base: str) -> None:
    alice, maiden, blue = fresh("IHERED"), fresh("IHERED-m"), fresh("IHEBLUE")
    blue_identifier = f"""
  <identifier><system value="{BLUE}"/><value value="{blue}"/></identifier>"""
    added = requests.put(f"{base}/Patient?{criteria(RED, alice)}", timeout=30, headers=XML,
                         data=xml_patient(RED, alice, "ALICE", extra=blue_identifier))
    assert added.status_code == 201, added.text
    assert added.headers["Content-Type"].startswith("application/fhir+xml")
    alice_root = ElementTree.fromstring(added.content)
    alice_id = value_of(alice_root, "id")
    assert requests.put(f"{base}/Patient?{criteria(RED, maiden)}", headers=XML, timeout=30,
                        data=xml_patient(RED, maiden, "MAIDEN")).status_code == 201
    link = f"""
  <link><other><identifier><system value="{RED}"/><value value="{alice}"/></identifier></other>
    <type value="replaced-by"/></link>"""
    resolved = requests.put(f"{base}/Patient?{criteria(RED, maiden)}", headers=XML, timeout=30,
                            data=xml_patient(RED, maiden, "MAIDEN", active=False, link=link))
    assert resolved.status_code == 200, resolved.text
    root = ElementTree.fromstring(resolved.content)
    assert value_of(root, "active") == "false"
    assert value_of(root, "link/other/reference") == f"Patient/{alice_id}"
    assert value_of(root, "link/type") == "replaced-by"
    # ITI-83 in XML: the subsumed red identifier → the blue one of the survivor.
    answer = requests.get(f"{base}/Patient/$ihe-pix", headers={"Accept": "application/fhir+xml"},
                          params={"sourceIdentifier": f"{RED}|{maiden}", "targetSystem": BLUE},
                          timeout=30)
    assert answer.status_code == 200, answer.text
    params = ElementTree.fromstring(answer.content)
    assert params.tag == f"{NS}Parameters"
    outputs = {(value_of(p, "name"), value_of(p, "valueIdentifier/value")
                or value_of(p, "valueReference/reference")) for p in params}
    assert ("targetIdentifier", blue) in outputs
    assert ("targetId", f"Patient/{alice_id}") in outputs
    # ITI-104 Remove Patient, answered 204; then ITI-83 answers 404 in XML.
    removed = requests.delete(f"{base}/Patient?{criteria(RED, alice)}",
                              headers={"Accept": "application/fhir+xml"}, timeout=30)
    assert removed.status_code == 204
    gone = requests.get(f"{base}/Patient/$ihe-pix", headers={"Accept": "application/fhir+xml"},
                        params={"sourceIdentifier": f"{RED}|{alice}"}, timeout=30)
    assert gone.status_code == 404
    assert ElementTree.fromstring(gone.content).tag == f"{NS}OperationOutcome"

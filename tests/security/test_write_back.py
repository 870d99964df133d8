"""Write-back safety: a caller without ``protected-identity`` that round-trips the masked form
of a protected record loses nothing — withheld elements, security labels, patient type and
links stay — and cannot lift the protection."""

from __future__ import annotations

from typing import Any

import requests

from tests.security.conftest import FULL, MASKED, SECURITY_LABEL_SYSTEM, headers
from tests.support import make_pnr, patient, unique_name

LABEL = {"system": SECURITY_LABEL_SYSTEM, "code": "skyddadFolkbokforing"}


def _protected(sbase: str, **extra: Any) -> dict[str, Any]:
    resource = patient(unique_name("Back"), pnr=make_pnr(), meta={"security": [LABEL]},
                       telecom=[{"system": "phone", "value": "070-555 01 01"}],
                       address=[{"line": ["Skyddsvägen 1"], "city": "Umeå",
                                 "district": "Västerbottens län"}], **extra)
    created = requests.post(f"{sbase}/Patient", json=resource, headers=headers(FULL), timeout=10)
    assert created.status_code == 201
    return dict(created.json())


def _full(sbase: str, pid: str) -> dict[str, Any]:
    return dict(requests.get(f"{sbase}/Patient/{pid}", headers=headers(FULL), timeout=10).json())


def test_round_trip_of_masked_record_keeps_withheld_data(sbase: str) -> None:
    stored = _protected(sbase)
    pid = stored["id"]
    masked = requests.get(f"{sbase}/Patient/{pid}", headers=headers(MASKED), timeout=10).json()
    assert "telecom" not in masked
    masked["name"][0]["given"] = ["Ändrad"]
    masked["address"] = [{"district": "Västerbottens län"}]
    updated = requests.put(f"{sbase}/Patient/{pid}", json=masked, headers=headers(MASKED),
                           timeout=10)
    assert updated.status_code == 200, updated.text
    assert "telecom" not in updated.json()  # the answer is masked too
    now = _full(sbase, pid)
    assert now["name"][0]["given"] == ["Ändrad"]  # the visible change is kept
    assert now["telecom"] == stored["telecom"]
    assert now["address"] == stored["address"]
    assert now["meta"]["security"] == [LABEL]
    assert "tag" not in now["meta"]  # SUBSETTED describes a response, never the record


def test_masked_caller_cannot_remove_labels_or_links(sbase: str) -> None:
    stored = _protected(sbase)
    other = requests.post(f"{sbase}/Patient", json=patient(link=[
        {"other": {"reference": f"Patient/{stored['id']}"}, "type": "seealso"}],
        telecom=[{"system": "email", "value": "linked.person@example.se"}]),
        headers=headers(FULL), timeout=10).json()
    stripped = {**stored, "meta": {}}
    stripped.pop("telecom")
    assert requests.put(f"{sbase}/Patient/{stored['id']}", json=stripped,
                        headers=headers(MASKED), timeout=10).status_code == 200
    assert _full(sbase, stored["id"])["meta"]["security"] == [LABEL]
    # Dropping the link that makes the other record protected does not unprotect it.
    unlinked = {k: v for k, v in other.items() if k != "link"}
    unlinked.pop("telecom", None)
    response = requests.put(f"{sbase}/Patient/{other['id']}", json=unlinked,
                            headers=headers(MASKED), timeout=10)
    assert response.status_code == 200
    assert "linked.person@example.se" not in response.text
    after = requests.get(f"{sbase}/Patient/{other['id']}", headers=headers(MASKED), timeout=10)
    assert "linked.person@example.se" not in after.text
    assert after.json()["link"][0]["other"]["reference"] == f"Patient/{stored['id']}"


def test_masked_caller_cannot_patch_a_protected_record(sbase: str) -> None:
    stored = _protected(sbase)
    response = requests.patch(
        f"{sbase}/Patient/{stored['id']}",
        json=[{"op": "remove", "path": "/meta/security"}],
        headers={**headers(MASKED), "Content-Type": "application/json-patch+json"}, timeout=10)
    assert response.status_code == 412
    assert _full(sbase, stored["id"])["meta"]["security"] == [LABEL]


def test_caller_with_protected_identity_may_lift_protection(sbase: str) -> None:
    stored = _protected(sbase)
    lifted = {**stored, "meta": {}}
    assert requests.put(f"{sbase}/Patient/{stored['id']}", json=lifted, headers=headers(FULL),
                        timeout=10).status_code == 200
    read = requests.get(f"{sbase}/Patient/{stored['id']}", headers=headers(MASKED), timeout=10)
    assert read.json()["telecom"] == stored["telecom"]


NOTE = "http://sweid.example/test/note"


def test_round_trip_keeps_what_is_withheld_inside_kept_elements(sbase: str) -> None:
    """Masking also withholds parts of the identifiers, names and links it shows (extensions,
    assigner, the country); writing the masked form back keeps them."""
    stored = _protected(sbase)
    full = _full(sbase, stored["id"])
    full["identifier"][0] |= {"assigner": {"display": "Skattekontoret"},
                              "extension": [{"url": NOTE, "valueString": "id-note"}]}
    full["name"][0] |= {"extension": [{"url": NOTE, "valueString": "name-note"}],
                        "_family": {"extension": [{"url": NOTE, "valueString": "family-note"}]}}
    full["address"][0]["country"] = "SE"
    assert requests.put(f"{sbase}/Patient/{stored['id']}", json=full, headers=headers(FULL),
                        timeout=10).status_code == 200
    before = _full(sbase, stored["id"])
    masked = requests.get(f"{sbase}/Patient/{stored['id']}", headers=headers(MASKED),
                          timeout=10)
    for hidden in ("Skattekontoret", "id-note", "name-note", "family-note", '"SE"'):
        assert hidden not in masked.text
    assert requests.put(f"{sbase}/Patient/{stored['id']}", json=masked.json(),
                        headers=headers(MASKED), timeout=10).status_code == 200
    after = _full(sbase, stored["id"])
    assert {k: v for k, v in after.items() if k != "meta"} == {
        k: v for k, v in before.items() if k != "meta"}
    # A name edited in place keeps what its caller could not see of it.
    edited = masked.json()
    edited["name"][0]["given"] = ["Rättad"]
    edited.pop("meta")
    assert requests.put(f"{sbase}/Patient/{stored['id']}", json=edited,
                        headers=headers(MASKED), timeout=10).status_code == 200
    name = _full(sbase, stored["id"])["name"][0]
    assert name["given"] == ["Rättad"]
    assert name["extension"] == before["name"][0]["extension"]
    assert name["_family"] == before["name"][0]["_family"]


def test_conditional_update_from_a_masked_caller_keeps_withheld_data(sbase: str) -> None:
    stored = _protected(sbase)
    pnr = stored["identifier"][0]["value"]
    masked = requests.get(f"{sbase}/Patient/{stored['id']}", headers=headers(MASKED),
                          timeout=10).json()
    masked["gender"] = "other"
    response = requests.put(f"{sbase}/Patient", params={
        "identifier": f"urn:oid:1.2.752.129.2.1.3.1|{pnr}"}, json=masked,
        headers=headers(MASKED), timeout=10)
    assert response.status_code == 200, response.text
    now = _full(sbase, stored["id"])
    assert now["gender"] == "other"
    assert now["telecom"] == stored["telecom"] and now["address"] == stored["address"]

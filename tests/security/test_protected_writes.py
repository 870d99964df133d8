"""Writes cannot reveal or lift a protection the caller may not see past (review findings)."""

from __future__ import annotations

from tests.security.conftest import SECURITY_LABEL_SYSTEM
from tests.support import patient, unique_name

SECRET_PHONE = "0709876543"


def protected_person(as_full, sbase) -> dict:
    body = patient(unique_name("Skydd"),
                   meta={"security": [{"system": SECURITY_LABEL_SYSTEM,
                                       "code": "sekretessmarkering"}]},
                   telecom=[{"system": "phone", "value": SECRET_PHONE}],
                   address=[{"line": ["Hemliga gatan 1"], "postalCode": "41101"}])
    response = as_full.post(f"{sbase}/Patient", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def test_conditional_create_on_a_withheld_field_needs_protected_identity(as_full, as_masked,
                                                                          sbase):
    protected_person(as_full, sbase)
    for criteria in (f"phone={SECRET_PHONE}", "address-postalcode=41101"):
        response = as_masked.post(f"{sbase}/Patient", json=patient(),
                                  headers={"If-None-Exist": criteria})
        assert response.status_code == 403, response.text
        assert response.json()["issue"][0]["code"] == "forbidden"
    assert as_masked.delete(f"{sbase}/Patient?phone={SECRET_PHONE}").status_code == 403
    assert as_masked.put(f"{sbase}/Patient?phone={SECRET_PHONE}",
                         json=patient()).status_code == 403


def test_conditional_create_on_a_withheld_field_works_with_protected_identity(as_full, sbase):
    created = protected_person(as_full, sbase)
    response = as_full.post(f"{sbase}/Patient", json=patient(),
                            headers={"If-None-Exist": f"phone={SECRET_PHONE}&_id={created['id']}"})
    assert response.status_code == 200
    assert response.json()["id"] == created["id"]


def test_a_masked_caller_cannot_delete_or_recreate_a_protected_record(as_full, as_masked,
                                                                       sbase):
    guarded = protected_person(as_full, sbase)
    linked = as_full.post(f"{sbase}/Patient", json=patient(
        telecom=[{"system": "phone", "value": "0701112233"}],
        link=[{"other": {"reference": f"Patient/{guarded['id']}"}, "type": "seealso"}],
    )).json()
    url = f"{sbase}/Patient/{guarded['id']}"
    assert as_masked.delete(url).status_code == 403
    assert as_full.delete(url).status_code == 204
    recreate = as_masked.put(url, json={"resourceType": "Patient", "id": guarded["id"],
                                        "name": [{"family": "Ny"}]})
    assert recreate.status_code == 403
    shown = as_masked.get(f"{sbase}/Patient/{linked['id']}").text
    assert "0701112233" not in shown


def test_deleting_a_protected_record_keeps_the_records_it_links_to_protected(as_full, as_masked,
                                                                             sbase):
    """A protected record P that links one way (``refer``) to B protects B; P's deletion must
    not lift that (deleted records count, domain.md §3.6), or a masked caller's write-back of
    B would be answered with B's withheld data."""
    b = as_full.post(f"{sbase}/Patient", json=patient(
        telecom=[{"system": "phone", "value": "0704445566"}])).json()
    guarded = as_full.post(f"{sbase}/Patient", json=patient(
        meta={"security": [{"system": SECURITY_LABEL_SYSTEM, "code": "sekretessmarkering"}]},
        link=[{"other": {"reference": f"Patient/{b['id']}"}, "type": "refer"}])).json()
    assert as_full.delete(f"{sbase}/Patient/{guarded['id']}").status_code == 204
    masked = as_masked.get(f"{sbase}/Patient/{b['id']}")
    assert "0704445566" not in masked.text
    written = as_masked.put(f"{sbase}/Patient/{b['id']}", json=masked.json())
    assert written.status_code == 200, written.text
    assert "0704445566" not in written.text
    assert "0704445566" not in as_masked.get(f"{sbase}/Patient/{b['id']}").text
    assert "0704445566" in as_full.get(f"{sbase}/Patient/{b['id']}").text

"""Test data for the console tests, written through the real FHIR API (requests)."""

from __future__ import annotations

from typing import Any

import requests

from tests.support import PNR_SYSTEM, make_pnr, unique_name

FHIR_JSON = {"Content-Type": "application/fhir+json", "Accept": "application/fhir+json"}


def _headers(token: str | None) -> dict[str, str]:
    return {**FHIR_JSON, **({"Authorization": f"Bearer {token}"} if token else {})}


def parameters(*parts: dict[str, Any]) -> dict[str, Any]:
    return {"resourceType": "Parameters", "parameter": list(parts)}


def person(family: str | None = None, *, birth: str = "1998-03-04", gender: str = "female",
           given: str = "Testa", **extra: Any) -> dict[str, Any]:
    """A Patient resource without identifiers."""
    return {"resourceType": "Patient", "name": [{"family": family or unique_name("Konsol"),
                                                 "given": [given]}],
            "gender": gender, "birthDate": birth, **extra}


def create(base: str, resource: dict[str, Any], token: str | None = None) -> dict[str, Any]:
    """POST a Patient; the stored resource."""
    response = requests.post(f"{base}/Patient", json=resource, headers=_headers(token),
                             timeout=30)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def with_pnr(base: str, resource: dict[str, Any], token: str | None = None) -> tuple[str, str]:
    """Create the person with a fresh personnummer of its birth date; (id, pnr)."""
    from datetime import date

    pnr = make_pnr(date.fromisoformat(resource["birthDate"]),
                   female=resource.get("gender") == "female")
    created = create(base, {**resource, "identifier": [{"system": PNR_SYSTEM, "value": pnr}]},
                     token)
    return created["id"], pnr


def reserve(base: str, resource: dict[str, Any], system: str,
            token: str | None = None) -> tuple[str, str]:
    """A new reserve-number record by ``$generate-reserve-id``; (id, number)."""
    response = requests.post(
        f"{base}/Patient/$generate-reserve-id", headers=_headers(token), timeout=30,
        json=parameters({"name": "system", "valueUri": system},
                        {"name": "patient", "resource": resource}))
    assert response.status_code == 200, response.text
    out = response.json()["parameter"]
    value = next(p["valueIdentifier"]["value"] for p in out if p["name"] == "identifier")
    ref = next(p["valueReference"]["reference"] for p in out if p["name"] == "patient")
    return ref.removeprefix("Patient/"), value


def merge(base: str, source_id: str, target_id: str, token: str | None = None) -> None:
    """``$merge`` the source record into the target."""
    response = requests.post(
        f"{base}/Patient/$merge", headers=_headers(token), timeout=30,
        json=parameters(
            {"name": "source-patient", "valueReference": {"reference": f"Patient/{source_id}"}},
            {"name": "target-patient", "valueReference": {"reference": f"Patient/{target_id}"}}))
    assert response.status_code == 200, response.text


def read(base: str, patient_id: str, token: str | None = None) -> dict[str, Any]:
    response = requests.get(f"{base}/Patient/{patient_id}", headers=_headers(token), timeout=30)
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found

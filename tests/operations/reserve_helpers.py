"""Helpers for the ``$generate-reserve-id`` tests: Parameters in, ids and references out."""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

import requests

from tests.support import LRID_SYSTEM, NRID_SYSTEM

OPERATION = "$generate-reserve-id"
FHIR_JSON = {"Content-Type": "application/fhir+json", "Accept": "application/fhir+json"}
_used_dates: set[date] = set()

__all__ = ["LRID_SYSTEM", "NRID_SYSTEM", "fresh_date", "generate", "identifiers", "parameters",
           "patient_ids"]


def parameters(*, system: str | None = None, birth_date: str | None = None,
               gender: str | None = None, count: int | None = None,
               patient: dict[str, Any] | None = None,
               request_id: str | None = None) -> dict[str, Any]:
    """A Parameters resource for the operation from the given values."""
    params: list[dict[str, Any]] = []
    if system is not None:
        params.append({"name": "system", "valueUri": system})
    if birth_date is not None:
        params.append({"name": "birthDate", "valueDate": birth_date})
    if gender is not None:
        params.append({"name": "gender", "valueCode": gender})
    if count is not None:
        params.append({"name": "count", "valueInteger": count})
    if patient is not None:
        params.append({"name": "patient", "resource": patient})
    if request_id is not None:
        params.append({"name": "requestId", "valueString": request_id})
    return {"resourceType": "Parameters", "parameter": params}


def generate(base: str, *, patient_id: str | None = None,
             headers: dict[str, str] | None = None, session: requests.Session | None = None,
             **values: Any) -> requests.Response:
    """POST the operation (type level, or instance level with ``patient_id``)."""
    url = f"{base}/Patient/{patient_id + '/' if patient_id else ''}{OPERATION}"
    poster = session or requests
    return poster.post(url, json=parameters(**values), headers={**FHIR_JSON, **(headers or {})},
                       timeout=60)


def identifiers(response: requests.Response) -> list[dict[str, str]]:
    """The ``identifier`` outputs of a successful response."""
    assert response.status_code == 200, response.text
    return [p["valueIdentifier"] for p in response.json()["parameter"]
            if p["name"] == "identifier"]


def patient_ids(response: requests.Response) -> list[str]:
    """The Patient ids of the ``patient`` outputs."""
    refs = [p["valueReference"]["reference"] for p in response.json()["parameter"]
            if p["name"] == "patient"]
    assert all(ref.startswith("Patient/") for ref in refs)
    return [ref.removeprefix("Patient/") for ref in refs]


def fresh_date() -> date:
    """A birth date no other test in this session generates for (counters start empty)."""
    while True:
        day = date(1930, 1, 1) + timedelta(days=random.randrange(0, 70 * 365))
        if day not in _used_dates:
            _used_dates.add(day)
            return day

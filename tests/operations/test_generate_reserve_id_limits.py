"""The limits of ``$generate-reserve-id`` end to end: at most 50 ids a request (domain.md
§2.2, Inera) and the real LRID VGR range of one birth date, 37 numbers per known sex
(domain.md §2.3), which once used up is refused with a 409 (issue 5)."""

from __future__ import annotations

import requests

from app.identity import nrid
from tests.operations.reserve_helpers import (
    EXHAUSTED_DATE,
    LRID_SYSTEM,
    NRID_SYSTEM,
    assert_encodes,
    fresh_date,
    generate,
    identifiers,
    patient_ids,
)
from tests.support import patient, unique_name


def test_fifty_ids_in_one_request_are_distinct_valid_and_encode_the_date_and_sex(base):
    born = fresh_date()
    ids = identifiers(generate(base, birth_date=born.isoformat(), gender="female", count=50))
    assert len(ids) == 50
    assert len({i["value"] for i in ids}) == 50
    for ident in ids:
        assert ident["system"] == NRID_SYSTEM
        assert_encodes(ident, born, "female")
    # Fifty-one is refused and takes nothing: the next id is the fifty-first number.
    response = generate(base, birth_date=born.isoformat(), gender="female", count=51)
    assert response.status_code == 422, response.text
    assert response.json()["issue"][0]["expression"] == ["count"]
    [after] = identifiers(generate(base, birth_date=born.isoformat(), gender="female"))
    assert after["value"] == nrid.generate(born, "female", 50)


def test_fifty_patients_in_one_request_each_get_their_own_id(base):
    family = unique_name("Pack")
    born = fresh_date()
    response = generate(base, count=50, patient=patient(family, birth=born.isoformat(),
                                                         gender="male"))
    ids, created = identifiers(response), patient_ids(response)
    assert len({i["value"] for i in ids}) == len(set(created)) == 50
    for ident in ids:
        assert_encodes(ident, born, "male")
    found = requests.get(f"{base}/Patient", params={"family": family, "_summary": "count"},
                         timeout=30).json()
    assert found["total"] == 50


def _lrids(base: str, gender: str, count: int) -> list[str]:
    ids = identifiers(generate(base, system=LRID_SYSTEM, birth_date=EXHAUSTED_DATE.isoformat(),
                               gender=gender, count=count))
    for ident in ids:
        assert ident["system"] == LRID_SYSTEM
        assert_encodes(ident, EXHAUSTED_DATE, "female" if gender == "female" else "male")
    return [i["value"] for i in ids]


def _refused_as_exhausted(response: requests.Response, words: str) -> None:
    assert response.status_code == 409, response.text
    outcome = response.json()
    assert outcome["resourceType"] == "OperationOutcome"
    assert outcome["issue"][0]["code"] == "conflict"
    diagnostics = outcome["issue"][0]["diagnostics"]
    assert f"All 37 LRID VGR numbers for birth date {EXHAUSTED_DATE.isoformat()}" in diagnostics
    assert words in diagnostics


def test_the_37_lrids_of_each_sex_for_a_birth_date_run_out_with_a_409(base):
    women = _lrids(base, "female", 30)
    # Asking for more than is left takes nothing; the seven left are still there.
    more = generate(base, system=LRID_SYSTEM, birth_date=EXHAUSTED_DATE.isoformat(),
                    gender="female", count=8)
    _refused_as_exhausted(more, "women (gg 06–78 even)")
    women += _lrids(base, "female", 7)
    assert sorted(int(v[9:11]) for v in women) == list(range(6, 79, 2))
    _refused_as_exhausted(generate(base, system=LRID_SYSTEM,
                                   birth_date=EXHAUSTED_DATE.isoformat(), gender="female"),
                          "women (gg 06–78 even)")
    # A Patient asked for with that date and sex is not created either.
    family = unique_name("Exhausted")
    response = generate(base, system=LRID_SYSTEM, patient=patient(
        family, birth=EXHAUSTED_DATE.isoformat(), gender="female"))
    _refused_as_exhausted(response, "women")
    found = requests.get(f"{base}/Patient", params={"family": family}, timeout=30).json()
    assert found["total"] == 0

    # Men of the same date have their own 37 numbers, then run out the same way.
    men = _lrids(base, "male", 37)
    assert sorted(int(v[9:11]) for v in men) == list(range(7, 80, 2))
    _refused_as_exhausted(generate(base, system=LRID_SYSTEM,
                                   birth_date=EXHAUSTED_DATE.isoformat(), gender="male"),
                          "men (gg 07–79 odd)")
    assert len(set(women + men)) == 74

    # Unknown sex (80–89) and NRIDs of the date are still available.
    [unknown] = identifiers(generate(base, system=LRID_SYSTEM,
                                     birth_date=EXHAUSTED_DATE.isoformat(), gender="unknown"))
    assert_encodes(unknown, EXHAUSTED_DATE, None)
    [national] = identifiers(generate(base, birth_date=EXHAUSTED_DATE.isoformat(),
                                      gender="female"))
    assert_encodes(national, EXHAUSTED_DATE, "female")
    assert national["value"][:2] == str(EXHAUSTED_DATE.year // 100 + 3)

"""``POST /fhir/Patient/{id}/$generate-reserve-id`` end to end: the kind, the birth date and
the sex come from the Patient (or fill what it leaves out), the Patient keeps its old
identifiers, is found by old and new, and the strongest identifier is its main identity
(api.md "Operations"; domain.md §2.2, §2.3, §3.5)."""

from __future__ import annotations

import random
import uuid
from datetime import date, timedelta
from typing import Any

import pytest
import requests

from app.identity import Sex, lrid_vgr, nrid
from tests.operations.reserve_helpers import (
    LRID_SYSTEM,
    NRID_SYSTEM,
    assert_encodes,
    fresh_date,
    generate,
    identifiers,
    patient_ids,
)
from tests.support import PNR_SYSTEM, make_pnr, patient

GRID_SYSTEM = "urn:oid:1.2.752.113.11.0.2.1.1.4"


def create(http: requests.Session, base: str, *, birth: date | None, gender: str | None,
           identifier: list[dict[str, str]] | None = None) -> dict[str, Any]:
    """A stored Patient; ``None`` leaves birthDate / gender out."""
    body = patient(birth=birth.isoformat() if birth else None)
    if gender is None:
        del body["gender"]
    else:
        body["gender"] = gender
    if identifier:
        body["identifier"] = identifier
    response = http.post(f"{base}/Patient", json=body)
    assert response.status_code == 201, response.text
    return dict(response.json())


def read(http: requests.Session, base: str, patient_id: str) -> dict[str, Any]:
    response = http.get(f"{base}/Patient/{patient_id}")
    assert response.status_code == 200, response.text
    return dict(response.json())


def found_by(http: requests.Session, base: str, ident: dict[str, str]) -> list[str]:
    """Ids of the Patients a search ``identifier=system|value`` finds."""
    bundle = http.get(f"{base}/Patient",
                      params={"identifier": f"{ident['system']}|{ident['value']}"}).json()
    return [entry["resource"]["id"] for entry in bundle.get("entry", [])]


def refused(response: requests.Response, status: int, words: str) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["resourceType"] == "OperationOutcome"
    assert words in body["issue"][0]["diagnostics"]


# --- LRID VGR at instance level -------------------------------------------------------------

@pytest.mark.parametrize("sex", ["female", "male"])
def test_an_lrid_for_a_patient_encodes_its_birth_date_and_sex(base, http, sex: Sex):
    born = fresh_date()
    holder = create(http, base, birth=born, gender=sex)
    response = generate(base, patient_id=holder["id"], system=LRID_SYSTEM)
    [new] = identifiers(response)
    assert new["system"] == LRID_SYSTEM
    assert_encodes(new, born, sex)
    assert new["value"][8] == {"female": "K", "male": "M"}[sex]
    assert patient_ids(response) == [holder["id"]]
    stored = read(http, base, holder["id"])
    assert stored["identifier"] == [{**new, "use": "official"}]
    assert (stored["birthDate"], stored["gender"]) == (born.isoformat(), sex)


def test_an_lrid_for_a_patient_without_gender_takes_the_unknown_sex_range(base, http):
    born = fresh_date()
    holder = create(http, base, birth=born, gender=None)
    [new] = identifiers(generate(base, patient_id=holder["id"], system=LRID_SYSTEM))
    assert_encodes(new, born, None)
    assert new["value"][8] == "X" and 80 <= int(new["value"][9:11]) <= 89
    assert "gender" not in read(http, base, holder["id"])


def test_an_lrid_for_a_patient_without_birth_date_is_a_422_that_changes_nothing(base, http):
    holder = create(http, base, birth=None, gender="female")
    refused(generate(base, patient_id=holder["id"], system=LRID_SYSTEM), 422,
            "LRID VGR needs a birth date")
    stored = read(http, base, holder["id"])
    assert stored["meta"]["versionId"] == "1"
    assert "identifier" not in stored


def test_a_birth_date_parameter_fills_the_patient_that_has_none_and_is_encoded(base, http):
    born = fresh_date()
    holder = create(http, base, birth=None, gender="male")
    [new] = identifiers(generate(base, patient_id=holder["id"], system=LRID_SYSTEM,
                                 birth_date=born.isoformat()))
    assert_encodes(new, born, "male")
    stored = read(http, base, holder["id"])
    assert stored["birthDate"] == born.isoformat()
    assert stored["identifier"] == [{**new, "use": "official"}]


# --- parameters that agree with or contradict the Patient --------------------------------

@pytest.mark.parametrize("system", [NRID_SYSTEM, LRID_SYSTEM])
def test_birth_date_and_gender_that_agree_with_the_patient_are_accepted(base, http, system):
    born = fresh_date()
    holder = create(http, base, birth=born, gender="female")
    [new] = identifiers(generate(base, patient_id=holder["id"], system=system,
                                 birth_date=born.isoformat(), gender="female"))
    assert new["system"] == system
    assert_encodes(new, born, "female")
    assert read(http, base, holder["id"])["meta"]["versionId"] == "2"


@pytest.mark.parametrize("system", [NRID_SYSTEM, LRID_SYSTEM])
def test_birth_date_or_gender_that_contradict_the_patient_are_a_422_allocating_nothing(
        base, http, system):
    born, other = fresh_date(), fresh_date()
    holder = create(http, base, birth=born, gender="female")
    refused(generate(base, patient_id=holder["id"], system=system,
                     birth_date=other.isoformat()), 422, "birthDate differs")
    refused(generate(base, patient_id=holder["id"], system=system, gender="male"), 422,
            "gender differs")
    refused(generate(base, patient_id=holder["id"], system=system,
                     birth_date=born.isoformat(), gender="unknown"), 422, "gender differs")
    assert read(http, base, holder["id"])["meta"]["versionId"] == "1"
    # Nothing was taken from the counters those requests would have used: the first
    # number of each is still free (women of the other date, men of the birth date).
    first = {NRID_SYSTEM: lambda day, sex: nrid.generate(day, sex, 0),
             LRID_SYSTEM: lambda day, sex: lrid_vgr.generate(day, sex, 0)}[system]
    [for_other_date] = identifiers(generate(base, system=system,
                                            birth_date=other.isoformat(), gender="female"))
    [for_men] = identifiers(generate(base, system=system, birth_date=born.isoformat(),
                                     gender="male"))
    assert for_other_date["value"] == first(other, "female")
    assert for_men["value"] == first(born, "male")


# --- NRID for a Patient without birth date and/or sex ------------------------------------

@pytest.mark.parametrize(("known_birth", "gender", "sex"), [
    (False, "female", "female"),
    (False, "male", "male"),
    (True, None, None),
    (True, "unknown", None),
    (False, None, None),
])
def test_an_nrid_for_a_patient_without_birth_date_or_sex_uses_the_unknown_forms(
        base, http, known_birth: bool, gender: str | None, sex: Sex | None):
    born = fresh_date() if known_birth else None
    holder = create(http, base, birth=born, gender=gender)
    [new] = identifiers(generate(base, patient_id=holder["id"]))
    assert new["system"] == NRID_SYSTEM
    assert_encodes(new, born, sex)
    value = new["value"]
    assert value.startswith("00") != known_birth
    assert value[10].isalpha() == (sex is None)
    stored = read(http, base, holder["id"])
    # The unknown-birth-date policy defaults to "empty": nothing is invented.
    assert ("birthDate" in stored) == known_birth
    assert stored.get("gender") == gender
    assert found_by(http, base, new) == [holder["id"]]


# --- old and new identifiers; the main identity ------------------------------------------

def _grid(born: date) -> dict[str, str]:
    return {"system": GRID_SYSTEM, "value": f"{born:%Y%m%d}C{random.randrange(1000):03d}"}


def _nrid(born: date) -> dict[str, str]:
    # A running number far above what the counter of this fresh date reaches here.
    return {"system": NRID_SYSTEM, "value": nrid.generate(born, "female", 2000)}


def _pnr(born: date) -> dict[str, str]:
    return {"system": PNR_SYSTEM, "value": make_pnr(born, female=True)}


@pytest.mark.parametrize(("held", "system", "new_is_main"), [
    (_grid, LRID_SYSTEM, True),      # LRID VGR > GRID
    (_nrid, LRID_SYSTEM, False),     # NRID > LRID VGR
    (_pnr, NRID_SYSTEM, False),      # PNR > NRID
], ids=["grid-gets-lrid", "nrid-gets-lrid", "pnr-gets-nrid"])
def test_the_patient_is_found_by_old_and_new_identifier_and_the_stronger_is_official(
        base, http, held, system, new_is_main):
    born = fresh_date()
    old = held(born)
    holder = create(http, base, birth=born, gender="female",
                    identifier=[{**old, "use": "official"}])
    [new] = identifiers(generate(base, patient_id=holder["id"], system=system))
    assert_encodes(new, born, "female")
    assert found_by(http, base, old) == [holder["id"]]
    assert found_by(http, base, new) == [holder["id"]]
    by_system = {i["system"]: i for i in read(http, base, holder["id"])["identifier"]}
    assert set(by_system) == {old["system"], system}
    assert by_system[old["system"]]["value"] == old["value"]
    assert by_system[system]["value"] == new["value"]
    assert by_system[system].get("use") == ("official" if new_is_main else None)
    assert by_system[old["system"]].get("use") == (None if new_is_main else "official")


def test_a_retried_instance_request_with_a_header_key_keeps_one_lrid(base, http):
    born = fresh_date()
    holder = create(http, base, birth=born, gender="male")
    key = {"X-Request-Id": f"instance-lrid-{uuid.uuid4()}"}
    first = identifiers(generate(base, patient_id=holder["id"], system=LRID_SYSTEM,
                                 headers=key))
    again = identifiers(generate(base, patient_id=holder["id"], system=LRID_SYSTEM,
                                 headers=key))
    assert first == again
    stored = read(http, base, holder["id"])
    assert stored["meta"]["versionId"] == "2"
    assert stored["identifier"] == [{**first[0], "use": "official"}]


def test_a_birth_date_parameter_in_the_future_is_a_422_that_leaves_the_patient_alone(base, http):
    holder = create(http, base, birth=None, gender="female")
    tomorrow = date.today() + timedelta(days=1)
    refused(generate(base, patient_id=holder["id"], birth_date=tomorrow.isoformat()), 422,
            "future")
    assert read(http, base, holder["id"])["meta"]["versionId"] == "1"


@pytest.mark.parametrize("partial", ["1980", "1980-05"])
def test_a_partial_birth_date_is_an_unknown_date_for_the_number_and_stays_on_the_patient(
        base, http, partial: str):
    holder = create(http, base, birth=None, gender="female")
    body = {**read(http, base, holder["id"]), "birthDate": partial}
    assert http.put(f"{base}/Patient/{holder['id']}", json=body).status_code == 200
    [new] = identifiers(generate(base, patient_id=holder["id"]))
    assert new["value"].startswith("00")  # NRID's unknown-date form
    assert_encodes(new, None, "female")
    assert read(http, base, holder["id"])["birthDate"] == partial
    refused(generate(base, patient_id=holder["id"], system=LRID_SYSTEM), 422,
            "LRID VGR needs a birth date")
    other = "1979-05-01" if partial == "1980" else "1980-06-01"
    refused(generate(base, patient_id=holder["id"], system=LRID_SYSTEM, birth_date=other), 422,
            "differs from the Patient's birthDate")
    [lrid] = identifiers(generate(base, patient_id=holder["id"], system=LRID_SYSTEM,
                                  birth_date="1980-05-01"))  # agrees with both partial dates
    assert_encodes(lrid, date(1980, 5, 1), "female")
    assert read(http, base, holder["id"])["birthDate"] == partial  # data, never overwritten

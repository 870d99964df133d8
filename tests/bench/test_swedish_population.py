"""The synthetic Swedish population of ``bench/swedish_population.py``: deterministic,
valid test identities only, and queries whose labels say what they claim."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest

from app.identity import kind_for_system
from app.services.fhir_validation import validate_patient
from bench.swedish_population import (
    MEMBER_KINDS,
    NON_MEMBER_KINDS,
    REFERENCE_DATE,
    Dataset,
    Query,
    fold,
    generate,
)

SIZE = 3000
QUERIES = 700
SEED = 11
PNR = "urn:oid:1.2.752.129.2.1.3.1"
SNR = "urn:oid:1.2.752.129.2.1.3.3"


@pytest.fixture(scope="module")
def dataset() -> Dataset:
    """One generated dataset, read (never changed) by the tests of this module."""
    return generate(SIZE, SEED, queries=QUERIES)


@pytest.fixture(scope="module")
def housemates(dataset: Dataset) -> dict[str | None, list[dict[str, Any]]]:
    """Stored Patients by address line (with town)."""
    found: dict[str | None, list[dict[str, Any]]] = {}
    for patient in dataset.patients:
        found.setdefault(_home(patient), []).append(patient)
    return found


@pytest.fixture(scope="module")
def namesakes(dataset: Dataset) -> dict[tuple[str, tuple[str, ...]], list[dict[str, Any]]]:
    """Stored Patients by folded surname and given names."""
    found: dict[tuple[str, tuple[str, ...]], list[dict[str, Any]]] = {}
    for patient in dataset.patients:
        found.setdefault(_name(patient), []).append(patient)
    return found


def _home(resource: dict[str, Any]) -> str | None:
    if "address" not in resource:
        return None
    address = resource["address"][0]
    return f"{address['line'][0]}, {address['postalCode']} {address['city']}"


def _name(resource: dict[str, Any]) -> tuple[str, tuple[str, ...]]:
    name = resource["name"][0]
    return fold(name["family"]), tuple(fold(g) for g in name["given"])


def _birth(resource: dict[str, Any]) -> date:
    return date.fromisoformat(resource["birthDate"])


def _of_kind(dataset: Dataset, kind: str) -> Iterator[Query]:
    found = [query for query in dataset.queries if query.kind == kind]
    assert found, f"no {kind} query"
    yield from found


def test_the_same_seed_and_size_give_the_same_patients_and_queries(dataset: Dataset) -> None:
    assert generate(SIZE, SEED, queries=QUERIES) == dataset


def test_the_number_of_queries_does_not_change_the_population(dataset: Dataset) -> None:
    assert generate(SIZE, SEED, queries=40).patients == dataset.patients


def test_another_seed_gives_another_population(dataset: Dataset) -> None:
    other = generate(SIZE, SEED + 1, queries=0)
    assert other.patients != dataset.patients
    assert other.queries == []


def test_size_and_number_of_queries_are_as_asked_about_half_of_them_members(
        dataset: Dataset) -> None:
    assert len(dataset.patients) == SIZE
    assert len(dataset.queries) == QUERIES
    assert sum(query.truth is not None for query in dataset.queries) == QUERIES // 2


def test_every_scenario_occurs_and_no_other(dataset: Dataset) -> None:
    kinds = Counter(query.kind for query in dataset.queries)
    assert set(kinds) == set(MEMBER_KINDS) | set(NON_MEMBER_KINDS)
    assert all(query.truth is None for query in dataset.queries
               if query.kind in NON_MEMBER_KINDS)
    assert all(query.truth is not None for query in dataset.queries
               if query.kind in MEMBER_KINDS)


def test_ids_are_unique(dataset: Dataset) -> None:
    ids = [patient["id"] for patient in dataset.patients]
    assert len(set(ids)) == len(ids)


def test_every_identifier_value_is_unique_across_stored_patients(dataset: Dataset) -> None:
    values = [identifier["value"] for patient in dataset.patients
              for identifier in patient.get("identifier", [])]
    assert len(set(values)) == len(values)


def test_every_personnummer_is_valid_with_a_test_birth_number_and_the_parity_of_the_gender(
        dataset: Dataset) -> None:
    near = 0
    civic = [p for p in dataset.patients if p.get("identifier", [{}])[0].get("system")
             in (PNR, SNR)]
    assert len(civic) > 0.9 * SIZE
    for patient in civic:
        identifier = patient["identifier"][0]
        kind = kind_for_system(identifier["system"])
        assert kind is not None
        value = identifier["value"]
        assert kind.validate(value, today=REFERENCE_DATE) == value
        assert 980 <= int(value[8:11]) <= 999
        assert (int(value[10]) % 2 == 1) == (patient["gender"] == "male")
        described = kind.describe(value, today=REFERENCE_DATE).birth_date
        assert described is not None
        # The number's date is the birth date, now and then a nearby day (domain.md §2.1).
        assert abs((described - _birth(patient)).days) <= 7
        near += described != _birth(patient)
    assert near < 0.02 * len(civic)


def test_a_few_percent_have_a_samordningsnummer_a_reserve_number_or_no_identifier(
        dataset: Dataset) -> None:
    systems = Counter(p["identifier"][0]["system"] if "identifier" in p else None
                      for p in dataset.patients)
    for system in (SNR, "urn:oid:1.2.752.74.9.1", "urn:oid:1.2.752.113.11.0.2.1.1.1", None):
        assert 0 < systems[system] < 0.06 * SIZE, system
    for patient in dataset.patients:
        for identifier in patient.get("identifier", []):
            kind = kind_for_system(identifier["system"])
            assert kind is not None and kind.is_valid(identifier["value"])


def test_member_queries_point_at_stored_patients_with_the_same_birth_date_or_a_mistyped_one(
        dataset: Dataset) -> None:
    stored = {patient["id"]: patient for patient in dataset.patients}
    for query in dataset.queries:
        if query.truth is None:
            continue
        assert "id" not in query.patient
        patient = stored[query.truth]
        if query.kind in ("day-month-transposed", "birth-digit-typo"):
            assert query.patient["birthDate"] != patient["birthDate"]
        else:
            assert query.patient["birthDate"] == patient["birthDate"]


def test_member_queries_carry_the_mistake_their_kind_names(dataset: Dataset) -> None:
    stored = {patient["id"]: patient for patient in dataset.patients}
    for query in dataset.queries:
        if query.truth is None:
            continue
        patient, typed = stored[query.truth], query.patient
        family, given = typed["name"][0]["family"], typed["name"][0]["given"]
        real_family, real_given = patient["name"][0]["family"], patient["name"][0]["given"]
        if query.kind == "exact":
            assert (family, given) == (real_family, real_given)
            assert typed["address"] == patient["address"]
        elif query.kind == "diacritics-dropped":
            assert (family, given) == (fold(real_family), [fold(g) for g in real_given])
            assert (family, given) != (real_family, real_given)
        elif query.kind == "given-order-swapped":
            assert given == real_given[::-1] != real_given
        elif query.kind == "given-one-missing":
            assert len(given) == 1 and given[0] in real_given and len(real_given) == 2
        elif query.kind == "day-month-transposed":
            real = _birth(patient)
            assert _birth(typed) == date(real.year, real.day, real.month)
        elif query.kind == "only-name-and-birthdate":
            assert set(typed) == {"resourceType", "name", "birthDate"}
        elif query.kind == "address-missing":
            assert "address" not in typed and "telecom" not in typed
        elif query.kind in ("moved", "married-and-moved"):
            assert typed["address"][0]["city"] != patient["address"][0]["city"]
        if query.kind in ("married-name", "married-and-moved"):
            assert family != real_family and given == real_given
        if query.kind in ("typo-family", "family-given-swapped", "hyphen-space", "nickname",
                          "typo-given"):
            assert (family, given) != (real_family, real_given)


def test_non_member_queries_are_nobody_stored(dataset: Dataset) -> None:
    stored = {(*_name(p), p["birthDate"]) for p in dataset.patients}
    for query in dataset.queries:
        if query.truth is None:
            assert (*_name(query.patient), query.patient["birthDate"]) not in stored


def test_twin_queries_share_surname_birth_date_and_address_with_a_stored_twin(
        dataset: Dataset, housemates: dict[str | None, list[dict[str, Any]]]) -> None:
    for query in _of_kind(dataset, "twin"):
        family, given = _name(query.patient)
        assert any(_name(p)[0] == family and p["birthDate"] == query.patient["birthDate"]
                   and _name(p)[1][0] != given[0]
                   for p in housemates.get(_home(query.patient), [])), query


def test_sibling_queries_share_surname_and_address_with_a_stored_sibling_born_1_to_3_years_apart(
        dataset: Dataset, housemates: dict[str | None, list[dict[str, Any]]]) -> None:
    for query in _of_kind(dataset, "sibling-close-age"):
        family, given = _name(query.patient)
        assert any(_name(p)[0] == family and _name(p)[1] != given
                   and 300 <= abs((_birth(p) - _birth(query.patient)).days) <= 1220
                   for p in housemates.get(_home(query.patient), [])), query


def test_parent_child_queries_share_all_names_and_address_with_a_stored_parent_or_child(
        dataset: Dataset, housemates: dict[str | None, list[dict[str, Any]]]) -> None:
    for query in _of_kind(dataset, "parent-child-same-name"):
        assert any(_name(p) == _name(query.patient)
                   and 20 * 365 <= abs((_birth(p) - _birth(query.patient)).days) <= 41 * 365
                   for p in housemates.get(_home(query.patient), [])), query


def test_relative_queries_share_surname_and_address_with_another_stored_household_member(
        dataset: Dataset, housemates: dict[str | None, list[dict[str, Any]]]) -> None:
    for query in _of_kind(dataset, "relative-same-household"):
        family, given = _name(query.patient)
        assert any(_name(p)[0] == family
                   and (_name(p)[1] != given or p["birthDate"] != query.patient["birthDate"])
                   for p in housemates.get(_home(query.patient), [])), query


def test_namesake_queries_share_the_full_name_of_a_stored_person_born_another_day(
        dataset: Dataset,
        namesakes: dict[tuple[str, tuple[str, ...]], list[dict[str, Any]]]) -> None:
    for kind in ("namesake-other-birthdate", "namesake-same-city"):
        for query in _of_kind(dataset, kind):
            found = [p for p in namesakes.get(_name(query.patient), [])
                     if p["birthDate"] != query.patient["birthDate"]]
            if kind == "namesake-same-city":
                address = query.patient["address"][0]
                street = address["line"][0].rsplit(" ", 1)[0]
                found = [p for p in found if p["address"][0]["city"] == address["city"]
                         and not p["address"][0]["line"][0].startswith(street + " ")]
            assert found, query


def test_the_ten_commonest_surnames_are_carried_by_10_to_20_percent(dataset: Dataset) -> None:
    surnames = Counter(p["name"][0]["family"] for p in dataset.patients)
    top = surnames.most_common(10)
    assert 0.10 <= sum(count for _, count in top) / SIZE <= 0.20
    assert {"Andersson", "Johansson", "Karlsson"} <= {name for name, _ in top}


def test_names_have_swedish_letters_two_given_names_and_common_namesakes(
        dataset: Dataset) -> None:
    text = " ".join(p["name"][0]["family"] + " " + " ".join(p["name"][0]["given"])
                    for p in dataset.patients)
    assert all(letter in text for letter in "åäöÅÖé")
    two = sum(len(p["name"][0]["given"]) == 2 for p in dataset.patients)
    assert 0.3 < two / SIZE < 0.5
    assert any("-" in g for p in dataset.patients for g in p["name"][0]["given"])
    full = Counter((*_name(p), p["address"][0]["city"]) for p in dataset.patients)
    assert full.most_common(1)[0][1] >= 2


def test_birth_dates_lie_between_1920_and_2025(dataset: Dataset) -> None:
    births = [_birth(p) for p in dataset.patients]
    assert min(births) >= date(1920, 1, 1) and max(births) < REFERENCE_DATE
    assert sum(b.year >= 2008 for b in births) > 0.1 * SIZE  # children
    assert sum(b.year < 1950 for b in births) > 0.05 * SIZE  # the old


def test_every_sampled_patient_and_query_passes_the_fhir_validator(dataset: Dataset) -> None:
    for patient in dataset.patients[:: SIZE // 150]:
        assert validate_patient(patient)["id"] == patient["id"]
    for query in dataset.queries[::7]:
        validate_patient(query.patient)


def test_fold_drops_diacritics_as_a_keyboard_without_them() -> None:
    assert fold("Åström") == "Astrom"
    assert fold("Sjöberg-Lindén") == "Sjoberg-Linden"
    assert fold("Hodžić") == "Hodzic"
    assert fold("Paweł") == "Pawel"


def test_a_size_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="size"):
        generate(0, 1)

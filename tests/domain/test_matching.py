"""The matching engine without a server: normalisation, levels, grades, blocking, EM."""

from __future__ import annotations

import os
from dataclasses import replace
from datetime import date
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.domain.matching import (
    SHIPPED,
    MemoryIndex,
    decode_record,
    encode_record,
    explanation,
    load_model,
    query_keys,
    record_from_patient,
)
from app.domain.matching import assess as assess_with
from app.domain.matching.features import birth_level, compare, family_level, given_level
from app.domain.matching.fit import fit_unsupervised
from app.domain.matching.model import ModelError, ModelFile, save_model
from app.domain.matching.normalise import given_key, name_tokens, phone_key, spelling_key
from app.domain.matching.record import RECORD_FORMAT

PNR = "urn:oid:1.2.752.129.2.1.3.1"
MODEL = load_model(SHIPPED)
#: A regional database's size: the prior and the household evidence scale with it.
POPULATION = 1_000_000


def assess(query, candidate, **kwargs):
    return assess_with(query, candidate, model=MODEL, population=POPULATION, **kwargs)


def person(family: str | None = "Strömberg", given: str = "Åsa", birth: str | None = "1980-05-07",
           **extra: Any) -> dict[str, Any]:
    resource: dict[str, Any] = {"resourceType": "Patient", "id": extra.pop("id", "p1"),
                                "name": [{"family": family, "given": [given]}],
                                "gender": extra.pop("gender", "female")}
    if birth:
        resource["birthDate"] = birth
    resource.update(extra)
    return resource


def rec(**kwargs: Any):
    return record_from_patient(person(**kwargs))


def test_swedish_letters_fold_and_double_names_split():
    assert name_tokens("Ström-Berg") == ("strom", "berg")
    assert spelling_key("stroemberg") == spelling_key("stromberg")
    assert given_key("Åsa") == given_key("Asa")
    assert family_level(rec(family="Ström-Berg"), rec(family="Strömberg")).level == "exact"
    assert family_level(rec(family="Andersson Berg"), rec(family="Berg")).level == "token"


def test_nicknames_and_spelling_variants_meet():
    assert given_key("Kalle") == given_key("Karl") == given_key("Carl")
    assert given_key("Pelle") == given_key("Per")
    assert given_key("Lasse") == given_key("Lars")
    assert given_level(rec(given="Micke"), rec(given="Mikael")).level == "exact"


def test_phone_numbers_compare_without_country_code_or_trunk_prefix():
    assert phone_key("+46 70-123 45 67") == phone_key("070-1234567") == "701234567"


def test_birth_date_levels():
    def level(a: str, b: str) -> str | None:
        return birth_level(rec(birth=a), rec(birth=b)).level

    assert level("1980-05-07", "1980-05-07") == "exact"
    assert level("1980-05-07", "1980-07-05") == "transposed"
    assert level("1980-05-07", "1980-05-09") == "typo"
    assert level("1988-01-04", "1987-12-31") == "near"
    assert level("1980-05-07", "1980-11-23") == "year"
    assert level("1980-05-07", "1955-11-23") == "else"


def test_identifier_of_a_known_kind_makes_a_match_certain():
    stored = rec(identifier=[{"system": PNR, "value": "196512073245"}], birth="1965-12-07")
    query = rec(family="Annat", given="Namn", birth="1965-12-07",
                identifier=[{"system": PNR, "value": "196512073245"}])
    assert assess(query, stored).grade == "certain"


def test_a_contradicting_birth_date_or_sex_keeps_an_identifier_match_below_certain():
    stored = rec(identifier=[{"system": PNR, "value": "196512073245"}], birth="1965-12-07")
    for query in (rec(birth="1970-01-01", identifier=[{"system": PNR, "value": "196512073245"}]),
                  rec(birth="1965-12-07", gender="male",
                      identifier=[{"system": PNR, "value": "196512073245"}])):
        assert assess(query, stored).grade == "probable"


def test_a_different_personnummer_is_certainly_not_however_much_else_agrees():
    contact = {"telecom": [{"system": "phone", "value": "0701234567"},
                           {"system": "email", "value": "tvilling@example.se"}],
               "address": [{"line": ["Storgatan 1"], "postalCode": "41319", "city": "Göteborg"}]}
    stored = rec(identifier=[{"system": PNR, "value": "196512073245"}], birth="1965-12-07",
                 **contact)
    query = rec(identifier=[{"system": PNR, "value": "196512079996"}], birth="1965-12-07",
                **contact)
    found = assess(query, stored)
    assert found.grade == "certainly-not"
    assert found.score == 0.0  # sorts after every possible match
    assert assess(rec(birth="1965-12-07", **contact), stored).grade == "probable"


def test_a_different_personnummer_of_someone_else_entirely_is_not_returned():
    stored = rec(identifier=[{"system": PNR, "value": "196512073245"}], birth="1965-12-07",
                 family="Lind", given="Anna")
    query = rec(identifier=[{"system": PNR, "value": "198001019995"}], birth="1980-01-01",
                family="Holm", given="Per", gender="male")
    assert assess(query, stored).grade is None


def test_the_numbers_date_stands_in_for_an_absent_birth_date():
    stored = rec(birth=None, identifier=[{"system": PNR, "value": "196512073245"}])
    assert stored.birth == "19651207"
    # the first current number that carries a date: not an old one, not an undescribable one
    numbers = [{"system": PNR, "value": "198001019995", "use": "old"},
               {"system": PNR, "value": "196512073240"},
               {"system": PNR, "value": "196512073245"}]
    assert rec(birth=None, identifier=numbers).birth == "19651207"
    assert rec(birth="1966-01-01", identifier=numbers).birth == "19660101"


def test_contact_evidence_can_be_left_out_for_protected_candidates():
    contact = {"telecom": [{"system": "phone", "value": "0701234567"}],
               "address": [{"line": ["Storgatan 1"], "postalCode": "41319", "city": "Göteborg"}]}
    stored = rec(family="Lind", **contact)
    query = rec(family="Lind", **contact)
    with_contact = assess(query, stored)
    without = assess(query, stored, use_contact=False)
    assert with_contact.bits > without.bits
    assert [e.outcome for e in without.evidence if e.feature == "place"] == ["not used"]


def test_the_stored_match_record_decodes_to_the_same_record():
    record = rec(family="Ström-Berg", identifier=[{"system": PNR, "value": "196512073245"}],
                 telecom=[{"system": "phone", "value": "070-1234567"},
                          {"system": "email", "value": "A@B.se"}],
                 address=[{"line": ["Storgatan 1"], "postalCode": "412 55", "city": "Göteborg",
                           "district": "Västra Götaland"}])
    assert decode_record(encode_record(record), "p1") == record
    # No record, or one of another format: the caller rebuilds it from the resource.
    assert decode_record(None, "p1") is None
    stale = encode_record(record).replace(f'"format":{RECORD_FORMAT}'.encode(), b'"format":0')
    assert decode_record(stale, "p1") is None


def test_blocking_finds_records_with_one_wrong_field():
    index = MemoryIndex()
    index.add(rec(id="a", family="Johansson", given="Sven", birth="1950-03-04",
                  address=[{"postalCode": "11122", "city": "Stockholm"}]))
    for query in (rec(family="Johanson", given="Sven", birth="1950-03-04"),
                  rec(family="Johansson", given="Sven", birth="1950-04-03"),
                  rec(family="Johansson", given="Sven", birth="1951-03-04"),
                  rec(family="Sven", given="Johansson", birth="1950-03-04"),
                  rec(family="Jonsson", given="Sven", birth=None,
                      address=[{"postalCode": "11122"}])):
        assert [c.id for c in index.candidates(query)] == ["a"], query
    assert len(query_keys(rec())) < 80




HOME = {"telecom": [{"system": "phone", "value": "031-123456"}],
        "address": [{"line": ["Storgatan 12 lgh 1102"], "postalCode": "41255",
                     "city": "Göteborg"}]}


def test_a_twin_in_the_same_household_is_never_probable():
    stored = rec(family="Wikström", given="Emma", birth="2001-04-17", **HOME)
    twin = rec(family="Wikström", given="Emil", birth="2001-04-17", gender="male", **HOME)
    sister = rec(family="Wikström", given="Klara", birth="2001-04-17", **HOME)
    for query in (twin, sister):
        result = assess(query, stored)
        assert result.grade in (None, "possible"), result
        assert "given-name-differs" in result.rules
    assert assess(rec(family="Wikström", given="Emma", birth="2001-04-17", **HOME),
                  stored).grade == "probable"


def test_a_relative_at_the_same_address_is_not_the_person():
    stored = rec(family="Andersson", given="Anna", birth="1975-02-03", **HOME)
    for query in (rec(family="Andersson", given="Lars", birth="1973-11-30", gender="male",
                      **HOME),
                  rec(family="Andersson", given="Anna", birth="2004-06-21", **HOME)):
        assert assess(query, stored).grade in (None, "possible")


def test_a_namesake_in_a_big_city_is_not_the_person():
    stored = rec(family="Johansson", given="Lars", birth="1961-08-09", gender="male",
                 address=[{"line": ["Kyrkogatan 3"], "postalCode": "11122",
                           "city": "Stockholm"}])
    namesake = rec(family="Johansson", given="Lars", birth="1979-01-22", gender="male",
                   address=[{"line": ["Skolgatan 8"], "postalCode": "11635",
                             "city": "Stockholm"}])
    assert assess(namesake, stored).grade in (None, "possible")


def test_a_different_birth_date_beyond_a_typing_error_caps_at_possible():
    stored = rec(family="Öhrwall", given="Zacharias", birth="1950-03-04", gender="male")
    result = assess(rec(family="Öhrwall", given="Zacharias", birth="1957-10-21",
                        gender="male"), stored)
    assert result.grade in (None, "possible") and "birth-date-differs" in result.rules
    for typo in ("1950-04-03", "1950-03-05", "1950-03-14"):
        assert assess(rec(family="Öhrwall", given="Zacharias", birth=typo, gender="male"),
                      stored).grade == "probable", typo


def test_a_common_name_is_weaker_evidence_than_a_rare_one():
    def family_bits(name: str) -> float:
        result = assess(rec(family=name, birth=None), rec(family=name, birth=None))
        return next(e.bits for e in result.evidence if e.feature == "family")

    assert family_bits("Andersson") + 4 < family_bits("Öhrwall")


def test_swapped_name_fields_never_score_above_the_same_names_in_place():
    stored = rec(family="Berg", given="Maja", birth="1990-01-02")
    swapped = rec(family="Maja", given="Berg", birth="1990-01-02")
    exact = rec(family="Berg", given="Maja", birth="1990-01-02")
    assert assess(swapped, stored).bits < assess(exact, stored).bits


@pytest.mark.parametrize(("family", "given_name"), [
    ("Maja", "Bergh"),      # swapped, and one letter added to the family name
    ("Majja", "Berg"),      # swapped, and one letter doubled in the given name
    ("Maj a", "Berg"),      # swapped, and a space typed inside the given name
])
def test_swapped_name_fields_with_a_typo_are_still_swapped(family, given_name):
    stored = rec(family="Berg", given="Maja")
    query = rec(family=family, given=given_name)
    assert family_level(query, stored).level == "swapped"
    assert given_level(query, stored).level == "swapped"


def test_a_crossed_pair_two_edits_or_a_new_first_letter_away_is_not_swapped():
    stored = rec(family="Berg", given="Maja")
    assert family_level(rec(family="Majken", given="Berg"), stored).level != "swapped"
    assert family_level(rec(family="Maja", given="Terg"), stored).level != "swapped"
    assert family_level(rec(family="Mara", given="Bergh"), stored).level == "swapped"


def test_a_married_woman_who_moved_is_still_a_candidate():
    stored = rec(family="Lindqvist", given="Sara", birth="1988-10-05", **HOME)
    married = rec(family="Haddad", given="Sara", birth="1988-10-05",
                  address=[{"line": ["Parkvägen 2"], "postalCode": "90330", "city": "Umeå"}])
    assert assess(married, stored).grade in ("possible", "probable")


def test_every_assessment_explains_itself():
    stored = rec(family="Wikström", given="Emma", birth="2001-04-17", **HOME)
    twin = rec(family="Wikström", given="Emil", birth="2001-04-17", **HOME)
    text = explanation(assess(twin, stored))
    assert "given name: different" in text and "birth date: same" in text
    assert "capped at possible" in text and "household" in text
    assert "Emil" not in text and "Wikström" not in text  # no values, only outcomes
    text = explanation(assess(rec(birth=None), rec(birth="1990-01-01")))
    assert "birth date: missing" in text


def test_the_model_is_data_that_round_trips_and_refuses_a_broken_file(tmp_path):
    path = tmp_path / "model.json"
    save_model(MODEL, path)
    assert load_model(path) == MODEL
    broken = orjson.loads(path.read_bytes())
    broken["m"]["given"]["exact"] = 2.0
    path.write_bytes(orjson.dumps(broken))
    with pytest.raises(ModelError, match="given"):
        load_model(path)
    path.write_bytes(b"not json")
    with pytest.raises(ModelError):
        load_model(path)


def test_an_unsupervised_refit_learns_frequencies_and_households_without_labels():
    families = ["Andersson"] * 30 + [f"Rar{chr(97 + i)}namn" for i in range(20)]
    records = []
    for i, family in enumerate(families):
        home = {"address": [{"line": [f"Storgatan {i // 2}"], "postalCode": "41255",
                             "city": "Göteborg"}]}
        records.append(rec(id=f"r{i}", family=family, given=f"Given{chr(97 + i % 26)}x",
                           birth=f"19{40 + i}-0{1 + i % 9}-1{i % 9}", **home))
    model = fit_unsupervised(records, MODEL, em_pairs=2000)
    assert model.frequencies["family"].share("anderson") > (
        model.frequencies["family"].share("rarbnamn"))
    assert 0.5 < model.household_others < 1.5  # two records a home
    # EM does not take household members for duplicates: a different given name still
    # counts against.
    assert model.m["given"]["else"] < 0.1


def test_a_rewritten_model_file_is_read_again_and_a_broken_one_kept_out(tmp_path):
    path = tmp_path / "model.json"
    save_model(MODEL, path)
    errors: list[ModelError] = []
    source = ModelFile(path, on_error=errors.append)
    source.RECHECK_SECONDS = 0.0
    assert source.model.version == MODEL.version
    save_model(replace(MODEL, version="refit-2"), path)
    os.utime(path, (1, 1))  # a different stamp even within the file system's resolution
    assert source.model.version == "refit-2"
    path.write_text('{"format": 1}')
    assert source.model.version == "refit-2" and errors


NAMES = st.text(alphabet="abcdefghijklmnoprstuvyåäö", min_size=2, max_size=10)


@settings(max_examples=200, deadline=None)
@given(family=NAMES, given_name=NAMES, birth=st.dates(date(1920, 1, 1), date(2024, 12, 31)))
def test_swapped_name_fields_never_outscore_the_same_names_in_place(family, given_name,
                                                                    birth):
    stored = rec(family=family, given=given_name, birth=birth.isoformat())
    in_place = assess(rec(family=family, given=given_name, birth=birth.isoformat()), stored)
    swapped = assess(rec(family=given_name, given=family, birth=birth.isoformat()), stored)
    assert swapped.bits <= in_place.bits


@settings(max_examples=200, deadline=None)
@given(family=NAMES, given_name=NAMES, birth=st.dates(date(1920, 1, 1), date(2024, 12, 31)),
       street=st.integers(1, 99))
def test_a_shared_household_never_lowers_the_score_of_the_same_name_and_birth_date(
        family, given_name, birth, street):
    home = {"address": [{"line": [f"Storgatan {street}"], "postalCode": "41255",
                         "city": "Göteborg"}]}
    stored = rec(family=family, given=given_name, birth=birth.isoformat(), **home)
    without = assess(rec(family=family, given=given_name, birth=birth.isoformat()), stored)
    with_home = assess(rec(family=family, given=given_name, birth=birth.isoformat(), **home),
                       stored)
    assert with_home.bits >= without.bits
    assert with_home.grade == "probable"


@pytest.mark.parametrize(("first", "second"), [
    ("Ella", "Elsa"), ("Alva", "Alma"), ("Saga", "Sara"), ("Nora", "Nova")])
def test_twins_named_alike_are_not_one_person(first, second):
    stored = rec(family="Wikström", given=first, birth="2001-04-17", **HOME)
    for query in (rec(family="Wikström", given=second, birth="2001-04-17", **HOME),
                  rec(family="Wikström", given=second, birth="2001-04-17")):
        assert assess(query, stored).grade in (None, "possible"), (first, second)
    # A typing error that makes no name, and a nickname nobody is registered by, still match.
    assert assess(rec(family="Wikström", given="Marai", birth="1990-01-02"),
                  rec(family="Wikström", given="Maria", birth="1990-01-02")).grade == "probable"
    assert assess(rec(family="Lind", given="Kalle", birth="1990-01-02", gender="male"),
                  rec(family="Lind", given="Karl", birth="1990-01-02", gender="male")
                  ).grade == "probable"


def test_double_given_names_that_share_a_part_are_two_people():
    for first, second in ((["Anna", "Maria"], ["Eva", "Maria"]),
                          (["Anna-Karin"], ["Anna-Lena"]), (["Per-Olof"], ["Per-Erik"])):
        stored = record_from_patient(person(given=first[0], birth="2001-04-17") | {
            "name": [{"family": "Wikström", "given": first}]})
        query = record_from_patient(person(birth="2001-04-17") | {
            "name": [{"family": "Wikström", "given": second}]})
        assert assess(query, stored).grade in (None, "possible"), (first, second)
    stored = record_from_patient(person(birth="1990-01-02") | {
        "name": [{"family": "Wikström", "given": ["Anna-Karin"]}]})
    for written in (["Anna", "Karin"], ["Anna Karin"], ["Karin"]):
        query = record_from_patient(person(birth="1990-01-02") | {
            "name": [{"family": "Wikström", "given": written}]})
        assert assess(query, stored).grade == "probable", written


def test_a_household_is_one_street_address_in_one_place():
    def place(line: str, city: str, postal: str | None = None) -> dict[str, Any]:
        address: dict[str, Any] = {"line": [line], "city": city}
        if postal:
            address["postalCode"] = postal
        return {"address": [address]}

    def level(a: dict[str, Any], b: dict[str, Any]) -> str | None:
        return compare(rec(**a), rec(**b))["place"].level

    # Neighbours: the same street, another house or flat number.
    assert level(place("Storgatan 3", "Göteborg", "41255"),
                 place("Storgatan 5", "Göteborg", "41255")) == "street"
    assert level(place("Storgatan 12 lgh 1102", "Göteborg"),
                 place("Storgatan 12 lgh 1204", "Göteborg")) == "street"
    assert level(place("Kyrkogatan 12", "Göteborg", "41255"),
                 place("Storgatan 12", "Göteborg", "41255")) == "postal"
    assert level(place("Storgatan 12", "Umeå"), place("Storgatan 12", "Göteborg")) == "else"
    assert level(place("Storgatan 12", "Göteborg"), place("Storgatn 12", "Göteborg")) == (
        "household")


def test_identifiers_bypass_the_rules_only_when_of_a_known_kind():
    twin = rec(family="Wikström", given="Eva", birth="2001-04-17",
               identifier=[{"system": "urn:oid:1.2.3", "value": "1"}])
    stored = rec(family="Wikström", given="Anna", birth="2001-04-17",
                 identifier=[{"system": "urn:oid:1.2.3", "value": "1"}])
    assert assess(twin, stored).grade in (None, "possible")
    assert "capped at possible" in explanation(assess(twin, stored))
    systemless = rec(identifier=[{"value": "1"}])
    assert systemless.identifiers == frozenset()
    number = [{"system": PNR, "value": "196512073245"}]
    other_data = assess(rec(family="Annat", given="Namn", birth="1990-01-01", gender="male",
                            identifier=number),
                        rec(birth="1965-12-07", identifier=number))
    assert other_data.grade in ("possible", "probable")  # never hidden from the clerk


def test_extreme_birth_dates_do_not_break_blocking():
    for birth in ("0001-01-01", "9999-12-31"):
        assert query_keys(rec(birth=birth))


def test_a_model_with_values_out_of_range_is_refused(tmp_path):
    path = tmp_path / "model.json"
    for field, value in (("in_database", 0), ("min_population", 0)):
        data = MODEL.to_dict() | {field: value}
        path.write_bytes(orjson.dumps(data))
        with pytest.raises(ModelError, match=field):
            load_model(path)
    data = MODEL.to_dict()
    data["thresholds"] = {"probable": 0.01, "possible": 0.5}
    path.write_bytes(orjson.dumps(data))
    with pytest.raises(ModelError, match="probable"):
        load_model(path)


def test_a_stored_record_with_swapped_fields_never_outscores_one_stored_right():
    query = rec(family="Andersson", given="Anna", birth="1985-02-03")
    right = assess(query, rec(family="Andersson", given="Anna", birth="1985-02-03"))
    swapped = assess(query, rec(family="Anna", given="Andersson", birth="1985-02-03"))
    assert swapped.bits <= right.bits

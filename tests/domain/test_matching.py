"""The matching engine without a server: normalisation, levels, grades, blocking, EM."""

from __future__ import annotations

from collections import Counter
from typing import Any

from app.domain.matching import (
    MemoryIndex,
    assess,
    decode_record,
    encode_record,
    query_keys,
    record_from_patient,
)
from app.domain.matching.em import estimate_u, fit_m, patterns
from app.domain.matching.features import birth_level, compare, family_level, given_level
from app.domain.matching.normalise import given_key, name_tokens, phone_key, spelling_key
from app.domain.matching.record import RECORD_FORMAT

PNR = "urn:oid:1.2.752.129.2.1.3.1"


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
    assert family_level(rec(family="Ström-Berg"), rec(family="Strömberg")) == "exact"
    assert family_level(rec(family="Andersson Berg"), rec(family="Berg")) == "token"


def test_nicknames_and_spelling_variants_meet():
    assert given_key("Kalle") == given_key("Karl") == given_key("Carl")
    assert given_key("Pelle") == given_key("Per")
    assert given_key("Lasse") == given_key("Lars")
    assert given_level(rec(given="Micke"), rec(given="Mikael")) == "exact"


def test_phone_numbers_compare_without_country_code_or_trunk_prefix():
    assert phone_key("+46 70-123 45 67") == phone_key("070-1234567") == "701234567"


def test_birth_date_levels():
    def level(a: str, b: str) -> str | None:
        return birth_level(rec(birth=a), rec(birth=b))

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


def test_contact_evidence_can_be_left_out_for_protected_candidates():
    contact = {"telecom": [{"system": "phone", "value": "0701234567"}],
               "address": [{"line": ["Storgatan 1"], "postalCode": "41319", "city": "Göteborg"}]}
    stored = rec(family="Lind", birth=None, **contact)
    query = rec(family="Holm", birth=None, **contact)
    assert assess(query, stored).grade == "probable"
    assert assess(query, stored, use_contact=False).grade is None


def test_the_stored_match_record_decodes_to_the_same_record():
    record = rec(family="Ström-Berg", identifier=[{"system": PNR, "value": "196512073245"}],
                 telecom=[{"system": "phone", "value": "070-1234567"},
                          {"system": "email", "value": "A@B.se"}],
                 address=[{"line": ["Storgatan 1"], "postalCode": "412 55", "city": "Göteborg",
                           "district": "Västra Götaland"}])
    assert decode_record(encode_record(record), "p1") == record
    # No record, or one of another format: the caller rebuilds it from the resource.
    assert decode_record(None, "p1") is None
    stale = encode_record(record).replace(f"[{RECORD_FORMAT},".encode(), b"[0,", 1)
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


def test_em_recovers_agreement_that_separates_matches_from_non_matches():
    matches = [rec(id=str(i)) for i in range(50)]
    others = [rec(id=f"o{i}", family=f"Namn{i}x", given=f"Gn{i}q", birth=f"19{10 + i}-02-03")
              for i in range(50)]
    random_pairs = patterns(
        compare(a, b)
        for a in matches for b in others)
    u = estimate_u(random_pairs)
    blocked: Counter = Counter()
    blocked.update(random_pairs)
    for _ in range(20):
        blocked.update(patterns(
            compare(a, a)
            for a in matches[:5]))
    model = fit_m(blocked, u, prior=0.1)
    assert model.level_weight("family", "exact") > 0 > model.level_weight("family", "else")

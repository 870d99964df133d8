"""Every valid example and every seed trap of domain.md §2 (tables of §2.2, §2.3, §2.5)."""

from __future__ import annotations

from datetime import date

import pytest

from app.identity import (
    InvalidChecksum,
    InvalidComponent,
    ValidationError,
    kind_for_code,
)
from app.identity.base import IdentityKind

TODAY = date(2025, 6, 1)
SEED_DAY = date(2024, 1, 17)  # the date of seed 001

VALID_EXAMPLES = [
    ("pnr", "19651207-3245", "196512073245"),
    ("snr", "19651267-3242", "196512673242"),
    ("nrid", "22950606FH20", "22950606FH20"),
    ("nrid", "22950606-FH20", "22950606FH20"),
    ("nrid", "25780404KHD5", "25780404KHD5"),
    ("nrid", "00342145BZ31", "00342145BZ31"),
    ("nrid", "00749852BZK0", "00749852BZK0"),
    ("nrid", "98240301AA06", "98240301AA06"),
    ("lrid-vgr", "19810829M071", "19810829M071"),
    ("lrid-vgr", "19450829K088", "19450829K088"),
    ("lrid-vgr", "19930829X802", "19930829X802"),
    ("lrid-vgr", "19561110K064", "19561110K064"),
    ("lrid-vgr", "19651207-K240", "19651207K240"),
    ("grid-vgr", "19651207C123", "19651207C123"),
    ("stockholm", "991981000010", "991981000010"),
    ("stockholm", "991945000023", "991945000023"),
    ("stockholm", "991993000032", "991993000032"),
    ("carelink", "198108320014", "198108320014"),
    ("halland", "201905355622", "201905355622"),
    ("varmland", "19810829SU3A", "19810829SU3A"),
    ("varmland", "19450829SF2B", "19450829SF2B"),
    ("varmland", "19930829SX0C", "19930829SX0C"),
    ("orebro", "12345678TA0A", "12345678TA0A"),
    ("orebro", "19810829TB1F", "19810829TB1F"),
    ("orebro", "19930829T320", "19930829T320"),
    ("skane", "810829DA1B", "19810829DA1B"),
    ("blekinge", "20200501AA8A", "20200501AA8A"),
    ("vasternorrland", "20100101014R", "20100101014R"),
    ("vasterbotten", "19890715R910", "19890715R910"),
    ("dalarna", "19010105Y202", "19010105Y202"),
    ("gavleborg", "19651207-01M1", "1965120701M1"),
    ("lma", "  LMA 123-456 ", "LMA 123-456"),
]


def kind(code: str) -> IdentityKind:
    found = kind_for_code(code)
    assert found is not None
    return found


@pytest.mark.parametrize(("code", "given", "stored"), VALID_EXAMPLES)
def test_every_valid_example_of_domain_md_validates_to_its_stored_form(
    code: str, given: str, stored: str
) -> None:
    assert kind(code).validate(given, today=TODAY) == stored
    assert kind(code).is_valid(stored, today=TODAY)
    assert kind(code).validate(kind(code).format(stored), today=TODAY) == stored


def test_seed_001_samordningsnummer_example_fails_its_check_digit() -> None:
    with pytest.raises(InvalidChecksum):
        kind("snr").validate("19651267-3245")
    assert kind("snr").validate("19651267-3242") == "196512673242"


def test_seed_001_personnummer_example_is_valid() -> None:
    assert kind("pnr").is_valid("19651207-3245", today=TODAY)


def test_seed_001_lrid_example_fails_and_its_correct_check_digit_is_zero() -> None:
    with pytest.raises(InvalidChecksum):
        kind("lrid-vgr").validate("19651207-K245")
    valid = [d for d in "0123456789" if kind("lrid-vgr").is_valid(f"19651207K24{d}")]
    assert valid == ["0"]


def test_seed_002_gavleborg_value_matches_no_rule_and_is_kept_opaque() -> None:
    gavleborg = kind("gavleborg")
    assert gavleborg.validate("19612121201M7") == "19612121201M7"
    assert gavleborg.describe("19612121201M7").birth_date is None
    with pytest.raises(ValidationError):  # the known shape with an impossible date
        gavleborg.validate("1961212101M7")


@pytest.mark.parametrize(
    ("value", "birth", "sex", "series"),
    [
        ("22950606FH20", date(1995, 6, 6), "female", 1),
        ("25780404KHD5", date(1978, 4, 4), None, 2),
        ("00342145BZ31", None, "male", None),
        ("00749852BZK0", None, None, None),
        ("98240301AA06", date(2024, 3, 1), "female", 26),
    ],
)
def test_nrid_examples_describe_the_birth_date_sex_and_series_domain_md_states(
    value: str, birth: date | None, sex: str | None, series: int | None
) -> None:
    described = kind("nrid").describe(value)
    assert described.birth_date == birth
    assert described.sex == sex
    assert described.sex_unknown == (sex is None)
    assert described.date_unknown == (birth is None)
    assert described.series == series


def test_nrid_of_a_later_birth_date_than_today_is_refused_when_today_is_given() -> None:
    assert kind("nrid").is_valid("98240301AA06")
    with pytest.raises(InvalidComponent, match="future"):
        kind("nrid").validate("98240301AA06", today=SEED_DAY)


@pytest.mark.parametrize(
    ("value", "sex"),
    [("19810829M071", "male"), ("19450829K088", "female"), ("19930829X802", None)],
)
def test_lrid_examples_describe_their_sex_letter(value: str, sex: str | None) -> None:
    assert kind("lrid-vgr").describe(value).sex == sex

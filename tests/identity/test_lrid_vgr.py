"""LRID VGR (domain.md §2.3): parity, unknown sex 80–89, mutations, the generator."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.identity import InvalidChecksum, InvalidComponent, lrid_vgr, luhn
from app.identity.base import Sex

from .strategies import TODAY
from .strategies import lrid_vgr as lrids


def with_check(body: str) -> str:
    values = [lrid_vgr.LETTER_VALUES.get(c, 0) if c.isalpha() else int(c) for c in body[2:]]
    return body + str(luhn.check_digit(values))


@given(lrids())
def test_generated_lrids_round_trip_through_every_function(value: str) -> None:
    assert lrid_vgr.validate(value, today=TODAY) == value
    assert lrid_vgr.validate(f" {value[:8]}-{value[8:].lower()}") == value
    assert lrid_vgr.format(value) == f"{value[:8]}-{value[8:]}"
    described = lrid_vgr.describe(value)
    assert f"{described.birth_date:%Y%m%d}" == value[:8]
    assert described.sex == {"K": "female", "M": "male", "X": None}[value[8]]


@settings(max_examples=60)
@given(lrids())
def test_every_substitution_after_the_century_is_refused(value: str) -> None:
    for position in range(2, 12):
        for char in "0123456789KMX":
            if char != value[position]:
                mutant = value[:position] + char + value[position + 1 :]
                assert not lrid_vgr.is_valid(mutant), (position, char)


@pytest.mark.parametrize(
    ("letter", "gg", "ok"),
    [
        ("K", 6, True),
        ("K", 78, True),
        ("K", 7, False),
        ("K", 4, False),
        ("K", 80, False),
        ("M", 7, True),
        ("M", 79, True),
        ("M", 8, False),
        ("M", 5, False),
        ("M", 81, False),
        ("X", 80, True),
        ("X", 89, True),
        ("X", 79, False),
        ("X", 90, False),
    ],
)
def test_running_number_parity_follows_the_sex_and_80_to_89_means_unknown_sex(
    letter: str, gg: int, ok: bool
) -> None:
    for last in "0123456789":
        value = with_check(f"19810829{letter}{gg:02d}{last}"[:11])
        assert lrid_vgr.is_valid(value) == ok


def test_a_wrong_check_digit_is_refused() -> None:
    with pytest.raises(InvalidChecksum):
        lrid_vgr.validate("19810829M072")


@pytest.mark.parametrize("sex", ["female", "male", None])
def test_every_running_value_up_to_capacity_gives_a_distinct_valid_lrid(sex: Sex | None) -> None:
    born = date(2019, 1, 1)
    ids = [lrid_vgr.generate(born, sex, r) for r in range(lrid_vgr.capacity(sex is not None))]
    assert len(ids) == (37 if sex else 10)
    assert len(set(ids)) == len(ids)
    for value in ids:
        described = lrid_vgr.describe(value, today=TODAY)
        assert (described.birth_date, described.sex) == (born, sex)
    assert [int(v[9:11]) for v in ids] == sorted(int(v[9:11]) for v in ids)


@settings(max_examples=50)
@given(st.dates(min_value=date(1000, 1, 1)), st.sampled_from(["female", "male", None]))
def test_generated_lrids_are_valid_for_any_date(born: date, sex: Sex | None) -> None:
    for running in range(lrid_vgr.capacity(sex is not None)):
        assert lrid_vgr.describe(lrid_vgr.generate(born, sex, running)).birth_date == born


@pytest.mark.parametrize(
    ("sex", "running", "rule"),
    [
        ("female", 37, "out of range"),
        ("female", -1, "out of range"),
        (None, 10, "out of range"),
        ("male", False, "integer"),
        ("unknown", 0, "sex"),
    ],
)
def test_the_generator_refuses_arguments_out_of_range(sex: str, running: object, rule: str) -> None:
    with pytest.raises(InvalidComponent, match=rule):
        lrid_vgr.generate(date(2019, 1, 1), sex, running)  # type: ignore[arg-type]

"""NRID (domain.md §2.2): structure, unknown date and sex, mutations, the generator."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.identity import InvalidComponent, luhn, nrid
from app.identity.base import Sex

from .strategies import NRID_LETTERS, TODAY
from .strategies import nrid as nrids

DIGITS = "0123456789"
sexes: st.SearchStrategy[Sex | None] = st.sampled_from(["female", "male", None])


def contribution(char: str, doubled: bool) -> int:
    value = int(char) if char.isdigit() else ord(char)
    return luhn.digit_sum(2 * value if doubled else value) % 10


@given(nrids())
def test_generated_nrids_round_trip_through_every_function(value: str) -> None:
    assert nrid.validate(value, today=TODAY) == value
    assert nrid.validate(f" {value[:8]}-{value[8:].lower()} ") == value
    assert nrid.format(value) == f"{value[:8]}-{value[8:]}"
    described = nrid.describe(value)
    assert described.date_unknown == (value[:2] == "00")
    assert described.sex_unknown == value[10].isalpha()
    if value[:2] != "00":
        assert described.birth_date is not None
        assert f"{described.birth_date:%y%m%d}" == value[2:8]
        assert described.century is not None and described.series is not None
        assert described.century + 3 * described.series == int(value[:2])


@settings(max_examples=40)
@given(nrids())
def test_every_substitution_in_a_digit_position_is_refused(value: str) -> None:
    alphabet = DIGITS + NRID_LETTERS
    for position in (0, 1, 2, 3, 4, 5, 6, 7, 11):
        for char in alphabet:
            if char != value[position]:
                mutant = value[:position] + char + value[position + 1 :]
                assert not nrid.is_valid(mutant), (position, char)


@settings(max_examples=40)
@given(nrids())
def test_a_letter_position_substitution_passes_only_through_the_ascii_luhn_blind_spot(
    value: str,
) -> None:
    # Letters count with the digit sum of their ASCII code (domain.md §2.2), so e.g.
    # A (65 -> 11), J (74 -> 11) and S (83 -> 11) weigh the same: swapping them keeps
    # the check digit. That is Inera's rule, not ours; every other substitution fails.
    for position in (8, 9, 10):
        doubled = position in (8, 10)
        allowed = NRID_LETTERS if position < 10 else DIGITS + NRID_LETTERS
        for char in DIGITS + NRID_LETTERS:
            if char == value[position]:
                continue
            mutant = value[:position] + char + value[position + 1 :]
            blind_spot = char in allowed and contribution(char, doubled) == contribution(
                value[position], doubled
            )
            assert nrid.is_valid(mutant) == blind_spot, (position, char)


def test_unknown_date_needs_month_20_to_99_and_day_40_to_59() -> None:
    for mm, dd, ok in [
        (20, 40, True),
        (99, 59, True),
        (19, 45, False),
        (50, 39, False),
        (50, 60, False),
        (12, 12, False),
    ]:
        body = f"0034{mm:02d}{dd:02d}BZ3"
        value = body + str(luhn.check_digit([int(c) if c.isdigit() else ord(c) for c in body]))
        assert nrid.is_valid(value) == ok, (mm, dd)


def test_unknown_sex_is_a_letter_g_and_known_sex_a_digit_of_its_parity() -> None:
    assert nrid.describe("00749852BZK0").sex is None
    assert nrid.describe("00749852BZK0").sex_unknown
    assert nrid.describe("00342145BZ31").sex == "male"
    assert nrid.describe("22950606FH20").sex == "female"


@pytest.mark.parametrize(
    ("code", "rule"),
    [("01", "reserved"), ("17", "reserved"), ("18", "never used"), ("21", "never used")],
)
def test_reserved_and_unused_series_codes_are_refused(code: str, rule: str) -> None:
    with pytest.raises(InvalidComponent, match=rule):
        nrid.validate(code + "950606FH20")


# --- generator -----------------------------------------------------------------------


def test_capacity_counts_pairs_times_g_choices_times_date_slots() -> None:
    assert nrid.capacity(True, True) == 441 * 5
    assert nrid.capacity(True, False) == 441 * 21
    assert nrid.capacity(False, True) == 441 * 5 * 160_000
    assert nrid.capacity(False, False) == 441 * 21 * 160_000


@pytest.mark.parametrize("sex", ["female", "male", None])
def test_every_running_value_of_one_known_date_and_series_gives_a_distinct_valid_id(
    sex: Sex | None,
) -> None:
    born = date(1995, 6, 6)
    ids = [
        nrid.generate(born, sex, running) for running in range(nrid.capacity(True, sex is not None))
    ]
    assert len(set(ids)) == len(ids)
    for value in ids:
        described = nrid.describe(value, today=TODAY)
        assert (described.birth_date, described.sex, described.series) == (born, sex, 1)


@settings(max_examples=150)
@given(
    st.one_of(st.none(), st.dates(min_value=date(1900, 1, 1), max_value=date(2199, 12, 31))),
    sexes,
    st.data(),
)
def test_generated_ids_are_valid_distinct_and_describe_back(
    born: date | None, sex: Sex | None, data: st.DataObject
) -> None:
    cap = nrid.capacity(born is not None, sex is not None)
    series = 1 if born is None else data.draw(st.integers(1, 26), label="series")
    runs = data.draw(st.lists(st.integers(0, cap - 1), min_size=2, max_size=5, unique=True))
    runs += [0, cap - 1]
    ids = {run: nrid.generate(born, sex, run, series) for run in runs}
    assert len(set(ids.values())) == len(ids)
    for value in ids.values():
        described = nrid.describe(value)
        assert described.birth_date == born
        assert described.sex == sex
        assert described.sex_unknown == (sex is None)
        assert described.date_unknown == (born is None)
        assert described.series == (None if born is None else series)


def test_the_running_order_is_g_fastest_then_the_letter_pair_then_the_date_slot() -> None:
    born = date(2019, 1, 1)
    assert [nrid.generate(born, "female", r)[8:11] for r in range(6)] == [
        "AA0",
        "AA2",
        "AA4",
        "AA6",
        "AA8",
        "AB0",
    ]
    assert nrid.generate(born, "male", 5 * 21)[8:11] == "BA1"
    assert nrid.generate(None, None, 0)[:8] == "00002040"
    assert nrid.generate(None, None, 441 * 21)[:8] == "00002041"
    assert nrid.generate(None, None, 441 * 21 * 20)[:8] == "00002140"
    assert nrid.generate(None, None, 441 * 21 * 1600)[:8] == "00012040"
    assert nrid.generate(None, None, nrid.capacity(False, False) - 1)[:11] == "00999959ZZZ"


def test_series_moves_the_century_code_by_three() -> None:
    assert nrid.generate(date(1995, 6, 6), "female", 0, series=1)[:2] == "22"
    assert nrid.generate(date(2005, 6, 6), "female", 0, series=2)[:2] == "26"
    assert nrid.generate(date(2105, 6, 6), "female", 0, series=26)[:2] == "99"


@pytest.mark.parametrize(
    ("born", "sex", "running", "series", "rule"),
    [
        (date(1995, 6, 6), "female", 2205, 1, "out of range"),
        (date(1995, 6, 6), "female", -1, 1, "out of range"),
        (date(1995, 6, 6), "female", True, 1, "integer"),
        (date(1995, 6, 6), "female", 1.0, 1, "integer"),
        (date(1995, 6, 6), "female", 0, 27, "series"),
        (date(1995, 6, 6), "female", 0, 0, "series"),
        (None, "female", 0, 2, "no series"),
        (date(1899, 12, 31), "male", 0, 1, "1900-2199"),
        (date(2200, 1, 1), "male", 0, 1, "1900-2199"),
        (date(1995, 6, 6), "other", 0, 1, "sex"),
    ],
)
def test_generator_refuses_arguments_out_of_range(
    born: date | None, sex: str, running: object, series: int, rule: str
) -> None:
    with pytest.raises(InvalidComponent, match=rule):
        nrid.generate(born, sex, running, series)  # type: ignore[arg-type]

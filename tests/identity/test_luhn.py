"""The one Luhn implementation and the NRID letter detail it was fitted to (domain.md §2.2)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.identity import luhn

from .strategies import reference_luhn

NRID_EXAMPLES = ["22950606FH20", "25780404KHD5", "00342145BZ31", "00749852BZK0", "98240301AA06"]


def ascii_values(text: str) -> list[int]:
    return [int(c) if c.isdigit() else ord(c) for c in text]


@given(st.lists(st.integers(min_value=0, max_value=255), max_size=20))
def test_check_digit_agrees_with_an_independent_reference(values: list[int]) -> None:
    digit = luhn.check_digit(values)
    assert digit == reference_luhn(values)
    assert luhn.is_valid([*values, digit])
    assert luhn.checksum([*values, digit]) == 0


@pytest.mark.parametrize("example", NRID_EXAMPLES)
def test_nrid_letters_count_as_the_digit_sum_of_their_ascii_value_doubled_or_not(
    example: str,
) -> None:
    body, check = example[:11], int(example[11])
    assert luhn.check_digit(ascii_values(body)) == check


def test_counting_an_undoubled_letter_with_its_whole_ascii_value_fails_the_examples() -> None:
    def whole_value_variant(body: str) -> int:
        total = 0
        for position, value in enumerate(reversed(ascii_values(body))):
            total += luhn.digit_sum(2 * value) if position % 2 == 0 else value
        return (10 - total % 10) % 10

    assert [whole_value_variant(e[:11]) == int(e[11]) for e in NRID_EXAMPLES].count(False) >= 3


def test_doubling_from_the_leftmost_nrid_character_fails_the_examples() -> None:
    def left_first(body: str) -> int:
        # Pad one neutral zero on the right so doubling starts at the leftmost character.
        return luhn.check_digit([*ascii_values(body), 0])

    assert not all(left_first(e[:11]) == int(e[11]) for e in NRID_EXAMPLES)


def test_a_single_digit_personnummer_body_uses_weights_two_one_from_the_left() -> None:
    assert luhn.check_digit([6, 5, 1, 2, 0, 7, 3, 2, 4]) == 5


def test_negative_values_are_refused() -> None:
    with pytest.raises(ValueError, match="non-negative"):
        luhn.check_digit([-1])

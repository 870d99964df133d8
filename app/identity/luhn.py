"""The Luhn (mod 10) check digit, written once and shared by every kind that has one.

The functions work on a sequence of *values* rather than on a string, so each kind
decides how its characters are valued before calling in (docs/domain.md §2):

* personnummer, samordningsnummer, CareLink, Halland, Stockholm: the digits themselves;
* LRID VGR: digits, and the sex letters valued ``K`` = 5, ``M`` = 7, ``X`` = 8;
* NRID: digits, and letters valued by their whole ASCII code (``A`` = 65).

Every value contributes the sum of its decimal digits, doubled or not (``H`` = 72
counts 7 + 2 = 9; ``F`` = 70 doubled is 140 and counts 1 + 4 + 0 = 5). For single
digits this is the textbook Luhn (a doubled 7 is 14, counts 5). Doubling starts at the
rightmost body value, i.e. the value just left of the check digit, as in ISO/IEC 7812;
docs/domain.md §2.1 says "weights 2,1,2,1… from the left" for the 9-digit personnummer body,
which is the same thing. These rules were checked against every valid example in
docs/domain.md §2.2, §2.3 and §2.5.

>>> check_digit([8, 1, 1, 2, 1, 8, 9, 8, 7])
6
>>> is_valid([8, 1, 1, 2, 1, 8, 9, 8, 7, 6])
True
>>> checksum([8, 1, 1, 2, 1, 8, 9, 8, 7, 5])
9
>>> digit_sum(140)
5
"""

from __future__ import annotations

from collections.abc import Sequence


def digit_sum(value: int) -> int:
    """The sum of the decimal digits of a non-negative integer.

    >>> digit_sum(-1)
    Traceback (most recent call last):
    ...
    ValueError: Luhn values must be non-negative integers
    """
    if value < 10:  # most values (digits, doubled digits below 5): no loop
        if value < 0:
            raise ValueError("Luhn values must be non-negative integers")
        return value
    total = 0
    while value:
        value, digit = divmod(value, 10)
        total += digit
    return total


def checksum(values: Sequence[int]) -> int:
    """Luhn sum modulo 10 of ``values`` whose last value is the check digit (0 = valid)."""
    total = 0
    for position, value in enumerate(reversed(values)):
        # position 0 is the check digit itself (not doubled); 1 is the rightmost body value.
        total += digit_sum(value * 2 if position % 2 else value)
    return total % 10


def check_digit(body: Sequence[int]) -> int:
    """The digit that makes ``[*body, digit]`` pass the Luhn test."""
    return (10 - checksum([*body, 0])) % 10


def is_valid(values: Sequence[int]) -> bool:
    """Whether ``values`` (body followed by check digit) passes the Luhn test."""
    return checksum(values) == 0

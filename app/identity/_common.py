"""Small shared helpers of the identity kinds: text cleaning, ASCII checks, dates.

Private to :mod:`app.identity`; every rule that more than one kind has lives here or in
:mod:`app.identity.luhn`, so no kind carries a copy of another's code.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date

from app.identity.errors import InvalidComponent, InvalidFormat, InvalidLength, ValidationError

_ASCII_DIGITS = re.compile(r"[0-9]+")
_ASCII_ALNUM_UPPER = re.compile(r"[0-9A-Z]+")


def require_text(value: object, label: str) -> str:
    """``value`` itself if it is a ``str``; otherwise the kind's format error."""
    if not isinstance(value, str):
        raise InvalidFormat(f"{label}: the value must be text")
    return value


def clean(value: object, label: str, *, upper: bool = True, hyphen: bool = True) -> str:
    """Strip surrounding whitespace, upper-case, and drop a display hyphen.

    The display hyphen of every Swedish identity kind stands before the last four
    characters (``19651207-3245``, ``22950606-FH20``, ``19651207-01M1``); a hyphen
    anywhere else is left for the rules to refuse.
    """
    text = require_text(value, label).strip()
    if upper:
        text = text.upper()
    if hyphen and len(text) >= 5 and text[-5] == "-":
        text = text[:-5] + text[-4:]
    return text


def is_digits(text: str) -> bool:
    """Only ASCII 0-9 (``str.isdigit`` would also accept ``'١٢٣'``)."""
    return _ASCII_DIGITS.fullmatch(text) is not None


def is_upper_alnum(text: str) -> bool:
    """Only ASCII 0-9 and A-Z."""
    return _ASCII_ALNUM_UPPER.fullmatch(text) is not None


def digits(text: str) -> list[int]:
    """The values of a string of ASCII digits, for :mod:`app.identity.luhn`."""
    return [int(char) for char in text]


def require_length(text: str, length: int, label: str) -> None:
    """Raise InvalidLength unless ``text`` has exactly ``length`` characters."""
    if len(text) != length:
        raise InvalidLength(f"{label}: the value must have {length} characters")


def real_date(year: int, month: int, day: int, label: str) -> date:
    """The calendar date, or InvalidComponent if there is no such day."""
    try:
        return date(year, month, day)
    except ValueError:
        raise InvalidComponent(f"{label}: the date part is not a real calendar date") from None


def parse_yyyymmdd(text: str, label: str) -> date:
    """An 8-digit ``YYYYMMDD`` string as a real date."""
    return real_date(int(text[0:4]), int(text[4:6]), int(text[6:8]), label)


def refuse_future(birth: date, today: date | None, label: str) -> None:
    """A birth date after ``today`` is refused (nobody is issued a number before birth).

    Without ``today`` nothing is checked: rules never read the clock themselves.
    """
    if today is not None and birth > today:
        raise InvalidComponent(f"{label}: the birth date lies in the future")


def infer_year(two_digit_year: int, today: date | None, *, centenarian: bool, label: str) -> int:
    """The four-digit year of a 10-digit form, as the Swedish Tax Agency infers it.

    Without ``+`` the person is under 100 in the current year: the latest year not after
    ``today.year`` ending in the two digits. ``+`` (the separator from the year a person
    turns 100) moves it a century further back.
    """
    if today is None:
        raise InvalidLength(f"{label}: a form without century needs a reference date (today)")
    base = today.year - 100 if centenarian else today.year
    return base - (base - two_digit_year) % 100


def passes(validate: Callable[..., str], value: object, today: date | None) -> bool:
    """``is_valid`` of every kind: ``validate`` without the exception."""
    try:
        validate(value, today=today)
    except ValidationError:
        return False
    return True

"""The rules personnummer and samordningsnummer share (domain.md §2.1).

Private: :mod:`app.identity.personnummer` and :mod:`app.identity.samordningsnummer` are
thin fronts that pass their kind code, label and day offset (0 or 60).
"""

from __future__ import annotations

from datetime import date

from app.identity import luhn
from app.identity._common import (
    clean,
    digits,
    infer_year,
    is_digits,
    real_date,
    refuse_future,
    require_length,
)
from app.identity.base import Description, Sex
from app.identity.errors import InvalidChecksum, InvalidComponent, InvalidFormat


def normalise(value: object, today: date | None, label: str) -> str:
    """Stored 12-digit form of a 12-digit or 10-digit (``-``/``+``/no separator) input."""
    text = clean(value, label, hyphen=True)
    separator = ""
    if len(text) == 11 and text[6] in "-+":
        separator, text = text[6], text[:6] + text[7:]
    if len(text) == 10 and is_digits(text):
        year = infer_year(int(text[:2]), today, centenarian=separator == "+", label=label)
        text = f"{year:04d}{text[2:]}"
    return text


def _birth_date(text: str, day_offset: int, label: str) -> date:
    return real_date(int(text[0:4]), int(text[4:6]), int(text[6:8]) - day_offset, label)


def validate(value: object, today: date | None, label: str, day_offset: int) -> str:
    """The stored form, or the first broken rule as a ValidationError."""
    text = normalise(value, today, label)
    if len(text) == 13 and text[8] == "+":
        raise InvalidFormat(f"{label}: '+' belongs to the 10-digit form only")
    require_length(text, 12, label)
    if not is_digits(text):
        raise InvalidFormat(f"{label}: only digits are allowed")
    birth = _birth_date(text, day_offset, label)
    if text[8:11] == "000":
        raise InvalidComponent(f"{label}: birth number 000 is never issued")
    # Luhn over YYMMDDNNN + check digit: the century is excluded (domain.md §2.1).
    if not luhn.is_valid(digits(text[2:])):
        raise InvalidChecksum(f"{label}: the check digit does not match")
    refuse_future(birth, today, label)
    return text


def describe(
    value: object, today: date | None, label: str, day_offset: int, kind: str
) -> Description:
    """Birth date (the date part; the real one may differ, §2.1), sex and century."""
    text = validate(value, today, label, day_offset)
    sex: Sex = "male" if int(text[10]) % 2 else "female"
    return Description(
        kind=kind,
        birth_date=_birth_date(text, day_offset, label),
        sex=sex,
        century=int(text[:2]),
    )


def display(value: object, label: str, day_offset: int) -> str:
    """``YYYYMMDD-NNNC``."""
    text = validate(value, None, label, day_offset)
    return f"{text[:8]}-{text[8:]}"

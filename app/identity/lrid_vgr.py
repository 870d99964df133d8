"""Lokal reservidentitet VGR (LRID, "VGR-format"): Västra Götaland's reserve number.

Source: docs/domain.md §2.3 (Inera's list of local reserve formats; seed 001). Stored as
``YYYYMMDDGggC`` (display ``YYYYMMDD-GggC``):

* ``YYYYMMDD`` — a real calendar date (the birth date when known), not after ``today``
  when ``today`` is given;
* ``G`` — ``K`` female, ``M`` male, ``X`` unknown sex;
* ``gg`` — running number 06–79, even for women and odd for men; 80–89 for unknown sex;
* ``C`` — Luhn (:mod:`app.identity.luhn`) over ``YYMMDDGgg`` (century excluded) with the
  letters valued ``K`` = 5, ``M`` = 7, ``X`` = 8.

Seed 001's example ``19651207-K245`` is a trap: its check digit should be 0. A number in
another domain that merely looks VGR-formatted is not an LRID (seed 000); only the
system decides.

>>> validate('19810829-m071')
'19810829M071'
>>> validate('19810829M07')
Traceback (most recent call last):
...
app.identity.errors.InvalidLength: LRID VGR: the value must have 12 characters
>>> validate('19810829A071')
Traceback (most recent call last):
...
app.identity.errors.InvalidFormat: LRID VGR: the shape is YYYYMMDD + K/M/X + 3 digits
>>> validate('19810229M071')
Traceback (most recent call last):
...
app.identity.errors.InvalidComponent: LRID VGR: the date part is not a real calendar date
>>> validate('19810829M901')
Traceback (most recent call last):
...
app.identity.errors.InvalidComponent: LRID VGR: gg must be 06-79 for K/M and 80-89 for X
>>> validate('19810829M081')
Traceback (most recent call last):
...
app.identity.errors.InvalidComponent: LRID VGR: gg parity must match the sex (odd M, even K)
>>> validate('19651207-K245')
Traceback (most recent call last):
...
app.identity.errors.InvalidChecksum: LRID VGR: the check digit does not match
>>> describe('19930829X802')  # doctest: +NORMALIZE_WHITESPACE
Description(kind='lrid-vgr', birth_date=datetime.date(1993, 8, 29), sex=None,
    date_unknown=False, sex_unknown=True, century=19, series=None)
>>> format('19450829K088')
'19450829-K088'
>>> generate(date(2019, 1, 1), 'male', 0), capacity(True), capacity(False)
('20190101M077', 37, 10)
"""

from __future__ import annotations

import re
from datetime import date

from app.identity import luhn
from app.identity._common import (
    clean,
    parse_yyyymmdd,
    passes,
    refuse_future,
    require_length,
)
from app.identity.base import Description, Sex
from app.identity.errors import InvalidChecksum, InvalidComponent, InvalidFormat

CODE = "lrid-vgr"
NAME = "Lokal reservidentitet VGR (LRID)"
OID: str | None = "1.2.752.113.11.0.2.1.1.1"
SYSTEM = "urn:oid:1.2.752.113.11.0.2.1.1.1"
ALIASES: tuple[str, ...] = ()
PRIORITY = 40
GENERATABLE = True

#: The Luhn value of each sex letter (docs/domain.md §2.3).
LETTER_VALUES = {"K": 5, "M": 7, "X": 8}
_LETTER_OF_SEX: dict[Sex | None, str] = {"female": "K", "male": "M", None: "X"}
_SEX_OF_LETTER: dict[str, Sex | None] = {v: k for k, v in _LETTER_OF_SEX.items()}
#: Running numbers gg per sex letter, in generation order.
RUNNING = {"K": tuple(range(6, 80, 2)), "M": tuple(range(7, 80, 2)), "X": tuple(range(80, 90))}
_PATTERN = re.compile(r"[0-9]{8}[KMX][0-9]{3}")
_LABEL = "LRID VGR"


def normalise(value: str, *, today: date | None = None) -> str:
    """Strip, upper-case and drop the display hyphen (no rule is checked)."""
    return clean(value, _LABEL)


def _values(body: str) -> list[int]:
    return [LETTER_VALUES[char] if char in LETTER_VALUES else int(char) for char in body]


def validate(value: str, *, today: date | None = None) -> str:
    """The stored 12-character form, or a ValidationError naming the broken rule."""
    text = normalise(value)
    require_length(text, 12, _LABEL)
    if _PATTERN.fullmatch(text) is None:
        raise InvalidFormat(f"{_LABEL}: the shape is YYYYMMDD + K/M/X + 3 digits")
    birth = parse_yyyymmdd(text[:8], _LABEL)
    letter, running = text[8], int(text[9:11])
    if (running >= 80) != (letter == "X") or not 6 <= running <= 89:
        raise InvalidComponent(f"{_LABEL}: gg must be 06-79 for K/M and 80-89 for X")
    if letter != "X" and running not in RUNNING[letter]:
        raise InvalidComponent(f"{_LABEL}: gg parity must match the sex (odd M, even K)")
    # Luhn over YYMMDDGgg + C: the century is excluded (docs/domain.md §2.3).
    if not luhn.is_valid(_values(text[2:])):
        raise InvalidChecksum(f"{_LABEL}: the check digit does not match")
    refuse_future(birth, today, _LABEL)
    return text


def is_valid(value: object, *, today: date | None = None) -> bool:
    """Whether :func:`validate` accepts ``value``; never raises."""
    return passes(validate, value, today)


def describe(value: str, *, today: date | None = None) -> Description:
    """Birth date (the date part), century and sex (K/M) or unknown sex (X)."""
    text = validate(value, today=today)
    sex = _SEX_OF_LETTER[text[8]]
    return Description(
        kind=CODE,
        birth_date=parse_yyyymmdd(text[:8], _LABEL),
        sex=sex,
        sex_unknown=sex is None,
        century=int(text[:2]),
    )


def format(value: str) -> str:  # noqa: A001 - the stdnum name every kind shares
    """Display form ``YYYYMMDD-GggC``."""
    text = validate(value)
    return f"{text[:8]}-{text[8:]}"


def capacity(sex_known: bool) -> int:
    """How many LRIDs one (birth date, sex) has: 37 per known sex, 10 for unknown sex."""
    return len(RUNNING["K" if sex_known else "X"])


def generate(birth_date: date, sex: Sex | None, running: int) -> str:
    """The LRID number ``running`` (0-based) of (birth date, sex).

    ``running`` indexes ``gg`` in ascending order: women 06, 08 … 78; men 07, 09 … 79;
    unknown sex 80 … 89. Out of range raises InvalidComponent.
    """
    if sex not in _LETTER_OF_SEX:
        raise InvalidComponent(f"{_LABEL}: sex must be 'female', 'male' or unknown (None)")
    letter = _LETTER_OF_SEX[sex]
    choices = RUNNING[letter]
    if isinstance(running, bool) or not isinstance(running, int):
        raise InvalidComponent(f"{_LABEL}: the running number must be an integer")
    if not 0 <= running < len(choices):
        raise InvalidComponent(f"{_LABEL}: the running number is out of range")
    body = f"{birth_date.year:04d}{birth_date:%m%d}{letter}{choices[running]:02d}"
    return body + str(luhn.check_digit(_values(body[2:])))

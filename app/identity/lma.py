"""LMA-nummer: the number on an asylum seeker's LMA card (Migrationsverket).

Source: domain.md §2 (table; seed 001 finds a person's LRID through it). No OID is
known; the HL7 Sweden URI is this kind's canonical system. The value is kept verbatim
except for surrounding whitespace: it must be non-empty, at most 64 printable
characters. It is searchable but never a main identity (lowest priority), never
generated, and nothing is described.

>>> validate('  12-345678/9 ')
'12-345678/9'
>>> validate('   ')
Traceback (most recent call last):
...
app.identity.errors.InvalidLength: LMA-nummer: the value must have 1-64 characters
>>> validate('12\\t34')
Traceback (most recent call last):
...
app.identity.errors.InvalidFormat: LMA-nummer: only printable characters are allowed
>>> describe('123456789').kind, format('123456789')
('lma', '123456789')
"""

from __future__ import annotations

from datetime import date

from app.identity._common import clean, passes
from app.identity.base import Description
from app.identity.errors import InvalidFormat, InvalidLength

CODE = "lma"
NAME = "LMA-nummer"
OID: str | None = None
SYSTEM = "http://electronichealth.se/identifier/LMA-nummer"
ALIASES: tuple[str, ...] = ()
PRIORITY = 90
GENERATABLE = False

MAX_LENGTH = 64
_LABEL = "LMA-nummer"


def normalise(value: str, *, today: date | None = None) -> str:
    """Strip surrounding whitespace only."""
    return clean(value, _LABEL, upper=False, hyphen=False)


def validate(value: str, *, today: date | None = None) -> str:
    """The stripped value, or a ValidationError (length, printable characters)."""
    text = normalise(value)
    if not 1 <= len(text) <= MAX_LENGTH:
        raise InvalidLength(f"{_LABEL}: the value must have 1-{MAX_LENGTH} characters")
    if not text.isprintable():
        raise InvalidFormat(f"{_LABEL}: only printable characters are allowed")
    return text


def is_valid(value: object, *, today: date | None = None) -> bool:
    """Whether :func:`validate` accepts ``value``; never raises."""
    return passes(validate, value, today)


def describe(value: str, *, today: date | None = None) -> Description:
    """Nothing can be read out of an LMA number."""
    validate(value)
    return Description(kind=CODE)


def format(value: str) -> str:  # noqa: A001 - the stdnum name every kind shares
    """The stored form itself."""
    return validate(value)

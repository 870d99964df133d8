"""Region Värmland reservnummer: date + ``S`` + type + sex digit + order character.

Source: docs/domain.md §2.5 (Inera's list of local reserve formats). Stored as
``yyyymmddSTNO`` with no check digit: ``yyyymmdd`` a real calendar date (not after
``today`` when given), ``S`` for Värmland, type ``T`` = ``F`` known birth date, ``U``
no birth date, ``X`` unknown, ``P`` staff, ``L`` lab sample; sex digit ``N`` 2/4/6/8
women, 3/5/7/9 men, 0/1 unknown; order character ``O`` A–Z except V (1–9 in test
environments). Only type ``F`` makes the date part a birth date.

>>> validate('19450829-sf2b')
'19450829SF2B'
>>> validate('19450829SF2')
Traceback (most recent call last):
...
app.identity.errors.InvalidLength: Värmland reserve number: the value must have 12 characters
>>> validate('19450829SF2V')  # doctest: +NORMALIZE_WHITESPACE
Traceback (most recent call last):
...
app.identity.errors.InvalidFormat: Värmland reserve number: the value must have the shape
    yyyymmdd + S + F/U/X/P/L + digit + A-Z except V or 1-9
>>> validate('19450230SF2B')  # doctest: +NORMALIZE_WHITESPACE
Traceback (most recent call last):
...
app.identity.errors.InvalidComponent: Värmland reserve number: the date part is not a real
    calendar date
>>> validate('20450829SF2B', today=date(2024, 1, 17))
Traceback (most recent call last):
...
app.identity.errors.InvalidComponent: Värmland reserve number: the birth date lies in the future
>>> describe('19450829SF2B')  # doctest: +NORMALIZE_WHITESPACE
Description(kind='varmland', birth_date=datetime.date(1945, 8, 29), sex='female',
    date_unknown=False, sex_unknown=False, century=None, series=None)
>>> describe('19810829SU1A')  # doctest: +NORMALIZE_WHITESPACE
Description(kind='varmland', birth_date=None, sex=None, date_unknown=True, sex_unknown=True,
    century=None, series=None)
>>> format('19930829SX0C')
'19930829-SX0C'
"""

from __future__ import annotations

import re
from datetime import date

from app.identity._pattern import PatternRule
from app.identity.base import Description, Sex

CODE = "varmland"
NAME = "Region Värmland reservnummer"
OID: str | None = "1.2.752.74.9.2"
SYSTEM = "urn:oid:1.2.752.74.9.2"
ALIASES: tuple[str, ...] = ()
PRIORITY = 50
GENERATABLE = False


def _describe(match: re.Match[str], date_part: date | None) -> Description:
    known_date = match["type"] == "F"
    sex_digit = int(match["sex"])
    sex: Sex | None = None if sex_digit < 2 else ("male" if sex_digit % 2 else "female")
    return Description(
        kind=CODE,
        birth_date=date_part if known_date else None,
        sex=sex,
        date_unknown=not known_date,
        sex_unknown=sex is None,
    )


_RULE = PatternRule(
    code=CODE,
    label="Värmland reserve number",
    pattern=re.compile(r"(?P<date>[0-9]{8})S(?P<type>[FUXPL])(?P<sex>[0-9])[A-UW-Z1-9]"),
    shape="yyyymmdd + S + F/U/X/P/L + digit + A-Z except V or 1-9",
    describer=_describe,
)

# The kind's functions are the shared rule's bound methods (see app.identity._pattern).
normalise = _RULE.normalise
validate = _RULE.validate
is_valid = _RULE.is_valid
describe = _RULE.describe
format = _RULE.format

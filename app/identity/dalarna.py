"""Region Dalarna reservnummer: date + letter + three digits.

Source: docs/domain.md §2.5 (Inera's list of local reserve formats; example ``19010105Y202``).
Stored as ``yyyymmddLNNN`` with no check digit; ``yyyymmdd`` must be a real calendar
date (not after ``today`` when given) and is described as the birth date.

>>> validate('19010105-Y202')
'19010105Y202'
>>> validate('19010105Y20')
Traceback (most recent call last):
...
app.identity.errors.InvalidLength: Dalarna reserve number: the value must have 12 characters
>>> validate('190101051202')  # doctest: +NORMALIZE_WHITESPACE
Traceback (most recent call last):
...
app.identity.errors.InvalidFormat: Dalarna reserve number: the value must have the shape
    yyyymmdd + letter + 3 digits
>>> validate('19010229Y202')  # doctest: +NORMALIZE_WHITESPACE
Traceback (most recent call last):
...
app.identity.errors.InvalidComponent: Dalarna reserve number: the date part is not a real
    calendar date
>>> from datetime import date
>>> validate('20250105Y202', today=date(2024, 1, 17))
Traceback (most recent call last):
...
app.identity.errors.InvalidComponent: Dalarna reserve number: the birth date lies in the future
>>> describe('19010105Y202').birth_date
datetime.date(1901, 1, 5)
>>> format('19010105Y202')
'19010105-Y202'
"""

from __future__ import annotations

import re

from app.identity._pattern import PatternRule

CODE = "dalarna"
NAME = "Region Dalarna reservnummer"
OID: str | None = "1.2.752.74.9.8"
SYSTEM = "urn:oid:1.2.752.74.9.8"
ALIASES: tuple[str, ...] = ()
PRIORITY = 50
GENERATABLE = False

_RULE = PatternRule(
    code=CODE,
    label="Dalarna reserve number",
    pattern=re.compile(r"(?P<date>[0-9]{8})[A-Z][0-9]{3}"),
    shape="yyyymmdd + letter + 3 digits",
)

# The kind's functions are the shared rule's bound methods (see app.identity._pattern).
normalise = _RULE.normalise
validate = _RULE.validate
is_valid = _RULE.is_valid
describe = _RULE.describe
format = _RULE.format

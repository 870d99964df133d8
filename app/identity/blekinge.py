"""Region Blekinge reservnummer: date + two letters + digit + letter.

Source: docs/domain.md §2.5 (Inera's list of local reserve formats; example ``20200501AA8A``).
Stored as ``yyyymmddLLdL`` with no check digit; ``yyyymmdd`` must be a real calendar
date (not after ``today`` when given) and is described as the birth date.

>>> validate('20200501-AA8A')
'20200501AA8A'
>>> validate('20200501AA8')
Traceback (most recent call last):
...
app.identity.errors.InvalidLength: Blekinge reserve number: the value must have 12 characters
>>> validate('202005011A8A')  # doctest: +NORMALIZE_WHITESPACE
Traceback (most recent call last):
...
app.identity.errors.InvalidFormat: Blekinge reserve number: the value must have the shape
    yyyymmdd + 2 letters + digit + letter
>>> validate('20200431AA8A')  # doctest: +NORMALIZE_WHITESPACE
Traceback (most recent call last):
...
app.identity.errors.InvalidComponent: Blekinge reserve number: the date part is not a real
    calendar date
>>> from datetime import date
>>> validate('20250501AA8A', today=date(2024, 1, 17))
Traceback (most recent call last):
...
app.identity.errors.InvalidComponent: Blekinge reserve number: the birth date lies in the future
>>> describe('20200501AA8A').birth_date
datetime.date(2020, 5, 1)
>>> format('20200501AA8A')
'20200501-AA8A'
"""

from __future__ import annotations

import re

from app.identity._pattern import PatternRule

CODE = "blekinge"
NAME = "Region Blekinge reservnummer"
OID: str | None = "1.2.752.74.9.5"
SYSTEM = "urn:oid:1.2.752.74.9.5"
ALIASES: tuple[str, ...] = ()
PRIORITY = 50
GENERATABLE = False

_RULE = PatternRule(
    code=CODE,
    label="Blekinge reserve number",
    pattern=re.compile(r"(?P<date>[0-9]{8})[A-Z]{2}[0-9][A-Z]"),
    shape="yyyymmdd + 2 letters + digit + letter",
)

# The kind's functions are the shared rule's bound methods (see app.identity._pattern).
normalise = _RULE.normalise
validate = _RULE.validate
is_valid = _RULE.is_valid
describe = _RULE.describe
format = _RULE.format

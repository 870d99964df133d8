"""Region Västernorrland reservnummer: date + three digits + ``R``.

Source: docs/domain.md §2.5 (Inera's list of local reserve formats; example ``20100101014R``).
Stored as ``yyyymmddNNNR`` with no check digit; ``yyyymmdd`` must be a real calendar
date (not after ``today`` when given) and is described as the birth date.

>>> validate('20100101-014R')
'20100101014R'
>>> validate('20100101014')
Traceback (most recent call last):
...
app.identity.errors.InvalidLength: Västernorrland reserve number: the value must have 12 characters
>>> validate('20100101014S')  # doctest: +NORMALIZE_WHITESPACE
Traceback (most recent call last):
...
app.identity.errors.InvalidFormat: Västernorrland reserve number: the value must have the shape
    yyyymmdd + 3 digits + R
>>> validate('20100001014R')  # doctest: +NORMALIZE_WHITESPACE
Traceback (most recent call last):
...
app.identity.errors.InvalidComponent: Västernorrland reserve number: the date part is not a real
    calendar date
>>> from datetime import date
>>> validate('20300101014R', today=date(2024, 1, 17))  # doctest: +NORMALIZE_WHITESPACE
Traceback (most recent call last):
...
app.identity.errors.InvalidComponent: Västernorrland reserve number: the birth date lies in the
    future
>>> describe('20100101014R').birth_date
datetime.date(2010, 1, 1)
>>> format('20100101014R')
'20100101-014R'
"""

from __future__ import annotations

import re

from app.identity._pattern import PatternRule

CODE = "vasternorrland"
NAME = "Region Västernorrland reservnummer"
OID: str | None = "1.2.752.269.1.1"
SYSTEM = "urn:oid:1.2.752.269.1.1"
ALIASES: tuple[str, ...] = ()
PRIORITY = 50
GENERATABLE = False

_RULE = PatternRule(
    code=CODE,
    label="Västernorrland reserve number",
    pattern=re.compile(r"(?P<date>[0-9]{8})[0-9]{3}R"),
    shape="yyyymmdd + 3 digits + R",
)

# The kind's functions are the shared rule's bound methods (see app.identity._pattern).
normalise = _RULE.normalise
validate = _RULE.validate
is_valid = _RULE.is_valid
describe = _RULE.describe
format = _RULE.format

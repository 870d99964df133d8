"""Region Västerbotten reservnummer: date + ``R``/``E``/``K``/``A`` + three digits.

Source: docs/domain.md §2.5 (Inera's list of local reserve formats; example ``19890715R910``).
Stored as ``yyyymmddTNNN`` with no check digit; ``yyyymmdd`` must be a real calendar
date (not after ``today`` when given) and is described as the birth date.

>>> validate('19890715-R910')
'19890715R910'
>>> validate('19890715R91')
Traceback (most recent call last):
...
app.identity.errors.InvalidLength: Västerbotten reserve number: the value must have 12 characters
>>> validate('19890715B910')  # doctest: +NORMALIZE_WHITESPACE
Traceback (most recent call last):
...
app.identity.errors.InvalidFormat: Västerbotten reserve number: the value must have the shape
    yyyymmdd + R/E/K/A + 3 digits
>>> validate('19890732R910')  # doctest: +NORMALIZE_WHITESPACE
Traceback (most recent call last):
...
app.identity.errors.InvalidComponent: Västerbotten reserve number: the date part is not a real
    calendar date
>>> from datetime import date
>>> validate('20890715R910', today=date(2024, 1, 17))
Traceback (most recent call last):
...
app.identity.errors.InvalidComponent: Västerbotten reserve number: the birth date lies in the future
>>> describe('19890715R910').birth_date
datetime.date(1989, 7, 15)
>>> format('19890715R910')
'19890715-R910'
"""

from __future__ import annotations

import re

from app.identity._pattern import PatternRule

CODE = "vasterbotten"
NAME = "Region Västerbotten reservnummer"
OID: str | None = "1.2.752.74.9.7"
SYSTEM = "urn:oid:1.2.752.74.9.7"
ALIASES: tuple[str, ...] = ()
PRIORITY = 50
GENERATABLE = False

_RULE = PatternRule(
    code=CODE,
    label="Västerbotten reserve number",
    pattern=re.compile(r"(?P<date>[0-9]{8})[REKA][0-9]{3}"),
    shape="yyyymmdd + R/E/K/A + 3 digits",
)

# The kind's functions are the shared rule's bound methods (see app.identity._pattern).
normalise = _RULE.normalise
validate = _RULE.validate
is_valid = _RULE.is_valid
describe = _RULE.describe
format = _RULE.format

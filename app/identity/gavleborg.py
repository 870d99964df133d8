"""Region Gävleborg reservnummer: date + two digits + ``M``/``K``/``X`` + digit (pattern only).

Source: docs/domain.md §2.5 (Inera's list of local reserve formats; example ``1965120701M1``).
Stored as ``yyyymmddNNGN`` (display ``yyyymmdd-NNGN``); no check rule is known, so only
the shape is checked and ``yyyymmdd`` must be a real calendar date (not after ``today``
when given), described as the birth date. ``G`` looks like VGR's sex letter but no source
says so, so no sex is described.

The region's own routine (seed 002) holds ``19612121201M7``, which has another shape: the
researched pattern does not cover every form in use, so a value of another shape is stored
as given — an opaque value of this system (docs/domain.md §2: "treat as opaque") — and nothing
is read out of it. A value of the known shape with an impossible date is still refused.

>>> validate('19651207-01M1')
'1965120701M1'
>>> validate('19612121201M7')  # seed 002: another shape, kept as given
'19612121201M7'
>>> describe('19612121201M7').birth_date is None
True
>>> validate('1965123201M1')  # doctest: +NORMALIZE_WHITESPACE
Traceback (most recent call last):
...
app.identity.errors.InvalidComponent: Gävleborg reserve number: the date part is not a real
    calendar date
>>> from datetime import date
>>> validate('2065120701M1', today=date(2024, 1, 17))
Traceback (most recent call last):
...
app.identity.errors.InvalidComponent: Gävleborg reserve number: the birth date lies in the future
>>> validate('   ')
Traceback (most recent call last):
...
app.identity.errors.InvalidLength: Gävleborg reserve number: the value must not be empty
>>> describe('1965120701M1').birth_date
datetime.date(1965, 12, 7)
>>> format('1965120701M1')
'19651207-01M1'
"""

from __future__ import annotations

import re

from app.identity._pattern import PatternRule

CODE = "gavleborg"
NAME = "Region Gävleborg reservnummer"
OID: str | None = "1.2.752.74.9.9"
SYSTEM = "urn:oid:1.2.752.74.9.9"
ALIASES: tuple[str, ...] = ()
PRIORITY = 50
GENERATABLE = False

_RULE = PatternRule(
    code=CODE,
    label="Gävleborg reserve number",
    pattern=re.compile(r"(?P<date>[0-9]{8})[0-9]{2}[MKX][0-9]"),
    shape="yyyymmdd + 2 digits + M/K/X + digit",
    other_shapes_opaque=True,
)

# The kind's functions are the shared rule's bound methods (see app.identity._pattern).
normalise = _RULE.normalise
validate = _RULE.validate
is_valid = _RULE.is_valid
describe = _RULE.describe
format = _RULE.format

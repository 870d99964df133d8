"""Region Örebro reservnummer: 8 digits + ``T`` + character + digit + character.

Source: docs/domain.md §2.5 (Inera's list of local reserve formats). Stored as
``NNNNNNNNTxdx`` (``x`` = A–Z or 0–9, ``d`` a digit); no check digit and nothing
derivable: the 8 digits need not be a date.

>>> validate('12345678-ta0a')
'12345678TA0A'
>>> validate('12345678TA0')
Traceback (most recent call last):
...
app.identity.errors.InvalidLength: Örebro reserve number: the value must have 12 characters
>>> validate('12345678SA0A')  # doctest: +NORMALIZE_WHITESPACE
Traceback (most recent call last):
...
app.identity.errors.InvalidFormat: Örebro reserve number: the value must have the shape 8 digits
    + T + A-Z/0-9 + digit + A-Z/0-9
>>> describe('19930829T320')  # doctest: +NORMALIZE_WHITESPACE
Description(kind='orebro', birth_date=None, sex=None, date_unknown=False, sex_unknown=False,
    century=None, series=None)
>>> format('19810829TB1F')
'19810829-TB1F'
"""

from __future__ import annotations

import re

from app.identity._pattern import PatternRule

CODE = "orebro"
NAME = "Region Örebro reservnummer"
OID: str | None = "1.2.752.74.9.3"
SYSTEM = "urn:oid:1.2.752.74.9.3"
ALIASES: tuple[str, ...] = ()
PRIORITY = 50
GENERATABLE = False

_RULE = PatternRule(
    code=CODE,
    label="Örebro reserve number",
    pattern=re.compile(r"[0-9]{8}T[A-Z0-9][0-9][A-Z0-9]"),
    shape="8 digits + T + A-Z/0-9 + digit + A-Z/0-9",
)

# The kind's functions are the shared rule's bound methods (see app.identity._pattern).
normalise = _RULE.normalise
validate = _RULE.validate
is_valid = _RULE.is_valid
describe = _RULE.describe
format = _RULE.format

"""Region Stockholm reservnummer: ``99`` + year + 5-digit running number + Luhn check digit.

Source: docs/domain.md §2.5 (Inera's list of local reserve formats). Stored as 12 digits
``99yyyyNNNNNC``; ``C`` is a Luhn check digit over positions 5–11 (the last two year
digits and the running number). ``yyyy`` is the year the number was issued, not a birth
date, so nothing is described. Inera states the year range 1980–2299 but its own example
``991945000023`` has 1945: the examples win, and this kind accepts 1900–2299. There is no
display hyphen.

>>> validate(' 991981000010 ')
'991981000010'
>>> validate('99198100001')
Traceback (most recent call last):
...
app.identity.errors.InvalidLength: Stockholm reserve number: the value must have 12 characters
>>> validate('981981000010')  # doctest: +NORMALIZE_WHITESPACE
Traceback (most recent call last):
...
app.identity.errors.InvalidFormat: Stockholm reserve number: the value must have the shape 99 +
    yyyy + 5 digits + check digit
>>> validate('992300000010')
Traceback (most recent call last):
...
app.identity.errors.InvalidComponent: Stockholm reserve number: the year must be 1900-2299
>>> validate('991981000011')
Traceback (most recent call last):
...
app.identity.errors.InvalidChecksum: Stockholm reserve number: the check digit does not match
>>> describe('991945000023')  # doctest: +NORMALIZE_WHITESPACE
Description(kind='stockholm', birth_date=None, sex=None, date_unknown=False, sex_unknown=False,
    century=None, series=None)
>>> format('991993000032')
'991993000032'
"""

from __future__ import annotations

import re

from app.identity._pattern import PatternRule
from app.identity.errors import InvalidComponent

CODE = "stockholm"
NAME = "Region Stockholm reservnummer"
OID: str | None = "1.2.752.97.3.1.3"
SYSTEM = "urn:oid:1.2.752.97.3.1.3"
ALIASES: tuple[str, ...] = ()
PRIORITY = 50
GENERATABLE = False

_LABEL = "Stockholm reserve number"


def _check_year(match: re.Match[str]) -> None:
    if not 1900 <= int(match["year"]) <= 2299:
        raise InvalidComponent(f"{_LABEL}: the year must be 1900-2299")


_RULE = PatternRule(
    code=CODE,
    label=_LABEL,
    pattern=re.compile(r"99(?P<year>[0-9]{4})[0-9]{6}"),
    shape="99 + yyyy + 5 digits + check digit",
    hyphen=False,
    luhn_from=4,
    check=_check_year,
)

# The kind's functions are the shared rule's bound methods (see app.identity._pattern).
normalise = _RULE.normalise
validate = _RULE.validate
is_valid = _RULE.is_valid
describe = _RULE.describe
format = _RULE.format

"""Region Skåne reservnummer: date + ``D``/``E``/``F`` + letter + ``0``/``1`` + letter.

Source: docs/domain.md §2.5 (Inera's list of local reserve formats; example ``810829DA1B``).
Stored as ``yyyymmddTLdL`` with no check digit; ``yyyymmdd`` must be a real calendar
date (not after ``today`` when given). The 10-character form ``yymmddTLdL`` is accepted
and its century inferred relative to ``today`` as for a personnummer (latest year not
after today); without ``today`` it is refused.

>>> from datetime import date
>>> validate('810829DA1B', today=date(2024, 1, 17))
'19810829DA1B'
>>> validate('810829DA1B')  # doctest: +NORMALIZE_WHITESPACE
Traceback (most recent call last):
...
app.identity.errors.InvalidLength: Skåne reserve number: a form without century needs a
    reference date (today)
>>> validate('19810829DA1')
Traceback (most recent call last):
...
app.identity.errors.InvalidLength: Skåne reserve number: the value must have 12 characters
>>> validate('19810829GA1B')  # doctest: +NORMALIZE_WHITESPACE
Traceback (most recent call last):
...
app.identity.errors.InvalidFormat: Skåne reserve number: the value must have the shape
    (yy)yymmdd + D/E/F + letter + 0/1 + letter
>>> validate('19811329DA1B')  # doctest: +NORMALIZE_WHITESPACE
Traceback (most recent call last):
...
app.identity.errors.InvalidComponent: Skåne reserve number: the date part is not a real calendar
    date
>>> describe('19810829DA1B')  # doctest: +NORMALIZE_WHITESPACE
Description(kind='skane', birth_date=datetime.date(1981, 8, 29), sex=None, date_unknown=False,
    sex_unknown=False, century=None, series=None)
>>> format('19810829DA1B')
'19810829-DA1B'
"""

from __future__ import annotations

import re

from app.identity._pattern import PatternRule

CODE = "skane"
NAME = "Region Skåne reservnummer"
OID: str | None = "1.2.752.219.1.10.10.1"
SYSTEM = "urn:oid:1.2.752.219.1.10.10.1"
ALIASES: tuple[str, ...] = ()
PRIORITY = 50
GENERATABLE = False

_RULE = PatternRule(
    code=CODE,
    label="Skåne reserve number",
    pattern=re.compile(r"(?P<date>[0-9]{8})[DEF][A-Z][01][A-Z]"),
    shape="(yy)yymmdd + D/E/F + letter + 0/1 + letter",
    short_form=True,
)

# The kind's functions are the shared rule's bound methods (see app.identity._pattern).
normalise = _RULE.normalise
validate = _RULE.validate
is_valid = _RULE.is_valid
describe = _RULE.describe
format = _RULE.format

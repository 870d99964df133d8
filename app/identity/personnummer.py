"""Personnummer (PNR): the Swedish personal identity number of everyone in the population register.

Source: docs/domain.md §2 and §2.1 (Skatteverket's rules, population registration act
§ 18); seed 001 gives ``19651207-3245`` as its example. Stored as 12 digits
``YYYYMMDDNNNC``: birth date, birth number ``NNN`` (001–999, odd for men, even for
women) and a Luhn check digit ``C`` over ``YYMMDDNNN`` (century excluded).

Input may also be the display form ``YYYYMMDD-NNNC`` or the 10-digit forms
``YYMMDD-NNNC`` / ``YYMMDD+NNNC`` / ``YYMMDDNNNC``; the century of a 10-digit form is
inferred as Skatteverket does relative to ``today`` (``+`` = 100 or older) and a
10-digit form without ``today`` is refused. The date part must be a real calendar
date (the person's real birth date may still differ from it, §2.1). When ``today`` is
given, a date part after ``today`` is refused: no number is issued before birth.

>>> from datetime import date
>>> validate('19651207-3245')
'196512073245'
>>> validate('651207-3245', today=date(2024, 1, 17))
'196512073245'
>>> validate('651207-3245')  # doctest: +NORMALIZE_WHITESPACE
Traceback (most recent call last):
...
app.identity.errors.InvalidLength: personnummer: a form without century needs a reference date
    (today)
>>> validate('19651207324')
Traceback (most recent call last):
...
app.identity.errors.InvalidLength: personnummer: the value must have 12 characters
>>> validate('19651207-324A')
Traceback (most recent call last):
...
app.identity.errors.InvalidFormat: personnummer: only digits are allowed
>>> validate('19651267-3242')
Traceback (most recent call last):
...
app.identity.errors.InvalidComponent: personnummer: the date part is not a real calendar date
>>> validate('19651207-0004')
Traceback (most recent call last):
...
app.identity.errors.InvalidComponent: personnummer: birth number 000 is never issued
>>> validate('19651207-3246')
Traceback (most recent call last):
...
app.identity.errors.InvalidChecksum: personnummer: the check digit does not match
>>> validate('20991231-9986', today=date(2024, 1, 17))
Traceback (most recent call last):
...
app.identity.errors.InvalidComponent: personnummer: the birth date lies in the future
>>> is_valid('196512073246'), is_valid(None)
(False, False)
>>> describe('196512073245')  # doctest: +NORMALIZE_WHITESPACE
Description(kind='pnr', birth_date=datetime.date(1965, 12, 7), sex='female', date_unknown=False,
    sex_unknown=False, century=19, series=None)
>>> format('196512073245')
'19651207-3245'
"""

from __future__ import annotations

from app.identity._civic import CivicRule

CODE = "pnr"
NAME = "Personnummer"
OID: str | None = "1.2.752.129.2.1.3.1"
SYSTEM = "urn:oid:1.2.752.129.2.1.3.1"
ALIASES: tuple[str, ...] = ("http://electronichealth.se/identifier/personnummer",)
PRIORITY = 10
GENERATABLE = False

_KIND = CivicRule(code=CODE, label="personnummer", day_offset=0)

# The kind's functions are the shared rule's bound methods (see app.identity._civic).
normalise = _KIND.normalise
validate = _KIND.validate
is_valid = _KIND.is_valid
describe = _KIND.describe
format = _KIND.format

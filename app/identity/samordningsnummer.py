"""Samordningsnummer (SNR): the Swedish coordination number for people not in the register.

Source: docs/domain.md §2 and §2.1 (Skatteverket). Everything as the personnummer
(:mod:`app.identity.personnummer`) except that 60 is added to the day, so ``DD`` is
61–91 and ``DD - 60`` must be a real calendar day. python-stdnum refuses these numbers;
this kind accepts them. Seed 001's example ``19651267-3245`` fails the check digit (a
seed trap); the correct number is ``19651267-3242``. A date part after ``today`` is
refused when ``today`` is given.

>>> from datetime import date
>>> validate('19651267-3242')
'196512673242'
>>> validate('651267+3242', today=date(2066, 1, 1))
'196512673242'
>>> validate('651267-3242')  # doctest: +NORMALIZE_WHITESPACE
Traceback (most recent call last):
...
app.identity.errors.InvalidLength: samordningsnummer: a form without century needs a reference
    date (today)
>>> validate('1965126732')  # doctest: +NORMALIZE_WHITESPACE
Traceback (most recent call last):
...
app.identity.errors.InvalidLength: samordningsnummer: a form without century needs a reference
    date (today)
>>> validate('19651267324')
Traceback (most recent call last):
...
app.identity.errors.InvalidLength: samordningsnummer: the value must have 12 characters
>>> validate('19651267-32X2')
Traceback (most recent call last):
...
app.identity.errors.InvalidFormat: samordningsnummer: only digits are allowed
>>> validate('19651207-3245')
Traceback (most recent call last):
...
app.identity.errors.InvalidComponent: samordningsnummer: the date part is not a real calendar date
>>> validate('19651267-0003')
Traceback (most recent call last):
...
app.identity.errors.InvalidComponent: samordningsnummer: birth number 000 is never issued
>>> validate('19651267-3245')
Traceback (most recent call last):
...
app.identity.errors.InvalidChecksum: samordningsnummer: the check digit does not match
>>> describe('196512673242')  # doctest: +NORMALIZE_WHITESPACE
Description(kind='snr', birth_date=datetime.date(1965, 12, 7), sex='female', date_unknown=False,
    sex_unknown=False, century=19, series=None)
>>> format('196512673242')
'19651267-3242'
"""

from __future__ import annotations

from app.identity._civic import CivicRule

CODE = "snr"
NAME = "Samordningsnummer"
OID: str | None = "1.2.752.129.2.1.3.3"
SYSTEM = "urn:oid:1.2.752.129.2.1.3.3"
ALIASES: tuple[str, ...] = ("http://electronichealth.se/identifier/samordningsnummer",)
PRIORITY = 20
GENERATABLE = False

_KIND = CivicRule(code=CODE, label="samordningsnummer", day_offset=60)

# The kind's functions are the shared rule's bound methods (see app.identity._civic).
normalise = _KIND.normalise
validate = _KIND.validate
is_valid = _KIND.is_valid
describe = _KIND.describe
format = _KIND.format

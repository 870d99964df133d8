"""Region Halland reservnummer: the CareLink rule under Halland's own OID.

Source: docs/domain.md §2.5 ("same as CareLink"); the rule itself lives in
:mod:`app.identity.carelink`.

>>> validate('20190535-5622')
'201905355622'
>>> validate('20190535562')
Traceback (most recent call last):
...
app.identity.errors.InvalidLength: Halland reserve number: the value must have 12 characters
>>> validate('201913355622')
Traceback (most recent call last):
...
app.identity.errors.InvalidComponent: Halland reserve number: the month must be 01-12
>>> validate('201905305622')  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
app.identity.errors.InvalidFormat: Halland reserve number: the value must have the shape ...
>>> validate('201905355623')
Traceback (most recent call last):
...
app.identity.errors.InvalidChecksum: Halland reserve number: the check digit does not match
>>> format('201905355622')
'20190535-5622'
"""

from __future__ import annotations

from app.identity.carelink import make_rule

CODE = "halland"
NAME = "Region Halland reservnummer"
OID: str | None = "1.2.752.74.9.6"
SYSTEM = "urn:oid:1.2.752.74.9.6"
ALIASES: tuple[str, ...] = ()
PRIORITY = 50
GENERATABLE = False

_RULE = make_rule(CODE, "Halland reserve number")

# The kind's functions are the shared rule's bound methods (see app.identity._pattern).
normalise = _RULE.normalise
validate = _RULE.validate
is_valid = _RULE.is_valid
describe = _RULE.describe
format = _RULE.format

"""Gammal reservidentitet VGR (GRID): the old Befreg reserve formats of Västra Götaland.

Source: docs/domain.md §2 and §2.4 (seed 001, example ``19651207C123``). There is no rule and
no check digit: a GRID is any 12 ASCII letters and digits, stored upper-case, kept
searchable but never generated and ranked lowest among reserve identities in merges.
The format is free, so nothing is described and there is no display hyphen.

>>> validate(' 19651207c123 ')
'19651207C123'
>>> validate('19651207C12')
Traceback (most recent call last):
...
app.identity.errors.InvalidLength: GRID VGR: the value must have 12 characters
>>> validate('19651207C12!')
Traceback (most recent call last):
...
app.identity.errors.InvalidFormat: GRID VGR: only letters A-Z and digits are allowed
>>> describe('19651207C123').kind, format('19651207C123')
('grid-vgr', '19651207C123')
"""

from __future__ import annotations

from app.identity._common import is_upper_alnum, require_length
from app.identity._free import FreeRule
from app.identity.errors import InvalidFormat

CODE = "grid-vgr"
NAME = "Gammal reservidentitet VGR (GRID)"
OID: str | None = "1.2.752.113.11.0.2.1.1.4"
SYSTEM = "urn:oid:1.2.752.113.11.0.2.1.1.4"
ALIASES: tuple[str, ...] = ()
PRIORITY = 60
GENERATABLE = False

_LABEL = "GRID VGR"


def _check(text: str) -> None:
    """Any 12 ASCII letters and digits (upper-cased by normalise)."""
    require_length(text, 12, _LABEL)
    if not is_upper_alnum(text):
        raise InvalidFormat(f"{_LABEL}: only letters A-Z and digits are allowed")


_KIND = FreeRule(code=CODE, label=_LABEL, check=_check)

# The kind's functions are the shared rule's bound methods (see app.identity._free).
normalise = _KIND.normalise
validate = _KIND.validate
is_valid = _KIND.is_valid
describe = _KIND.describe
format = _KIND.format

"""LMA-nummer: the number on an asylum seeker's LMA card (Migrationsverket).

Source: docs/domain.md §2 (table; seed 001 finds a person's LRID through it). No OID is
known; the HL7 Sweden URI is this kind's canonical system. The value is kept verbatim
except for surrounding whitespace: it must be non-empty, at most 64 printable
characters. It is searchable but never a main identity (lowest priority), never
generated, and nothing is described.

>>> validate('  12-345678/9 ')
'12-345678/9'
>>> validate('   ')
Traceback (most recent call last):
...
app.identity.errors.InvalidLength: LMA-nummer: the value must have 1-64 characters
>>> validate('12\\t34')
Traceback (most recent call last):
...
app.identity.errors.InvalidFormat: LMA-nummer: only printable characters are allowed
>>> describe('123456789').kind, format('123456789')
('lma', '123456789')
"""

from __future__ import annotations

from app.identity._free import FreeRule
from app.identity.errors import InvalidFormat, InvalidLength

CODE = "lma"
NAME = "LMA-nummer"
OID: str | None = None
SYSTEM = "http://electronichealth.se/identifier/LMA-nummer"
ALIASES: tuple[str, ...] = ()
PRIORITY = 90
GENERATABLE = False

MAX_LENGTH = 64
_LABEL = "LMA-nummer"


def _check(text: str) -> None:
    """Non-empty, at most MAX_LENGTH printable characters; the case is kept."""
    if not 1 <= len(text) <= MAX_LENGTH:
        raise InvalidLength(f"{_LABEL}: the value must have 1-{MAX_LENGTH} characters")
    if not text.isprintable():
        raise InvalidFormat(f"{_LABEL}: only printable characters are allowed")


_KIND = FreeRule(code=CODE, label=_LABEL, check=_check, upper=False)

# The kind's functions are the shared rule's bound methods (see app.identity._free).
normalise = _KIND.normalise
validate = _KIND.validate
is_valid = _KIND.is_valid
describe = _KIND.describe
format = _KIND.format

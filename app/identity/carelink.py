"""Inera CareLink reservnummer: ``yyyymm`` + day code 32–59 + 3 digits + Luhn check digit.

Source: docs/domain.md §2.5 (Inera's list of local reserve formats). Stored as 12 digits
``yyyymmxxNNNC``: a month 01–12, a day code ``xx`` 32–59 (never a real day, so no birth
date is described), a running number and a Luhn check digit over the last 10 digits,
as for a personnummer. Region Halland uses the same rule under its own OID
(:mod:`app.identity.halland` builds its rule with :func:`make_rule`).

>>> validate('19810832-0014')
'198108320014'
>>> validate('1981083200')
Traceback (most recent call last):
...
app.identity.errors.InvalidLength: CareLink reserve number: the value must have 12 characters
>>> validate('198108310014')  # doctest: +NORMALIZE_WHITESPACE
Traceback (most recent call last):
...
app.identity.errors.InvalidFormat: CareLink reserve number: the value must have the shape yyyymm
    + 32-59 + 3 digits + check digit
>>> validate('198113320014')
Traceback (most recent call last):
...
app.identity.errors.InvalidComponent: CareLink reserve number: the month must be 01-12
>>> validate('198108320015')
Traceback (most recent call last):
...
app.identity.errors.InvalidChecksum: CareLink reserve number: the check digit does not match
>>> format('198108320014')
'19810832-0014'
"""

from __future__ import annotations

import re

from app.identity._pattern import PatternRule
from app.identity.errors import InvalidComponent

CODE = "carelink"
NAME = "Inera CareLink reservnummer"
OID: str | None = "1.2.752.129.2.1.3.2"
SYSTEM = "urn:oid:1.2.752.129.2.1.3.2"
ALIASES: tuple[str, ...] = ()
PRIORITY = 50
GENERATABLE = False

_PATTERN = re.compile(r"[0-9]{4}(?P<month>[0-9]{2})(3[2-9]|[45][0-9])[0-9]{4}")


def make_rule(code: str, label: str) -> PatternRule:
    """The CareLink rule under another kind's code and label (Halland, docs/domain.md §2.5)."""

    def check_month(match: re.Match[str]) -> None:
        if not 1 <= int(match["month"]) <= 12:
            raise InvalidComponent(f"{label}: the month must be 01-12")

    return PatternRule(
        code=code,
        label=label,
        pattern=_PATTERN,
        shape="yyyymm + 32-59 + 3 digits + check digit",
        luhn_from=2,
        check=check_month,
    )


_RULE = make_rule(CODE, "CareLink reserve number")

# The kind's functions are the shared rule's bound methods (see app.identity._pattern).
normalise = _RULE.normalise
validate = _RULE.validate
is_valid = _RULE.is_valid
describe = _RULE.describe
format = _RULE.format

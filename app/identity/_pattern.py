"""One rule object for the regional reserve kinds that are checked by shape.

Private to :mod:`app.identity`. Each regional module (docs/domain.md §2.5) builds one
:class:`PatternRule` and exposes its bound methods as the module functions, so
"a real date where the pattern has one", the optional Luhn tail (Stockholm, CareLink,
Halland), the display hyphen and the 10-character Skåne form are written once.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from app.identity import luhn
from app.identity._common import (
    clean,
    digits,
    infer_year,
    is_digits,
    parse_yyyymmdd,
    passes,
    refuse_future,
    require_length,
)
from app.identity.base import Description
from app.identity.errors import InvalidChecksum, InvalidFormat, InvalidLength

Describer = Callable[[re.Match[str], date | None], Description]
Check = Callable[[re.Match[str]], None]


@dataclass(frozen=True)
class PatternRule:
    """The shape of a 12-character stored form and what to check beyond the shape.

    ``pattern`` matches the stored form; its optional group ``date`` (``YYYYMMDD``) must
    be a real calendar date, not after ``today`` when ``today`` is given. ``luhn_from``
    is the index where a Luhn-checked digit tail starts (check digit last).
    """

    code: str
    label: str
    pattern: re.Pattern[str]
    shape: str
    hyphen: bool = True
    luhn_from: int | None = None
    short_form: bool = False
    check: Check | None = None
    describer: Describer | None = None
    #: A value of another shape (length or pattern) is stored as given, like an opaque
    #: identifier, instead of refused: the pattern is known from research while the region's
    #: own records use other forms too. A value of the known shape is still checked.
    other_shapes_opaque: bool = False

    def normalise(self, value: object, *, today: date | None = None) -> str:
        """Strip, upper-case, drop the display hyphen; add the century to a short form."""
        text = clean(value, self.label, hyphen=self.hyphen)
        if self.short_form and len(text) == 10 and is_digits(text[:6]):
            year = infer_year(int(text[:2]), today, centenarian=False, label=self.label)
            text = f"{year:04d}{text[2:]}"
        return text

    def validate(self, value: object, *, today: date | None = None) -> str:
        """The stored form, or a ValidationError naming the broken rule."""
        text = self.normalise(value, today=today)
        if self._opaque(text):
            return clean(value, self.label, upper=False, hyphen=False)
        self._match(text, today)
        return text

    def is_valid(self, value: object, *, today: date | None = None) -> bool:
        """Whether :meth:`validate` accepts ``value``; never raises."""
        return passes(self.validate, value, today)

    def describe(self, value: object, *, today: date | None = None) -> Description:
        """What the number encodes: by default the birth date when it has a date part."""
        text = self.normalise(value, today=today)
        if self._opaque(text):
            return Description(kind=self.code)
        match = self._match(text, today)
        birth = parse_yyyymmdd(match["date"], self.label) if "date" in match.re.groupindex else None
        if self.describer is not None:
            return self.describer(match, birth)
        return Description(kind=self.code, birth_date=birth)

    def format(self, value: object) -> str:
        """The display form: hyphen before the last four characters where the kind has one."""
        text = self.validate(value)
        return f"{text[:8]}-{text[8:]}" if self.hyphen and not self._opaque(text) else text

    def _opaque(self, text: str) -> bool:
        """Whether the normalised ``text`` is of another shape and this kind keeps such
        values opaque (an empty value is refused either way)."""
        if not self.other_shapes_opaque:
            return False
        if not text:
            raise InvalidLength(f"{self.label}: the value must not be empty")
        return len(text) != 12 or self.pattern.fullmatch(text) is None

    def _match(self, text: str, today: date | None) -> re.Match[str]:
        require_length(text, 12, self.label)
        match = self.pattern.fullmatch(text)
        if match is None:
            raise InvalidFormat(f"{self.label}: the value must have the shape {self.shape}")
        if self.check is not None:
            self.check(match)
        if "date" in self.pattern.groupindex:
            refuse_future(parse_yyyymmdd(match["date"], self.label), today, self.label)
        if self.luhn_from is not None and not luhn.is_valid(digits(text[self.luhn_from :])):
            raise InvalidChecksum(f"{self.label}: the check digit does not match")
        return match

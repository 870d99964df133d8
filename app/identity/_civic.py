"""The rules personnummer and samordningsnummer share (docs/domain.md §2.1).

Private: :mod:`app.identity.personnummer` and :mod:`app.identity.samordningsnummer` each
build one :class:`CivicRule` with their kind code, label and day offset (0 or 60) and
expose its bound methods as the module functions.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from app.identity import luhn
from app.identity._common import (
    clean,
    digits,
    infer_year,
    is_digits,
    passes,
    real_date,
    refuse_future,
    require_length,
)
from app.identity.base import Description, Sex
from app.identity.errors import InvalidChecksum, InvalidComponent, InvalidFormat


@dataclass(frozen=True)
class CivicRule:
    """A 12-digit ``YYYYMMDDNNNC`` number whose day is the birth day plus ``day_offset``."""

    code: str
    label: str
    day_offset: int

    def normalise(self, value: str, *, today: date | None = None) -> str:
        """The 12-digit form of a 12-digit or 10-digit (``-``/``+``/no separator) input."""
        text = clean(value, self.label, hyphen=True)
        separator = ""
        if len(text) == 11 and text[6] in "-+":
            separator, text = text[6], text[:6] + text[7:]
        if len(text) == 10 and is_digits(text):
            year = infer_year(int(text[:2]), today, centenarian=separator == "+", label=self.label)
            text = f"{year:04d}{text[2:]}"
        return text

    def validate(self, value: str, *, today: date | None = None) -> str:
        """The stored 12-digit form, or a ValidationError naming the broken rule."""
        text = self.normalise(value, today=today)
        if len(text) == 13 and text[8] == "+":
            raise InvalidFormat(f"{self.label}: '+' belongs to the 10-digit form only")
        require_length(text, 12, self.label)
        if not is_digits(text):
            raise InvalidFormat(f"{self.label}: only digits are allowed")
        birth = self._birth_date(text)
        if text[8:11] == "000":
            raise InvalidComponent(f"{self.label}: birth number 000 is never issued")
        # Luhn over YYMMDDNNN + check digit: the century is excluded (docs/domain.md §2.1).
        if not luhn.is_valid(digits(text[2:])):
            raise InvalidChecksum(f"{self.label}: the check digit does not match")
        refuse_future(birth, today, self.label)
        return text

    def is_valid(self, value: object, *, today: date | None = None) -> bool:
        """Whether :meth:`validate` accepts ``value``; never raises."""
        return passes(self.validate, value, today)

    def describe(self, value: str, *, today: date | None = None) -> Description:
        """Birth date (date part minus the day offset; may differ, §2.1), sex and century."""
        text = self.validate(value, today=today)
        sex: Sex = "male" if int(text[10]) % 2 else "female"
        return Description(
            kind=self.code,
            birth_date=self._birth_date(text),
            sex=sex,
            century=int(text[:2]),
        )

    def format(self, value: str) -> str:
        """Display form ``YYYYMMDD-NNNC``."""
        text = self.validate(value)
        return f"{text[:8]}-{text[8:]}"

    def _birth_date(self, text: str) -> date:
        day = int(text[6:8]) - self.day_offset
        return real_date(int(text[0:4]), int(text[4:6]), day, self.label)

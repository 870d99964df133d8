"""One rule object for the free-format kinds (GRID VGR, LMA-nummer).

Private to :mod:`app.identity`. :mod:`app.identity.grid_vgr` and :mod:`app.identity.lma`
each build one :class:`FreeRule` and expose its bound methods as the module functions:
the value is only cleaned (no display hyphen) and checked, nothing is described, and the
stored form is also the display form.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from app.identity._common import clean, passes
from app.identity.base import Description


@dataclass(frozen=True)
class FreeRule:
    """``check`` raises a ValidationError for a cleaned value the kind refuses."""

    code: str
    label: str
    check: Callable[[str], None]
    upper: bool = True

    def normalise(self, value: str, *, today: date | None = None) -> str:
        """Strip (and upper-case where the kind does); a free format has no hyphen to drop."""
        return clean(value, self.label, upper=self.upper, hyphen=False)

    def validate(self, value: str, *, today: date | None = None) -> str:
        """The stored form, or a ValidationError naming the broken rule."""
        text = self.normalise(value)
        self.check(text)
        return text

    def is_valid(self, value: object, *, today: date | None = None) -> bool:
        """Whether :meth:`validate` accepts ``value``; never raises."""
        return passes(self.validate, value, today)

    def describe(self, value: str, *, today: date | None = None) -> Description:
        """Nothing can be read out of a free-format number."""
        self.validate(value)
        return Description(kind=self.code)

    def format(self, value: str) -> str:
        """The stored form itself."""
        return self.validate(value)

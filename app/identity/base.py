"""The interface every identity-kind module offers, and what ``describe`` returns.

Each kind is a *module* (``app.identity.personnummer`` …) that satisfies
:class:`IdentityKind`; :mod:`app.identity.registry` maps system URIs to them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal, Protocol

Sex = Literal["male", "female"]


@dataclass(frozen=True)
class Description:
    """What can be read out of a valid identifier without looking anything up."""

    kind: str
    birth_date: date | None = None
    sex: Sex | None = None
    date_unknown: bool = False
    sex_unknown: bool = False
    century: int | None = None
    series: int | None = None


class IdentityKind(Protocol):
    """The small interface of one identity kind (python-stdnum style)."""

    CODE: str
    NAME: str
    OID: str | None
    SYSTEM: str
    ALIASES: tuple[str, ...]
    PRIORITY: int
    GENERATABLE: bool

    def normalise(self, value: str, *, today: date | None = None) -> str:
        """Strip spaces/hyphens, expand display forms; no rule checking."""
        ...

    def validate(self, value: str, *, today: date | None = None) -> str:
        """Return the canonical stored form or raise a ValidationError."""
        ...

    def is_valid(self, value: str, *, today: date | None = None) -> bool:
        """Like validate but never raises."""
        ...

    def describe(self, value: str, *, today: date | None = None) -> Description:
        """Birth date, sex, century, series encoded in a valid value."""
        ...

    def format(self, value: str) -> str:
        """The human display form (with hyphen where the kind has one)."""
        ...

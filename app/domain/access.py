"""Who is asking: the caller's identity and what they may see (api.md "Access control")."""

from __future__ import annotations

from dataclasses import dataclass

from app.domain.scopes import ALL, Scopes


@dataclass(frozen=True)
class Access:
    """The caller: the token's ``sub``, whether it may see protected persons' withheld data
    (scope ``protected-identity``) and its SMART scopes.

    Without auth settings (open development mode) every caller is :data:`ANONYMOUS`: every
    interaction is allowed, protected persons are always masked.
    """

    subject: str | None = None
    see_protected: bool = False
    scopes: Scopes = ALL

    def may(self, resource_type: str, requirement: str) -> bool:
        """Whether the scopes satisfy a requirement like ``"r"`` or ``"c|u"``."""
        return self.scopes.satisfies(resource_type, requirement)


ANONYMOUS = Access()

"""Who is asking: the caller's identity and what they may see (api.md "Access control")."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Access:
    """The caller. Without auth settings every caller is anonymous and may not see
    protected persons' withheld data."""

    subject: str | None = None
    see_protected: bool = False


ANONYMOUS = Access()

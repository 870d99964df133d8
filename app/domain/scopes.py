"""SMART on FHIR scopes: parsing a token's ``scope`` claim and matching it (pure).

Accepted forms (space-separated in the claim):

* SMART v2 system scopes ``system/<Type>.<perms>`` where ``<perms>`` is a non-empty subset of
  ``cruds`` in that order (``system/Patient.rs``, ``system/Patient.cruds``,
  ``system/*.rs``);
* SMART v1 ``system/<Type>.read`` (= ``rs``), ``.write`` (= ``cud``) and ``.*`` (= ``cruds``);
* ``protected-identity``: full access to protected persons (api.md "Access control").

Not granting anything (ignored, never an error): ``user/`` and ``patient/`` scopes (this is a
system-to-system service without a user or patient context), v2 scopes with ``?`` query
restrictions (fine-grained scopes are not supported, so they are refused rather than widened),
``openid``/``fhirUser``/``launch`` and anything unknown.

A requirement is a string of permission letters; ``|`` separates alternatives: ``"u"`` needs
update, ``"r|s"`` needs read or search, ``"cu"`` needs both create and update.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from app.domain import source_domains

PERMISSION_ORDER = "cruds"
PROTECTED_IDENTITY = "protected-identity"
V1_PERMISSIONS = {"read": "rs", "write": "cud", "*": "cruds"}
_SCOPE = re.compile(r"^system/(?P<type>\*|[A-Z][A-Za-z]{0,63})\.(?P<perms>[a-z*]+)$")
_V2_PERMS = re.compile(r"^c?r?u?d?s?$")


@dataclass(frozen=True)
class Grant:
    """Permissions on one resource type (``*`` = every type)."""

    resource_type: str
    permissions: frozenset[str]


@dataclass(frozen=True)
class Scopes:
    """What a token's scopes allow."""

    grants: tuple[Grant, ...] = ()
    protected_identity: bool = False
    #: The identity domains a Patient Identity Source may change (``source-domain:<system>``;
    #: empty: not restricted, see :mod:`app.domain.source_domains`).
    source_domains: frozenset[str] = frozenset()

    def allows(self, resource_type: str, permission: str) -> bool:
        """Whether one permission letter (c, r, u, d or s) is granted on the type."""
        return any(
            grant.resource_type in ("*", resource_type) and permission in grant.permissions
            for grant in self.grants
        )

    def satisfies(self, resource_type: str, requirement: str) -> bool:
        """Whether one alternative of the requirement (``"r|s"``, ``"cu"``…) is granted
        completely."""
        return any(
            all(self.allows(resource_type, letter) for letter in alternative)
            for alternative in parse_requirement(requirement)
        )


ALL = Scopes((Grant("*", frozenset(PERMISSION_ORDER)),))
"""Everything but protected identities: what an anonymous caller gets in open mode."""
NONE = Scopes()


def parse_scopes(claim: str | list[str] | None) -> Scopes:
    """The grants of a ``scope`` claim (a space-separated string; a list is accepted too)."""
    words = claim.split() if isinstance(claim, str) else [str(w) for w in claim or []]
    grants: list[Grant] = []
    protected = False
    for word in words:
        if word == PROTECTED_IDENTITY:
            protected = True
            continue
        grant = parse_scope(word)
        if grant is not None:
            grants.append(grant)
    return Scopes(tuple(grants), protected, source_domains.parse(words))


def parse_scope(word: str) -> Grant | None:
    """One ``system/`` resource scope, or None when it grants nothing here."""
    match = _SCOPE.match(word)
    if match is None:
        return None
    perms = match.group("perms")
    if perms in V1_PERMISSIONS:
        return Grant(match.group("type"), frozenset(V1_PERMISSIONS[perms]))
    if not _V2_PERMS.match(perms):
        return None
    return Grant(match.group("type"), frozenset(perms))


def parse_requirement(requirement: str) -> list[str]:
    """``"r|s"`` → ``["r", "s"]``; refuses letters outside ``cruds`` (a programming error)."""
    alternatives = [alt.strip() for alt in requirement.split("|")]
    for alternative in alternatives:
        if not alternative or any(letter not in PERMISSION_ORDER for letter in alternative):
            raise ValueError(f"Bad permission requirement {requirement!r}; use letters of "
                             "'cruds', alternatives separated by '|'")
    return alternatives


def describe(resource_type: str, requirement: str) -> str:
    """The scopes that would satisfy a requirement, for error messages."""
    return " or ".join(f"system/{resource_type}.{alt}" for alt in parse_requirement(requirement))

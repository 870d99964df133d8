"""Which identity domains a Patient Identity Source may change (IHE PIXm ITI-104 §5: "the
Patient Identifier Cross-reference Manager should check that the Patient Identity Source is
only making changes to Patient Identifier Domain for which it is authorized").

A caller is tied to its domains by its token: each scope ``source-domain:<system>``
(``source-domain:urn:oid:1.2.3``, a bare OID or a known alias reads the same) names one. A
caller without such a scope is not restricted (a clerk's system, an administrator, open
development mode). A restricted caller's write of a Patient — create, update, patch,
delete, conditional or not, a merge — is refused (403) when

* it adds or removes an identifier (by system and value) of a domain not its own — a
  deletion removes them all, so only a record of the caller's domains alone may be
  deleted;
* the record holds no identifier of the caller's domains, before or after (another
  Source's patient);
* it is a merge whose subsumed record holds an own identifier of another domain (the merge
  would move it to the survivor) or whose survivor holds none of the caller's domains.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from app.domain.errors import Forbidden
from app.identity import canonical_system

SCOPE_PREFIX = "source-domain:"
_BARE_OID = re.compile(r"^[0-2](\.(0|[1-9]\d*))+$")


class OutsideSourceDomain(Forbidden):
    """A restricted Source's write touches another identity domain (403)."""


def canonical_domain(system: str) -> str:
    """The canonical system of a domain as a client may name it (bare OID, alias, urn:oid).

    >>> canonical_domain("1.3.6.1.4.1.21367.13.20.1000")
    'urn:oid:1.3.6.1.4.1.21367.13.20.1000'
    """
    system = system.strip()
    if _BARE_OID.match(system):
        system = "urn:oid:" + system
    return canonical_system(system) if system else ""


def parse(words: Iterable[str]) -> frozenset[str]:
    """The domains named by ``source-domain:<system>`` scopes among ``words``."""
    return frozenset(canonical_domain(word[len(SCOPE_PREFIX):]) for word in words
                     if word.startswith(SCOPE_PREFIX) and word[len(SCOPE_PREFIX):].strip())


def _identifiers(resource: dict[str, Any] | None) -> set[tuple[str, str]]:
    return {(str(i.get("system") or ""), str(i["value"]))
            for i in (resource or {}).get("identifier") or []
            if isinstance(i, dict) and i.get("value") is not None}


def _holds(resource: dict[str, Any] | None, domains: frozenset[str]) -> bool:
    return any(system in domains for system, _ in _identifiers(resource))


def check_write(domains: frozenset[str], before: dict[str, Any] | None,
                after: dict[str, Any] | None) -> None:
    """Refuse a restricted Source's write of one Patient (``after`` None: a deletion)."""
    if not domains:
        return
    changed = _identifiers(before) ^ _identifiers(after)
    outside = sorted({system or "(no system)" for system, _ in changed
                      if system not in domains})
    if outside:
        raise OutsideSourceDomain(
            "This Patient Identity Source may change identifiers of its own identity "
            f"domain(s) only (scope source-domain:<system>); the write changes {len(outside)} "
            "identifier system(s) outside them: " + ", ".join(outside))
    if not (_holds(before, domains) or _holds(after, domains)):
        raise OutsideSourceDomain(
            "This Patient Identity Source may change Patients of its own identity domain(s) "
            "only; the record holds no identifier of them")


def check_merge(domains: frozenset[str], subsumed: dict[str, Any],
                survivor: dict[str, Any]) -> None:
    """Refuse a restricted Source's merge that would reach into another domain."""
    if not domains:
        return
    own = {(str(i.get("system") or "")) for i in subsumed.get("identifier") or []
           if isinstance(i, dict) and i.get("value") is not None and i.get("use") != "old"}
    outside = sorted(own - domains)
    if outside:
        raise OutsideSourceDomain(
            "This Patient Identity Source may merge records of its own identity domain(s) "
            "only; the subsumed record holds identifiers of " + ", ".join(outside))
    if not _holds(survivor, domains):
        raise OutsideSourceDomain(
            "This Patient Identity Source may merge into a record of its own identity "
            "domain(s) only; the surviving record holds no identifier of them")

"""Which identity kind a FHIR ``identifier.system`` names, and what that means for a value.

Source: docs/domain.md §2 (OIDs and HL7 Sweden alias URIs), §3.5 (main-record priority) and
api.md "Identifiers". A kind is known by its ``urn:oid:<OID>`` system (the ``urn:oid:``
prefix is matched case-insensitively, as URNs are) or by an HL7 Sweden alias; a bare OID
is not a system. Every other system is opaque: stored verbatim with its value stripped.

>>> from datetime import date
>>> canonical_system('http://electronichealth.se/identifier/personnummer')
'urn:oid:1.2.752.129.2.1.3.1'
>>> normalise_identifier('urn:oid:1.2.752.74.9.1', '22950606-FH20', date(2024, 1, 17))
('urn:oid:1.2.752.74.9.1', '22950606FH20')
>>> normalise_identifier('urn:oid:1.2.3', ' x-1 ', date(2024, 1, 17))
('urn:oid:1.2.3', 'x-1')
>>> sorted(candidate_values('19651207-3245', date(2024, 1, 17)))
['19651207-3245', '196512073245']
>>> priority('urn:oid:1.2.752.129.2.1.3.1'), priority('urn:oid:1.2.3'), priority(None)
(10, 70, 70)
"""

from __future__ import annotations

from datetime import date

from app.identity import (
    blekinge,
    carelink,
    dalarna,
    gavleborg,
    grid_vgr,
    halland,
    lma,
    lrid_vgr,
    nrid,
    orebro,
    personnummer,
    samordningsnummer,
    skane,
    stockholm,
    varmland,
    vasterbotten,
    vasternorrland,
)
from app.identity._common import require_text
from app.identity.base import IdentityKind
from app.identity.errors import InvalidLength, ValidationError

#: Every known kind, strongest main identity first.
KINDS: tuple[IdentityKind, ...] = (
    personnummer,
    samordningsnummer,
    nrid,
    lrid_vgr,
    stockholm,
    carelink,
    halland,
    varmland,
    orebro,
    skane,
    blekinge,
    vasternorrland,
    vasterbotten,
    dalarna,
    gavleborg,
    grid_vgr,
    lma,
)

#: Rank of an unknown (opaque) system: below the regional reserves, above LMA.
OPAQUE_PRIORITY = 70
#: Kinds ranked at or after this are never chosen as a person's main identity (LMA).
NEVER_MAIN_PRIORITY = 90

_URN_OID = "urn:oid:"
_BY_SYSTEM: dict[str, IdentityKind] = {
    system: kind for kind in KINDS for system in (kind.SYSTEM, *kind.ALIASES)
}
_BY_CODE: dict[str, IdentityKind] = {kind.CODE: kind for kind in KINDS}


def _key(system: str) -> str:
    system = system.strip()
    if system[: len(_URN_OID)].lower() == _URN_OID:
        return _URN_OID + system[len(_URN_OID) :]
    return system


def kind_for_system(system: str | None) -> IdentityKind | None:
    """The kind a ``urn:oid:`` system or HL7 Sweden alias names; None for anything else."""
    if not isinstance(system, str):
        return None
    return _BY_SYSTEM.get(_key(system))


def kind_for_code(code: str) -> IdentityKind | None:
    """The kind with this short code (``"pnr"``, ``"nrid"``, ``"lrid-vgr"`` …), if any."""
    return _BY_CODE.get(code)


def canonical_system(system: str) -> str:
    """The ``urn:oid:`` form (or LMA's URI) of a known system; unknown systems verbatim."""
    kind = kind_for_system(system)
    return system if kind is None else kind.SYSTEM


def normalise_identifier(system: str | None, value: str, today: date) -> tuple[str | None, str]:
    """Canonical system and stored value of an incoming identifier (api.md "Identifiers").

    Known kinds: the kind's system and its validated stored form, or the kind's
    ValidationError. Unknown or absent systems: the system verbatim and the value
    stripped of surrounding whitespace; an empty value is refused (InvalidLength).
    """
    kind = kind_for_system(system)
    if kind is not None:
        return kind.SYSTEM, kind.validate(value, today=today)
    text = require_text(value, "identifier").strip()
    if not text:
        raise InvalidLength("identifier: the value must not be empty")
    return system, text


def candidate_values(value: str, today: date) -> set[str]:
    """Every stored value a bare search value (no system) may stand for.

    The value itself (as given and stripped) plus each canonical form some kind accepts
    it as: ``651207-3245`` also finds ``196512073245``, ``22950606-fh20`` finds
    ``22950606FH20``.
    """
    if not isinstance(value, str):
        return set()
    found = {value, value.strip()}
    for kind in KINDS:
        try:
            found.add(kind.validate(value, today=today))
        except ValidationError:
            continue
    return found


def priority(system: str | None) -> int:
    """Main-record rank of a system, lower = stronger (docs/domain.md §3.5).

    PNR 10, SNR 20, NRID 30, LRID VGR 40, other regional reserves 50, GRID 60, unknown
    or absent systems 70, LMA 90.
    """
    kind = kind_for_system(system)
    return OPAQUE_PRIORITY if kind is None else kind.PRIORITY


def is_main_identity_candidate(system: str | None) -> bool:
    """Whether an identifier of this system may be a person's main identity (not LMA)."""
    return priority(system) < NEVER_MAIN_PRIORITY

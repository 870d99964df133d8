"""Applying the identity library to Patients and to identifier searches (api.md "Identifiers").

Known kinds are validated and stored in canonical form under their ``urn:oid:`` system;
unknown systems are stored verbatim.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from app.domain.errors import InvalidIdentifier, InvalidRequest
from app.domain.search import TokenValue
from app.identity import ValidationError, candidate_values, canonical_system, normalise_identifier

MAX_LENGTH = 255


@dataclass(frozen=True)
class IdentifierMatch:
    """What an ``identifier`` search value matches: ``system`` None is any system, ""
    is no system; ``codes`` None is any value."""

    system: str | None
    codes: frozenset[str] | None


def normalise_patient_identifiers(resource: dict[str, Any], today: date) -> None:
    """Validate and canonicalise every ``Patient.identifier`` in place.

    Raises :class:`InvalidIdentifier` (422) naming the identifier and the rule broken.
    """
    for position, ident in enumerate(resource.get("identifier", [])):
        where = f"Patient.identifier[{position}]"
        system, value = ident.get("system"), ident.get("value")
        if value is None:
            continue
        if len(value) > MAX_LENGTH or len(system or "") > MAX_LENGTH:
            raise InvalidRequest(
                f"{where}: system and value may be at most {MAX_LENGTH} characters",
                expression=[where],
            )
        try:
            canonical, normalised = normalise_identifier(system, value, today)
        except ValidationError as err:
            raise InvalidIdentifier(
                f"{where} ({system}): {err.message}", expression=[f"{where}.value"]
            ) from None
        if canonical is not None:
            ident["system"] = canonical
        ident["value"] = normalised


def identifier_match(token: TokenValue, today: date, *, strict: bool = True) -> IdentifierMatch:
    """Turn an ``identifier`` search token into the stored forms it should match.

    A value that breaks the rule of its (known) system is refused with
    :class:`InvalidIdentifier` (422, api.md "Identifiers"); with ``strict=False`` it simply
    matches nothing (it is never stored) — IHE PIXm answers such a lookup 404."""
    if token.system is None:
        assert token.code is not None
        return IdentifierMatch(None, frozenset(candidate_values(token.code.strip(), today)))
    system = canonical_system(token.system) if token.system else ""
    if token.code is None:
        return IdentifierMatch(system, None)
    try:
        _, value = normalise_identifier(system or None, token.code, today)
    except ValidationError as err:
        if strict:
            raise InvalidIdentifier(f"identifier ({system}): {err.message}",
                                    expression=["identifier"]) from None
        value = token.code.strip()
    return IdentifierMatch(system, frozenset({value}))

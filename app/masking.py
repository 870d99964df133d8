"""The one place where protected persons' data is withheld (api.md "Access control").

Every outgoing Patient — read, vread, history, search, ``_include``, bundles and operation
outputs — passes through :func:`present`. For a protected person (domain.md §3.6: security
label ``sekretessmarkering`` or ``skyddadFolkbokforing``, or linked to such a person) a caller
without ``protected-identity`` gets only identity, name, gender, birth date, county, active,
links and the security labels, tagged SUBSETTED.
"""

from __future__ import annotations

from typing import Any

import orjson

from app.domain.access import Access
from app.domain.elements import tag_subsetted

KEPT_ELEMENTS = ("resourceType", "id", "identifier", "name", "gender", "birthDate", "active",
                 "link")
KEPT_ADDRESS_PARTS = ("district", "state", "country")
KEPT_META = ("versionId", "lastUpdated", "security", "tag", "profile")


def must_mask(protected: bool, access: Access) -> bool:
    """Whether a record with this protection flag is withheld from this caller."""
    return protected and not access.see_protected


def present(resource: bytes, protected: bool, access: Access) -> bytes:
    """The bytes of a stored Patient as this caller may see them."""
    if not must_mask(protected, access):
        return resource
    return orjson.dumps(mask(orjson.loads(resource)))


def present_dict(resource: dict[str, Any], protected: bool, access: Access) -> dict[str, Any]:
    """Like :func:`present`, for a resource already parsed."""
    return mask(resource) if must_mask(protected, access) else resource


def mask(resource: dict[str, Any]) -> dict[str, Any]:
    """Withhold everything but the elements a protected person may show (not in place)."""
    masked = {key: resource[key] for key in KEPT_ELEMENTS if key in resource}
    meta = resource.get("meta", {})
    masked["meta"] = {key: meta[key] for key in KEPT_META if key in meta}
    counties = [
        {part: address[part] for part in KEPT_ADDRESS_PARTS if part in address}
        for address in resource.get("address", [])
    ]
    counties = [county for county in counties if county]
    if counties:
        masked["address"] = counties
    if "name" in masked:
        masked["name"] = [
            {key: value for key, value in name.items() if key != "extension"}
            for name in masked["name"]
        ]
    tag_subsetted(masked)
    return masked


def restore_withheld(incoming: dict[str, Any], stored: dict[str, Any]) -> dict[str, Any]:
    """Write-back safety: an update from a caller who saw the masked form keeps the
    withheld elements of the stored version (merge, never drop)."""
    restored = {key: value for key, value in incoming.items() if key in KEPT_ELEMENTS}
    restored.pop("address", None)
    for key, value in stored.items():
        if key not in KEPT_ELEMENTS and key != "meta":
            restored[key] = value
    if "address" in stored:
        restored["address"] = stored["address"]
    # The caller may not lift the protection it could not see past.
    restored["meta"] = {**incoming.get("meta", {}), "security": stored["meta"].get("security", [])}
    return restored

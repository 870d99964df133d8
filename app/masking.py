"""The one place where protected persons' data is withheld (api.md "Access control").

Every outgoing Patient — read, vread, history, search, ``_include``, bundles and operation
outputs — passes through :func:`present`. For a protected person (domain.md §3.6: security
label ``sekretessmarkering`` or ``skyddadFolkbokforing``, or linked to such a person) a caller
without ``protected-identity`` gets only identity, name, gender, birth date, county, active,
links and the security labels, tagged SUBSETTED.

Who is protected is decided at write time and stored as the ``protected`` flag of every
version: the record's own content by the one rule, :func:`app.domain.protection.is_protected`
(labels, patient type "Oklar", and — failing closed — anything it cannot read), or a Patient
connected through ``Patient.link`` (either direction, any depth) that is protected
(``app.services.patients.propagate_protection``). Masking trusts that flag; records stored
before the rule failed closed were decided again by migration 0004.

Disclosures: whenever :func:`present`/:func:`present_dict` hand out a protected record
UNMASKED (the caller has ``protected-identity``), the Patient id is noted in the current
request's collector (:func:`collect_disclosures`, started by the HTTP layer for each
request); the HTTP layer writes one AuditEvent per request for them. Code that builds
outputs only has to call :func:`present` — the audit follows.
"""

from __future__ import annotations

import re
from contextvars import ContextVar
from typing import Any

import orjson

from app.domain.access import Access
from app.domain.elements import tag_subsetted

KEPT_ELEMENTS = ("resourceType", "id", "identifier", "name", "gender", "birthDate", "active",
                 "link")
#: What the masked form keeps of each item of these kept elements; the rest of an item
#: (extensions, ``assigner``, primitive extensions such as ``_family``) is withheld.
KEPT_ITEM_PARTS = {
    "identifier": ("use", "type", "system", "value", "period"),
    "name": ("use", "text", "family", "given", "prefix", "suffix", "period"),
    "link": ("other", "type"),
}
#: The county: api.md keeps "county (address district/state)" and nothing else of an address.
KEPT_ADDRESS_PARTS = ("district", "state")
KEPT_META = ("versionId", "lastUpdated", "security", "tag", "profile")


_disclosures: ContextVar[list[str] | None] = ContextVar("sweid_disclosures", default=None)


def must_mask(protected: bool, access: Access) -> bool:
    """Whether a record with this protection flag is withheld from this caller."""
    return protected and not access.see_protected


def present(resource: bytes, protected: bool, access: Access) -> bytes:
    """The bytes of a stored Patient as this caller may see them."""
    if not must_mask(protected, access):
        if protected:
            _note_disclosure(orjson.loads(resource).get("id"))
        return resource
    return orjson.dumps(mask(orjson.loads(resource)))


def present_dict(resource: dict[str, Any], protected: bool, access: Access) -> dict[str, Any]:
    """Like :func:`present`, for a resource already parsed."""
    if must_mask(protected, access):
        return mask(resource)
    if protected:
        _note_disclosure(resource.get("id"))
    return resource


#: A personal number of any identity kind (domain.md §2) that starts with its date: 6 or 8
#: digits, an optional - or +, and four digits (personnummer, samordningsnummer, CareLink,
#: Halland, Region Stockholm) or four letters and digits with a letter among them (NRID,
#: LRID and GRID VGR, the regional reserve numbers); or a whole UUID (resource and request
#: ids), which is matched first so that a run of ten digits inside it (``…6d2305315214``)
#: is left alone; or an e-mail address.
_PERSONAL_NUMBER = re.compile(
    r"(?P<uuid>[0-9a-fA-F]{8}(?:-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12})"
    r"|(?<![0-9])(?P<head>[0-9]{8}|[0-9]{6})(?P<sep>[-+]?)[0-9]{4}(?![0-9])"
    r"|(?<![0-9])(?P<date>[0-9]{8}|[0-9]{6})(?P<dash>[-+]?)"
    r"(?=[0-9]{0,3}[A-Za-z])[0-9A-Za-z]{4}(?![0-9A-Za-z])"
    r"|(?P<email>[^\s@'\"<>(),;:]+@[^\s@'\"<>(),;:]+\.[A-Za-z]{2,})"
)


def redact(text: str) -> str:
    """Error texts and logs never carry a full personal number or an e-mail address
    (style.md "Masking and logs"): the last four characters of every personal number become
    ``****``, an e-mail address ``<e-mail>``."""
    return _PERSONAL_NUMBER.sub(_redact_match, text)


def _redact_match(match: re.Match[str]) -> str:
    if match.group("uuid"):
        return match.group("uuid")
    if match.group("email"):
        return "<e-mail>"
    if match.group("date"):
        return f"{match.group('date')}{match.group('dash')}****"
    return f"{match.group('head')}{match.group('sep')}****"


def collect_disclosures() -> list[str]:
    """Start collecting, for the current request (context), the ids of protected Patients
    handed out unmasked; returns the list that fills up."""
    collected: list[str] = []
    _disclosures.set(collected)
    return collected


def disclosures() -> list[str]:
    """The ids collected so far in this context (empty when not collecting)."""
    return list(dict.fromkeys(_disclosures.get() or []))


def _note_disclosure(patient_id: Any) -> None:
    collected = _disclosures.get()
    if collected is not None and isinstance(patient_id, str):
        collected.append(patient_id)


def mask(resource: dict[str, Any]) -> dict[str, Any]:
    """Withhold everything but the elements a protected person may show (not in place)."""
    masked = {key: resource[key] for key in KEPT_ELEMENTS if key in resource}
    meta = resource.get("meta", {})
    masked["meta"] = {key: meta[key] for key in KEPT_META if key in meta}
    for element in KEPT_ITEM_PARTS:
        items = [item for item in (_visible(element, i) for i in masked.get(element, [])) if item]
        masked.pop(element, None)
        if items:
            masked[element] = items
    counties = [
        {part: address[part] for part in KEPT_ADDRESS_PARTS if part in address}
        for address in resource.get("address", [])
    ]
    counties = [county for county in counties if county]
    if counties:
        masked["address"] = counties
    tag_subsetted(masked)
    return masked


def _visible(element: str, item: dict[str, Any]) -> dict[str, Any]:
    """The part of one identifier/name/link item that the masked form shows."""
    shown = {key: value for key, value in item.items() if key in KEPT_ITEM_PARTS[element]}
    if element == "link" and isinstance(shown.get("other"), dict):
        shown["other"] = {k: v for k, v in shown["other"].items() if k == "reference"}
    return shown


def _withheld_part(element: str, item: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in item.items() if key not in KEPT_ITEM_PARTS[element]}


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
    for element in ("identifier", "name"):
        if element in restored:
            restored[element] = _restore_items(element, restored[element],
                                               stored.get(element, []))
    # The caller may not lift the protection it could not see past: the security labels stay,
    # and so do the links (a Patient protected through a link would otherwise lose its
    # protection — and its withheld data would be shown to this caller).
    restored["meta"] = {**incoming.get("meta", {}), "security": stored["meta"].get("security", [])}
    if not restored["meta"]["security"]:
        del restored["meta"]["security"]
    links = list(stored.get("link", []))
    kept = {_link_key(link) for link in links}
    links += [link for link in incoming.get("link", []) if _link_key(link) not in kept]
    restored.pop("link", None)
    if links:
        restored["link"] = links
    return restored


def _restore_items(element: str, incoming: list[Any], stored: list[Any]) -> list[Any]:
    """Each incoming item gets back what the caller could not see of the stored item it
    stands for: the stored item whose visible part it equals (unchanged), else the one at
    its position (edited in place). New items stay as they are."""
    unused = list(range(len(stored)))
    restored = []
    for position, item in enumerate(incoming):
        if not isinstance(item, dict):
            restored.append(item)
            continue
        same = next((j for j in unused if _visible(element, stored[j]) == item), None)
        source = same if same is not None else (position if position in unused else None)
        if source is not None:
            unused.remove(source)
            item = {**_withheld_part(element, stored[source]), **item}
        restored.append(item)
    return restored


def _link_key(link: dict[str, Any]) -> str:
    return str(link.get("other", {}).get("reference", ""))

"""``_elements`` and ``_summary``: returning part of a resource, tagged SUBSETTED."""

from __future__ import annotations

from typing import Any

SUBSETTED = {
    "system": "http://terminology.hl7.org/CodeSystem/v3-ObservationValue",
    "code": "SUBSETTED",
}
ALWAYS_KEPT = ("resourceType", "id", "meta")
#: Patient elements marked isSummary in FHIR R4.
SUMMARY_ELEMENTS = (
    "identifier", "active", "name", "telecom", "gender", "birthDate", "deceasedBoolean",
    "deceasedDateTime", "address", "managingOrganization", "link",
)


def tag_subsetted(resource: dict[str, Any]) -> None:
    """Add the SUBSETTED tag once (FHIR R4 §3.1.1.5.9)."""
    tags = resource.setdefault("meta", {}).setdefault("tag", [])
    if not any(t.get("code") == "SUBSETTED" for t in tags):
        tags.append(dict(SUBSETTED))


def subset(resource: dict[str, Any], elements: list[str]) -> dict[str, Any]:
    """Keep the given top-level elements (``deceased`` also keeps ``deceasedBoolean``…)."""
    kept = {
        key: value
        for key, value in resource.items()
        if key in ALWAYS_KEPT
        or key in elements
        or key.lstrip("_") in elements
        or any(key.startswith(e) and key[len(e):][:1].isupper() for e in elements)
    }
    tag_subsetted(kept)
    return kept


def summarise(resource: dict[str, Any], summary: str) -> dict[str, Any]:
    """Apply ``_summary=true|data|text``."""
    if summary == "true":
        return subset(resource, list(SUMMARY_ELEMENTS))
    if summary == "data":
        kept = {k: v for k, v in resource.items() if k != "text"}
        tag_subsetted(kept)
        return kept
    return subset(resource, ["text", "id", "meta"])

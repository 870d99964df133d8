"""The CapabilityStatement, generated from what the server actually registers."""

from __future__ import annotations

from typing import Any

from app.domain.search import PARAMETER_DOCS

INTERACTIONS = ("read", "vread", "update", "patch", "delete", "history-instance",
                "history-type", "create", "search-type")


def capability_statement(base: str, operations: list[dict[str, str]]) -> dict[str, Any]:
    """CapabilityStatement (FHIR 4.0.1) for this server at ``base``."""
    search_params = [
        {"name": name, "type": ptype, "definition": _definition(name), "documentation": doc}
        for name, (ptype, doc) in PARAMETER_DOCS.items()
    ]
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": "2026-11-23",
        "publisher": "sweid-fhir",
        "kind": "instance",
        "software": {"name": "sweid-fhir", "version": "0.1.0"},
        "implementation": {"description": "Swedish patient-identity FHIR server", "url": base},
        "fhirVersion": "4.0.1",
        "format": ["application/fhir+json", "json"],
        "patchFormat": ["application/json-patch+json"],
        "rest": [{
            "mode": "server",
            "resource": [{
                "type": "Patient",
                "profile": "http://hl7.org/fhir/StructureDefinition/Patient",
                "interaction": [{"code": code} for code in INTERACTIONS],
                "versioning": "versioned-update",
                "readHistory": True,
                "updateCreate": True,
                "conditionalCreate": True,
                "conditionalRead": "not-supported",
                "conditionalUpdate": True,
                "conditionalDelete": "single",
                "searchInclude": ["Patient:link"],
                "searchParam": search_params,
                "operation": operations,
            }],
            "interaction": [{"code": "transaction"}, {"code": "batch"}],
        }],
    }


def _definition(name: str) -> str:
    if name.startswith("_"):
        return f"http://hl7.org/fhir/SearchParameter/Resource-{name[1:]}"
    return f"http://hl7.org/fhir/SearchParameter/Patient-{name}"

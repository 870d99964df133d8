"""The CapabilityStatement, generated from what the server actually registers."""

from __future__ import annotations

from typing import Any

from app.conformance import PATIENT_PROFILE, TYPES
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
        "format": ["application/fhir+json", "json", "application/fhir+xml", "xml"],
        "patchFormat": ["application/json-patch+json"],
        "rest": [{
            "mode": "server",
            "resource": [{
                "type": "Patient",
                "profile": PATIENT_PROFILE,
                "supportedProfile": [PATIENT_PROFILE],
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
            }, *_conformance_resources()],
            "interaction": [{"code": "transaction"}, {"code": "batch"}],
            "security": SECURITY,
        }],
    }


SECURITY: dict[str, Any] = {
    "cors": False,
    "service": [{"coding": [{
        "system": "http://terminology.hl7.org/CodeSystem/restful-security-service",
        "code": "SMART-on-FHIR"}]}],
    "description": (
        "Bearer JWT (Authorization: Bearer <token>) with 'sub' and 'exp', checked against the "
        "configured HS256 secret, PEM public key or local JWKS (aud/iss when configured); "
        "without auth settings the server runs open for development. SMART v2 system "
        "scopes per interaction: read/vread/history need system/Patient.r, search "
        "system/Patient.s, create .c, update/patch .u, delete .d (batch/transaction: per "
        "entry); $match and $ihe-pix need r or s, $merge/$unmerge .u, $generate-reserve-id "
        ".c or .u; AuditEvent and Provenance need system/AuditEvent.rs / system/Provenance.rs. "
        "system/*.<perms> and SMART v1 .read/.write/.* are accepted. The scope "
        "'protected-identity' shows protected persons (sekretessmarkering, skyddad "
        "folkbokföring, patient type Oklar, or linked to such a person) unmasked; others get "
        "identifier, name, gender, birthDate, county, active, link and security labels only, "
        "tagged SUBSETTED, and every unmasked disclosure is recorded as an AuditEvent. "
        "Missing/invalid token: 401 with WWW-Authenticate: Bearer; missing scope: 403. "
        "/metadata, the conformance resources, /openapi.json and /docs are always open."),
}


def _definition(name: str) -> str:
    if name in ("patient-type", "patient-group"):
        return f"http://sweid.example/fhir/SearchParameter/Patient-{name}"
    if name.startswith("_"):
        return f"http://hl7.org/fhir/SearchParameter/Resource-{name[1:]}"
    return f"http://hl7.org/fhir/SearchParameter/Patient-{name}"


_PARAM_TYPES = {"_id": "token", "url": "uri", "name": "string", "version": "token",
                "status": "token", "value": "string", "code": "token", "type": "token",
                "kind": "token", "base": "uri", "derivation": "token", "system": "uri"}


def _conformance_resources() -> list[dict[str, Any]]:
    """The read-only conformance types served from ``fhir_profiles/``."""
    from app.http.conformance_routes import search_parameters

    return [{
        "type": rtype,
        "interaction": [{"code": "read"}, {"code": "search-type"}],
        "searchParam": [
            {"name": name, "type": _PARAM_TYPES[name],
             "definition": _conformance_definition(rtype, name)}
            for name in search_parameters(rtype)
        ],
    } for rtype in TYPES]


def _conformance_definition(resource_type: str, name: str) -> str:
    if name.startswith("_"):
        return f"http://hl7.org/fhir/SearchParameter/Resource-{name[1:]}"
    shared = {"url", "name", "version", "status"}
    if name in shared and resource_type != "SearchParameter":
        return f"http://hl7.org/fhir/SearchParameter/conformance-{name}"
    return f"http://hl7.org/fhir/SearchParameter/{resource_type}-{name}"

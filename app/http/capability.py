"""The CapabilityStatement, generated from what the server actually registers."""

from __future__ import annotations

from typing import Any

from app.conformance import PATIENT_PROFILE, TYPES, served_search_parameter
from app.domain.search import PARAMETER_DOCS
from app.domain.subscriptions import (
    EVENTS_OPERATION,
    STATUS_OPERATION,
    SUBSCRIPTION_PROFILE,
    TOPIC_CANONICAL_EXTENSION,
    TOPICS,
)

#: The Bulk Data Access IG's operations (app.http.export_routes).
BULK_DATA = "http://hl7.org/fhir/uv/bulkdata/OperationDefinition"
EXPORT_DOCUMENTATION = (
    "FHIR Bulk Data Access IG v2: Prefer: respond-async; _type=Patient, _since, _outputFormat "
    "(application/fhir+ndjson, application/ndjson, ndjson); status polling at the "
    "Content-Location, NDJSON files for the owner (same token sub) only; scope "
    "system/Patient.rs; protected persons masked without protected-identity.")
#: The IHE actors this server plays (README "IHE PIXm and PDQm"): their CapabilityStatements.
IHE_ACTORS = (
    "https://profiles.ihe.net/ITI/PIXm/CapabilityStatement/IHE.PIXm.Manager",
    "https://profiles.ihe.net/ITI/PDQm/CapabilityStatement/IHE.PDQm.PatientDemographicsSupplier",
    "https://profiles.ihe.net/ITI/PDQm/CapabilityStatement/"
    "IHE.PDQm.PatientDemographicsSupplierMatch",
)
#: The IHE Patient profiles a Patient of this server also meets (PIXm's ITI-104 feed takes
#: PDQm's Patient; PIXm's Patient derives from it).
IHE_PATIENT_PROFILES = (
    "https://profiles.ihe.net/ITI/PIXm/StructureDefinition/IHE.PIXm.Patient",
    "https://profiles.ihe.net/ITI/PDQm/StructureDefinition/IHE.PDQm.Patient",
)
INTERACTIONS = ("read", "vread", "update", "patch", "delete", "history-instance",
                "history-type", "create", "search-type")


def capability_statement(base: str, operations: list[dict[str, str]], *,
                         auth_configured: bool) -> dict[str, Any]:
    """CapabilityStatement (FHIR 4.0.1) for this server at ``base``; its security says
    whether tokens are required (``auth_configured``) or the server runs open."""
    search_params = [
        {**_search_param("Patient", name), "documentation": doc}
        for name, (_, doc) in PARAMETER_DOCS.items()
    ]
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": "2026-11-23",
        "publisher": "sweid-fhir",
        "kind": "instance",
        "instantiates": list(IHE_ACTORS),
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
                "supportedProfile": [PATIENT_PROFILE, *IHE_PATIENT_PROFILES],
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
                "operation": [*operations, {
                    "name": "export", "definition": f"{BULK_DATA}/patient-export",
                    "documentation": EXPORT_DOCUMENTATION}],
            }, *_audit_resources(), *_conformance_resources(), *_subscription_resources()],
            "interaction": [{"code": "transaction"}, {"code": "batch"}],
            "operation": [{"name": "export", "definition": f"{BULK_DATA}/export",
                           "documentation": EXPORT_DOCUMENTATION}],
            "security": SECURITY if auth_configured else OPEN_SECURITY,
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
        ".c or .u; AuditEvent and Provenance need system/AuditEvent.rs / system/Provenance.rs; "
        "Subscription create/read/search/delete need the Subscription scopes c, r, s and d; "
        "$export, its status and files need system/Patient.rs. "
        "system/*.<perms> and SMART v1 .read/.write/.* are accepted. The scope "
        "'protected-identity' shows protected persons (sekretessmarkering, skyddad "
        "folkbokföring, patient type Oklar, or linked to such a person) unmasked; others get "
        "identifier, name, gender, birthDate, county, active, link and security labels only, "
        "tagged SUBSETTED, and every unmasked disclosure is recorded as an AuditEvent. "
        "Missing/invalid token: 401 with WWW-Authenticate: Bearer; missing scope: 403. "
        "/metadata, the conformance resources, /openapi.json and /docs are always open."),
}


#: Open development mode (no JWT_* setting): nothing to log in to, no SMART service.
OPEN_SECURITY: dict[str, Any] = {
    "cors": False,
    "description": (
        "Open development mode: no authentication is configured, every caller is anonymous "
        "and may use every interaction; protected persons are still returned masked "
        "(SUBSETTED) because nobody holds the 'protected-identity' scope. Never run like this "
        "in production: set JWT_HS256_SECRET, JWT_PUBLIC_KEY_FILE or JWKS_FILE."),
}
#: What the search of the server's own records supports beyond the SearchParameter copy.
AUDIT_DOCUMENTATION = {
    "date": "recorded; prefixes eq, gt, lt, ge, le, sa, eb (ne and ap are refused with 400); "
            "repeated date parameters must all hold",
    "recorded": "prefixes eq, gt, lt, ge, le, sa, eb (ne and ap are refused with 400); "
                "repeated parameters must all hold",
}


def _search_param(resource_type: str, name: str) -> dict[str, str]:
    """A CapabilityStatement searchParam: its type and definition are those of the
    SearchParameter served from ``fhir_profiles/`` (api.md "Conformance resources")."""
    definition = served_search_parameter(resource_type, name)
    return {"name": name, "type": definition["type"], "definition": definition["url"]}


def _audit_resources() -> list[dict[str, Any]]:
    """Provenance and AuditEvent: written by the server, read and searched by clients."""
    from app.http.audit_routes import DATE_PARAMETER, SEARCH_PARAMETERS

    return [{
        "type": rtype,
        "interaction": [{"code": "read"}, {"code": "search-type"}],
        "searchParam": [
            _search_param(rtype, name) | ({"documentation": AUDIT_DOCUMENTATION[name]}
                                          if name == DATE_PARAMETER[rtype] else {})
            for name in [*SEARCH_PARAMETERS[rtype], DATE_PARAMETER[rtype]]],
    } for rtype in SEARCH_PARAMETERS]


def _subscription_resources() -> list[dict[str, Any]]:
    """Subscription (Subscriptions R5 Backport IG, its topics named by the backport's
    extension) and the topics themselves as Basic resources."""
    return [{
        "extension": [{"url": TOPIC_CANONICAL_EXTENSION, "valueCanonical": topic.url}
                      for topic in TOPICS.values()],
        "type": "Subscription",
        "supportedProfile": [SUBSCRIPTION_PROFILE],
        "interaction": [{"code": code} for code in ("create", "read", "delete",
                                                    "search-type")],
        "searchParam": [_search_param("Subscription", name) for name in ("status",
                                                                         "criteria")],
        "documentation": (
            "Topic-based, rest-hook only; channel.endpoint must start with one of "
            "SUBSCRIPTION_ENDPOINT_PREFIXES. Search: status, criteria (a topic canonical). "
            "Scopes: c, r, s and d on Subscription."),
        "operation": [{"name": "status", "definition": STATUS_OPERATION},
                      {"name": "events", "definition": EVENTS_OPERATION}],
    }, {
        "type": "Basic",
        "interaction": [{"code": "read"}, {"code": "search-type"}],
        "searchParam": [_search_param("Basic", name) for name in ("code", "_id")],
        "documentation": "The SubscriptionTopics (code SubscriptionTopic); search: code, _id.",
    }]


def _conformance_resources() -> list[dict[str, Any]]:
    """The read-only conformance types served from ``fhir_profiles/``."""
    from app.http.conformance_routes import search_parameters

    return [{
        "type": rtype,
        "interaction": [{"code": "read"}, {"code": "search-type"}],
        "searchParam": [_search_param(rtype, name) for name in search_parameters(rtype)],
    } for rtype in TYPES]

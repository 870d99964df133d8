"""sweid-fhir: a FHIR R4 patient-identity service for Swedish person identities."""

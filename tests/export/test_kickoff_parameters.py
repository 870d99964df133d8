"""The kick-off parameters (app.domain.bulk_export, pure): what is accepted, what is a 400."""

from __future__ import annotations

from datetime import datetime

import pytest

from app.domain.bulk_export import (
    EXPORTED_TYPES,
    ExportRequest,
    OutputFile,
    manifest,
    parse_kickoff,
    progress_text,
)
from app.domain.errors import InvalidRequest


@pytest.mark.parametrize(("params", "expected"), [
    ([], ExportRequest(EXPORTED_TYPES, None)),
    ([("_type", "Patient")], ExportRequest(("Patient",), None)),
    ([("_type", "Patient"), ("_type", "Patient")], ExportRequest(("Patient",), None)),
    ([("_outputFormat", "application/fhir+ndjson")], ExportRequest(EXPORTED_TYPES, None)),
    ([("_outputFormat", "application/ndjson")], ExportRequest(EXPORTED_TYPES, None)),
    ([("_outputFormat", "ndjson")], ExportRequest(EXPORTED_TYPES, None)),
    ([("_since", "2026-12-01T10:00:00+01:00")],
     ExportRequest(EXPORTED_TYPES, datetime(2026, 12, 1, 9, 0))),
    ([("_since", "2026-12-01T10:00:00 01:00")],  # an unencoded '+' arrives as a space
     ExportRequest(EXPORTED_TYPES, datetime(2026, 12, 1, 9, 0))),
    ([("_since", "2026-12-01T10:00:00.250Z")],
     ExportRequest(EXPORTED_TYPES, datetime(2026, 12, 1, 10, 0, 0, 250000))),
])
def test_accepted(params, expected):
    assert parse_kickoff(params) == expected


@pytest.mark.parametrize("params", [
    [("_type", "Observation")], [("_type", "")], [("_type", "Patient,Group")],
    [("_outputFormat", "application/fhir+json")], [("_outputFormat", "")],
    [("_since", "2026-12-01")], [("_since", "2026-12-01T10:00:00")], [("_since", "now")],
    [("_since", "2026-02-30T10:00:00Z")],
    [("_since", "2026-01-01T00:00:00Z"), ("_since", "2026-01-02T00:00:00Z")],
    [("_elements", "id")], [("_typeFilter", "Patient?active=true")], [("patient", "x")],
    [("includeAssociatedData", "LatestProvenanceResources")],
])
def test_refused(params):
    with pytest.raises(InvalidRequest):
        parse_kickoff(params)


def test_lenient_ignores_unknown_parameters_but_not_bad_values():
    assert parse_kickoff([("_elements", "id")], lenient=True) == ExportRequest(
        EXPORTED_TYPES, None)
    with pytest.raises(InvalidRequest):
        parse_kickoff([("_type", "Group")], lenient=True)


def test_manifest_and_progress():
    body = manifest(transaction_time=datetime(2026, 12, 5, 7, 0), request="http://x/fhir/$export",
                    files=[OutputFile("Patient", "Patient-1.ndjson", 7)],
                    file_url="http://x/fhir/$export-file/j")
    assert body == {"transactionTime": "2026-12-05T07:00:00.000Z",
                    "request": "http://x/fhir/$export", "requiresAccessToken": True,
                    "output": [{"type": "Patient", "count": 7,
                                "url": "http://x/fhir/$export-file/j/Patient-1.ndjson"}],
                    "error": []}
    assert progress_text("queued", 0, None) == "queued"
    assert progress_text("running", 5, None) == "running: 5 resources"
    assert progress_text("running", 0, 0) == "running: 0 resources"

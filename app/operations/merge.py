"""``$merge``: merge a duplicate Patient record into the person's main record (FHIR R5
Patient-merge on R4; api.md "Operations"; rules in :mod:`app.domain.merge`)."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Response, current_app, g
from flask_smorest import Blueprint

from app.http.auth import requires
from app.http.fhir_io import fhir_response, read_json_body
from app.http.openapi_schemas import AUTH, fhir_doc
from app.masking import present_dict
from app.operations.parameters import (
    build_parameters,
    operation_definition,
    parse_parameters,
    single,
)
from app.services import merges
from app.services.transactions import run_write

DEFINITION = "OperationDefinition-merge"

blp = Blueprint("merge", __name__, url_prefix="/fhir", description="$merge")


@blp.route("/Patient/$merge", methods=["POST"])
@blp.doc(summary="Merge a source Patient into a target Patient (R5 Patient-merge)",
         **fhir_doc(ok={200: "Parameters"}, body="Parameters",
                    errors=(400, *AUTH, 404, 409, 410, 413, 415, 422)))
@requires("Patient", "u", interaction="merge")
def merge() -> Response:
    """Type level."""
    body = read_json_body()
    values = parse_parameters(body, operation_definition(DEFINITION))
    request = merge_request(values)
    outcome = run_write(current_app.extensions["sweid"].engine,
                        lambda uow: merges.merge(uow, request, g.access, date.today()))
    return fhir_response(merge_output(body, outcome))


def merge_request(values: dict[str, list[Any]]) -> merges.MergeRequest:
    """The service's request from parsed ``$merge``/``$unmerge`` parameters."""
    return merges.MergeRequest(
        source=merges.PatientRef(single(values, "source-patient"),
                                 values.get("source-patient-identifier", [])),
        target=merges.PatientRef(single(values, "target-patient"),
                                 values.get("target-patient-identifier", [])),
        result_patient=single(values, "result-patient"),
        preview=bool(single(values, "preview", False)),
        force=bool(single(values, "force", False)),
        reason=single(values, "reason"),
    )


def merge_output(body: dict[str, Any], outcome: merges.MergeOutcome) -> dict[str, Any]:
    """Output Parameters: ``input``, ``outcome`` and ``result`` (masked for the caller)."""
    issues = [{"severity": severity, "code": code, "diagnostics": text, "details": {"text": text}}
              for severity, code, text in outcome.messages]
    return build_parameters([
        ("input", "Resource", body),
        ("outcome", "Resource", {"resourceType": "OperationOutcome", "issue": issues}),
        ("result", "Resource", present_dict(outcome.target, outcome.protected, g.access)),
    ])

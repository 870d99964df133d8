"""``$generate-reserve-id``: central generation of NRID / LRID VGR reserve ids (api.md
"Operations"; docs/domain.md §3.2–3.5).

Type level creates ids (and, with ``patient``, the records holding them: the downtime
pack); instance level adds a new NRID to an existing Patient (the LRID → NRID transition).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Response, current_app, g, request
from flask_smorest import Blueprint

from app.http.auth import requires
from app.http.fhir_io import fhir_response, read_json_body
from app.http.openapi_schemas import AUTH, fhir_doc
from app.operations.parameters import (
    build_parameters,
    operation_definition,
    parse_parameters,
    single,
)
from app.services import reserve_ids

DEFINITION = "OperationDefinition-generate-reserve-id"

blp = Blueprint("generate_reserve_id", __name__, url_prefix="/fhir",
                description="$generate-reserve-id")


@blp.route("/Patient/$generate-reserve-id", methods=["POST"])
@blp.doc(summary="Generate reserve ids (NRID/LRID VGR), optionally with new Patients",
         **fhir_doc(ok={200: "Parameters"}, body="Parameters",
                    errors=(400, *AUTH, 409, 413, 415, 422)))
@requires("Patient", "c|u", interaction="generate-reserve-id")
def generate_type() -> Response:
    """Type level."""
    return _generate(None)


@blp.route("/Patient/<resource_id:patient_id>/$generate-reserve-id", methods=["POST"])
@blp.doc(summary="Add a new reserve id to an existing Patient (LRID → NRID transition)",
         **fhir_doc(ok={200: "Parameters"}, body="Parameters",
                    errors=(400, *AUTH, 404, 409, 410, 413, 415, 422)))
@requires("Patient", "c|u", interaction="generate-reserve-id")
def generate_instance(patient_id: str) -> Response:
    """Instance level."""
    return _generate(patient_id)


def _generate(target_id: str | None) -> Response:
    values = parse_parameters(read_json_body(), operation_definition(DEFINITION))
    order = reserve_ids.ReserveOrder(
        system=single(values, "system"),
        birth_date=single(values, "birthDate"),
        gender=single(values, "gender"),
        count=single(values, "count"),
        patient=single(values, "patient"),
        target_id=target_id,
        request_id=single(values, "requestId") or request.headers.get("X-Request-Id"),
    )
    settings = current_app.config["SETTINGS"]
    result = reserve_ids.generate(
        current_app.extensions["sweid"].engine, order, today=date.today(),
        access=g.access, trace_id=g.get("request_id"),
        policy=reserve_ids.ReservePolicy(settings.unknown_birth_date_policy,
                                         settings.reserve_series_capacity),
    )
    outputs: list[tuple[str, str, Any]] = [
        ("identifier", "Identifier", {"system": result.system, "value": value})
        for value in result.values
    ]
    outputs += [("patient", "Reference", {"reference": f"Patient/{patient_id}"})
                for patient_id in result.patient_ids]
    return fhir_response(build_parameters(outputs))

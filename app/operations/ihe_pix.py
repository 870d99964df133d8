"""``$ihe-pix``: IHE PIXm Get Corresponding Identifiers (ITI-83), GET or POST with
Parameters (api.md "Operations"; the rules are in :mod:`app.services.pix`)."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Response, current_app, g, request
from flask_smorest import Blueprint

from app.http.auth import requires
from app.http.fhir_io import fhir_response, read_json_body
from app.http.ihe_audit import audit_query
from app.http.openapi_schemas import AUTH, fhir_doc, operation_query_parameters
from app.operations.parameters import (
    build_parameters,
    operation_definition,
    parse_parameters,
    parse_query_parameters,
    single,
)
from app.services import pix
from app.services.transactions import run_routed_read

DEFINITION = "OperationDefinition-ihe-pix"

blp = Blueprint("ihe_pix", __name__, url_prefix="/fhir", description="$ihe-pix (IHE PIXm)")


@blp.route("/Patient/$ihe-pix", methods=["GET"])
@blp.doc(summary="IHE PIXm ITI-83: the identifiers of the person behind sourceIdentifier",
         parameters=operation_query_parameters(operation_definition(DEFINITION)),
         **fhir_doc(ok={200: "Parameters"}, errors=(400, *AUTH, 404)))
@requires("Patient", "r|s", interaction="ihe-pix")
def ihe_pix_get() -> Response:
    """GET with query parameters (targetSystem repeated or comma-separated)."""
    pairs = [(k, v) for k, v in request.args.items(multi=True)]
    return _answer(parse_query_parameters(pairs, operation_definition(DEFINITION)))


@blp.route("/Patient/$ihe-pix", methods=["POST"])
@blp.doc(summary="IHE PIXm ITI-83 with a Parameters body",
         **fhir_doc(ok={200: "Parameters"}, body="Parameters",
                    errors=(400, *AUTH, 404, 413, 415)))
@requires("Patient", "r|s", interaction="ihe-pix")
def ihe_pix_post() -> Response:
    """POST with Parameters."""
    body = _as_strings(read_json_body())
    return _answer(parse_parameters(body, operation_definition(DEFINITION)))


def _answer(values: dict[str, list[Any]]) -> Response:
    targets = [t for given in values.get("targetSystem", []) for t in given.split(",")]
    found = run_routed_read(current_app.extensions["sweid"].reads, lambda uow: pix.cross_reference(
        uow, single(values, "sourceIdentifier"), targets, g.access, date.today()))
    system, _, value = str(single(values, "sourceIdentifier")).partition("|")
    audit_query("ITI-83", "search", {"system": pix.domain(system), "value": value})
    outputs: list[tuple[str, str, Any]] = [
        ("targetIdentifier", "Identifier", ident) for ident in found.identifiers]
    outputs += [("targetId", "Reference", {"reference": f"Patient/{pid}"})
                for pid in found.patient_ids]
    # FHIR JSON has no empty arrays: "nothing in the requested domains" is a bare Parameters.
    return fhir_response(build_parameters(outputs) if outputs else {"resourceType": "Parameters"})


def _as_strings(body: Any) -> Any:
    """PIXm clients also send ``valueIdentifier`` / ``valueUri``: read them as the string
    forms the definition declares (``system|value``, the URI)."""
    if not isinstance(body, dict) or not isinstance(body.get("parameter"), list):
        return body
    params = []
    for param in body["parameter"]:
        if isinstance(param, dict) and isinstance(param.get("valueIdentifier"), dict):
            ident = param["valueIdentifier"]
            param = {"name": param.get("name"),
                     "valueString": f"{ident.get('system', '')}|{ident.get('value', '')}"}
        elif isinstance(param, dict) and isinstance(param.get("valueUri"), str):
            param = {"name": param.get("name"), "valueString": param["valueUri"]}
        params.append(param)
    return {**body, "parameter": params}

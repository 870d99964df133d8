"""``$unmerge``: undo one ``$merge`` exactly (api.md "Operations"; docs/domain.md §3.5 "merges
must be reversible by an administrator")."""

from __future__ import annotations

from datetime import date

from flask import Response, current_app, g
from flask_smorest import Blueprint

from app.http.auth import requires
from app.http.fhir_io import fhir_response, read_json_body
from app.http.openapi_schemas import AUTH, fhir_doc
from app.operations.merge import merge_output, merge_request
from app.operations.parameters import operation_definition, parse_parameters
from app.services import merges
from app.services.transactions import run_write

DEFINITION = "OperationDefinition-unmerge"

blp = Blueprint("unmerge", __name__, url_prefix="/fhir", description="$unmerge")


@blp.route("/Patient/$unmerge", methods=["POST"])
@blp.doc(summary="Undo the merge of a source Patient into its target",
         **fhir_doc(ok={200: "Parameters"}, body="Parameters",
                    errors=(400, *AUTH, 404, 409, 410, 413, 415, 422)))
@requires("Patient", "u", interaction="unmerge")
def unmerge() -> Response:
    """Type level."""
    body = read_json_body()
    request = merge_request(parse_parameters(body, operation_definition(DEFINITION)))
    outcome = run_write(current_app.extensions["sweid"].engine,
                        lambda uow: merges.unmerge(uow, request, g.access, date.today()))
    return fhir_response(merge_output(body, outcome))

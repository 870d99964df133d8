"""Whole-system endpoints: ``/fhir/metadata``, ``GET /fhir`` and batch/transaction at the
base."""

from __future__ import annotations

from flask import Response, current_app
from flask_smorest import Blueprint

from app.http.auth import authenticated, public
from app.http.bundle_routes import bundle_endpoint
from app.http.capability import capability_statement
from app.http.fhir_io import base_url, fhir_response
from app.http.openapi_schemas import AUTH, fhir_doc

blp = Blueprint("system", __name__, url_prefix="/fhir", description="System interactions")
#: A transaction answers with the status of its first failing entry; a batch always 200.
BUNDLE_DOC = fhir_doc(ok={200: "Bundle"}, body="Bundle",
                      errors=(400, *AUTH, 404, 409, 410, 412, 413, 415, 422))


@blp.route("/metadata", methods=["GET"])
@blp.doc(summary="CapabilityStatement (FHIR 4.0.1)",
         **fhir_doc(ok={200: "CapabilityStatement"}, errors=(406,)))
@public
def metadata() -> Response:
    """The CapabilityStatement."""
    return _capability_response()


def _capability_response() -> Response:
    """The CapabilityStatement of this server, as the client negotiated it."""
    from app.http import operation_modules
    from app.operations.parameters import operation_definition

    operations = []
    for module in operation_modules():
        definition = operation_definition(module.DEFINITION)
        operation = {"name": definition["code"], "definition": definition["url"]}
        if documentation := getattr(module, "capability_documentation", None):
            operation["documentation"] = documentation()
        operations.append(operation)
    settings = current_app.config["SETTINGS"]
    return fhir_response(capability_statement(base_url(), operations,
                                              auth_configured=settings.auth_configured))


@blp.route("", methods=["GET"])
@blp.doc(summary="The base URL: the CapabilityStatement, as /metadata",
         **fhir_doc(ok={200: "CapabilityStatement"}, errors=(406,)))
@public
def base() -> Response:
    """``GET [base]`` is no FHIR interaction; a client or person trying the base URL gets
    what the server can do rather than a 405."""
    return _capability_response()


@blp.route("", methods=["POST"])
@blp.doc(summary="Batch or transaction Bundle", **BUNDLE_DOC)
@authenticated(interaction="batch")
def bundle() -> Response:
    """Batch/transaction."""
    return bundle_endpoint()


@blp.route("/", methods=["POST"])
@blp.doc(summary="Batch or transaction Bundle (base URL with a trailing slash)", **BUNDLE_DOC)
@authenticated(interaction="batch")
def bundle_slash() -> Response:
    """Batch/transaction posted to ``base/`` (fhirclient joins the base and "" that way)."""
    return bundle_endpoint()

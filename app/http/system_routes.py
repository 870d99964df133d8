"""Whole-system endpoints: ``/fhir/metadata`` and batch/transaction at the base."""

from __future__ import annotations

from flask import Response
from flask_smorest import Blueprint

from app.http.bundle_routes import bundle_endpoint
from app.http.capability import capability_statement
from app.http.fhir_io import base_url, fhir_response

blp = Blueprint("system", __name__, url_prefix="/fhir", description="System interactions")


@blp.route("/metadata", methods=["GET"])
@blp.doc(summary="CapabilityStatement (FHIR 4.0.1)")
def metadata() -> Response:
    """The CapabilityStatement."""
    return fhir_response(capability_statement(base_url(), []))


@blp.route("", methods=["POST"])
@blp.doc(summary="Batch or transaction Bundle")
def bundle() -> Response:
    """Batch/transaction."""
    return bundle_endpoint()

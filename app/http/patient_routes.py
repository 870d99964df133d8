"""HTTP for Patient interactions: translate the request, call a service, shape the response."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Response, current_app, g, request
from flask_smorest import Blueprint

from app.adapters.patient_repository import StoredPatient
from app.domain.errors import DomainError, InvalidRequest
from app.domain.text import CONTROL_CHARACTERS_MESSAGE, has_control_characters
from app.http import ihe_audit, interactions
from app.http.fhir_io import (
    base_url,
    fhir_response,
    operation_outcome,
    read_json_body,
    version_headers,
)
from app.http.ihe_audit import audit_query
from app.http.interactions import Call, Interaction
from app.http.openapi_schemas import AUTH, JSON_PATCH, fhir_doc, form_body, search_parameters
from app.http.presentation import history_bundle, patient_body, query_string, searchset
from app.http.query import parse_paging, parse_query
from app.identity.errors import ValidationError
from app.services.patients import WriteResult
from app.services.transactions import run_routed_read, run_write

blp = Blueprint("patient", __name__, url_prefix="/fhir", description="Patient interactions")
#: A write answers with the Patient, or with an OperationOutcome for
#: ``Prefer: return=OperationOutcome`` (no body for ``return=minimal``).
WRITTEN = ("Patient", "OperationOutcome")
WRITE_ERRORS = (400, *AUTH, 409, 412, 413, 415, 422)


def _engine() -> Any:
    return current_app.extensions["sweid"].engine


def _reads() -> Any:
    return current_app.extensions["sweid"].reads


def _params() -> list[tuple[str, str]]:
    pairs = list(request.args.items(multi=True))  # checked in the request's start hook
    if request.method == "POST" and request.mimetype == "application/x-www-form-urlencoded":
        form = list(request.form.items(multi=True))
        if has_control_characters(form):
            raise InvalidRequest(CONTROL_CHARACTERS_MESSAGE)
        pairs += form
    return pairs


def written(result: WriteResult) -> Response:
    """201/200 with Location, ETag and the body ``Prefer: return=`` asks for."""
    status = 201 if result.created else 200
    headers = version_headers(result.stored)
    prefer = request.headers.get("Prefer", "")
    if "return=minimal" in prefer:
        return fhir_response(None, status, headers)
    if "return=OperationOutcome" in prefer:
        text = "Created" if result.created else "Updated"
        return fhir_response(operation_outcome("information", "informational", text), status,
                             headers)
    return fhir_response(patient_body(result.stored, g.access), status, headers)


def _one(stored: StoredPatient) -> Response:
    # request.args is built only when there is a query string (_elements, _summary, ...).
    query = parse_query(list(request.args.items(multi=True))) if request.query_string else None
    return fhir_response(patient_body(stored, g.access, query), 200,
                         version_headers(stored, location=False))


@blp.route("/Patient", methods=["GET"])
@blp.doc(summary="Search Patients (IHE PDQm ITI-78)", parameters=search_parameters(),
         # 404: an identity domain (identifier=<system>|) the server does not know.
         **fhir_doc(ok={200: "Bundle"}, errors=(400, *AUTH, 404, 422)))
@interactions.SEARCH.declare()
def search() -> Response:
    """Search (GET)."""
    return _search(_params())


@blp.route("/Patient/_search", methods=["POST"])
@blp.doc(summary="Search Patients (POST, form-encoded)", **form_body(),
         **fhir_doc(ok={200: "Bundle"}, errors=(400, *AUTH, 404, 413, 422)))
@interactions.SEARCH.declare()
def search_post() -> Response:
    """Search (POST ``_search``)."""
    return _search(_params())


def _search(pairs: list[tuple[str, str]]) -> Response:
    query = parse_query(pairs)
    call = Call(g.access, date.today(), query=query)
    page = run_routed_read(_reads(), lambda uow: interactions.SEARCH.run(uow, call))
    used = [(k, v) for k, v in pairs if k.partition(":")[0] not in query.ignored]
    body = searchset(page, query, g.access, base_url(), used)
    audit_query("ITI-78", "search")
    return fhir_response(body)


@blp.route("/Patient", methods=["POST"])
@blp.doc(summary="Create a Patient (If-None-Exist for conditional create)",
         **fhir_doc(ok={201: WRITTEN, 200: WRITTEN}, body="Patient", errors=WRITE_ERRORS))
@interactions.CREATE.declare()
def create() -> Response:
    """Create, or conditional create with ``If-None-Exist``."""
    body = read_json_body()
    # Conditional create is the If-None-Exist header (FHIR R4 3.1.0.8); fhirpy and Aidbox
    # send the criteria as the query string of the POST instead, so that counts too.
    condition = request.headers.get("If-None-Exist") or _criteria_in_query()
    call = Call(g.access, date.today(), body=body, if_none_exist=condition)
    return written(run_write(_engine(), lambda uow: interactions.CREATE.run(uow, call)))


def _write(interaction: Interaction, *, patient_id: str = "", criteria: str = "") -> Response:
    """An update or patch of one Patient, by id or by criteria, with the request's body;
    when an ITI-104 message is refused (its body unreadable too), the refusal's AuditEvent
    (:func:`ihe_audit.audit_refused`) is recorded before the error is answered."""
    try:
        call = Call(g.access, date.today(), patient_id=patient_id, criteria=criteria,
                    body=read_json_body(), if_match=request.headers.get("If-Match"),
                    network=ihe_audit.network())
        return written(run_write(_engine(), lambda uow: interaction.run(uow, call)))
    except (DomainError, ValidationError):
        ihe_audit.audit_refused([(interaction, criteria)])
        raise


def _criteria_in_query() -> str | None:
    pairs = [(k, v) for k, v in request.args.items(multi=True) if k not in ("_format", "_pretty")]
    return query_string(pairs) if pairs else None


@blp.route("/Patient", methods=["PUT"])
@blp.doc(summary="Conditional update (the search parameters select the Patient)",
         parameters=search_parameters(),
         **fhir_doc(ok={200: WRITTEN, 201: WRITTEN}, body="Patient", errors=WRITE_ERRORS))
@interactions.CONDITIONAL_UPDATE.declare()
def conditional_update() -> Response:
    """``PUT Patient?criteria`` — also IHE PIXm ITI-104 (add, revise, resolve duplicate)."""
    return _write(interactions.CONDITIONAL_UPDATE, criteria=request.query_string.decode())


@blp.route("/Patient", methods=["PATCH"])
@blp.doc(summary="Conditional patch with JSON Patch (application/json-patch+json)",
         **fhir_doc(ok={200: WRITTEN}, body="JsonPatch",
                    body_media=(JSON_PATCH, "application/json"),
                    errors=(400, *AUTH, 404, 412, 413, 415, 422)))
@interactions.CONDITIONAL_PATCH.declare()
def conditional_patch() -> Response:
    """``PATCH Patient?criteria``."""
    return _write(interactions.CONDITIONAL_PATCH, criteria=request.query_string.decode())


@blp.route("/Patient", methods=["DELETE"])
@blp.doc(summary="Conditional delete (the search parameters select the Patient)",
         parameters=search_parameters(),
         **fhir_doc(empty={204: "Deleted (or nothing matched)"},
                    errors=(400, *AUTH, 412, 422)))
@interactions.CONDITIONAL_DELETE.declare()
def conditional_delete() -> Response:
    """``DELETE Patient?criteria``."""
    call = Call(g.access, date.today(), criteria=request.query_string.decode(),
                network=ihe_audit.network())
    try:
        run_write(_engine(), lambda uow: interactions.CONDITIONAL_DELETE.run(uow, call))
    except (DomainError, ValidationError):
        ihe_audit.audit_refused([(interactions.CONDITIONAL_DELETE, call.criteria)])
        raise
    return fhir_response(None, 204)


@blp.route("/Patient/<resource_id:patient_id>", methods=["GET"])
@blp.doc(summary="Read a Patient",
         **fhir_doc(ok={200: "Patient"}, empty={304: "If-None-Match names the current version"},
                    errors=(400, *AUTH, 404, 410)))
@interactions.READ.declare()
def read(patient_id: str) -> Response:
    """Read the current version."""
    call = Call(g.access, date.today(), patient_id=patient_id)
    stored = run_routed_read(_reads(), lambda uow: interactions.READ.run(uow, call))
    if request.environ.get("HTTP_IF_NONE_MATCH") == f'W/"{stored.version_id}"':
        return fhir_response(None, 304, {"ETag": f'W/"{stored.version_id}"'})
    return _one(stored)


@blp.route("/Patient/<resource_id:patient_id>", methods=["PUT"])
@blp.doc(summary="Update a Patient (creates it with this id when absent)",
         # 404: a last path segment that cannot be an id (``$x``, ``_x``) is no route.
         **fhir_doc(ok={200: WRITTEN, 201: WRITTEN}, body="Patient",
                    errors=(*WRITE_ERRORS, 404)))
@interactions.UPDATE.declare()
def update(patient_id: str) -> Response:
    """Update, or update-as-create."""
    return _write(interactions.UPDATE, patient_id=patient_id)


@blp.route("/Patient/<resource_id:patient_id>", methods=["PATCH"])
@blp.doc(summary="Patch a Patient with JSON Patch (application/json-patch+json)",
         **fhir_doc(ok={200: WRITTEN}, body="JsonPatch",
                    body_media=(JSON_PATCH, "application/json"),
                    errors=(400, *AUTH, 404, 409, 410, 412, 413, 415, 422)))
@interactions.PATCH.declare()
def patch(patient_id: str) -> Response:
    """JSON Patch."""
    return _write(interactions.PATCH, patient_id=patient_id)


@blp.route("/Patient/<resource_id:patient_id>", methods=["DELETE"])
@blp.doc(summary="Delete a Patient (logical; reads answer 410 afterwards)",
         **fhir_doc(empty={204: "Deleted"}, errors=(400, *AUTH, 404)))
@interactions.DELETE.declare()
def delete(patient_id: str) -> Response:
    """Delete."""
    call = Call(g.access, date.today(), patient_id=patient_id)
    run_write(_engine(), lambda uow: interactions.DELETE.run(uow, call))
    return fhir_response(None, 204)


@blp.route("/Patient/<resource_id:patient_id>/_history/<resource_id:version_id>", methods=["GET"])
@blp.doc(summary="Read one version of a Patient",
         **fhir_doc(ok={200: "Patient"}, errors=(400, *AUTH, 404, 410)))
@interactions.VREAD.declare()
def vread(patient_id: str, version_id: str) -> Response:
    """vread."""
    call = Call(g.access, date.today(), patient_id=patient_id, version_id=version_id)
    return _one(run_routed_read(_reads(), lambda uow: interactions.VREAD.run(uow, call)))


@blp.route("/Patient/<resource_id:patient_id>/_history", methods=["GET"])
@blp.doc(summary="History of one Patient",
         **fhir_doc(ok={200: "Bundle"}, errors=(400, *AUTH, 404)))
@interactions.INSTANCE_HISTORY.declare()
def instance_history(patient_id: str) -> Response:
    """Instance history."""
    return _history(interactions.INSTANCE_HISTORY, patient_id, f"/Patient/{patient_id}/_history")


@blp.route("/Patient/_history", methods=["GET"])
@blp.doc(summary="History of all Patients", **fhir_doc(ok={200: "Bundle"}, errors=(400, *AUTH)))
@interactions.TYPE_HISTORY.declare()
def type_history() -> Response:
    """Type history."""
    return _history(interactions.TYPE_HISTORY, "", "/Patient/_history")


def _history(interaction: Interaction, patient_id: str, path: str) -> Response:
    pairs = list(request.args.items(multi=True))
    query = parse_paging(pairs)
    call = Call(g.access, date.today(), patient_id=patient_id, query=query,
                since=request.args.get("_since"))
    versions, total = run_routed_read(_reads(), lambda uow: interaction.run(uow, call))
    return fhir_response(history_bundle(versions, total, g.access, base_url(), path, pairs,
                                        query.count, query.offset))

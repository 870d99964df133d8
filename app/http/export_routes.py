"""HTTP for FHIR Bulk Data ``$export`` (Bulk Data Access IG v2; README "Bulk export"):
kick-off, status polling, cancel and the NDJSON files. The rules are in
:mod:`app.domain.bulk_export` and :mod:`app.services.bulk_export`.

Every route needs ``system/Patient.rs`` (or ``system/Patient.read``, ``system/*.rs``…).
Only the job's owner — the same token ``sub`` as at kick-off — may poll, download or
cancel; for anyone else the job does not exist (404), so job ids reveal nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
from flask import Response, current_app, g, request, send_file
from flask_smorest import Blueprint

from app.domain.bulk_export import (
    COMPLETED,
    FAILED,
    NDJSON,
    manifest,
    parse_kickoff,
    progress_text,
)
from app.domain.errors import InvalidRequest
from app.domain.fhirdate import utc_now
from app.domain.limits import MAX_EXPORT_PARAMETERS, check_count
from app.http.auth import requires
from app.http.fhir_io import base_url, fhir_response, http_date, operation_outcome
from app.http.openapi_schemas import AUTH, fhir_doc, query_parameter, ref
from app.services import bulk_export
from app.services.transactions import run_read, run_write

blp = Blueprint("bulk_export", __name__, url_prefix="/fhir",
                description="Bulk Data $export (FHIR Bulk Data Access IG v2)")
STATUS_PATH = "$export-status"
FILE_PATH = "$export-file"
_STRING = {"type": "string"}
KICKOFF_DOC = {
    "parameters": [
        query_parameter("_type", {"type": "string", "enum": ["Patient"]}),
        query_parameter("_since", {"type": "string", "format": "date-time"},
                        "Patients stored at or after this instant"),
        query_parameter("_outputFormat", {"type": "string", "enum": [
            NDJSON, "application/ndjson", "ndjson"]}),
        {"in": "header", "name": "Prefer", "required": True,
         "schema": {"type": "string", "example": "respond-async"}},
    ],
    **fhir_doc(ok={202: "OperationOutcome"}, errors=(400, *AUTH, 422, 429)),
}


def _with(doc: dict[str, Any], status: int, description: str, media: str,
          schema: str) -> dict[str, Any]:
    """``doc`` with one more response (a body that is no FHIR resource)."""
    doc["responses"][str(status)] = {"description": description,
                                     "content": {media: {"schema": ref(schema)}}}
    return doc


# A failed job's 500 is its answer, an OperationOutcome like any other.
STATUS_DOC = _with(fhir_doc(ok={202: "OperationOutcome", 500: "OperationOutcome"},
                            errors=(*AUTH, 404)),
                   200, "Done: the completion manifest", "application/json", "BulkDataManifest")
FILE_DOC = _with(fhir_doc(errors=(*AUTH, 404)), 200, "One Patient a line", NDJSON, "Ndjson")


def _engine() -> Any:
    return current_app.extensions["sweid"].engine


def _directory() -> Path:
    return Path(current_app.config["SETTINGS"].export_directory)


@blp.route("/$export", methods=["GET"])
@blp.doc(summary="System-level export: every Patient as NDJSON (asynchronous)", **KICKOFF_DOC)
@requires("Patient", "rs", interaction="export")
def export_system() -> Response:
    """Kick-off of ``[base]/$export``."""
    return _kickoff()


@blp.route("/Patient/$export", methods=["GET"])
@blp.doc(summary="Patient-level export: every Patient as NDJSON (asynchronous)",
         **KICKOFF_DOC)
@requires("Patient", "rs", interaction="export")
def export_patients() -> Response:
    """Kick-off of ``[base]/Patient/$export``."""
    return _kickoff()


def _kickoff() -> Response:
    prefer = [p.strip().lower() for p in request.headers.get("Prefer", "").split(",")]
    if "respond-async" not in prefer:
        raise InvalidRequest("$export runs asynchronously: send 'Prefer: respond-async'")
    params = list(request.args.items(multi=True))
    check_count("$export", len(params), MAX_EXPORT_PARAMETERS, "parameters")
    wanted = parse_kickoff(params, lenient="handling=lenient" in prefer)
    base = base_url()
    query = request.query_string.decode("latin-1")
    request_url = f"{base}{request.path.removeprefix('/fhir')}" + (f"?{query}" if query else "")
    job = run_write(_engine(), lambda uow: bulk_export.kickoff(
        uow, g.access, wanted, request_url=request_url, base=base, now=utc_now()))
    outcome = operation_outcome("information", "informational",
                                "The export was accepted; poll the Content-Location URL")
    return fhir_response(outcome, 202, {"Content-Location": f"{base}/{STATUS_PATH}/{job.id}"})


@blp.route(f"/{STATUS_PATH}/<resource_id:resource_id>", methods=["GET"])
@blp.doc(summary="Status of an export: 202 (X-Progress, Retry-After) while it runs, 200 "
                 "with the manifest when done", **STATUS_DOC)
@requires("Patient", "rs", interaction="export")
def status(resource_id: str) -> Response:
    """Poll the job (only its owner)."""
    now = utc_now()
    job = run_read(_engine(), lambda uow: bulk_export.job_of(uow, resource_id, g.access, now))
    settings = current_app.config["SETTINGS"]
    if job.state == FAILED:
        return fhir_response(operation_outcome("error", "exception", job.error or
                                               bulk_export.FAILURE_TEXT), 500)
    if job.state != COMPLETED:
        progress = progress_text(job.state, job.exported, job.total)
        return fhir_response(operation_outcome("information", "informational", progress), 202,
                             {"X-Progress": progress,
                              "Retry-After": str(settings.export_retry_after_seconds)})
    base = base_url()
    body = manifest(transaction_time=job.transaction_time, request=job.request,
                    files=bulk_export.output_files(job),
                    file_url=f"{base}/{FILE_PATH}/{job.id}")
    headers = {"Expires": http_date(job.expires_at)} if job.expires_at else {}
    return Response(orjson.dumps(body), 200, headers, content_type="application/json")


@blp.route(f"/{STATUS_PATH}/<resource_id:resource_id>", methods=["DELETE"])
@blp.doc(summary="Cancel an export (or delete a finished one): its files go",
         **fhir_doc(ok={202: "OperationOutcome"}, errors=(*AUTH, 404)))
@requires("Patient", "rs", interaction="export")
def cancel(resource_id: str) -> Response:
    """DELETE on the status URL (only its owner); afterwards its URLs answer 404."""
    cancelled = run_write(_engine(), lambda uow: bulk_export.cancel(
        uow, resource_id, g.access, utc_now()))
    bulk_export.remove_files(_directory(), cancelled)
    return fhir_response(operation_outcome("information", "informational",
                                           "The export was cancelled and its files removed"),
                         202)


@blp.route(f"/{FILE_PATH}/<resource_id:resource_id>/<file_name>", methods=["GET"])
@blp.doc(summary="One NDJSON file of a completed export (application/fhir+ndjson)",
         **FILE_DOC)
@requires("Patient", "rs", interaction="export")
def download(resource_id: str, file_name: str) -> Response:
    """Stream a file from disk (only the job's owner, until it expires)."""
    now = utc_now()
    job = run_read(_engine(), lambda uow: bulk_export.job_of(uow, resource_id, g.access, now))
    path = bulk_export.file_path(_directory(), job, file_name)
    response = send_file(path.resolve(), mimetype=NDJSON, conditional=False, etag=False,
                         max_age=0)
    response.headers["Cache-Control"] = "no-store"
    return response

"""Probes for orchestrators and load balancers: ``GET /healthz`` and ``GET /readyz``.

Outside ``/fhir`` and open without a token (:func:`app.http.auth.public`), answered in the
health-check format of draft-inadarei-api-health-check (``application/health+json``,
``status`` ``pass`` or ``fail``; its ``output`` says why) rather than as FHIR resources:
that is what probes and monitoring tools read. README, "Health probes".

- ``/healthz`` (liveness) checks nothing but that the process answers, so that an
  orchestrator restarts a server that hangs, never one whose database is down.
- ``/readyz`` (readiness) is 503 until the database answers and its schema is at the head
  revision of ``app/migrations`` (:mod:`app.services.health`): one small query. On
  PostgreSQL a second one looks for the search indexes a first bulk load defers: missing,
  the answer stays 200 (searches are right, only slow) with status ``warn``, which the
  draft defines as "healthy, with some concerns", and its ``output`` says what to run.
"""

from __future__ import annotations

from typing import Any

import orjson
from flask import Response, current_app
from flask_smorest import Blueprint

from app.http.auth import public
from app.services import health

blp = Blueprint("health", __name__, description="Health probes (no token needed)")
HEALTH_JSON = "application/health+json"


def _doc(statuses: dict[int, str]) -> dict[str, Any]:
    """``@blp.doc`` responses: each status with a Health body."""
    schema = {"$ref": "#/components/schemas/Health"}
    return {"responses": {str(status): {"description": description,
                                        "content": {HEALTH_JSON: {"schema": schema}}}
                          for status, description in statuses.items()}}


def _health(body: dict[str, Any], status: int = 200) -> Response:
    # A probe's answer is about this moment: nothing may cache it.
    return Response(orjson.dumps(body), status=status, content_type=HEALTH_JSON,
                    headers={"Cache-Control": "no-store"})


@blp.route("/healthz", methods=["GET"])
@blp.doc(summary="Liveness: the process answers", **_doc({200: "Alive"}))
@public
def healthz() -> Response:
    """Liveness."""
    return _health({"status": "pass"})


@blp.route("/readyz", methods=["GET"])
@blp.doc(summary="Readiness: database reachable and its schema current",
         **_doc({200: "Ready (status warn: search indexes missing, output says what to run)",
                 503: "Not ready; output says why"}))
@public
def readyz() -> Response:
    """Readiness."""
    found = health.readiness(current_app.extensions["sweid"].engine)
    status = "pass" if found.ready else "fail"
    checks: dict[str, Any] = {"database:reachable": [
        {"status": "pass" if found.reachable else "fail"}]}
    if found.reachable:
        checks["database:schema"] = [{"status": status,
                                      "observedValue": ", ".join(found.revisions)}]
    if found.missing_indexes is not None:
        checks["database:searchIndexes"] = [
            {"status": "warn", "observedValue": ", ".join(found.missing_indexes),
             "output": found.warning} if found.missing_indexes else {"status": "pass"}]
    if found.warning:
        status = "warn"
    body: dict[str, Any] = {"status": status, "checks": checks}
    if found.problem or found.warning:
        body["output"] = found.problem or found.warning
    return _health(body, 200 if found.ready else 503)

"""``Patient/$match`` (FHIR R4; api.md "Operations"): find the person before creating one.

Parses the Parameters (or, as IHE PDQm ITI-119 allows, a bare Patient standing for the
``resource`` parameter), calls :func:`app.services.matching.match`, returns a searchset
Bundle of PDQm's Match Output profile ordered by ``search.score`` with the ``match-grade``
extension. Every Patient goes out through :func:`app.masking.present`.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import orjson
from flask import Response, current_app, g
from flask_smorest import Blueprint

from app.domain.extensions import CANONICAL
from app.domain.fhirdate import instant, utc_now
from app.http.auth import requires
from app.http.fhir_io import base_url, fhir_response, read_json_body
from app.http.ihe_audit import audit_query
from app.http.openapi_schemas import AUTH, fhir_doc
from app.masking import present
from app.operations.parameters import operation_definition, parse_parameters, single
from app.services import matching
from app.services.transactions import run_routed_read

DEFINITION = "OperationDefinition-match"
MATCH_GRADE = "http://hl7.org/fhir/StructureDefinition/match-grade"
#: A clerk-readable account of each score (app.domain.matching.explain).
MATCH_EXPLANATION = f"{CANONICAL}/StructureDefinition/match-explanation"
#: Bundle.meta.tag system naming the match model version that scored the results.
MATCH_MODEL = f"{CANONICAL}/match-model"
#: IHE PDQm ITI-119's response Bundle profile ("PDQm Match Output Bundle").
PDQM_MATCH_OUTPUT = "https://profiles.ihe.net/ITI/PDQm/StructureDefinition/IHE.PDQm.MatchParametersOut"

blp = Blueprint("match", __name__, url_prefix="/fhir", description="$match")


@blp.route("/Patient/$match", methods=["POST"])
@blp.doc(summary="Find the Patients a submitted Patient may be (scored, graded)",
         **fhir_doc(ok={200: "Bundle"}, body="Parameters", errors=(400, *AUTH, 413, 415, 422)))
@requires("Patient", "r|s", interaction="match")
def match() -> Response:
    """Type level ``$match``."""
    body = read_json_body()
    if isinstance(body, dict) and body.get("resourceType") == "Patient":
        # IHE PDQm ITI-119: a bare Patient is a Parameters holding it as ``resource``.
        body = {"resourceType": "Parameters",
                "parameter": [{"name": "resource", "resource": body}]}
    values = parse_parameters(body, operation_definition(DEFINITION))
    order = matching.MatchRequest(
        resource=single(values, "resource"),
        only_certain=bool(single(values, "onlyCertainMatches", False)),
        count=single(values, "count"),
        only_single=bool(single(values, "onlySingleMatch", False)),
    )
    access = g.access
    extension = current_app.extensions["sweid"]
    model = extension.match_model
    results = run_routed_read(extension.reads,
                       lambda uow: matching.match(uow, order, access, date.today(), model))
    base = base_url()
    entries = [{
        "fullUrl": f"{base}/Patient/{result.id}",
        "resource": orjson.Fragment(present(result.resource, result.protected, access)),
        "search": {
            "extension": [{"url": MATCH_GRADE, "valueCode": result.grade},
                          {"url": MATCH_EXPLANATION, "valueString": result.explanation}],
            "mode": "match",
            "score": result.score,
        },
    } for result in results]
    bundle: dict[str, Any] = {
        "resourceType": "Bundle",
        "meta": {"lastUpdated": instant(utc_now()), "profile": [PDQM_MATCH_OUTPUT],
                 "tag": [{"system": MATCH_MODEL, "code": model.version}]},
        "type": "searchset",
        "total": len(entries),
    }
    if entries:  # FHIR JSON has no empty arrays
        bundle["entry"] = entries
    audit_query("ITI-119", "search")
    return fhir_response(orjson.dumps(bundle))


def capability_documentation() -> str:
    """The CapabilityStatement's word on ``$match``: the model in use and its thresholds."""
    model = current_app.extensions["sweid"].match_model
    return (f"Match model {model.version}: score is a calibrated probability; probable from "
            f"{model.probable}, possible from {model.possible}; certain only through an "
            "identifier. Each entry's search carries a match-explanation extension.")

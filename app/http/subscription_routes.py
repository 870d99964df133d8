"""HTTP for Subscriptions (api.md "Subscriptions"): create, read, search, delete,
``$status`` and ``$events``, and the topics as R4 ``Basic`` resources (read-only)."""

from __future__ import annotations

from typing import Any

from flask import Response, current_app, g, request
from flask_smorest import Blueprint

from app.domain.errors import NotFound
from app.domain.fhirdate import instant, utc_now
from app.domain.limits import MAX_SUBSCRIPTION_SEARCH
from app.domain.subscriptions import CONTENTS, TOPICS, topic_resource
from app.http.auth import public, requires
from app.http.fhir_io import base_url, fhir_response, read_json_body
from app.http.openapi_schemas import AUTH, fhir_doc, query_parameter
from app.http.presentation import search_url
from app.services import subscriptions
from app.services.transactions import run_read, run_write

blp = Blueprint("subscription", __name__, url_prefix="/fhir",
                description="Subscriptions (topic-based, rest-hook) and their topics")
_STRING = {"type": "string"}


def _engine() -> Any:
    return current_app.extensions["sweid"].engine


def _settings() -> Any:
    return current_app.config["SETTINGS"]


@blp.route("/Subscription", methods=["POST"])
@blp.doc(summary="Create a Subscription (status requested until the handshake succeeds)",
         **fhir_doc(ok={201: "Subscription"}, body="Subscription",
                    errors=(400, *AUTH, 413, 415, 422)))
@requires("Subscription", "c", interaction="create")
def create() -> Response:
    """Create."""
    body = read_json_body()
    base = _settings().base_url or base_url()
    stored = run_write(_engine(), lambda uow: subscriptions.create(
        uow, body, g.access, prefixes=_settings().subscription_endpoint_prefixes, base=base,
        now=utc_now()))
    return fhir_response(subscriptions.resource(stored), 201,
                         {"Location": f"{base_url()}/Subscription/{stored.id}"})


@blp.route("/Subscription", methods=["GET"])
@blp.doc(summary="Search Subscriptions (status, criteria = topic canonical)",
         parameters=[query_parameter("status", _STRING), query_parameter("criteria", _STRING)],
         **fhir_doc(ok={200: "Bundle"}, errors=(400, *AUTH)))
@requires("Subscription", "s", interaction="search-type")
def search() -> Response:
    """Search by ``status`` and ``criteria`` (a topic canonical)."""
    status = request.args.get("status")
    criteria = request.args.get("criteria")
    topic = next((t.code for t in TOPICS.values() if t.url == criteria), "") \
        if criteria is not None else None
    found = run_read(_engine(), lambda uow: uow.subscriptions.search(
        status=status, topic=topic, limit=MAX_SUBSCRIPTION_SEARCH))
    base = base_url()
    return fhir_response({
        "resourceType": "Bundle", "type": "searchset", "total": len(found),
        "link": [{"relation": "self", "url": search_url(
            f"{base}/Subscription", list(request.args.items(multi=True)))}],
        "entry": [{"fullUrl": f"{base}/Subscription/{s.id}",
                   "resource": subscriptions.resource(s), "search": {"mode": "match"}}
                  for s in found]})


@blp.route("/Subscription/<resource_id:resource_id>", methods=["GET"])
@blp.doc(summary="Read a Subscription (without its channel headers)",
         **fhir_doc(ok={200: "Subscription"}, errors=(400, *AUTH, 404, 410)))
@requires("Subscription", "r", interaction="read")
def read(resource_id: str) -> Response:
    """Read."""
    stored = run_read(_engine(), lambda uow: subscriptions.read(uow, resource_id))
    return fhir_response(subscriptions.resource(stored))


@blp.route("/Subscription/<resource_id:resource_id>", methods=["DELETE"])
@blp.doc(summary="Delete a Subscription (no more notifications)",
         **fhir_doc(empty={204: "Deleted"}, errors=(400, *AUTH, 404)))
@requires("Subscription", "d", interaction="delete")
def delete(resource_id: str) -> Response:
    """Delete."""
    run_write(_engine(), lambda uow: subscriptions.delete(uow, resource_id))
    return fhir_response(None, 204)


@blp.route("/Subscription/<resource_id:resource_id>/$status", methods=["GET"])
@blp.doc(summary="$status: the subscription's status Parameters (searchset Bundle)",
         **fhir_doc(ok={200: "Bundle"}, errors=(400, *AUTH, 404, 410)))
@requires("Subscription", "r", interaction="status")
def status(resource_id: str) -> Response:
    """``$status`` (Subscriptions Backport IG)."""
    stored = run_read(_engine(), lambda uow: subscriptions.read(uow, resource_id))
    return fhir_response(subscriptions.status_bundle(stored, utc_now()))


@blp.route("/Subscription/<resource_id:resource_id>/$events", methods=["GET"])
@blp.doc(summary="$events: stored events as a query-event notification Bundle",
         parameters=[query_parameter("eventsSinceNumber", _STRING),
                     query_parameter("eventsUntilNumber", _STRING),
                     query_parameter("content", {"type": "string", "enum": list(CONTENTS)})],
         **fhir_doc(ok={200: "Bundle"}, errors=(400, *AUTH, 404, 410)))
@requires("Subscription", "r", interaction="events")
def events(resource_id: str) -> Response:
    """``$events`` (Subscriptions Backport IG); protected persons as for any read."""
    args = request.args

    def answer(uow: Any) -> dict[str, Any]:
        stored = subscriptions.read(uow, resource_id)
        return subscriptions.events_bundle(
            uow, stored, since=args.get("eventsSinceNumber"),
            until=args.get("eventsUntilNumber"), content=args.get("content"),
            access=g.access, now=utc_now())

    return fhir_response(run_read(_engine(), answer))


@blp.route("/Basic", methods=["GET"])
@blp.doc(summary="The SubscriptionTopics (R4: Basic with code SubscriptionTopic)",
         parameters=[query_parameter("code", _STRING), query_parameter("_id", _STRING)],
         **fhir_doc(ok={200: "Bundle"}, errors=(400,)))
@public
def topics() -> Response:
    """Search the topics (``code`` and ``_id``); they are conformance resources, open."""
    code = request.args.get("code")
    wanted = request.args.get("_id")
    shown = [t for t in TOPICS.values() if wanted in (None, t.code)] \
        if code in (None, "SubscriptionTopic",
                    "http://hl7.org/fhir/fhir-types|SubscriptionTopic") else []
    base = base_url()
    return fhir_response({
        "resourceType": "Bundle", "type": "searchset", "total": len(shown),
        "timestamp": instant(utc_now()),
        "entry": [{"fullUrl": f"{base}/Basic/{t.code}", "resource": topic_resource(t),
                   "search": {"mode": "match"}} for t in shown]})


@blp.route("/Basic/<resource_id:resource_id>", methods=["GET"])
@blp.doc(summary="One SubscriptionTopic", **fhir_doc(ok={200: "Basic"}, errors=(400, 404)))
@public
def topic(resource_id: str) -> Response:
    """Read one topic."""
    if resource_id not in TOPICS:
        raise NotFound(f"Basic/{resource_id[:64]} is not known")
    return fhir_response(topic_resource(TOPICS[resource_id]))

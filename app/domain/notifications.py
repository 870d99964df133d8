"""The shapes of Subscription notifications (Subscriptions R5 Backport IG for R4): the
subscription status ``Parameters`` and the ``history`` Bundle whose first entry it is.

Used for what is POSTed to an endpoint (``handshake``, ``heartbeat``,
``event-notification``) and for what ``$status`` (``query-status``) and ``$events``
(``query-event``) answer.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from app.domain.subscriptions import NOTIFICATION_PROFILE, STATUS_PROFILE


@dataclass(frozen=True)
class NotificationEvent:
    """One event as a notification shows it."""

    number: int
    timestamp: str
    focus: str
    context: tuple[str, ...] = ()


@dataclass(frozen=True)
class FocusEntry:
    """A Bundle entry for one focus resource: the resource itself for ``full-resource``
    (None: id-only), and the interaction that produced the version."""

    reference: str
    resource: dict[str, Any] | None
    method: str


@dataclass(frozen=True)
class SubscriptionState:
    """What the status Parameters say about a subscription."""

    url: str
    topic_url: str
    status: str
    events_since_start: int
    error: str | None = None


def status_parameters(state: SubscriptionState, kind: str, events: list[NotificationEvent],
                      content: str) -> dict[str, Any]:
    """The backport subscription status Parameters. ``content`` ``empty`` leaves the focus
    and context references out."""
    parameters: list[dict[str, Any]] = [
        {"name": "subscription", "valueReference": {"reference": state.url}},
        {"name": "topic", "valueCanonical": state.topic_url},
        {"name": "status", "valueCode": state.status},
        {"name": "type", "valueCode": kind},
        {"name": "events-since-subscription-start", "valueString": str(state.events_since_start)},
    ]
    for event in events:
        parts: list[dict[str, Any]] = [
            {"name": "event-number", "valueString": str(event.number)},
            {"name": "timestamp", "valueInstant": event.timestamp},
        ]
        if content != "empty":
            parts.append({"name": "focus", "valueReference": {"reference": event.focus}})
            parts += [{"name": "additional-context", "valueReference": {"reference": ref}}
                      for ref in event.context]
        parameters.append({"name": "notification-event", "part": parts})
    if state.error:
        parameters.append({"name": "error", "valueCodeableConcept": {"text": state.error}})
    return {"resourceType": "Parameters", "id": str(uuid.uuid4()),
            "meta": {"profile": [STATUS_PROFILE]}, "parameter": parameters}


def notification_bundle(status: dict[str, Any], status_url: str, base: str,
                        entries: list[FocusEntry], timestamp: str) -> dict[str, Any]:
    """A ``history`` Bundle: the status Parameters first, then one entry per focus."""
    bundle_entries: list[dict[str, Any]] = [{
        "fullUrl": f"urn:uuid:{status['id']}",
        "resource": status,
        "request": {"method": "GET", "url": status_url},
        "response": {"status": "200"},
    }]
    for entry in entries:
        item: dict[str, Any] = {"fullUrl": f"{base}/{entry.reference}"}
        if entry.resource is not None:
            item["resource"] = entry.resource
        item["request"] = {"method": entry.method, "url": entry.reference}
        item["response"] = {"status": {"POST": "201", "DELETE": "204"}.get(entry.method, "200")}
        bundle_entries.append(item)
    return {"resourceType": "Bundle", "id": str(uuid.uuid4()),
            "meta": {"profile": [NOTIFICATION_PROFILE]}, "type": "history",
            "timestamp": timestamp, "entry": bundle_entries}

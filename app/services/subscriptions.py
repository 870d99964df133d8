"""Subscription use cases: create, read, search, delete, ``$status``, ``$events``, and the
notification Bundles the deliverer (app.services.delivery) sends (api.md "Subscriptions").

Who may see what: a notification (and ``$events``) carries a Patient version in full only
when :func:`app.masking.must_mask` lets its reader see it — for a delivery the reader is the
subscription's creator as they were when subscribing (with or without
``protected-identity``), for ``$events`` the caller. A protected record a reader may not see
goes out id-only (its reference, never masked content), whatever the subscription's
``content``. Records shown go through :func:`app.masking.present`.

``channel.header`` values are stored apart from the resource and only ever sent to the
endpoint: no read, search or log shows them.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

from app.adapters.subscription_repository import StoredEvent, StoredSubscription
from app.adapters.unit_of_work import UnitOfWork
from app.domain.access import Access
from app.domain.errors import Gone, InvalidRequest, NotFound
from app.domain.fhirdate import instant
from app.domain.limits import MAX_EVENTS_QUERY
from app.domain.notifications import (
    FocusEntry,
    NotificationEvent,
    SubscriptionState,
    notification_bundle,
    status_parameters,
)
from app.domain.subscriptions import (
    CONTENTS,
    OFF,
    REQUESTED,
    SUBSCRIPTION_PROFILE,
    TOPIC_BY_URL,
    TOPICS,
    parse_subscription,
)
from app.masking import must_mask, present
from app.services.fhir_validation import validate_subscription
from app.services.patients import check_id


@dataclass(frozen=True)
class Notification:
    """A notification Bundle and the ids of the protected Patients it shows unmasked."""

    bundle: dict[str, Any]
    disclosed: list[str]


def create(uow: UnitOfWork, body: Any, access: Access, *, prefixes: tuple[str, ...],
           base: str, now: datetime) -> StoredSubscription:
    """Store a client's Subscription with status ``requested`` (the deliverer's handshake
    makes it ``active``)."""
    if not isinstance(body, dict):
        raise InvalidRequest("The body must be a JSON object (a FHIR resource)")
    # The server sets the status; R4 requires a reason, which a client may leave out here.
    topic = TOPIC_BY_URL.get(str(body.get("criteria")))
    body = {**body, "status": REQUESTED,
            "reason": body.get("reason") or "Notifications of "
            + (topic.title if topic else "a topic")}
    request = parse_subscription(validate_subscription(body), prefixes)
    subscription_id = str(uuid.uuid4())
    resource = request.resource
    uow.subscriptions.add({
        "id": subscription_id, "resource": orjson.dumps(resource),
        "headers": orjson.dumps(list(request.headers)) if request.headers else None,
        "topic": request.topic, "endpoint": request.endpoint, "base_url": base,
        "content": request.content, "filter_system": request.filter_system,
        "heartbeat_seconds": request.heartbeat_seconds, "owner": access.subject,
        "owner_sees_protected": access.see_protected, "status": REQUESTED,
        "created_at": now, "next_attempt_at": None, "heartbeat_due_at": None,
        "last_error": None})
    stored = uow.subscriptions.get(subscription_id)
    assert stored is not None
    return stored


def read(uow: UnitOfWork, subscription_id: str) -> StoredSubscription:
    """One subscription; 404 unknown, 410 deleted."""
    stored = uow.subscriptions.get(check_id(subscription_id))
    if stored is None:
        raise NotFound(f"Subscription/{subscription_id} is not known")
    if stored.deleted:
        raise Gone(f"Subscription/{subscription_id} was deleted")
    return stored


def delete(uow: UnitOfWork, subscription_id: str) -> None:
    """Stop the subscription (status ``off``); deleting twice is harmless."""
    stored = uow.subscriptions.get(check_id(subscription_id))
    if stored is None:
        raise NotFound(f"Subscription/{subscription_id} is not known")
    if not stored.deleted:
        uow.subscriptions.delete(stored.id, OFF)


def resource(stored: StoredSubscription) -> dict[str, Any]:
    """The Subscription as clients see it: what was asked, the current status and last
    delivery error; never the channel headers."""
    body: dict[str, Any] = orjson.loads(stored.resource)
    shown: dict[str, Any] = {"resourceType": "Subscription", "id": stored.id,
                             "meta": {"profile": [SUBSCRIPTION_PROFILE]}}
    shown.update({key: value for key, value in body.items()
                  if key not in ("resourceType", "id", "meta", "status", "error")})
    shown["status"] = stored.status
    if stored.last_error:
        shown["error"] = stored.last_error
    return shown


def state(stored: StoredSubscription) -> SubscriptionState:
    """What the status Parameters say about ``stored``."""
    return SubscriptionState(f"{stored.base_url}/Subscription/{stored.id}",
                             TOPICS[stored.topic].url, stored.status, stored.event_count,
                             stored.last_error)


def status_bundle(stored: StoredSubscription, now: datetime) -> dict[str, Any]:
    """``$status``: a searchset Bundle with the subscription's status Parameters."""
    parameters = status_parameters(state(stored), "query-status", [], stored.content)
    return {"resourceType": "Bundle", "type": "searchset", "timestamp": instant(now),
            "total": 1, "entry": [{"fullUrl": f"urn:uuid:{parameters['id']}",
                                   "resource": parameters, "search": {"mode": "match"}}]}


def events_bundle(uow: UnitOfWork, stored: StoredSubscription, *, since: str | None,
                  until: str | None, content: str | None, access: Access,
                  now: datetime) -> dict[str, Any]:
    """``$events``: the stored events ``since`` … ``until`` (event numbers, inclusive;
    by default the latest :data:`MAX_EVENTS_QUERY`) as a ``query-event`` notification."""
    last = stored.event_count
    low = _number(since, "eventsSinceNumber")
    high = _number(until, "eventsUntilNumber")
    if content is not None and content not in CONTENTS:
        raise InvalidRequest(f"content must be one of {', '.join(CONTENTS)}")
    if low is None:
        low = max(1, (high if high is not None else last) - MAX_EVENTS_QUERY + 1)
    events = uow.subscriptions.events(stored.id, low, high, MAX_EVENTS_QUERY)
    return notification(uow, stored, "query-event", events, access, now,
                        content=content or stored.content).bundle


def notification(uow: UnitOfWork, stored: StoredSubscription, kind: str,
                 events: list[StoredEvent], access: Access, now: datetime, *,
                 content: str | None = None) -> Notification:
    """The notification Bundle of ``kind`` with ``events`` for a reader with ``access``."""
    content = content or stored.content
    shown = [NotificationEvent(e.number, instant(e.occurred_at), e.focus, e.context)
             for e in events]
    status = status_parameters(state(stored), kind, shown, content)
    entries: list[FocusEntry] = []
    disclosed: list[str] = []
    if content != "empty":
        seen: set[tuple[str, int | None]] = set()
        for event in events:
            if (event.focus, event.focus_version) in seen:
                continue
            seen.add((event.focus, event.focus_version))
            entries.append(_focus_entry(uow, event, content, access, disclosed))
    bundle = notification_bundle(status, f"{stored.base_url}/Subscription/{stored.id}/$status",
                                 stored.base_url, entries, instant(now))
    return Notification(bundle, disclosed)


def _focus_entry(uow: UnitOfWork, event: StoredEvent, content: str, access: Access,
                 disclosed: list[str]) -> FocusEntry:
    patient_id = event.focus.removeprefix("Patient/")
    stored = (uow.patients.get_version(patient_id, event.focus_version)
              if event.focus_version is not None else None)
    method = stored.method if stored is not None else "PUT"
    if stored is None or stored.resource is None or content != "full-resource" \
            or must_mask(stored.protected, access):
        return FocusEntry(event.focus, None, method)
    if stored.protected:
        disclosed.append(patient_id)
    return FocusEntry(event.focus, orjson.loads(present(stored.resource, stored.protected,
                                                        access)), method)


def _number(value: str | None, name: str) -> int | None:
    if value is None:
        return None
    if not value.strip().isdigit() or len(value.strip()) > 18:
        raise InvalidRequest(f"{name} must be an event number (a whole number)")
    return int(value)

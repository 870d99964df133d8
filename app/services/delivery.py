"""The deliverer: sends Subscription notifications from the outbox to their endpoints
(rest-hook), at least once and in order per subscription (api.md "Subscriptions").

Every gunicorn worker runs one deliverer thread (:func:`start`, from
``app.gunicorn_conf.post_worker_init``); ``python -m app subscriptions deliver`` runs one in
the foreground. Any number of them, in any number of server instances on one database,
share the work: a deliverer takes a subscription's lease
(:meth:`app.adapters.subscription_repository.SubscriptionRepository.claim`), sends what is
due, records the outcome while it still holds the lease, and gives it back. Nothing is held
in memory between two steps, so a deliverer killed at any point loses nothing: its lease
runs out and another one sends the same events again.

What is due, in this order: the handshake of a new (``requested``) subscription; the
undelivered events, up to ``SUBSCRIPTION_BATCH_SIZE`` per notification; a heartbeat when
the subscription asked for one and nothing was sent for that long — and, for a subscription
in ``error``, a heartbeat as the probe that finds the endpoint back.

Failures: any answer but 2xx, a refused connection or a timeout. The next attempt waits
``SUBSCRIPTION_RETRY_BASE_SECONDS`` doubling up to ``SUBSCRIPTION_RETRY_MAX_SECONDS``;
after ``SUBSCRIPTION_MAX_FAILURES`` in a row the status is ``error``; the first success
makes it ``active`` again. Log lines name the subscription and the kind of failure, never
the endpoint's headers or the notification.
"""

from __future__ import annotations

import http.client
import logging
import os
import socket
import threading
import uuid
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import orjson
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError

from app.adapters.subscription_repository import StoredSubscription
from app.adapters.unit_of_work import UnitOfWork
from app.config import Settings
from app.domain.access import Access
from app.domain.fhirdate import utc_now
from app.domain.subscriptions import ACTIVE, ERROR, REQUESTED, retry_delay
from app.services import audit_events, subscriptions
from app.services.background import start_daemon
from app.services.transactions import run_read, run_write

log = logging.getLogger(__name__)
#: Subscriptions one look for work takes on at most.
DUE_LIMIT = 20


class DeliveryFailed(Exception):
    """The endpoint did not take the notification; the message says why (no secrets)."""


class Deliverer:
    """One deliverer (see the module docstring)."""

    def __init__(self, engine: Engine, settings: Settings) -> None:
        self.engine = engine
        self.settings = settings
        self.owner = f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"

    def run(self, stop: threading.Event) -> None:
        """Deliver until ``stop`` is set; a failure of the database is logged and retried."""
        database_down = False
        while not stop.is_set():
            busy = 0
            try:
                busy = self.deliver_due()
                database_down = False
            except DBAPIError as error:  # the thread outlives a database restart
                if not database_down:  # one line per outage, no traceback (app.logs)
                    log.warning("subscription delivery: the database cannot be used (%s); "
                                "retrying", type(error.orig).__name__)
                database_down = True
            except Exception:
                log.exception("subscription delivery round failed; retrying")
            if not busy:
                stop.wait(self.settings.subscription_poll_seconds)

    def deliver_due(self) -> int:
        """Send one notification for each subscription that has something due and that
        this deliverer could claim; return how many were attempted."""
        now = utc_now()
        due = run_read(self.engine, lambda uow: uow.subscriptions.due(now, DUE_LIMIT))
        attempted = 0
        for subscription_id in due:
            if self._claim(subscription_id):
                attempted += 1
                self._deliver(subscription_id)
        return attempted

    def _claim(self, subscription_id: str) -> bool:
        now = utc_now()
        until = now + timedelta(seconds=self.settings.subscription_lease_seconds)
        return run_write(self.engine, lambda uow: uow.subscriptions.claim(
            subscription_id, self.owner, now, until))

    def _deliver(self, subscription_id: str) -> None:
        stored, notification, last = run_read(
            self.engine, lambda uow: self._prepare(uow, subscription_id))
        if stored is None:
            return
        now = utc_now()
        try:
            self._post(stored, notification.bundle)
        except DeliveryFailed as failure:
            self._failed(stored, str(failure), now)
            return
        values: dict[str, Any] = {
            "status": ACTIVE, "failures": 0, "next_attempt_at": None, "last_error": None,
            "heartbeat_due_at": now + timedelta(seconds=stored.heartbeat_seconds)
            if stored.heartbeat_seconds else None}
        if last is not None:
            values["delivered_through"] = last
        owner_access = _owner_access(stored)

        def record(uow: UnitOfWork) -> None:
            if uow.subscriptions.release(stored.id, self.owner, values) and notification.disclosed:
                audit_events.record(uow, owner_access, "R", notification.disclosed, "0",
                                    "subscription-notification")

        run_write(self.engine, record)

    def _prepare(self, uow: UnitOfWork, subscription_id: str) -> tuple[
            StoredSubscription | None, subscriptions.Notification, int | None]:
        stored = uow.subscriptions.get(subscription_id)
        empty = subscriptions.Notification({}, [])
        if stored is None or stored.deleted:
            return None, empty, None
        now = utc_now()
        access = _owner_access(stored)
        if stored.status == REQUESTED:
            return stored, subscriptions.notification(uow, stored, "handshake", [], access,
                                                      now), None
        if stored.event_count > stored.delivered_through:
            events = uow.subscriptions.events(stored.id, stored.delivered_through + 1, None,
                                              self.settings.subscription_batch_size)
            if events:
                return stored, subscriptions.notification(
                    uow, stored, "event-notification", events, access, now), events[-1].number
        return stored, subscriptions.notification(uow, stored, "heartbeat", [], access,
                                                  now), None

    def _failed(self, stored: StoredSubscription, reason: str, now: datetime) -> None:
        failures = stored.failures + 1
        settings = self.settings
        delay = retry_delay(failures, settings.subscription_retry_base_seconds,
                            settings.subscription_retry_max_seconds)
        status = ERROR if failures >= settings.subscription_max_failures else stored.status
        log.warning("Subscription/%s: delivery failed (%s), %d in a row; next attempt in "
                    "%g s", stored.id, reason, failures, delay)
        values = {"failures": failures, "status": status, "last_error": reason[:255],
                  "next_attempt_at": now + timedelta(seconds=delay)}
        run_write(self.engine,
                  lambda uow: uow.subscriptions.release(stored.id, self.owner, values))

    def _post(self, stored: StoredSubscription, bundle: dict[str, Any]) -> None:
        """POST the Bundle to the endpoint (no redirects followed: the allow-list holds
        for the address actually called — and it is the allow-list of now, which may have
        shrunk since the subscription was made)."""
        if not any(stored.endpoint.startswith(prefix)
                   for prefix in self.settings.subscription_endpoint_prefixes):
            raise DeliveryFailed("the endpoint is not in SUBSCRIPTION_ENDPOINT_PREFIXES")
        parts = urlsplit(stored.endpoint)
        headers = {"Content-Type": "application/fhir+json", "User-Agent": "sweid-fhir"}
        for line in orjson.loads(stored.headers) if stored.headers else []:
            name, _, value = line.partition(":")
            headers[name.strip()] = value.strip()
        connection_type = (http.client.HTTPSConnection if parts.scheme == "https"
                           else http.client.HTTPConnection)
        connection = connection_type(parts.hostname or "", parts.port,
                                     timeout=self.settings.subscription_timeout_seconds)
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        try:
            connection.request("POST", path, orjson.dumps(bundle), headers)
            status = connection.getresponse().status
        except (OSError, ValueError, http.client.HTTPException) as error:
            raise DeliveryFailed(f"no answer: {type(error).__name__}") from None
        finally:
            connection.close()
        if not 200 <= status < 300:
            raise DeliveryFailed(f"the endpoint answered HTTP {status}")


def _owner_access(stored: StoredSubscription) -> Access:
    """The reader of a subscription's notifications: its creator as they were."""
    return Access(subject=stored.owner, see_protected=stored.owner_sees_protected)


def start(settings: Settings) -> threading.Event | None:
    """Start a deliverer thread (daemon) in this process, unless SUBSCRIPTION_DELIVERY is
    off; return the event that stops it."""
    if not settings.subscription_delivery:
        return None
    from app.adapters.db import make_engine

    deliverer = Deliverer(make_engine(settings.database_url), settings)
    return start_daemon("subscription-delivery", deliverer.run)

"""Storage of Subscriptions and their outbox of events (tables ``subscription`` and
``subscription_event``).

Event numbers: a write transaction that produces events locks the rows of the matching
subscriptions (in id order, ``SELECT … FOR UPDATE`` on PostgreSQL; SQLite's writers hold the
database lock) and advances their ``event_count``, so the numbers of one subscription follow
the commit order without gaps: the transaction that got number n commits (or rolls back,
and n is handed out again) before another can get n + 1.

Delivery: a deliverer claims a subscription with a lease (``lease_owner``/``lease_until``,
one conditional UPDATE that works alike on both databases), sends, and records the result
only while it still holds the lease. A deliverer killed mid-send leaves a lease that runs
out; the next one sends the same events again (at least once, never lost).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, func, insert, or_, select, update

from app.adapters.tables import subscription, subscription_event
from app.domain.subscriptions import ACTIVE, ERROR, REQUESTED, PatientEvent

#: Statuses whose subscriptions receive events and deliveries.
LIVE = (REQUESTED, ACTIVE, ERROR)


@dataclass(frozen=True)
class StoredSubscription:
    """One row of ``subscription``."""

    id: str
    resource: bytes
    headers: bytes | None
    topic: str
    endpoint: str
    base_url: str
    content: str
    filter_system: str | None
    heartbeat_seconds: int | None
    owner: str | None
    owner_sees_protected: bool
    status: str
    created_at: datetime
    deleted: bool
    event_count: int
    delivered_through: int
    failures: int
    next_attempt_at: datetime | None
    heartbeat_due_at: datetime | None
    last_error: str | None


@dataclass(frozen=True)
class StoredEvent:
    """One row of ``subscription_event``."""

    number: int
    focus: str
    focus_version: int | None
    context: tuple[str, ...]
    occurred_at: datetime


_COLUMNS = [subscription.c[name] for name in StoredSubscription.__dataclass_fields__]


class SubscriptionRepository:
    """Subscriptions, their event counters, outbox and delivery state."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, values: dict[str, Any]) -> None:
        """Store a new subscription (every column of ``subscription`` but the counters)."""
        self.conn.execute(insert(subscription), {
            "deleted": False, "event_count": 0, "delivered_through": 0, "failures": 0,
            **values})

    def get(self, subscription_id: str) -> StoredSubscription | None:
        """One subscription, deleted ones included."""
        row = self.conn.execute(select(*_COLUMNS).where(subscription.c.id == subscription_id)
                                ).one_or_none()
        return StoredSubscription(*row) if row is not None else None

    def search(self, *, status: str | None, topic: str | None,
               limit: int) -> list[StoredSubscription]:
        """Subscriptions not deleted, oldest first, by status and topic code when given."""
        query = select(*_COLUMNS).where(subscription.c.deleted.is_(False))
        if status is not None:
            query = query.where(subscription.c.status == status)
        if topic is not None:
            query = query.where(subscription.c.topic == topic)
        rows = self.conn.execute(query.order_by(subscription.c.created_at, subscription.c.id)
                                 .limit(limit))
        return [StoredSubscription(*row) for row in rows]

    def delete(self, subscription_id: str, status: str) -> None:
        """Mark deleted (reads answer 410); no more events or deliveries."""
        self.conn.execute(update(subscription).where(subscription.c.id == subscription_id)
                          .values(deleted=True, status=status, lease_owner=None,
                                  lease_until=None))

    def append_events(self, events: Sequence[PatientEvent], now: datetime) -> None:
        """Number and store ``events`` for every live subscription of their topics whose
        filter they match (see the module docstring for the locking)."""
        topics = sorted({event.topic for event in events})
        candidates = self.conn.execute(
            select(subscription.c.id, subscription.c.topic, subscription.c.filter_system)
            .where(subscription.c.topic.in_(topics), subscription.c.status.in_(LIVE),
                   subscription.c.deleted.is_(False))
            .order_by(subscription.c.id)).all()
        rows = []
        for subscription_id, topic, filter_system in candidates:
            matching = [e for e in events if e.topic == topic and e.matches(filter_system)]
            if not matching:
                continue
            count = self.conn.execute(
                select(subscription.c.event_count).where(subscription.c.id == subscription_id)
                .with_for_update()).scalar_one()
            self.conn.execute(update(subscription).where(subscription.c.id == subscription_id)
                              .values(event_count=count + len(matching)))
            rows += [{"subscription_id": subscription_id, "event_number": count + position,
                      "focus": event.focus, "focus_version": event.version,
                      "context": " ".join(event.context) or None, "occurred_at": now}
                     for position, event in enumerate(matching, start=1)]
        if rows:
            self.conn.execute(insert(subscription_event), rows)

    def events(self, subscription_id: str, since: int, until: int | None,
               limit: int) -> list[StoredEvent]:
        """Events numbered ``since`` … ``until`` (inclusive), at most ``limit``, in order."""
        query = select(subscription_event.c.event_number, subscription_event.c.focus,
                       subscription_event.c.focus_version, subscription_event.c.context,
                       subscription_event.c.occurred_at).where(
            subscription_event.c.subscription_id == subscription_id,
            subscription_event.c.event_number >= since)
        if until is not None:
            query = query.where(subscription_event.c.event_number <= until)
        rows = self.conn.execute(query.order_by(subscription_event.c.event_number).limit(limit))
        return [StoredEvent(number, focus, version, tuple((context or "").split()), at)
                for number, focus, version, context, at in rows]

    def due(self, now: datetime, limit: int) -> list[str]:
        """Ids of live subscriptions with something to send now and no deliverer holding
        them: a handshake, undelivered events, a heartbeat, or (in ``error``) a probe."""
        query = select(subscription.c.id).where(
            subscription.c.deleted.is_(False), subscription.c.status.in_(LIVE),
            or_(subscription.c.lease_until.is_(None), subscription.c.lease_until < now),
            or_(subscription.c.next_attempt_at.is_(None), subscription.c.next_attempt_at <= now),
            or_(subscription.c.status.in_((REQUESTED, ERROR)),
                subscription.c.event_count > subscription.c.delivered_through,
                and_(subscription.c.heartbeat_due_at.is_not(None),
                     subscription.c.heartbeat_due_at <= now)),
        ).order_by(func.coalesce(subscription.c.next_attempt_at, subscription.c.created_at))
        return list(self.conn.execute(query.limit(limit)).scalars())

    def claim(self, subscription_id: str, owner: str, now: datetime, until: datetime) -> bool:
        """Take the lease of a subscription; False when another deliverer holds it."""
        result = self.conn.execute(
            update(subscription).where(
                subscription.c.id == subscription_id, subscription.c.deleted.is_(False),
                or_(subscription.c.lease_until.is_(None), subscription.c.lease_until < now))
            .values(lease_owner=owner, lease_until=until))
        return result.rowcount == 1

    def release(self, subscription_id: str, owner: str, values: dict[str, Any]) -> bool:
        """Record a delivery's outcome and give the lease back, if still held by ``owner``;
        ``delivered_through`` never moves back."""
        if "delivered_through" in values:
            values = {**values, "delivered_through": func.max(
                values["delivered_through"], subscription.c.delivered_through)
                if self.conn.dialect.name == "sqlite" else func.greatest(
                values["delivered_through"], subscription.c.delivered_through)}
        result = self.conn.execute(
            update(subscription).where(subscription.c.id == subscription_id,
                                       subscription.c.lease_owner == owner)
            .values(lease_owner=None, lease_until=None, **values))
        return result.rowcount == 1

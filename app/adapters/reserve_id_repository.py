"""Reserve-id storage: allocation counters, the log of every generated id, idempotency keys.

The counter row of a (kind, key) is the only place a running number comes from; it is
advanced with ``UPDATE … RETURNING``, which holds the row lock until commit on PostgreSQL
(on SQLite the write transaction already holds the database write lock, ``BEGIN
IMMEDIATE``), so concurrent writers in any process or server instance queue on it and never
see the same value (domain.md §3.2).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, bindparam, insert, select, update

from app.adapters.tables import patient_identifier, reserve_counter, reserve_id, reserve_request


@dataclass(frozen=True)
class CounterState:
    """Where a (kind, key) stands: the current series and the next running number in it."""

    series: int
    next_value: int


@dataclass(frozen=True)
class ReservedId:
    """One row of the reserve-id log."""

    system: str
    value: str
    generated_at: datetime
    subject: str | None
    patient_id: str | None
    request_id: str | None


@dataclass(frozen=True)
class StoredRequest:
    """An idempotency key already used, with the fingerprint of its parameters."""

    request_id: str
    fingerprint: str
    subject: str | None


# Built once: generation runs these on every request (SQLAlchemy caches the compiled form,
# but constructing the statement objects costs more than running them).
_ADVANCE = (
    update(reserve_counter)
    .where(reserve_counter.c.kind == bindparam("p_kind"),
           reserve_counter.c.key == bindparam("p_key"))
    .values(next_value=reserve_counter.c.next_value + bindparam("p_count"))
    .returning(reserve_counter.c.series, reserve_counter.c.next_value)
)
_HELD = select(patient_identifier.c.value).where(
    patient_identifier.c.system == bindparam("p_system"),
    patient_identifier.c.value.in_(bindparam("p_values", expanding=True)),
)
_HELD_ONE = select(patient_identifier.c.value).where(
    patient_identifier.c.system == bindparam("p_system"),
    patient_identifier.c.value == bindparam("p_value"),
)
_RECORD = insert(reserve_id)


class ReserveIdRepository:
    """Reads and writes reserve ids on one connection (inside a unit of work)."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def advance_counter(self, kind: str, key: str, count: int) -> CounterState:
        """Move the counter of (kind, key) on by ``count`` and return where it stood before.

        One ``UPDATE … RETURNING`` both locks the row until commit and advances it: the
        common case costs a single statement. A key used for the first time is inserted at
        series 1; two first users may both insert, and the loser's IntegrityError makes the
        caller's ``run_write`` run again, when it finds the winner's row. The caller fixes
        the stored state with :meth:`set_counter` when a series rolled over.
        """
        row = self.conn.execute(_ADVANCE, {"p_kind": kind, "p_key": key, "p_count": count}).first()
        if row is None:
            self.conn.execute(
                insert(reserve_counter).values(kind=kind, key=key, series=1, next_value=count)
            )
            return CounterState(1, 0)
        return CounterState(int(row.series), int(row.next_value) - count)

    def set_counter(self, kind: str, key: str, state: CounterState) -> None:
        """Store where the (locked) counter stands now."""
        self.conn.execute(
            update(reserve_counter)
            .where(reserve_counter.c.kind == kind, reserve_counter.c.key == key)
            .values(series=state.series, next_value=state.next_value)
        )

    def record(self, system: str, values: Sequence[str], *, now: datetime,
               subject: str | None, request_id: str | None) -> None:
        """Log newly generated values (the unique index refuses any value seen before)."""
        if values:
            self.conn.execute(_RECORD, [
                {"system": system, "value": value, "generated_at": now, "subject": subject,
                 "patient_id": None, "request_id": request_id}
                for value in values
            ])

    def held_by_patients(self, system: str, values: Sequence[str]) -> set[str]:
        """The values some stored Patient (active or not) already carries in ``system``."""
        if not values:
            return set()
        if len(values) == 1:  # the common case, without an expanding IN to render
            return set(self.conn.execute(
                _HELD_ONE, {"p_system": system, "p_value": values[0]}).scalars())
        return set(self.conn.execute(
            _HELD, {"p_system": system, "p_values": list(values)}).scalars())

    def of_request(self, request_id: str) -> list[ReservedId]:
        """The ids generated for an idempotency key, in the order they were generated."""
        rows = self.conn.execute(
            select(*_COLUMNS).where(reserve_id.c.request_id == request_id)
            .order_by(reserve_id.c.id)
        ).all()
        return [ReservedId(*row) for row in rows]

    def lock_ids(self, system: str, values: Sequence[str]) -> dict[str, str | None]:
        """value → patient_id of logged ids, locked until commit (one filler at a time)."""
        stmt = select(reserve_id.c.value, reserve_id.c.patient_id).where(
            reserve_id.c.system == system, reserve_id.c.value.in_(list(values))
        )
        if self.conn.dialect.name == "postgresql":
            stmt = stmt.with_for_update()
        return {row.value: row.patient_id for row in self.conn.execute(stmt)}

    def assign_patient(self, system: str, value: str, patient_id: str) -> None:
        """Note which Patient a logged id was given to."""
        self.conn.execute(
            update(reserve_id)
            .where(reserve_id.c.system == system, reserve_id.c.value == value)
            .values(patient_id=patient_id)
        )

    def get_request(self, request_id: str) -> StoredRequest | None:
        """The stored idempotency key, locked until commit, or None."""
        stmt = select(reserve_request.c.request_id, reserve_request.c.fingerprint,
                      reserve_request.c.subject).where(
            reserve_request.c.request_id == request_id)
        if self.conn.dialect.name == "postgresql":
            stmt = stmt.with_for_update()
        row = self.conn.execute(stmt).first()
        return StoredRequest(*row) if row else None

    def add_request(self, request_id: str, fingerprint: str, subject: str | None,
                    now: datetime) -> None:
        """Remember an idempotency key (a concurrent twin loses on the primary key)."""
        self.conn.execute(insert(reserve_request).values(
            request_id=request_id, fingerprint=fingerprint, subject=subject, created_at=now))

    def all(self, *, batch: int = 1000) -> Iterator[ReservedId]:
        """Every logged id, oldest first (for ``python -m app reserve-ids list``).

        Fetched in keyset pages rather than through a server-side cursor, which needs a
        transaction that read units of work may not open.
        """
        after = 0
        while True:
            rows = self.conn.execute(
                select(reserve_id.c.id, *_COLUMNS).where(reserve_id.c.id > after)
                .order_by(reserve_id.c.id).limit(batch)
            ).all()
            for row in rows:
                yield ReservedId(*row[1:])
            if len(rows) < batch:
                return
            after = rows[-1].id


_COLUMNS = (reserve_id.c.system, reserve_id.c.value, reserve_id.c.generated_at,
            reserve_id.c.subject, reserve_id.c.patient_id, reserve_id.c.request_id)

"""Append-only storage of the resources the server writes about Patients (Provenance,
AuditEvent), with simple search on indexed values (references, tokens) and on time."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Connection, func, insert, select

from app.adapters.tables import audit_resource, audit_resource_index

_INSERT_RESOURCE = insert(audit_resource)
_INSERT_INDEX = insert(audit_resource_index)


class AuditRepository:
    """Write once, read and search; never update or delete."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def append(self, resource_type: str, resource_id: str, recorded: datetime, resource: bytes,
               index: Sequence[tuple[str, str]]) -> None:
        """Store a new resource with its (param, value) search keys."""
        self.conn.execute(_INSERT_RESOURCE, {"resource_type": resource_type, "id": resource_id,
                                             "recorded": recorded, "resource": resource})
        rows = [{"resource_type": resource_type, "resource_id": resource_id, "param": p,
                 "value": v[:255]} for p, v in dict.fromkeys(index)]
        if rows:
            self.conn.execute(_INSERT_INDEX, rows)

    def get(self, resource_type: str, resource_id: str) -> bytes | None:
        """One stored resource."""
        return self.conn.execute(select(audit_resource.c.resource).where(
            audit_resource.c.resource_type == resource_type,
            audit_resource.c.id == resource_id)).scalar()

    def search(
        self,
        resource_type: str,
        conditions: Sequence[tuple[str, Sequence[str]]],
        *,
        recorded_from: datetime | None = None,
        recorded_to: datetime | None = None,
        count: int,
        offset: int,
    ) -> tuple[list[bytes], int]:
        """Resources matching every (param, any-of-values) condition, newest first, and the
        total."""
        where = [audit_resource.c.resource_type == resource_type]
        for param, values in conditions:
            where.append(audit_resource.c.id.in_(select(audit_resource_index.c.resource_id).where(
                audit_resource_index.c.resource_type == resource_type,
                audit_resource_index.c.param == param,
                audit_resource_index.c.value.in_(list(values)))))
        if recorded_from is not None:
            where.append(audit_resource.c.recorded >= recorded_from)
        if recorded_to is not None:
            where.append(audit_resource.c.recorded <= recorded_to)
        rows = self.conn.execute(
            select(audit_resource.c.resource).where(*where)
            .order_by(audit_resource.c.recorded.desc(), audit_resource.c.id)
            .limit(count).offset(offset)).scalars().all()
        total = self.conn.execute(
            select(func.count()).select_from(audit_resource).where(*where)).scalar()
        return list(rows), int(total or 0)

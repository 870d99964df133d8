"""Candidate selection for ``$match`` (blocking) through indexed columns only.

Each blocking key of the query (``app.domain.matching.blocking``) is one probe of the
``patient_token`` index on (param, code) with its own LIMIT, and each identifier of the
query one probe of ``patient_identifier``; all probes go in one UNION ALL statement. The
rows read are bounded by keys × :data:`PER_KEY_LIMIT`, whatever the size of the database.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, Select, false, literal, select, union_all

from app.adapters.tables import patient, patient_identifier, patient_link, patient_token
from app.domain.matching.blocking import PER_KEY_LIMIT, choose
from app.domain.patient_index import MATCH_KEY_PARAM

#: Merged-away records are followed to their survivor through at most this many hops.
MAX_HOPS = 5


@dataclass(frozen=True)
class CandidateRow:
    """A stored, not deleted Patient that may match."""

    id: str
    version_id: int
    protected: bool
    resource: bytes
    replaced_by: str | None


class MatchCandidates:
    """Reads candidates on one connection (inside a unit of work)."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def candidate_ids(self, keys: Sequence[str],
                      identifiers: Sequence[tuple[str, str]]) -> list[str]:
        """Ids to score: identifier holders first, then those hit by the most keys."""
        probes: list[Select[tuple[str]]] = []
        for system, value in identifiers:
            probes.append(select(patient_identifier.c.patient_id).where(
                patient_identifier.c.system == system, patient_identifier.c.value == value
            ).limit(PER_KEY_LIMIT))
        held = len(probes)
        for key in keys:
            probes.append(select(patient_token.c.patient_id).where(
                patient_token.c.param == MATCH_KEY_PARAM, patient_token.c.code == key
            ).limit(PER_KEY_LIMIT))
        if not probes:
            return []
        subqueries = [probe.subquery() for probe in probes]
        tagged = [select(sub.c.patient_id, literal(int(i < held)).label("by_identifier"))
                  for i, sub in enumerate(subqueries)]
        rows = self.conn.execute(union_all(*tagged)).all()
        by_identifier = sorted({row[0] for row in rows if row[1]})
        chosen = choose(row[0] for row in rows if not row[1])
        return by_identifier + [i for i in chosen if i not in by_identifier]

    def load(self, ids: Sequence[str]) -> list[CandidateRow]:
        """The current versions of ``ids`` (deleted ones left out) with their replaced-by."""
        if not ids:
            return []
        wanted = sorted(set(ids))
        rows = self.conn.execute(
            select(patient.c.id, patient.c.version_id, patient.c.protected, patient.c.resource)
            .where(patient.c.id.in_(wanted), patient.c.deleted == false())
        ).all()
        replaced = dict(self.conn.execute(
            select(patient_link.c.patient_id, patient_link.c.target_id).where(
                patient_link.c.patient_id.in_(wanted), patient_link.c.type == "replaced-by")
        ).tuples().all())
        return [CandidateRow(row.id, row.version_id, bool(row.protected), row.resource,
                             replaced.get(row.id)) for row in rows]

    def with_survivors(self, rows: list[CandidateRow]) -> dict[str, CandidateRow]:
        """``rows`` by id, plus every survivor their replaced-by links lead to."""
        found = {row.id: row for row in rows}
        for _ in range(MAX_HOPS):
            missing = {row.replaced_by for row in found.values()
                       if row.replaced_by and row.replaced_by not in found}
            if not missing:
                break
            found.update({row.id: row for row in self.load(sorted(missing))})
        return found


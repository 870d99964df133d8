"""Candidate selection for ``$match`` (blocking) through indexed columns only.

Each blocking key of the query (``app.domain.matching.blocking``) is one probe of the
``patient_token`` index on (param, code) with its own LIMIT, and each identifier of the
query one probe of ``patient_identifier``; all probes go in one statement (on PostgreSQL
one fixed statement, the keys as an array probed through LATERAL, so it is prepared once;
elsewhere a UNION ALL built once per number of keys). The rows read are bounded by
keys × :data:`PER_KEY_LIMIT`, whatever the size of the database.

Candidates are read as their stored match records (``patient.match_record``), not as
resources: only the few Patients returned are loaded in full (:meth:`resources`).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any

from sqlalchemy import (
    Boolean,
    ColumnElement,
    CompoundSelect,
    Connection,
    Select,
    String,
    and_,
    any_,
    bindparam,
    false,
    func,
    literal_column,
    or_,
    select,
    text,
    true,
    union_all,
)
from sqlalchemy.dialects.postgresql import ARRAY

from app.adapters.tables import patient, patient_identifier, patient_link, patient_token
from app.domain.matching.blocking import PER_KEY_LIMIT, choose, withheld_key
from app.domain.patient_index import MATCH_KEY_PARAM

#: Merged-away records are followed to their survivor through at most this many hops.
MAX_HOPS = 5
#: Seconds a process keeps the population size it counted.
POPULATION_TTL = 300.0
#: PostgreSQL: below this planner estimate the patients are counted exactly.
ESTIMATE_FROM = 100_000
#: database URL → (monotonic time counted, population size).
_population: dict[str, tuple[float, int]] = {}


@dataclass(frozen=True)
class CandidateRow:
    """A stored, not deleted Patient that may match."""

    id: str
    version_id: int
    protected: bool
    #: The stored match record (None on rows written before the column existed).
    match_record: bytes | None
    replaced_by: str | None


class MatchCandidates:
    """Reads candidates on one connection (inside a unit of work)."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def candidate_ids(self, keys: Sequence[str], identifiers: Sequence[tuple[str, str]], *,
                      see_protected: bool) -> list[str]:
        """Ids to score: identifier holders first, then those hit by the most keys.

        Keys made from withheld fields (:func:`withheld_key`: telephone, e-mail, address) do
        not find protected records for a caller who may not see them (``see_protected``
        False): such a hit would tell the caller the protected person's phone or postal code
        (api.md "Searches on withheld fields never reveal the person"), so those probes skip
        protected rows in SQL and the rows never take one of a key's slots."""
        if not keys and not identifiers:
            return []
        plain = [key for key in keys if not withheld_key(key)]
        withheld = [key for key in keys if withheld_key(key)]
        if self.conn.dialect.name == "postgresql":
            rows = self.conn.execute(_array_probes(), {
                "keys": plain, "withheld_keys": withheld, "see": see_protected,
                "systems": [system for system, _ in identifiers],
                "values": [value for _, value in identifiers]}).all()
        else:
            params: dict[str, object] = {f"k{i}": key for i, key in enumerate(plain)}
            params.update({f"w{i}": key for i, key in enumerate(withheld)})
            params["see"] = see_protected
            for i, (system, value) in enumerate(identifiers):
                params[f"s{i}"], params[f"v{i}"] = system, value
            rows = self.conn.execute(_probes(len(identifiers), len(plain), len(withheld)),
                                     params).all()
        by_identifier = sorted({row[0] for row in rows if row[1]})
        chosen = choose(row[0] for row in rows if not row[1])
        return by_identifier + [i for i in chosen if i not in by_identifier]

    def population(self) -> int:
        """How many Patients the database holds (the size the match model's prior and
        household evidence scale with): PostgreSQL's planner estimate once the table is
        large, an exact count otherwise; kept for :data:`POPULATION_TTL` seconds."""
        key = str(self.conn.engine.url)
        held = _population.get(key)
        now = time.monotonic()
        if held is not None and now - held[0] < POPULATION_TTL:
            return held[1]
        size = 0
        if self.conn.dialect.name == "postgresql":
            size = int(self.conn.execute(text(
                "SELECT reltuples::bigint FROM pg_class WHERE oid = 'patient'::regclass"
            )).scalar_one())
        if size < ESTIMATE_FROM:
            size = int(self.conn.execute(
                select(func.count()).select_from(patient).where(patient.c.deleted == false())
            ).scalar_one())
        _population[key] = (now, size)
        return size

    def page(self, after: str, limit: int) -> list[tuple[str, bytes | None, bytes]]:
        """(id, stored match record, resource) of the current Patients with ids after
        ``after``, in id order: the records ``match fit`` learns from."""
        rows = self.conn.execute(
            select(patient.c.id, patient.c.match_record, patient.c.resource)
            .where(patient.c.id > after, patient.c.deleted == false())
            .order_by(patient.c.id).limit(limit)).all()
        return [(row.id, row.match_record, row.resource) for row in rows]

    def load(self, ids: Sequence[str]) -> list[CandidateRow]:
        """The current versions of ``ids`` (deleted ones left out) with their replaced-by."""
        if not ids:
            return []
        rows = self.conn.execute(_load(self.conn.dialect.name), {"ids": sorted(set(ids))}).all()
        return [CandidateRow(row.id, row.version_id, bool(row.protected), row.match_record,
                             row.target_id) for row in rows]

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

    def resources(self, ids: Sequence[str]) -> dict[str, bytes]:
        """The stored JSON of the current, not deleted versions of ``ids``."""
        if not ids:
            return {}
        stmt = _resources(self.conn.dialect.name)
        return dict(self.conn.execute(stmt, {"ids": sorted(set(ids))}).tuples().all())


@lru_cache(maxsize=256)
def _probes(identifiers: int, keys: int, withheld: int) -> CompoundSelect[str, int]:
    """The UNION ALL of ``identifiers`` identifier probes (bind parameters ``s<i>``,
    ``v<i>``), ``keys`` key probes (``k<i>``) and ``withheld`` probes of keys made from
    withheld fields (``w<i>``, protected rows only when ``see`` is true), each row tagged
    by_identifier 1 or 0. Built once per shape, so SQLAlchemy's compiled cache (and
    psycopg's prepared statements) serve the repeated shapes."""
    probes: list[Select[str]] = [
        select(patient_identifier.c.patient_id).where(
            patient_identifier.c.system == bindparam(f"s{i}"),
            patient_identifier.c.value == bindparam(f"v{i}"),
        ).limit(PER_KEY_LIMIT)
        for i in range(identifiers)
    ]
    probes += [_key_probe(bindparam(f"k{i}")) for i in range(keys)]
    probes += [_withheld_key_probe(bindparam(f"w{i}")) for i in range(withheld)]
    subqueries = [probe.subquery() for probe in probes]
    return union_all(*(
        select(sub.c.patient_id, literal_column(str(int(i < identifiers))).label("by_identifier"))
        for i, sub in enumerate(subqueries)))


def _key_probe(code: ColumnElement[Any]) -> Select[str]:
    return select(patient_token.c.patient_id).where(
        patient_token.c.param == MATCH_KEY_PARAM, patient_token.c.code == code,
    ).limit(PER_KEY_LIMIT)


def _withheld_key_probe(code: ColumnElement[Any]) -> Select[str]:
    return (
        select(patient_token.c.patient_id)
        .join(patient, patient.c.id == patient_token.c.patient_id)
        .where(patient_token.c.param == MATCH_KEY_PARAM, patient_token.c.code == code,
               or_(patient.c.protected == false(), bindparam("see", type_=Boolean)))
        .limit(PER_KEY_LIMIT)
    )


@cache
def _array_probes() -> CompoundSelect[str, int]:
    """PostgreSQL: the same probes as :func:`_probes` in one fixed statement, the keys
    (``keys``, ``withheld_keys``) and identifiers (``systems``, ``values``) bound as arrays
    and each probed with its own LIMIT through LATERAL."""
    texts = ARRAY(String)
    key = func.unnest(bindparam("keys", type_=texts)).table_valued("code").render_derived("key")
    held = func.unnest(bindparam("withheld_keys", type_=texts)).table_valued(
        "code").render_derived("held")
    ident = func.unnest(bindparam("systems", type_=texts), bindparam("values", type_=texts)
                        ).table_valued("system", "value").render_derived("ident")
    by_key = _key_probe(key.c.code).lateral("by_key")
    by_held = _withheld_key_probe(held.c.code).lateral("by_held")
    by_ident = select(patient_identifier.c.patient_id).where(
        patient_identifier.c.system == ident.c.system,
        patient_identifier.c.value == ident.c.value,
    ).limit(PER_KEY_LIMIT).lateral("by_ident")
    return union_all(
        select(by_ident.c.patient_id, literal_column("1").label("by_identifier"))
        .select_from(ident.join(by_ident, true())),
        select(by_key.c.patient_id, literal_column("0").label("by_identifier"))
        .select_from(key.join(by_key, true())),
        select(by_held.c.patient_id, literal_column("0").label("by_identifier"))
        .select_from(held.join(by_held, true())),
    )


def _id_in(dialect: str) -> ColumnElement[bool]:
    """``patient.id`` among the bound ``ids``: one array parameter on PostgreSQL (one
    statement text whatever the number), an expanding IN elsewhere."""
    if dialect == "postgresql":
        return patient.c.id == any_(bindparam("ids", type_=ARRAY(String)))
    return patient.c.id.in_(bindparam("ids", expanding=True))


@cache
def _load(dialect: str) -> Select[Any]:
    return (
        select(patient.c.id, patient.c.version_id, patient.c.protected,
               patient.c.match_record, patient_link.c.target_id)
        .outerjoin(patient_link, and_(patient_link.c.patient_id == patient.c.id,
                                      patient_link.c.type == "replaced-by"))
        .where(_id_in(dialect), patient.c.deleted == false())
    )


@cache
def _resources(dialect: str) -> Select[Any]:
    return select(patient.c.id, patient.c.resource).where(_id_in(dialect),
                                                          patient.c.deleted == false())

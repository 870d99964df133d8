"""``$match`` use case: find the person before a duplicate is created (domain.md §3.1).

Validates the query Patient like a create would (400/422), selects candidates through the
blocking indexes, scores them with the domain engine and returns the graded results, each
merged-away record replaced by its survivor (api.md: "Merged-away records are never
returned; their survivor is").

Inactive records that were not merged away are returned like active ones: a deactivated
record is still that person, and finding it is the point of searching before creating.
Protected candidates are scored without address and telecom evidence for callers who may
not see those fields (api.md "Access control"), so a match never reveals withheld data.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from functools import partial
from typing import Any

import orjson
from sqlalchemy import Engine

from app.adapters.match_candidates import CandidateRow, MatchCandidates
from app.adapters.unit_of_work import UnitOfWork
from app.domain.access import Access
from app.domain.errors import InvalidRequest
from app.domain.identifiers import normalise_patient_identifiers
from app.domain.matching import (
    GRADES,
    Assessment,
    MatchRecord,
    Model,
    assess,
    decode_record,
    explanation,
    order_key,
    query_keys,
    record_from_patient,
)
from app.masking import must_mask
from app.services.fhir_validation import validate_patient
from app.services.transactions import run_read

#: Patients read per query by :func:`stored_records`.
FIT_PAGE = 5000
DEFAULT_COUNT = 10
MAX_COUNT = 100
#: Non-certain scores stay below 1.0 so that the order by score puts certain first.
MAX_UNCERTAIN_SCORE = 0.99


@dataclass(frozen=True)
class MatchRequest:
    resource: Any
    only_certain: bool = False
    count: int | None = None
    only_single: bool = False


@dataclass(frozen=True)
class MatchResult:
    """One returned Patient with its score and grade."""

    id: str
    resource: bytes
    protected: bool
    score: float
    grade: str
    #: What agreed, differed or was missing, and what each contributed (for a clerk).
    explanation: str


def match(uow: UnitOfWork, request: MatchRequest, access: Access, today: date,
          model: Model) -> list[MatchResult]:
    """The graded matches of ``request.resource``, best first, scored by ``model`` in a
    population of the database's size."""
    count = DEFAULT_COUNT if request.count is None else request.count
    if not 1 <= count <= MAX_COUNT:
        raise InvalidRequest(f"count must be between 1 and {MAX_COUNT}")
    resource = validate_patient(request.resource)
    normalise_patient_identifiers(resource, today)
    query = record_from_patient(resource)
    store = MatchCandidates(uow.connection)
    ids = store.candidate_ids(query_keys(query), sorted(query.identifiers),
                              see_protected=access.see_protected)
    rows = store.with_survivors(store.load(ids))
    records = _records(store, rows.values())
    ranked = _best_per_survivor(query, rows, records, access, model, store.population())
    if request.only_certain:
        ranked = [pair for pair in ranked if pair[0].grade == "certain"]
        # IHE PDQm ITI-119 Case 5: certain matches of more than one person (survivors are
        # one per person) cannot be confirmed as the subject: none.
        ranked = ranked if len(ranked) <= 1 else []
    if request.only_single:
        ranked = _single(ranked)
    ranked = ranked[:count]
    resources = store.resources([row.id for _, row in ranked])
    return [
        MatchResult(row.id, resources[row.id], row.protected,
                    1.0 if a.grade == "certain" else min(a.score, MAX_UNCERTAIN_SCORE),
                    str(a.grade), explanation(a))
        for a, row in ranked if row.id in resources  # deleted since it was scored: left out
    ]


def _best_per_survivor(query: MatchRecord, rows: dict[str, CandidateRow],
                       records: dict[str, MatchRecord], access: Access, model: Model,
                       population: int) -> list[tuple[Assessment, CandidateRow]]:
    """Each person once — a merged-away candidate counts for its survivor — with the best
    assessment of any of their records, best first. Contact data of a protected record (or
    survivor) the caller may not see is not compared."""
    best: dict[str, tuple[Assessment, CandidateRow]] = {}
    for row in rows.values():
        survivor = _survivor(row, rows)
        if survivor is None or row.id not in records:
            continue
        use_contact = not (must_mask(row.protected, access)
                           or must_mask(survivor.protected, access))
        result = assess(query, records[row.id], model=model, population=population,
                        use_contact=use_contact)
        held = best.get(survivor.id)
        if result.grade in GRADES and (held is None or order_key(result) < order_key(held[0])):
            best[survivor.id] = (result, survivor)
    return sorted(best.values(), key=lambda pair: (order_key(pair[0]), pair[1].id))


def stored_records(engine: Engine, *, sample: int, seed: int,
                   progress: Callable[[int], None] = lambda _: None) -> list[MatchRecord]:
    """The match records of the current Patients (for ``match fit``): every one, or a
    uniform random ``sample`` of them (reservoir sampling, one pass in id order)."""
    rng = random.Random(seed)
    kept: list[MatchRecord] = []
    seen = 0
    after = ""
    while True:
        rows = run_read(engine, partial(_page, after=after))
        for record_id, stored, resource in rows:
            record = decode_record(stored, record_id) or record_from_patient(
                orjson.loads(resource))
            seen += 1
            if len(kept) < sample:
                kept.append(record)
            elif (slot := rng.randrange(seen)) < sample:
                kept[slot] = record
        progress(seen)
        if len(rows) < FIT_PAGE:
            return kept
        after = rows[-1][0]


def _page(uow: UnitOfWork, *, after: str) -> list[tuple[str, bytes | None, bytes]]:
    return MatchCandidates(uow.connection).page(after, FIT_PAGE)


def _records(store: MatchCandidates, rows: Iterable[CandidateRow]) -> dict[str, MatchRecord]:
    """The match record of every row: the stored one, or for rows without a current one
    (written before it was stored, or in an older format) rebuilt from the resource."""
    records: dict[str, MatchRecord] = {}
    rebuild: list[str] = []
    for row in rows:
        record = decode_record(row.match_record, row.id)
        if record is None:
            rebuild.append(row.id)
        else:
            records[row.id] = record
    for record_id, resource in store.resources(rebuild).items():
        records[record_id] = record_from_patient(orjson.loads(resource))
    return records


def _survivor(row: CandidateRow, rows: dict[str, CandidateRow]) -> CandidateRow | None:
    seen = {row.id}
    while row.replaced_by is not None:
        nxt = rows.get(row.replaced_by)
        if nxt is None or nxt.id in seen:
            return None  # a deleted survivor or a loop: nothing sound to return
        seen.add(nxt.id)
        row = nxt
    return row


def _single(ranked: list[tuple[Assessment, CandidateRow]]
            ) -> list[tuple[Assessment, CandidateRow]]:
    """FHIR ``onlySingleMatch``: the one most appropriate match, or none when the server
    cannot tell one apart (the best is only possible, or the runner-up has the same grade)."""
    if not ranked or ranked[0][0].grade not in ("certain", "probable"):
        return []
    if len(ranked) > 1 and ranked[1][0].grade == ranked[0][0].grade:
        return []
    return ranked[:1]


"""``$ihe-pix`` (IHE PIXm ITI-83): the identifiers one person has in given domains.

"Which identifiers does this person have in domain X" — the OID lookup EHR integrations ask
for (docs/domain.md §4). The person behind a source identifier is every Patient record connected
to the records holding it through ``Patient.link`` — ``replaced-by`` up to the main record,
``replaces`` and ``seealso`` to the person's other records, transitively, in either
direction (merges and seealso links are kept on both records, so this is the same group
whichever record the lookup starts from).

A domain (assigning authority) is *recognised* when it is the system of a known identity
kind (``app.identity``: ``urn:oid:`` form or HL7 Sweden alias; a bare OID is read as
``urn:oid:<OID>``) or when any stored Patient holds an identifier of that system. PIXm's
answers: unrecognised source domain 400, unrecognised targetSystem 403, source identifier
held by no Patient 404, nothing in the requested domains 200 with an empty Parameters.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import orjson

from app.adapters.unit_of_work import UnitOfWork
from app.domain import merge as rules
from app.domain import source_domains
from app.domain.access import Access
from app.domain.errors import Forbidden, InvalidRequest, NotFound
from app.domain.identifiers import IdentifierMatch, identifier_match
from app.domain.search import Clause, SearchQuery, TokenValue
from app.identity import kind_for_system
from app.masking import present_dict

MAX_RECORDS = 200


class SourceDomainNotFound(InvalidRequest):
    """PIXm: the sourceIdentifier's assigning authority is not recognised (400)."""

    code = "code-invalid"


class TargetSystemNotFound(Forbidden):
    """PIXm: a targetSystem is not recognised (403)."""

    code = "code-invalid"


class DomainNotRecognised(NotFound):
    """PDQm ITI-78 Case 4: an identity domain of ``identifier=<system>|`` is not recognised
    (404, an issue of severity warning, as PDQm lists it)."""

    severity = "warning"


class SourceIdentifierNotFound(NotFound):
    """PIXm: no Patient holds the sourceIdentifier (404)."""

    code = "not-found"


@dataclass(frozen=True)
class CrossReference:
    """The person's identifiers in the requested domains and their records, main first."""

    identifiers: list[dict[str, Any]] = field(default_factory=list)
    patient_ids: list[str] = field(default_factory=list)


def cross_reference(uow: UnitOfWork, source_identifier: str, target_systems: list[str],
                    access: Access, today: date) -> CrossReference:
    """Answer one ITI-83 query; the records pass through the one masking function
    (:func:`app.masking.present_dict`) before their identifiers are read."""
    system, _, value = source_identifier.partition("|")
    system = domain(system)
    if not system or not value.strip() or not recognised(uow, system):
        raise SourceDomainNotFound("sourceIdentifier Assigning Authority not found")
    wanted = [domain(t) for t in target_systems]
    for target in wanted:
        if not target or not recognised(uow, target):
            raise TargetSystemNotFound("targetSystem not found")
    match = identifier_match(TokenValue(system, value), today, strict=False)  # PIXm: 404
    holders = _holders(uow, match)
    if not holders:
        raise SourceIdentifierNotFound("sourceIdentifier Patient Identifier not found")
    records = _person(uow, holders, access)
    identifiers = _identifiers(records, set(wanted))
    if not identifiers:
        return CrossReference()
    return CrossReference(identifiers, [str(r["id"]) for r in records])


def domain(system: str) -> str:
    """The canonical system of a domain as a client may name it (bare OID, alias, urn:oid)."""
    return source_domains.canonical_domain(system)


def recognised(uow: UnitOfWork, system: str) -> bool:
    """A known identity kind, or a system some stored Patient holds."""
    if kind_for_system(system) is not None:
        return True
    query = SearchQuery(clauses=[Clause("identifier", "identifier", None,
                                        [IdentifierMatch(system, None)])], count=1)
    return bool(uow.patients.search(query, see_protected=True))


def _holders(uow: UnitOfWork, match: IdentifierMatch) -> list[str]:
    query = SearchQuery(clauses=[Clause("identifier", "identifier", None, [match])],
                        count=MAX_RECORDS)
    return [p.id for p in uow.patients.search(query, see_protected=True)]


def _person(uow: UnitOfWork, holders: list[str], access: Access) -> list[dict[str, Any]]:
    """Every record linked to the holders, as this caller may see it, the main record
    first."""
    group = set(holders)
    frontier = sorted(group)
    while frontier and len(group) < MAX_RECORDS:
        found = uow.patients.linked_ids(frontier) - group
        group |= found
        frontier = sorted(found)
    loaded = {p.id: present_dict(orjson.loads(p.resource), p.protected, access)
              for p in uow.patients.get_many(group) if p.resource is not None}
    # Main record first (docs/domain.md §3.5: records not merged away, best rank), merged-away
    # records last.
    order = sorted(loaded, key=lambda pid: (rules.replaced_by(loaded[pid]) is not None,
                                            rules.rank(loaded[pid]), pid))
    return [loaded[pid] for pid in order]


def _identifiers(records: list[dict[str, Any]], wanted: set[str]) -> list[dict[str, Any]]:
    """Each (system, value) once; a record's own identifier wins over a ``use=old`` copy."""
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for record in records:
        for ident in record.get("identifier") or []:
            if ident.get("value") is None or (wanted and ident.get("system") not in wanted):
                continue
            key = (str(ident.get("system", "")), str(ident["value"]))
            if key not in found or (found[key].get("use") == rules.OLD
                                    and ident.get("use") != rules.OLD):
                found[key] = ident
    return list(found.values())

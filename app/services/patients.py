"""Patient use cases: create, read, update, patch, delete, search, history.

Each function works inside the unit of work it is given; the caller commits (and the HTTP
layer retries the whole function when a concurrent writer won a race, see
``app.services.transactions``).

Bulk loads (``bulk_load=True``, the ``python -m app load`` command): the records come from a
system that already decided their links, in any order. So a record may bring
``replaced-by``/``replaces`` links (merged there) and links to records later in the file,
and the seealso contradiction rule is not applied; links whose target never arrives are
reported at the end (``PatientRepository.dangling_links``).
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any
from urllib.parse import parse_qsl

import jsonpatch
import orjson

from app.adapters.patient_repository import StoredPatient
from app.adapters.unit_of_work import UnitOfWork
from app.domain import source_domains
from app.domain.access import Access
from app.domain.errors import (
    BusinessRuleViolation,
    Conflict,
    Forbidden,
    Gone,
    InvalidRequest,
    NotFound,
    PreconditionFailed,
)
from app.domain.extensions import check_extensions
from app.domain.fhirdate import instant, parse_range, utc_now
from app.domain.identifiers import (
    IdentifierMatch,
    identifier_match,
    normalise_patient_identifiers,
)
from app.domain.merge import (
    SEEALSO,
    check_merge_links_kept,
    check_seealso,
    holds_own,
    linked_ids,
    with_reverse_seealso,
)
from app.domain.patient_index import PatientIndex, index_patient
from app.domain.protection import group_is_protected, is_protected
from app.domain.references import link_target_id
from app.domain.search import WITHHELD_PARAMETERS, SearchQuery, TokenValue, parse_search
from app.domain.subscriptions import patient_events
from app.domain.text import CONTROL_CHARACTERS_MESSAGE, has_control_characters
from app.masking import must_mask, restore_withheld
from app.services import pix
from app.services.fhir_validation import validate_patient

ID_PATTERN = re.compile(r"^[A-Za-z0-9\-.]{1,64}$")
#: A group of linked Patients this large is treated as protected without looking further.
MAX_LINKED_GROUP = 500


@dataclass(frozen=True)
class WriteResult:
    """A written (or, for conditional create, found) Patient version."""

    created: bool
    stored: StoredPatient


@dataclass
class SearchPage:
    """One page of a search: matches, the total when known, and ``_include``d records."""

    matches: list[StoredPatient]
    total: int | None
    included: list[StoredPatient] = field(default_factory=list)


def check_id(patient_id: str) -> str:
    """Refuse ids FHIR does not allow (R4 §2.24.0.1: 1–64 of A-Z a-z 0-9 - .)."""
    if not ID_PATTERN.match(patient_id):
        raise InvalidRequest("A resource id is 1–64 characters of A–Z, a–z, 0–9, '-' and '.'")
    return patient_id


def read(uow: UnitOfWork, patient_id: str, *, for_update: bool = False) -> StoredPatient:
    """The current version; 404 if never created, 410 if deleted. ``for_update``: locked
    until the write transaction ends, so concurrent writers of the record take turns."""
    current = uow.patients.get(check_id(patient_id), for_update=for_update)
    if current is None:
        raise NotFound(f"Patient/{patient_id} is not known")
    if current.deleted:
        raise Gone(f"Patient/{patient_id} was deleted")
    return current


def vread(uow: UnitOfWork, patient_id: str, version_id: str) -> StoredPatient:
    """One version from the history; 410 for the version that records a deletion."""
    if not version_id.isdigit():
        raise NotFound(f"Patient/{patient_id} has no version {version_id[:20]!r}")
    stored = uow.patients.get_version(check_id(patient_id), int(version_id))
    if stored is None:
        raise NotFound(f"Patient/{patient_id} has no version {version_id}")
    if stored.deleted:
        raise Gone(f"Patient/{patient_id} version {version_id} is a deletion")
    return stored


def create(
    uow: UnitOfWork,
    body: Any,
    *,
    if_none_exist: str | None = None,
    today: date,
    access: Access,
    new_id: str | None = None,
    bulk_load: bool = False,
    pending: frozenset[str] = frozenset(),
) -> WriteResult:
    """Create a Patient with a server-assigned id; with ``If-None-Exist`` return the one
    match instead (200), refuse several (412). An ``id`` in the body is ignored (FHIR R4
    §3.1.0.8: the server assigns it). ``bulk_load``: see "Bulk loads" above. ``pending``:
    ids a transaction writes later, which a link may name before they exist."""
    if isinstance(body, dict):
        body = {key: value for key, value in body.items() if key != "id"}
    resource = prepare(body, today)
    if not bulk_load:
        check_link_changes(uow, None, resource)
    if if_none_exist is None:
        source_domains.check_write(access.scopes.source_domains, None, resource)
    else:
        query = conditional_query(if_none_exist, today, access)
        uow.lock(_criteria_key(query))
        found = _matches(uow, query, "If-None-Exist")
        if found is not None:
            return WriteResult(False, found)
        source_domains.check_write(access.scopes.source_domains, None, resource)
    patient_id = new_id or str(uuid.uuid4())
    return WriteResult(True, write(uow, patient_id, resource, None, "POST",
                                   links_may_dangle=bulk_load, pending=pending))


def update(
    uow: UnitOfWork,
    patient_id: str,
    body: Any,
    *,
    if_match: str | None,
    access: Access,
    today: date,
    bulk_load: bool = False,
) -> WriteResult:
    """Replace the Patient (or create it with the client's id when it does not exist).
    ``bulk_load``: see "Bulk loads" above."""
    resource = prepare(body, today)
    if resource.get("id") != check_id(patient_id):
        raise InvalidRequest("The resource id must equal the id in the URL", expression=["id"])
    current = uow.patients.get(patient_id, for_update=True)
    check_version(current, if_match)
    if current is not None and must_mask(current.protected, access):
        if current.deleted:
            # Re-creating a deleted protected record could drop its protection (and with it
            # that of the records linked to it): only a caller who may see it may do that.
            raise Forbidden("Re-creating a deleted protected Patient needs the "
                            "protected-identity scope")
        resource = restore_withheld(resource, current.load())
    before = None if current is None or current.deleted else current.load()
    if not bulk_load:
        check_link_changes(uow, before, resource)
    source_domains.check_write(access.scopes.source_domains, before, resource)
    return WriteResult(before is None, write(uow, patient_id, resource, current, "PUT",
                                             links_may_dangle=bulk_load))


def conditional_update(
    uow: UnitOfWork,
    criteria: str,
    body: Any,
    *,
    if_match: str | None,
    access: Access,
    today: date,
) -> WriteResult:
    """``PUT Patient?criteria``: update the one match, create when none, 412 on several."""
    found = conditional_target(uow, criteria, today, access, "conditional update")
    return update_found(uow, found, body, if_match=if_match, access=access, today=today)


def conditional_target(uow: UnitOfWork, criteria: str, today: date, access: Access,
                       what: str, *, own_identifiers: bool = False) -> StoredPatient | None:
    """The one Patient a conditional write's criteria select (None: none; 412: several),
    with the criteria locked until commit so racing conditional writers serialise.

    ``own_identifiers`` (an identity feed, IHE ITI-104): of several matches, the one record
    holding the ``identifier`` criteria as its own — a merged-away record's identifiers are
    also on its survivor with ``use=old``, and the Source means the record it fed."""
    query = conditional_query(criteria, today, access)
    uow.lock(_criteria_key(query))
    if own_identifiers:
        found = uow.patients.search(query, see_protected=True)
        matches = [v for c in query.clauses if c.type == "identifier"
                   for v in c.values if isinstance(v, IdentifierMatch)]
        own = [p for p in found if matches and holds_own(p.load(), matches)]
        if len(found) > 1 and len(own) == 1:
            return uow.patients.get(own[0].id)
    return _matches(uow, query, what)


def update_found(uow: UnitOfWork, found: StoredPatient | None, body: Any, *,
                 if_match: str | None, access: Access, today: date) -> WriteResult:
    """The write of a conditional update once its target is known (None: create)."""
    if not isinstance(body, dict):
        raise InvalidRequest("The body must be a JSON object (a FHIR resource)")
    if found is None:
        if body.get("id") is not None:
            return update(uow, str(body["id"]), body, if_match=if_match, access=access,
                          today=today)
        return create(uow, body, today=today, access=access)
    if body.get("id") not in (None, found.id):
        raise InvalidRequest("The resource id does not belong to the matching Patient")
    body = {**body, "id": found.id}
    return update(uow, found.id, body, if_match=if_match, access=access, today=today)


def patch(
    uow: UnitOfWork,
    patient_id: str,
    operations: Any,
    *,
    if_match: str | None,
    access: Access,
    today: date,
) -> WriteResult:
    """Apply a JSON Patch (RFC 6902) to the current version, locked like update's: without
    the lock racing patches each read the same version and all but one lost (409)."""
    current = read(uow, patient_id, for_update=True)
    check_version(current, if_match)
    if must_mask(current.protected, access):
        raise PreconditionFailed(
            "A protected Patient cannot be patched without the protected-identity scope; "
            "use update"
        )
    try:
        document = jsonpatch.JsonPatch(operations)
        patched = document.apply(current.load())
    except (jsonpatch.InvalidJsonPatch, TypeError, AttributeError):
        raise InvalidRequest("The body is not a valid JSON Patch document") from None
    except (jsonpatch.JsonPatchException, jsonpatch.JsonPointerException, IndexError, KeyError):
        raise BusinessRuleViolation("The JSON Patch cannot be applied to this Patient") from None
    if not isinstance(patched, dict) or patched.get("id") != patient_id:
        raise BusinessRuleViolation("A JSON Patch may not change the resource id")
    resource = prepare(patched, today)
    check_link_changes(uow, current.load(), resource)
    source_domains.check_write(access.scopes.source_domains, current.load(), resource)
    return WriteResult(False, write(uow, patient_id, resource, current, "PATCH"))


def conditional_patch(
    uow: UnitOfWork,
    criteria: str,
    operations: Any,
    *,
    if_match: str | None,
    access: Access,
    today: date,
) -> WriteResult:
    """``PATCH Patient?criteria`` (FHIR R4 §3.1.0.7.1): patch the one match; none is 404,
    several 412."""
    query = conditional_query(criteria, today, access)
    uow.lock(_criteria_key(query))
    found = _matches(uow, query, "conditional patch")
    if found is None:
        raise NotFound("No Patient matches the conditional patch criteria")
    return patch(uow, found.id, operations, if_match=if_match, access=access, today=today)


def delete(uow: UnitOfWork, patient_id: str, access: Access) -> None:
    """Logically delete; reads answer 410 afterwards. Deleting twice is harmless.

    A protected Patient can only be deleted by a caller who may see it: deleting it would
    lift the protection of the records linked to it (docs/domain.md §3.6)."""
    current = uow.patients.get(check_id(patient_id), for_update=True)
    if current is None:
        raise NotFound(f"Patient/{patient_id} is not known")
    if must_mask(current.protected, access):
        raise Forbidden("Deleting a protected Patient needs the protected-identity scope")
    if not current.deleted:
        source_domains.check_write(access.scopes.source_domains, current.load(), None)
        version_id = uow.patients.mark_deleted(current, utc_now())
        uow.events += patient_events(current.id, version_id, current.load(), None)


def conditional_delete(uow: UnitOfWork, criteria: str, today: date, access: Access) -> None:
    """``DELETE Patient?criteria``: delete the one match; none is fine, several is 412."""
    found = _matches(uow, conditional_query(criteria, today, access), "conditional delete")
    if found is not None:
        delete(uow, found.id, access)


def search(uow: UnitOfWork, query: SearchQuery, access: Access, today: date) -> SearchPage:
    """Run a parsed search: a page of matches, the total and the included linked records.

    IHE PDQm ITI-78 (README "IHE PIXm and PDQm"): an ``identifier`` value with a system and
    no value names an identity domain — matches must hold an identifier of it, only those
    identifiers are shown (``query.identifier_domains``), and a domain this server does not
    know is a 404 "targetSystem not found" (PDQm's Case 4, its preferred answer)."""
    resolve_identifiers(query, today)
    query.identifier_domains = identifier_domains(query)
    for system in query.identifier_domains:
        if not pix.recognised(uow, system):
            raise pix.DomainNotRecognised("targetSystem not found",
                                          expression=[f"identifier={system}|"])
    see = access.see_protected
    matches = [] if query.summary == "count" else uow.patients.search(query, see_protected=see)
    total: int | None = None
    # _count=0 asks only for the total (fhirpy's count(), HAPI answers it the same way).
    if query.total in ("estimate", "accurate") or query.summary == "count" or query.count == 0:
        total = uow.patients.count(query, see_protected=see)
    elif query.offset == 0 and len(matches) < query.count:
        total = len(matches)
    included: list[StoredPatient] = []
    if query.include_links and matches:
        own = {m.id for m in matches}
        targets = [t for t in uow.patients.link_targets(sorted(own)) if t not in own]
        included = uow.patients.get_many(targets)
    return SearchPage(matches, total, included)


def history(
    uow: UnitOfWork,
    patient_id: str | None,
    *,
    since: str | None,
    count: int,
    offset: int,
) -> tuple[list[StoredPatient], int]:
    """Versions newest first; instance history answers 404 for an unknown id."""
    if patient_id is not None and uow.patients.get(check_id(patient_id)) is None:
        raise NotFound(f"Patient/{patient_id} is not known")
    since_at = None
    if since is not None:
        try:
            since_at = parse_range(since)[0]
        except ValueError:
            raise InvalidRequest("'_since' is not a valid FHIR instant") from None
    return uow.patients.history(patient_id, since=since_at, count=count, offset=offset)


def prepare(body: Any, today: date) -> dict[str, Any]:
    """Validate a Patient body — its structure, our extensions against their definitions —
    and normalise its identifiers (400 / 422 on failure). Every Patient a client writes
    passes here: REST and Bundle writes, conditional ones, ``load``, ``$merge``'s
    result-patient and ``$generate-reserve-id``'s patient."""
    if has_control_characters(body):  # from any source: HTTP checks its bodies, `load` not
        raise InvalidRequest(CONTROL_CHARACTERS_MESSAGE)
    resource = validate_patient(body)
    check_extensions(resource)
    normalise_patient_identifiers(resource, today)
    return resource


def write(
    uow: UnitOfWork,
    patient_id: str,
    resource: dict[str, Any],
    previous: StoredPatient | None,
    method: str,
    *,
    links_may_dangle: bool = False,
    pending: frozenset[str] = frozenset(),
) -> StoredPatient:
    """Store ``resource`` as the next version of ``patient_id``, then what follows from it:
    the reverse ``seealso`` links of the records it links or unlinks
    (:func:`_mirror_seealso`), and protection decided again for each written record's
    linked group (:func:`propagate_protection`). ``links_may_dangle``: a link may name a
    Patient that does not exist yet (a bulk load); ``pending``: only these (written later in
    the same transaction)."""
    stored = _store_version(uow, patient_id, resource, previous, method,
                            links_may_dangle=links_may_dangle, pending=pending)
    _mirror_seealso(uow, patient_id, previous, resource)
    return _settle_protection(uow, stored, previous)


def _store_version(uow: UnitOfWork, patient_id: str, resource: dict[str, Any],
                   previous: StoredPatient | None, method: str, *,
                   links_may_dangle: bool = False,
                   pending: frozenset[str] = frozenset()) -> StoredPatient:
    """One new version with its index rows and its outbox events, after the checks on its
    link targets and identifiers; nothing else changes."""
    now = utc_now()
    version_id = 1 if previous is None else previous.version_id + 1
    resource = stamp(resource, patient_id, version_id, now)
    index = index_patient(resource)
    _check_link_targets(uow, patient_id, index, may_dangle=links_may_dangle, pending=pending)
    _check_identifiers(uow, patient_id, index)
    data = orjson.dumps(resource)
    uow.patients.save(patient_id, version_id, data, index, now, method)
    before = previous.load() if previous is not None and not previous.deleted else None
    uow.events += patient_events(patient_id, version_id, before, resource)  # the outbox
    protected = previous is not None and previous.protected
    return StoredPatient(patient_id, version_id, now, False, protected, data, method)


def _settle_protection(uow: UnitOfWork, stored: StoredPatient,
                       previous: StoredPatient | None) -> StoredPatient:
    """``stored`` with the protection its linked group now gives it."""
    was_protected = previous is not None and previous.protected
    protected = propagate_protection(uow, stored.id, was_protected=was_protected)
    return replace(stored, protected=protected)


def stamp(resource: dict[str, Any], patient_id: str, version_id: int,
          now: datetime) -> dict[str, Any]:
    """``resource`` as stored as version ``version_id`` of ``patient_id``: its id and
    ``meta.versionId``/``lastUpdated`` set by the server, a SUBSETTED tag dropped."""
    meta = {key: value for key, value in resource.get("meta", {}).items()
            if key not in ("versionId", "lastUpdated")}
    # A SUBSETTED tag describes one response, never the stored record.
    if "tag" in meta:
        meta["tag"] = [t for t in meta["tag"] if t.get("code") != "SUBSETTED"] or None
        if meta["tag"] is None:
            del meta["tag"]
    rest = {k: v for k, v in resource.items() if k not in ("resourceType", "id", "meta")}
    return {
        "resourceType": "Patient",
        "id": patient_id,
        "meta": {"versionId": str(version_id), "lastUpdated": instant(now), **meta},
        **rest,
    }


def _mirror_seealso(uow: UnitOfWork, patient_id: str, previous: StoredPatient | None,
                    resource: dict[str, Any]) -> None:
    """A ``seealso`` link added to (removed from) this Patient adds (removes) the reverse
    link on the other record, as a new version of it (issue 7, docs/domain.md §4). Only
    links that changed in this write are mirrored, and the mirrored version is stored
    without mirroring again. Deleting a Patient leaves the other side's link as it is."""
    before: set[str] = set()
    if previous is not None and not previous.deleted and previous.resource is not None:
        before = set(linked_ids(previous.load(), SEEALSO))
    after = set(linked_ids(resource, SEEALSO))
    for other_id in sorted(before ^ after):
        other = uow.patients.get(other_id, for_update=True)
        if other is None or other.deleted:
            continue
        changed = with_reverse_seealso(other.load(), patient_id, linked=other_id in after)
        if changed is not None:
            _settle_protection(uow, _store_version(uow, other_id, changed, other, "PUT"), other)


def propagate_protection(uow: UnitOfWork, patient_id: str, *, was_protected: bool) -> bool:
    """Re-evaluate protection for ``patient_id`` (just written) and every Patient connected
    to it through ``Patient.link``; return its own flag.

    The rule (docs/domain.md §3.6, api.md "Access control"): a Patient is protected when its
    own content protects it (:func:`app.domain.protection.is_protected`: a protection
    label, patient type "Oklar", or anything that rule cannot read), or when any Patient
    connected to it by links — in either direction, at any depth, deleted records
    included — does. So when a record gains a label every record linked to it becomes
    protected in the same transaction, and when the last label of a connected group goes
    they all lose it again.
    Becoming protected also protects the stored history (``set_protected``).

    Writers that touch a linked or protected group serialise on one lock and then look
    again: under PostgreSQL's READ COMMITTED, a transaction labelling B and one linking A to
    B would otherwise each miss the other's uncommitted change.
    """
    rows, protected = _group_protection(uow, patient_id)
    if len(rows) > 1 or protected or was_protected:
        uow.lock("patient-protection")
        rows, protected = _group_protection(uow, patient_id)
    changed = [i for i, _r, flag in rows if flag != protected]
    if protected and not was_protected and patient_id not in changed:
        changed.append(patient_id)  # its row was saved protected; its history not yet
    uow.patients.set_protected(changed, protected)
    return protected


def reassess_protection(uow: UnitOfWork) -> list[str]:
    """Decide protection again, by today's rule, for every stored Patient and version
    flagged unprotected; return the ids of the Patients whose own content protects them now
    (the records linked to them follow).

    For data written under an earlier rule (migration 0004): until issue 14 a patient type
    "oklar" written as valueCodeableConcept or valueString, in capitals or with another
    system was stored unprotected. A record protected now protects its linked group and
    their histories (:func:`propagate_protection`); an older version that the rule protects
    is marked protected on its own (it holds the data that made it so). Nothing loses its
    protection here."""
    records = [patient_id for patient_id, resource in uow.patients.unprotected_records()
               if is_protected(orjson.loads(resource))]
    for patient_id in records:
        propagate_protection(uow, patient_id, was_protected=False)
    uow.patients.protect_versions([
        (patient_id, version) for patient_id, version, resource
        in uow.patients.unprotected_versions() if is_protected(orjson.loads(resource))])
    return records


def _group_protection(uow: UnitOfWork,
                      patient_id: str) -> tuple[list[tuple[str, bytes | None, bool]], bool]:
    """The (id, resource, flag) rows of the linked group of ``patient_id`` and whether the
    group is protected."""
    component = {patient_id}
    frontier = [patient_id]
    while frontier and len(component) < MAX_LINKED_GROUP:
        found = uow.patients.linked_ids(frontier) - component
        component |= found
        frontier = sorted(found)
    rows = list(uow.patients.protection_of(sorted(component)))
    protected = group_is_protected(
        (None if resource is None else orjson.loads(resource) for _id, resource, _flag in rows),
        complete=len(component) < MAX_LINKED_GROUP)
    return rows, protected


def check_version(current: StoredPatient | None, if_match: str | None) -> None:
    """``If-Match: W/"n"`` must name the current version (412 otherwise)."""
    if if_match is None:
        return
    wanted = if_match.strip()
    wanted = wanted[2:] if wanted.startswith("W/") else wanted
    wanted = wanted.strip('"')
    if not wanted.isdigit():
        raise InvalidRequest("If-Match must be an ETag like W/\"3\"")
    if current is None or current.deleted or current.version_id != int(wanted):
        raise PreconditionFailed("If-Match does not name the current version of the Patient")


def conditional_query(criteria: str, today: date, access: Access) -> SearchQuery:
    """Parse the search criteria of a conditional interaction.

    Conditional matching sees every record (a hidden match must not be duplicated), so a
    caller who may not see protected data may not use withheld fields as criteria: the
    answer would reveal them (api.md "Searches on withheld fields never reveal the person").
    """
    if not isinstance(criteria, str):
        raise InvalidRequest("Conditional criteria must be a query string")
    criteria = criteria.split("?", 1)[1] if "?" in criteria else criteria
    query = parse_search(parse_qsl(criteria, keep_blank_values=True), default_count=2,
                         max_count=2, strict=True)
    if not query.clauses:
        raise InvalidRequest("A conditional request needs at least one search parameter")
    withheld = sorted({c.name for c in query.clauses if c.name in WITHHELD_PARAMETERS})
    if withheld and not access.see_protected:
        raise Forbidden(f"Conditional criteria on {', '.join(withheld)} need the "
                        "protected-identity scope")
    resolve_identifiers(query, today)
    query.count, query.offset, query.sort = 2, 0, []
    return query


def identifier_domains(query: SearchQuery) -> list[str]:
    """The systems of ``identifier=<system>|`` values (a domain, no value) of a search."""
    return list(dict.fromkeys(
        value.system for clause in query.clauses
        if clause.type == "identifier" and clause.modifier is None
        for value in clause.values
        if isinstance(value, IdentifierMatch) and value.codes is None and value.system))


def resolve_identifiers(query: SearchQuery, today: date) -> None:
    """Normalise ``identifier`` search values through the identity library."""
    for clause in query.clauses:
        if clause.type == "identifier" and clause.modifier != "missing":
            clause.values = [
                identifier_match(v, today) if isinstance(v, TokenValue) else v
                for v in clause.values
            ]


def _criteria_key(query: SearchQuery) -> str:
    """One lock key for every spelling of the same criteria (order, encoding, display
    forms of identifiers), so racing conditional writers serialise."""
    clauses = sorted(
        f"{c.name}:{c.modifier or ''}={'|'.join(sorted(_value_key(v) for v in c.values))}"
        for c in query.clauses
    )
    return "conditional:" + "&".join(clauses)


def _value_key(value: object) -> str:
    if isinstance(value, IdentifierMatch):
        codes = ",".join(sorted(value.codes)) if value.codes is not None else "*"
        return f"{value.system}#{codes}"
    return repr(value)


def _matches(uow: UnitOfWork, query: SearchQuery, what: str) -> StoredPatient | None:
    found = uow.patients.search(query, see_protected=True)
    if len(found) > 1:
        raise PreconditionFailed(f"The {what} criteria match more than one Patient")
    return uow.patients.get(found[0].id) if found else None



def check_link_changes(uow: UnitOfWork, before: dict[str, Any] | None,
                       resource: dict[str, Any]) -> None:
    """What a create, update or patch may do to ``Patient.link`` (docs/domain.md §3.5): keep
    ``replaced-by``/``replaces`` as they are — ``$merge``/``$unmerge`` own them — and add a
    ``seealso`` link only to a record that does not contradict this one."""
    check_merge_links_kept(before, resource)
    already = set(linked_ids(before or {}, SEEALSO))
    for position, link in enumerate(resource.get("link") or []):
        other_id = link_target_id(link)
        if link.get("type") != SEEALSO or other_id is None or other_id in already:
            continue
        other = uow.patients.get(other_id)
        if other is not None and not other.deleted:  # an unknown target: write() refuses it
            check_seealso(resource, other.load(), position)


def _check_link_targets(uow: UnitOfWork, patient_id: str, index: PatientIndex, *,
                        may_dangle: bool, pending: frozenset[str]) -> None:
    """Each link names another Patient that exists (or, in a bulk load or transaction, will).
    What the links mean for protection is :func:`propagate_protection`'s, after the write."""
    for position, (target, _type) in enumerate(index.links):
        where = [f"Patient.link[{position}].other"]
        if target == patient_id:
            raise BusinessRuleViolation("A Patient cannot link to itself", expression=where)
        linked = uow.patients.get(target)
        if linked is None and (may_dangle or target in pending):
            continue  # its own write joins the groups (propagate_protection)
        if linked is None or linked.deleted:
            raise BusinessRuleViolation(
                f"Patient.link[{position}] points at Patient/{target}, which does not exist",
                expression=where,
            )


def _check_identifiers(uow: UnitOfWork, patient_id: str, index: PatientIndex) -> None:
    if not index.active:
        return
    conflict = identifier_conflict(
        patient_id, index, uow.patients.identifier_holders(index.identifiers))
    if conflict is not None:
        raise conflict


def identifier_conflict(patient_id: str, index: PatientIndex,
                        holders: dict[tuple[str, str], str]) -> Conflict | None:
    """The 409 for writing ``index`` as ``patient_id`` when another active Patient holds
    one of its identifiers (``holders``: system|value → the Patient holding it), else None.
    An inactive Patient's identifiers are never checked."""
    if not index.active:
        return None
    for pair in index.identifiers:
        holder = holders.get(pair)
        if holder is not None and holder != patient_id:
            return Conflict(
                f"Identifier {pair[0] or '(no system)'} with this value is already held by "
                f"another active Patient (Patient/{holder}); use conditional create to get "
                "or create",
                expression=["Patient.identifier"],
            )
    return None

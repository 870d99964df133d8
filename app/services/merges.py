"""``$merge`` and ``$unmerge`` use cases (api.md "Operations", docs/domain.md §3.5).

Each runs in the unit of work it is given (the route wraps it in ``run_write``, which
commits and retries a transaction that lost a race); the rules are in
:mod:`app.domain.merge`, storage goes through :func:`app.services.patients.write` so
history, search indexes and the identifier-uniqueness rule stay in one place.

Concurrency: both records are locked (``SELECT … FOR UPDATE`` on PostgreSQL, the write lock
on SQLite) in id order before anything is decided, so of two merges of the same source into
different targets exactly one succeeds and the other sees the source already merged.

Already-merged records: a merge whose source or target was merged away is refused (422)
naming the surviving record — the server does not silently redirect to the survivor,
because the caller's decision was about the record it named. A merge whose target's survivor
chain leads back to the source is refused as a cycle.

Notifications: every merge and unmerge writes new versions of both records (visible in
``_history``, instance and type level) and a Provenance (``GET
/fhir/Provenance?target=Patient/<id>``), plus an AuditEvent, and the ``patient-merge``
subscription events of both records in the same transaction (api.md "Subscriptions").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from app.adapters.patient_repository import StoredPatient
from app.adapters.unit_of_work import UnitOfWork
from app.domain import merge as rules
from app.domain import source_domains
from app.domain.access import Access
from app.domain.errors import Gone, InvalidRequest, NotFound
from app.domain.identifiers import IdentifierMatch, identifier_match
from app.domain.patient_index import index_patient
from app.domain.references import patient_reference_id
from app.domain.search import Clause, SearchQuery, TokenValue
from app.domain.subscriptions import merge_events
from app.masking import must_mask, restore_withheld
from app.services import audit_events, patients, provenance

MAX_CANDIDATES = 50


@dataclass(frozen=True)
class PatientRef:
    """How the caller names one record: a Reference and/or Identifiers (R5 Patient-merge)."""

    reference: dict[str, Any] | None = None
    identifiers: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class MergeRequest:
    """The parameters of ``$merge`` / ``$unmerge``."""

    source: PatientRef
    target: PatientRef
    result_patient: dict[str, Any] | None = None
    preview: bool = False
    force: bool = False
    reason: str | None = None


@dataclass(frozen=True)
class MergeOutcome:
    """What happened (or would happen, with preview): the target as it is now or would be,
    whether it is protected, and the messages for the OperationOutcome."""

    target: dict[str, Any]
    protected: bool
    messages: list[tuple[str, str, str]]
    provenance_id: str | None = None


@dataclass
class _Pair:
    source: StoredPatient
    target: StoredPatient
    source_resource: dict[str, Any]
    target_resource: dict[str, Any]


def merge(uow: UnitOfWork, request: MergeRequest, access: Access, today: date) -> MergeOutcome:
    """Merge the source record into the target (see the module docstring for the rules)."""
    reason = (request.reason or "").strip() or None
    if request.force and reason is None:
        raise InvalidRequest("force=true needs a reason (the parameter 'reason'), which is "
                             "recorded in the Provenance")
    result = _result_patient(request.result_patient, today)
    pair = _lock_pair(uow, request, today)
    source = rules.Record(pair.source_resource, uow.patients.created_at(pair.source.id))
    target_now = rules.Record(pair.target_resource, uow.patients.created_at(pair.target.id))
    source_domains.check_merge(access.scopes.source_domains, pair.source_resource,
                               pair.target_resource)
    rules.check_cycle(source, _chain(uow, pair.target_resource))
    rules.check_not_merged(source, "source-patient", _chain(uow, pair.source_resource)[-1])
    rules.check_not_merged(target_now, "target-patient", _chain(uow, pair.target_resource)[-1])
    if result is not None:
        result = _checked_result(result, pair, access)
    effective = rules.Record(result if result is not None else pair.target_resource,
                             target_now.created_at)
    rules.check_direction(source, effective)
    # The stored target too: result-patient must not talk a contradiction away.
    overridden = rules.check_contradictions(
        pair.source_resource, pair.target_resource, *([] if result is None else [result]),
        force=request.force, reason=reason)
    merged = rules.merge(pair.source_resource, pair.target_resource, result)
    messages = [("information", "informational",
                 f"{source.reference} {'would be' if request.preview else 'was'} merged into "
                 f"{target_now.reference}" + (f"; {len(merged.copied)} identifier(s) copied "
                                              "with use=old" if merged.copied else ""))]
    if overridden:
        messages.append(("warning", "business-rule",
                         "Contradiction overridden with force=true: " + "; ".join(overridden)))
    protected = pair.source.protected or pair.target.protected
    if request.preview:
        messages.append(("information", "informational", "Preview only: nothing was changed"))
        protected = protected or index_patient(merged.target).protected
        return MergeOutcome(merged.target, protected, messages)
    written_source = patients.write(uow, pair.source.id, merged.source, pair.source, "PUT")
    written_target = patients.write(uow, pair.target.id, merged.target, pair.target, "PUT")
    reasons = ([reason] if reason else []) + (
        [f"Contradiction overridden with force=true: {'; '.join(overridden)}"]
        if overridden else [])
    provenance_id = provenance.record(
        uow, access, "merge",
        [(written_target.id, written_target.version_id),
         (written_source.id, written_source.version_id)],
        entities=[provenance.Entity(
            "source", f"Patient/{pair.source.id}/_history/{pair.source.version_id}")],
        reasons=reasons)
    audit_events.record(uow, access, "U", [pair.target.id, pair.source.id], "0", "merge")
    uow.events += merge_events((written_source.id, written_source.version_id, merged.source),
                               (written_target.id, written_target.version_id, merged.target))
    return MergeOutcome(written_target.load(), written_target.protected, messages,
                        provenance_id)


def unmerge(uow: UnitOfWork, request: MergeRequest, access: Access,
            today: date) -> MergeOutcome:
    """Undo the merge of the source into the target exactly (see :func:`rules.unmerge`)."""
    if request.result_patient is not None:
        raise InvalidRequest("$unmerge does not take result-patient")
    pair = _lock_pair(uow, request, today)
    source, target = pair.source_resource, pair.target_resource
    rules.check_merged_pair(source, target)
    later = rules.replaced_by(target)
    if later is not None:
        raise rules.MergeRefused(
            f"Patient/{pair.target.id} has since been merged into Patient/{later}; undo that "
            "merge first (chained merges are undone in reverse order)")
    merge_record = provenance.latest(uow, "merge", [pair.source.id, pair.target.id])
    if merge_record is None:
        raise rules.MergeRefused(
            f"There is no record of a $merge of Patient/{pair.source.id} into "
            f"Patient/{pair.target.id} (the links were written by hand); edit the links "
            "with an update instead")
    versions = _versions(merge_record)
    source_before = _version(uow, pair.source.id, versions[pair.source.id] - 1)
    target_before = _version(uow, pair.target.id, versions[pair.target.id] - 1)
    target_merged = _version(uow, pair.target.id, versions[pair.target.id])
    undone = rules.unmerge(source, target, source_before=source_before,
                           target_before=target_before, target_merged=target_merged)
    messages = [("information", "informational",
                 f"The merge of Patient/{pair.source.id} into Patient/{pair.target.id} "
                 f"{'would be' if request.preview else 'was'} undone"
                 + (f"; {len(undone.removed)} copied identifier(s) removed"
                    if undone.removed else ""))]
    if request.preview:
        messages.append(("information", "informational", "Preview only: nothing was changed"))
        return MergeOutcome(undone.target, pair.target.protected, messages)
    # Target first: it gives up the copied identifiers before the source holds them again.
    written_target = patients.write(uow, pair.target.id, undone.target, pair.target, "PUT")
    written_source = patients.write(uow, pair.source.id, undone.source, pair.source, "PUT")
    reason = (request.reason or "").strip()
    provenance_id = provenance.record(
        uow, access, "unmerge",
        [(written_target.id, written_target.version_id),
         (written_source.id, written_source.version_id)],
        entities=[provenance.Entity("source", f"Provenance/{merge_record['id']}")],
        reasons=[reason] if reason else [])
    audit_events.record(uow, access, "U", [pair.target.id, pair.source.id], "0", "unmerge")
    uow.events += merge_events((written_source.id, written_source.version_id, undone.source),
                               (written_target.id, written_target.version_id, undone.target))
    return MergeOutcome(written_target.load(), written_target.protected, messages,
                        provenance_id)


# --- resolving and locking ----------------------------------------------------------------

def resolve(uow: UnitOfWork, ref: PatientRef, role: str, today: date) -> str:
    """The id of the one Patient a Reference and/or Identifiers name (404 when none)."""
    named: str | None = None
    identifiers = list(ref.identifiers)
    if ref.reference is not None:
        if isinstance(ref.reference.get("identifier"), dict):
            identifiers.append(ref.reference["identifier"])
        if ref.reference.get("reference") is not None:
            named = patient_reference_id(ref.reference.get("reference"))
            if named is None:
                raise InvalidRequest(f"{role}: the reference must name a Patient "
                                     "(Patient/<id>)", expression=[role])
    if identifiers:
        found = _by_identifiers(uow, identifiers, role, today)
        if named is not None and named != found:
            raise InvalidRequest(f"{role}: the reference and the identifiers name different "
                                 "Patients", expression=[role])
        named = found
    if named is None:
        raise InvalidRequest(f"Name the {role} by reference ({role}) or by identifier "
                             f"({role}-identifier)", expression=[role])
    return named


def _by_identifiers(uow: UnitOfWork, identifiers: list[dict[str, Any]], role: str,
                    today: date) -> str:
    matches: list[IdentifierMatch] = []
    for ident in identifiers:
        value = ident.get("value")
        if not isinstance(value, str) or not value.strip():
            raise InvalidRequest(f"{role}-identifier needs a value",
                                 expression=[f"{role}-identifier"])
        system = ident.get("system")
        matches.append(identifier_match(TokenValue(system if system else None, value), today))
    query = SearchQuery(clauses=[Clause("identifier", "identifier", None, [m])
                                 for m in matches], count=MAX_CANDIDATES)
    found = uow.patients.search(query, see_protected=True)
    if not found:
        raise NotFound(f"No Patient holds the {role}-identifier")
    # A merged-away record's identifiers are also on its survivor (use=old): the record that
    # holds them as its own is the one named.
    own = [p.id for p in found if rules.holds_own(p.load(), matches)]
    if len(own) == 1:
        return own[0]
    if len(found) == 1:
        return found[0].id
    raise rules.MergeRefused(f"The {role}-identifier matches more than one Patient; name the "
                             "record by reference")


def _lock_pair(uow: UnitOfWork, request: MergeRequest, today: date) -> _Pair:
    source_id = resolve(uow, request.source, "source-patient", today)
    target_id = resolve(uow, request.target, "target-patient", today)
    if source_id == target_id:
        raise rules.MergeRefused(f"source-patient and target-patient are the same record "
                                 f"(Patient/{source_id}); a Patient cannot be merged into "
                                 "itself")
    locked = {pid: _lock(uow, pid) for pid in sorted((source_id, target_id))}
    source, target = locked[source_id], locked[target_id]
    return _Pair(source, target, source.load(), target.load())


def _lock(uow: UnitOfWork, patient_id: str) -> StoredPatient:
    current = uow.patients.get(patients.check_id(patient_id), for_update=True)
    if current is None:
        raise NotFound(f"Patient/{patient_id} is not known")
    if current.deleted:
        raise Gone(f"Patient/{patient_id} was deleted")
    return current


def _chain(uow: UnitOfWork, resource: dict[str, Any]) -> list[str]:
    """Ids from ``resource`` along its ``replaced-by`` links to the final survivor."""
    chain = [str(resource["id"])]
    current = resource
    while (survivor := rules.replaced_by(current)) is not None and survivor not in chain:
        stored = uow.patients.get(survivor)
        chain.append(survivor)
        if stored is None or stored.deleted or len(chain) > rules.MAX_CHAIN:
            break
        current = stored.load()
    return chain


# --- result-patient and history -----------------------------------------------------------

def _result_patient(body: dict[str, Any] | None, today: date) -> dict[str, Any] | None:
    return None if body is None else patients.prepare(body, today)


def _checked_result(result: dict[str, Any], pair: _Pair, access: Access) -> dict[str, Any]:
    """result-patient must be the target and keep every identifier the target holds; its
    links are the target's (links are written by merges and seealso updates, not here)."""
    if result.get("id") not in (None, pair.target.id):
        raise InvalidRequest("result-patient must have the id of the target patient",
                             expression=["result-patient"])
    if must_mask(pair.target.protected, access):
        result = restore_withheld(result, pair.target_resource)
    kept = {(i.get("system", ""), i.get("value")) for i in result.get("identifier") or []}
    for ident in pair.target_resource.get("identifier") or []:
        if (ident.get("system", ""), ident.get("value")) not in kept:
            raise rules.MergeRefused("result-patient must keep every identifier of the target "
                                     "patient", expression=["result-patient"])
    result["id"] = pair.target.id
    result.pop("link", None)
    if pair.target_resource.get("link"):
        result["link"] = pair.target_resource["link"]
    return result


def _versions(merge_record: dict[str, Any]) -> dict[str, int]:
    """Patient id → the version the merge wrote, from the merge's Provenance targets."""
    versions = {}
    for target in merge_record.get("target", []):
        parts = str(target.get("reference", "")).split("/")
        if len(parts) == 4 and parts[0] == "Patient" and parts[3].isdigit():
            versions[parts[1]] = int(parts[3])
    return versions


def _version(uow: UnitOfWork, patient_id: str, version_id: int) -> dict[str, Any]:
    stored = uow.patients.get_version(patient_id, version_id)
    if stored is None or stored.resource is None:
        raise rules.MergeRefused(f"The history of Patient/{patient_id} does not hold the "
                                 "version the merge started from; the merge cannot be undone "
                                 "exactly")
    return stored.load()


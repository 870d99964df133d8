"""IHE PIXm Patient Identity Feed FHIR (ITI-104): a Patient Identity Source's conditional
update, as the Patient Identifier Cross-reference Manager takes it (README "IHE PIXm and
PDQm").

* **Add / Revise Patient** — ``PUT Patient?identifier=<system>|<value>``: the plain
  conditional update (:func:`app.services.patients.update_found`).
* **Resolve Duplicate Patient** — the same PUT of the subsumed record with ``active=false``
  and a ``replaced-by`` link whose ``other`` names the survivor by reference or by
  identifier: a real merge through :func:`app.services.merges.merge` — the main-record
  priority rule, the contradiction rule (without an override: a feed has no ``force``), the
  Provenance, the AuditEvent and the subscription events are the merge's. The subsumed
  record's other changes are written first, in the same transaction: a refused merge
  stores nothing.
* **Remove Patient** — conditional delete (:func:`conditional_delete`): the identifier then
  leaves ITI-83's answers.

Each message whose criteria are ITI-104's (``identifier=<system>|<value>``) writes an
AuditEvent shaped as PIXm's Manager audit profiles say, in the write's transaction
(:func:`app.services.audit_events.record_transaction`) — a REST request's or a Bundle
entry's — and a refused one an AuditEvent with outcome 4 in a transaction of its own
(:func:`audit_refused`).

Which identity domains a Source may change is :mod:`app.domain.source_domains`' rule,
checked where every Patient write is (``app.services.patients``).
"""

from __future__ import annotations

from datetime import date
from typing import Any
from urllib.parse import parse_qsl

from app.adapters.unit_of_work import UnitOfWork
from app.domain import merge as rules
from app.domain.access import Access
from app.domain.errors import Gone, InvalidRequest, NotFound
from app.domain.references import link_target_id
from app.services import audit_events, merges, patients
from app.services.patients import WriteResult


def conditional_update(uow: UnitOfWork, criteria: str, body: Any, *, if_match: str | None,
                       access: Access, today: date,
                       network: audit_events.Network | None = None) -> WriteResult:
    """``PUT Patient?criteria`` from a Source: add, revise or resolve a duplicate; with the
    ITI-104 criteria (``identifier=<system>|<value>``) and a ``network``, an AuditEvent."""
    result = _conditional_update(uow, criteria, body, if_match=if_match, access=access,
                                 today=today)
    _audit(uow, access, criteria, network, "create" if result.created else "update",
           f"Patient/{result.stored.id}")
    return result


def conditional_delete(uow: UnitOfWork, criteria: str, today: date, access: Access,
                       network: audit_events.Network | None = None) -> None:
    """ITI-104 Remove Patient: the conditional delete, and its AuditEvent."""
    found = patients.conditional_target(uow, criteria, today, access, "conditional delete",
                                        own_identifiers=True)
    if found is None:
        return
    patients.delete(uow, found.id, access)
    _audit(uow, access, criteria, network, "delete", f"Patient/{found.id}")


def feed_identifier(criteria: str) -> dict[str, str] | None:
    """The identifier of ITI-104 criteria (exactly ``identifier=<system>|<value>``)."""
    pairs = parse_qsl(criteria.split("?", 1)[-1], keep_blank_values=True)
    if len(pairs) != 1 or pairs[0][0] != "identifier":
        return None
    system, bar, value = pairs[0][1].partition("|")
    return {"system": system, "value": value} if bar and system and value else None


def audit_refused(uow: UnitOfWork, access: Access, criteria: str,
                  network: audit_events.Network | None, interaction: str) -> None:
    """The AuditEvent of an ITI-104 message the Manager refused (outcome 4, minor failure),
    for a transaction of its own: the refused write's rolled back with its audit.
    ``interaction``: ``update`` (a PUT) or ``delete``."""
    _audit(uow, access, criteria, network, interaction, None, outcome="4")


def _audit(uow: UnitOfWork, access: Access, criteria: str,
           network: audit_events.Network | None, interaction: str, data: str | None,
           outcome: str = "0") -> None:
    identifier = feed_identifier(criteria)
    if network is None or identifier is None:
        return
    audit_events.record_transaction(uow, access, audit_events.IheTransaction(
        "ITI-104", interaction, {"create": "C", "update": "U", "delete": "D"}[interaction],
        network, patient_identifier=identifier, data=data), outcome)


def _conditional_update(uow: UnitOfWork, criteria: str, body: Any, *, if_match: str | None,
                        access: Access, today: date) -> WriteResult:
    found = patients.conditional_target(uow, criteria, today, access, "conditional update",
                                        own_identifiers=True)
    if not isinstance(body, dict):
        raise InvalidRequest("The body must be a JSON object (a FHIR resource)")
    before = None if found is None or found.deleted else found.load()
    body = _same_survivor_as_stored(uow, before, _keep_cross_references(before, body), today)
    plan = rules.resolve_duplicate(before, body)
    if plan is None:
        return patients.update_found(uow, found, body, if_match=if_match, access=access,
                                     today=today)
    written = patients.update_found(uow, found, plan.resource, if_match=if_match,
                                    access=access, today=today)
    subsumed = written.stored.id
    try:
        merges.merge(uow, merges.MergeRequest(
            source=merges.PatientRef(reference={"reference": f"Patient/{subsumed}"}),
            target=merges.PatientRef(reference=plan.survivor)), access, today)
    except (NotFound, Gone):
        raise rules.MergeRefused("The replaced-by link names a surviving record this server "
                                 "does not hold", expression=["Patient.link"]) from None
    return WriteResult(written.created, patients.read(uow, subsumed))


def _keep_cross_references(before: dict[str, Any] | None,
                           body: dict[str, Any]) -> dict[str, Any]:
    """What the Manager added to a record stays when its Source revises it: a Source knows
    nothing of the merges the Manager recorded, so a revision without ``replaced-by``/
    ``replaces`` links keeps the stored ones, and the identifiers a merge copied
    (``use=old``) are kept unless the revision names them."""
    if before is None:
        return body
    merge_types = (rules.REPLACED_BY, rules.REPLACES)
    body = dict(body)
    sent = [link for link in body.get("link") or [] if isinstance(link, dict)]
    if not any(link.get("type") in merge_types for link in sent):
        kept = [link for link in before.get("link") or [] if link.get("type") in merge_types]
        if kept:
            body["link"] = [*sent, *kept]
    idents = body.get("identifier")
    if isinstance(idents, list):
        named = {(i.get("system"), i.get("value")) for i in idents if isinstance(i, dict)}
        old = [i for i in before.get("identifier") or [] if i.get("use") == rules.OLD
               and (i.get("system"), i.get("value")) not in named]
        if old:
            body["identifier"] = [*idents, *old]
    return body


def _same_survivor_as_stored(uow: UnitOfWork, before: dict[str, Any] | None,
                             body: dict[str, Any], today: date) -> dict[str, Any]:
    """A Source that sends its Resolve Duplicate again (or a later revision of the subsumed
    record with the link by identifier) names the survivor the record is already merged
    into: its links are then the stored ones, and the message is a plain revision."""
    survivor = rules.replaced_by(before or {})
    if survivor is None:
        return body
    links = []
    for link in body.get("link") or []:
        other = link.get("other") if isinstance(link, dict) else None
        if (isinstance(other, dict) and link.get("type") == rules.REPLACED_BY
                and link_target_id(link) is None
                and isinstance(other.get("identifier"), dict)):
            try:
                named = merges.resolve(uow, merges.PatientRef(reference=other), "link", today)
            except (NotFound, InvalidRequest, rules.MergeRefused):
                named = None
            if named == survivor:
                link = {**link, "other": {"reference": f"Patient/{survivor}"}}
        links.append(link)
    return {**body, "link": links} if links else body

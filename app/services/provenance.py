"""Provenance the server writes about its own changes to Patients (api.md "Access control":
"merges record a Provenance (searchable by ``target``)").

One function, :func:`record`, builds an R4 Provenance and appends it to the append-only store
in the caller's unit of work (not committed here). ``GET /fhir/Provenance?target=Patient/<id>``
and ``?agent=<sub>`` find it (``app.http.audit_routes``); the index also carries
``activity`` (the lifecycle code) so that ``$unmerge`` can find the merge it reverses.

The Provenance:

* ``target`` — every Patient version the change wrote (``Patient/<id>/_history/<n>``);
* ``recorded`` — when; ``agent.who`` — the token ``sub`` (``anonymous`` in open mode);
* ``activity`` — ISO 21089 lifecycle event (``merge``, ``unmerge``), text ``MERGE``/``UNMERGE``;
* ``reason`` — the caller's reason and, for an override, what was overridden (as text);
* ``entity`` — what the change was made from, each with a role (``source`` …).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from app.adapters.unit_of_work import UnitOfWork
from app.domain.access import Access
from app.domain.fhirdate import instant, utc_now

ACTIVITY_SYSTEM = "http://terminology.hl7.org/CodeSystem/iso-21089-lifecycle"
ACTIVITY_DISPLAY = {"merge": "Merge Record Lifecycle Event",
                    "unmerge": "Unmerge Record Lifecycle Event"}
AGENT_TYPE_SYSTEM = "http://terminology.hl7.org/CodeSystem/provenance-participant-type"
ANONYMOUS_AGENT = "anonymous"
#: Provenance.reason of every merge and unmerge (v3-ActReason, PurposeOfUse).
RECORD_MANAGEMENT = {"system": "http://terminology.hl7.org/CodeSystem/v3-ActReason",
                     "code": "RECORDMGT", "display": "records management"}


@dataclass(frozen=True)
class Entity:
    """A resource version the change was made from, with its role (R4 ``provenance-entity-role``:
    derivation | revision | quotation | source | removal)."""

    role: str
    reference: str


def record(
    uow: UnitOfWork,
    access: Access,
    activity: str,
    targets: Sequence[tuple[str, int]],
    *,
    entities: Sequence[Entity] = (),
    reasons: Sequence[str] = (),
) -> str:
    """Append one Provenance and return its id.

    :param targets: (Patient id, version) for every version the change wrote.
    :param activity: ``merge`` or ``unmerge`` (an ISO 21089 lifecycle code).
    """
    recorded = utc_now()
    provenance_id = str(uuid.uuid4())
    agent = access.subject or ANONYMOUS_AGENT
    resource: dict[str, Any] = {
        "resourceType": "Provenance",
        "id": provenance_id,
        "meta": {"versionId": "1", "lastUpdated": instant(recorded)},
        "target": [{"reference": f"Patient/{pid}/_history/{version}"}
                   for pid, version in targets],
        "recorded": instant(recorded),
        "activity": {
            "coding": [{"system": ACTIVITY_SYSTEM, "code": activity,
                        "display": ACTIVITY_DISPLAY.get(activity, activity)}],
            "text": activity.upper(),
        },
        "agent": [{
            "type": {"coding": [{"system": AGENT_TYPE_SYSTEM, "code": "author",
                                 "display": "Author"}]},
            "who": {"identifier": {"value": agent}, "display": agent},
        }],
    }
    # Always a reason (issue 7: who, when, why): records management, with the caller's own
    # words when given; further texts (an overridden contradiction) follow as their own.
    reason: dict[str, Any] = {"coding": [RECORD_MANAGEMENT]}
    if reasons:
        reason["text"] = reasons[0]
    resource["reason"] = [reason, *({"text": text} for text in reasons[1:])]
    if entities:
        resource["entity"] = [{"role": e.role, "what": {"reference": e.reference}}
                              for e in entities]
    index = [("target", f"Patient/{pid}") for pid, _ in targets]
    index += [("agent", agent), ("activity", activity)]
    uow.audit.append("Provenance", provenance_id, recorded, orjson.dumps(resource), index)
    return provenance_id


def latest(uow: UnitOfWork, activity: str, patient_ids: Sequence[str]) -> dict[str, Any] | None:
    """The newest Provenance of ``activity`` whose targets include every one of the ids."""
    conditions: list[tuple[str, Sequence[str]]] = [
        ("target", [f"Patient/{pid}"]) for pid in patient_ids]
    conditions.append(("activity", [activity]))
    rows, _ = uow.audit.search("Provenance", conditions, count=1, offset=0)
    if not rows:
        return None
    found: dict[str, Any] = orjson.loads(rows[0])
    return found

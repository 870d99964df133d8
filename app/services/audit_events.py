"""AuditEvents the server writes about Patients (api.md "Access control", issue 8).

One function, :func:`record`, builds an AuditEvent and appends it to the append-only store in
the unit of work it is given. It does not commit: the caller's transaction does.

Who records what:

* reads and searches that return an UNMASKED protected Patient — the HTTP presentation layer
  (``app.http.presentation``), in a write transaction of their own (``run_write``);
* ``$merge``, ``$unmerge``, ``$generate-reserve-id`` — the operation's service, inside the
  write transaction of the operation itself, e.g.::

      from app.services import audit_events
      audit_events.record(uow, access, "U", [target_id, source_id], "0", "merge")

  (``access`` is ``flask.g.access``, passed down by the route; the outcome is "0" on success.
  A failed operation may record with outcome "4"/"8" in a ``run_write`` of its own.)

The AuditEvent: ``type`` = ``http://terminology.hl7.org/CodeSystem/audit-event-type|rest``;
``subtype`` = the interaction (``read``, ``vread``, ``search-type``, ``history-instance``…,
system ``http://hl7.org/fhir/restful-interaction``) or the operation (``merge``, ``unmerge``,
``generate-reserve-id``, ``match``, ``ihe-pix``, system
``http://sweid.example/fhir/CodeSystem/operation``); ``action`` C/R/U/D/E; ``recorded``;
``outcome`` 0/4/8/12; ``agent.who`` = the token ``sub`` (``anonymous`` in open mode);
``entity.what`` = ``Patient/<id>`` per entity.

Search index (``GET /fhir/AuditEvent``): ``entity`` (``Patient/<id>``), ``agent`` (sub),
``type`` (code and ``system|code``), ``subtype`` (likewise), ``outcome``; ``date`` is
``recorded``.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

import orjson

from app.adapters.unit_of_work import UnitOfWork
from app.domain.access import Access
from app.domain.fhirdate import instant, utc_now

TYPE_SYSTEM = "http://terminology.hl7.org/CodeSystem/audit-event-type"
INTERACTION_SYSTEM = "http://hl7.org/fhir/restful-interaction"
OPERATION_SYSTEM = "http://sweid.example/fhir/CodeSystem/operation"
AGENT_TYPE_SYSTEM = "http://terminology.hl7.org/CodeSystem/extra-security-role-type"
INTERACTIONS = frozenset({
    "read", "vread", "update", "patch", "delete", "history", "history-instance",
    "history-type", "history-system", "create", "search", "search-type", "search-system",
    "capabilities", "transaction", "batch", "operation",
})
ACTIONS = frozenset({"C", "R", "U", "D", "E"})
OUTCOMES = frozenset({"0", "4", "8", "12"})
ANONYMOUS_AGENT = "anonymous"


def record(
    uow: UnitOfWork,
    access: Access,
    action: str,
    entity_ids: Iterable[str],
    outcome: str = "0",
    subtype: str = "read",
) -> str:
    """Append one AuditEvent to ``uow`` (not committed here) and return its id.

    :param access: the caller (``flask.g.access``); its ``subject`` becomes the agent.
    :param action: C, R, U, D or E (FHIR AuditEvent.action).
    :param entity_ids: Patient ids (``"123"`` or ``"Patient/123"``) the event is about.
    :param outcome: "0" success, "4" minor failure, "8" serious failure, "12" major failure.
    :param subtype: a FHIR RESTful interaction (``read``, ``search-type``…) or an operation
        name without ``$`` (``merge``, ``unmerge``, ``generate-reserve-id``…).
    """
    if action not in ACTIONS:
        raise ValueError(f"AuditEvent action must be one of {sorted(ACTIONS)}")
    if outcome not in OUTCOMES:
        raise ValueError(f"AuditEvent outcome must be one of {sorted(OUTCOMES)}")
    subtype = subtype.lstrip("$")
    subtype_system = INTERACTION_SYSTEM if subtype in INTERACTIONS else OPERATION_SYSTEM
    references = list(dict.fromkeys(
        ref if ref.startswith("Patient/") else f"Patient/{ref}" for ref in entity_ids))
    agent = access.subject or ANONYMOUS_AGENT
    recorded = utc_now()
    event_id = str(uuid.uuid4())
    event: dict[str, Any] = {
        "resourceType": "AuditEvent",
        "id": event_id,
        "meta": {"versionId": "1", "lastUpdated": instant(recorded)},
        "type": {"system": TYPE_SYSTEM, "code": "rest", "display": "RESTful Operation"},
        "subtype": [{"system": subtype_system, "code": subtype}],
        "action": action,
        "recorded": instant(recorded),
        "outcome": outcome,
        "agent": [{
            "who": {"identifier": {"value": agent}, "display": agent},
            "requestor": True,
        }],
        "source": {"observer": {"display": "sweid-fhir"}},
        "entity": [{"what": {"reference": ref}} for ref in references],
    }
    index: list[tuple[str, str]] = [
        ("type", "rest"), ("type", f"{TYPE_SYSTEM}|rest"),
        ("subtype", subtype), ("subtype", f"{subtype_system}|{subtype}"),
        ("outcome", outcome), ("agent", agent),
    ]
    index += [("entity", ref) for ref in references]
    uow.audit.append("AuditEvent", event_id, recorded, orjson.dumps(event), index)
    return event_id

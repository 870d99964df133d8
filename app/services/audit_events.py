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

import base64
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
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
#: IHE transactions (IHE BALP, the PIXm and PDQm audit profiles): code → display.
IHE_EVENT_SYSTEM = "urn:ihe:event-type-code"
IHE_TRANSACTIONS = {
    "ITI-104": "Patient Identity Feed FHIR",
    "ITI-83": "Mobile Patient Identifier Cross-reference Query",
    "ITI-78": "Mobile Patient Demographics Query",
    "ITI-119": "Patient Demographics Match",
}
DCM = "http://dicom.nema.org/resources/ontology/DCM"
ENTITY_TYPE = "http://terminology.hl7.org/CodeSystem/audit-entity-type"
OBJECT_ROLE = "http://terminology.hl7.org/CodeSystem/object-role"
NETWORK_TYPE = "http://terminology.hl7.org/CodeSystem/network-type"
SOURCE_TYPE = "http://terminology.hl7.org/CodeSystem/security-source-type"


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


@dataclass(frozen=True)
class Network:
    """Where an IHE transaction came from and went to: the client's address (IP) and this
    server's base URL (BALP's client and server agents)."""

    client: str | None
    server: str


@dataclass(frozen=True)
class IheTransaction:
    """One IHE transaction as the Manager/Supplier records it (IHE BALP).

    ``interaction`` is the RESTful one (create, update, delete, search, operation);
    ``patient_identifier`` fills ``entity[patient]`` by identifier (ITI-104's and ITI-83's
    identifier parameter); ``data`` the Patient written (``entity[data]``, ITI-104);
    ``query`` the request's query (``entity[query]``: the URL, or the body of a POST)."""

    transaction: str
    interaction: str
    action: str
    network: Network
    patient_identifier: dict[str, Any] | None = None
    data: str | None = None
    query: str | None = None


def record_transaction(uow: UnitOfWork, access: Access, tx: IheTransaction,
                       outcome: str = "0") -> str:
    """Append the AuditEvent of one IHE transaction, shaped after the IGs' audit profiles
    (PIXm ``IHE.PIXm.Feed.*.Audit.Manager`` and ``IHE.PIXm.Query.Audit.Manager``, PDQm
    ``IHE.PDQm.Query.Audit.Supplier`` and ``IHE.PDQm.Match.Audit.Supplier``): subtypes the
    RESTful interaction and the transaction; agents the client (``Source Role ID``, the
    token's ``sub``, its address) and this server (``Destination Role ID``); entities the
    patient (by identifier), the Patient written and the query (base64, and as text)."""
    if tx.transaction not in IHE_TRANSACTIONS or tx.action not in ACTIONS:
        raise ValueError("Unknown IHE transaction or action")
    agent = access.subject or ANONYMOUS_AGENT
    recorded = utc_now()
    event_id = str(uuid.uuid4())
    client: dict[str, Any] = {
        "type": {"coding": [{"system": DCM, "code": "110153", "display": "Source Role ID"}]},
        "who": {"identifier": {"value": agent}, "display": agent},
        "requestor": True,
    }
    if tx.network.client:
        client["network"] = {"address": tx.network.client, "type": "2"}
    server = {
        "type": {"coding": [{"system": DCM, "code": "110152",
                             "display": "Destination Role ID"}]},
        "who": {"display": tx.network.server},
        "requestor": False,
        "network": {"address": tx.network.server, "type": "5"},
    }
    entities: list[dict[str, Any]] = []
    if tx.patient_identifier is not None:
        entities.append({"what": {"identifier": tx.patient_identifier},
                         "type": _coding(ENTITY_TYPE, "1", "Person"),
                         "role": _coding(OBJECT_ROLE, "1", "Patient")})
    if tx.data is not None:
        entities.append({"what": {"reference": tx.data},
                         "type": _coding(ENTITY_TYPE, "2", "System Object"),
                         "role": _coding(OBJECT_ROLE, "4", "Domain Resource")})
    if tx.query is not None:
        entities.append({"type": _coding(ENTITY_TYPE, "2", "System Object"),
                         "role": _coding(OBJECT_ROLE, "24", "Query"),
                         "description": tx.query,
                         "query": base64.b64encode(tx.query.encode()).decode()})
    event: dict[str, Any] = {
        "resourceType": "AuditEvent",
        "id": event_id,
        "meta": {"versionId": "1", "lastUpdated": instant(recorded)},
        "type": {"system": TYPE_SYSTEM, "code": "rest", "display": "RESTful Operation"},
        "subtype": [{"system": INTERACTION_SYSTEM, "code": tx.interaction},
                    {"system": IHE_EVENT_SYSTEM, "code": tx.transaction,
                     "display": IHE_TRANSACTIONS[tx.transaction]}],
        "action": tx.action,
        "recorded": instant(recorded),
        "outcome": outcome,
        "agent": [client, server],
        "source": {"site": tx.network.server, "observer": {"display": "sweid-fhir"},
                   "type": [{"system": SOURCE_TYPE, "code": "4",
                             "display": "Application Server"}]},
        "entity": entities,
    }
    index: list[tuple[str, str]] = [
        ("type", "rest"), ("type", f"{TYPE_SYSTEM}|rest"),
        ("subtype", tx.interaction), ("subtype", f"{INTERACTION_SYSTEM}|{tx.interaction}"),
        ("subtype", tx.transaction), ("subtype", f"{IHE_EVENT_SYSTEM}|{tx.transaction}"),
        ("outcome", outcome), ("agent", agent),
    ]
    if tx.data is not None:
        index.append(("entity", tx.data))
    uow.audit.append("AuditEvent", event_id, recorded, orjson.dumps(event), index)
    return event_id


def _coding(system: str, code: str, display: str) -> dict[str, str]:
    return {"system": system, "code": code, "display": display}

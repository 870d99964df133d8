"""``POST /fhir`` with a batch or transaction Bundle (FHIR R4 §3.1.0.11).

A transaction runs every entry in one database transaction — all or nothing — in the
order DELETE, POST, PUT/PATCH, GET, with ``urn:uuid:`` references to created entries
rewritten to the ids the server assigned. References resolve whatever the order of the
entries (R4 §3.1.0.11.2): a created entry that others refer to is created before them, and
entries that refer to each other may name an id the transaction writes later. A batch runs
each entry on its own.

An entry shaped like an IHE PIXm ITI-104 message is audited as the REST message is
(README "IHE PIXm and PDQm"): its success in the write's transaction, its refusal with
outcome 4 in a transaction of its own — every such entry of a refused transaction (rolled
back whole, the success audits with it) or of a Bundle refused for an entry it cannot
read, each refused entry of a batch.
"""

from __future__ import annotations

import base64
import logging
import uuid
from dataclasses import dataclass
from datetime import date
from graphlib import CycleError, TopologicalSorter
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import orjson
from flask import Response, current_app, g

from app.adapters.unit_of_work import UnitOfWork
from app.domain.errors import BusinessRuleViolation, DomainError, InvalidRequest
from app.domain.limits import MAX_BUNDLE_ENTRIES, check_count
from app.domain.search import SearchQuery
from app.http import ihe_audit, interactions
from app.http.errors import status_of
from app.http.fhir_io import base_url, fhir_response, operation_outcome, read_json_body
from app.http.interactions import Answer, Call
from app.http.presentation import history_bundle, patient_body, searchset
from app.http.query import parse_paging, parse_query
from app.http.trace_ids import trace_id
from app.services.patients import WriteResult
from app.services.transactions import run_read, run_write

log = logging.getLogger(__name__)
ORDER = {"DELETE": 0, "POST": 1, "PUT": 2, "PATCH": 2, "GET": 3, "HEAD": 3}
REASONS = {200: "OK", 201: "Created", 204: "No Content"}


@dataclass
class Entry:
    """One Bundle entry's request, parsed."""

    position: int
    method: str
    path: str
    query: str
    resource: Any
    full_url: str | None
    if_none_exist: str | None
    if_match: str | None


def bundle_endpoint() -> Response:
    """Handle the POST of a batch or transaction Bundle."""
    bundle = read_json_body()
    if not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle":
        raise InvalidRequest("POST to the base takes a Bundle of type batch or transaction")
    kind = bundle.get("type")
    if kind not in ("batch", "transaction"):
        raise InvalidRequest("The Bundle type must be batch or transaction")
    g.interaction = kind  # the AuditEvent subtype of what the response discloses
    raw_entries = bundle.get("entry") or []
    if not isinstance(raw_entries, list):
        raise InvalidRequest("Bundle.entry must be an array", expression=["Bundle.entry"])
    check_count("Bundle.entry", len(raw_entries), MAX_BUNDLE_ENTRIES)
    entries = _parse_entries(raw_entries)
    engine = current_app.extensions["sweid"].engine
    if kind == "transaction":
        try:
            responses = run_write(engine, lambda uow: _transaction(uow, entries))
        except DomainError:
            _audit_refused(entries)
            raise
    else:
        responses = [_batch_entry(engine, entry) for entry in entries]
    result = {
        "resourceType": "Bundle",
        "id": trace_id(),
        "type": f"{kind}-response",
        "entry": responses,
    }
    return fhir_response(orjson.dumps(result))


def _parse_entry(position: int, entry: Any) -> Entry:
    where = f"Bundle.entry[{position}]"
    request = entry.get("request") if isinstance(entry, dict) else None
    if not isinstance(request, dict) or not isinstance(request.get("method"), str) \
            or not isinstance(request.get("url"), str):
        raise InvalidRequest(f"{where} has no request.method and request.url",
                             expression=[f"{where}.request"])
    for key, element in (("ifNoneExist", "request.ifNoneExist"), ("ifMatch", "request.ifMatch")):
        if request.get(key) is not None and not isinstance(request[key], str):
            raise InvalidRequest(f"{where}.{element} must be a string",
                                 expression=[f"{where}.{element}"])
    if entry.get("fullUrl") is not None and not isinstance(entry["fullUrl"], str):
        raise InvalidRequest(f"{where}.fullUrl must be a string", expression=[f"{where}.fullUrl"])
    method = request["method"].upper()
    if method not in ORDER:
        raise InvalidRequest(f"{where}: method {method[:10]!r} not supported")
    try:
        url = urlsplit(request["url"])
    except ValueError:
        raise InvalidRequest(f"{where}.request.url is not a URL") from None
    path = url.path.strip("/")
    if path.startswith("fhir/"):
        path = path[len("fhir/"):]
    return Entry(position, method, path, url.query, entry.get("resource"),
                 entry.get("fullUrl"), request.get("ifNoneExist"), request.get("ifMatch"))


def _parse_entries(raw_entries: list[Any]) -> list[Entry]:
    """Every entry's request. A Bundle with an entry that cannot be read is refused whole
    before any entry runs, so the ITI-104 messages among the others are refused with it:
    their refusal is audited."""
    entries: list[Entry] = []
    unreadable: list[InvalidRequest] = []
    for position, raw in enumerate(raw_entries):
        try:
            entries.append(_parse_entry(position, raw))
        except InvalidRequest as err:
            unreadable.append(err)
    if unreadable:
        _audit_refused(entries)
        raise unreadable[0]
    return entries


def _transaction(uow: UnitOfWork, entries: list[Entry]) -> list[dict[str, Any]]:
    assigned: dict[str | None, str] = {
        e.full_url: str(uuid.uuid4())
        for e in entries
        if e.method == "POST" and e.full_url and e.full_url.startswith("urn:uuid:")
    }
    planned = frozenset(assigned.values())
    written: set[str] = set()
    responses: dict[int, dict[str, Any]] = {}
    for entry in _processing_order(entries, assigned):
        entry.resource = _rewrite_references(entry.resource, assigned)
        try:
            response = _run_entry(uow, entry, assigned.get(entry.full_url),
                                  pending=planned - written)
        except DomainError as err:
            err.message = f"Bundle.entry[{entry.position}]: {err.message}"
            raise
        written_id = response["response"].get("location", "").split("/")[1:2]
        written.update(written_id)
        if entry.full_url in assigned:
            # A conditional create may have found an existing record: later entries'
            # references to this entry resolve to it (FHIR R4 §3.1.0.11.2).
            assigned[entry.full_url] = written_id[0]
        responses[entry.position] = response
    _check_no_link_to_unwritten(entries, planned - written)
    return [_latest(uow, responses[i]) for i in range(len(entries))]


def _latest(uow: UnitOfWork, response: dict[str, Any]) -> dict[str, Any]:
    """A written entry's response with the version the transaction left: a later entry's
    ``seealso`` link to it wrote it again (the mirrored link)."""
    location = response["response"].get("location")
    if location is None:
        return response
    _, patient_id, _, version = location.split("/")
    stored = uow.patients.get(patient_id)
    if stored is None or str(stored.version_id) == version:
        return response
    created = response["response"]["status"].startswith("201")
    return _written(WriteResult(created, stored))


def _processing_order(entries: list[Entry], assigned: dict[str | None, str]) -> list[Entry]:
    """DELETE, POST, PUT/PATCH, GET; among the POSTs, one that another refers to before
    it (a ``Patient.link`` target exists when the link is written, so its ``seealso`` link
    is checked and mirrored), in Bundle order otherwise and when they refer to each other."""
    posts = [e for e in entries if e.method == "POST"]
    created_by = {e.full_url: e.position for e in posts if e.full_url in assigned}
    graph = {e.position: {created_by[url] for url in _referenced(e.resource, created_by)
                          if created_by[url] != e.position}
             for e in posts}
    try:
        order = list(TopologicalSorter(graph).static_order())
    except CycleError:
        order = [e.position for e in posts]
    rank = {position: index for index, position in enumerate(order)}
    return sorted(entries, key=lambda e: (ORDER[e.method], rank.get(e.position, e.position)))


def _referenced(resource: Any, full_urls: dict[str | None, int]) -> list[str | None]:
    """The ``urn:uuid:`` full URLs of other entries that ``resource`` mentions."""
    text = orjson.dumps(resource).decode() if isinstance(resource, dict) else ""
    return [url for url in full_urls if f'"{url}"' in text]


def _check_no_link_to_unwritten(entries: list[Entry], unwritten: frozenset[str]) -> None:
    """Entries that refer to each other, one of them a conditional create that found an
    existing record: the other's link names an id that was never written."""
    for entry in entries:
        text = orjson.dumps(entry.resource).decode() if isinstance(entry.resource, dict) else ""
        if any(f'"Patient/{new_id}"' in text for new_id in unwritten):
            raise BusinessRuleViolation(
                f"Bundle.entry[{entry.position}] refers to an entry whose conditional create "
                "found an existing record, while that entry refers back to it; link the "
                "existing record in a second request",
                expression=[f"Bundle.entry[{entry.position}].resource"])


def _batch_entry(engine: Any, entry: Entry) -> dict[str, Any]:
    try:
        if entry.method in ("GET", "HEAD"):
            return run_read(engine, lambda uow: _run_entry(uow, entry, None))
        return run_write(engine, lambda uow: _run_entry(uow, entry, None))
    except DomainError as err:
        _audit_refused([entry])
        status = status_of(err)
        outcome = operation_outcome("error", err.code, err.message, err.expression)
        return {"response": {"status": str(status), "outcome": outcome}}
    except Exception:  # noqa: BLE001 — one broken entry must not fail the whole batch
        log.exception("unexpected error in a batch entry")
        outcome = operation_outcome("fatal", "exception",
                                    "Internal server error; see the server log")
        return {"response": {"status": "500", "outcome": outcome}}


def _run_entry(uow: UnitOfWork, entry: Entry, new_id: str | None, *,
               pending: frozenset[str] = frozenset()) -> dict[str, Any]:
    """One entry, as the interaction table says; ``pending``: ids of entries the
    transaction writes later."""
    target, interaction = _interaction_of(entry)
    interaction.authorise()
    pairs = parse_qsl(entry.query, keep_blank_values=True)
    query: SearchQuery | None = None  # only reads of many records take parameters
    if interaction.answer is Answer.SEARCH:
        query = parse_query(pairs)
    elif interaction.answer is Answer.HISTORY:
        query = parse_paging(pairs)
    body = _patch_document(entry.resource) if entry.method == "PATCH" else entry.resource
    call = Call(access=g.access, today=date.today(), patient_id=target.patient_id,
                version_id=target.version_id, criteria=entry.query, body=body,
                if_match=entry.if_match, if_none_exist=entry.if_none_exist, new_id=new_id,
                pending=pending, query=query, since=dict(pairs).get("_since"),
                network=ihe_audit.network())
    result = interaction.run(uow, call)
    if interaction.answer is Answer.WRITTEN:
        return _written(result)
    if interaction.answer is Answer.DELETED:
        return {"response": {"status": "204 No Content"}}
    return {"resource": orjson.Fragment(_read_body(interaction, result, query, pairs, entry)),
            "response": {"status": "200 OK"}}


def _interaction_of(entry: Entry) -> tuple[interactions.Target, interactions.Interaction]:
    target = interactions.shape_of(entry.method, entry.path.split("/"), entry.query)
    return target, interactions.find(entry.method, target)


def _audit_refused(entries: list[Entry]) -> None:
    """The refusal's AuditEvents of the entries shaped like ITI-104 messages, in one write
    (nothing for the others, one this server does not serve among them)."""
    messages = []
    for entry in entries:
        try:
            messages.append((_interaction_of(entry)[1], entry.query))
        except InvalidRequest:
            continue
    ihe_audit.audit_refused(messages)


def _read_body(interaction: interactions.Interaction, result: Any, query: SearchQuery | None,
               pairs: list[tuple[str, str]], entry: Entry) -> bytes:
    if interaction.answer is Answer.SEARCH:
        assert query is not None
        return searchset(result, query, g.access, base_url(), pairs)
    if interaction.answer is Answer.HISTORY:
        assert query is not None
        versions, total = result
        return history_bundle(versions, total, g.access, base_url(), f"/{entry.path}", pairs,
                              query.count, query.offset)
    return patient_body(result, g.access)


def _written(result: WriteResult) -> dict[str, Any]:
    stored = result.stored
    status = 201 if result.created else 200
    return {
        "fullUrl": f"{base_url()}/Patient/{stored.id}",
        "resource": orjson.Fragment(patient_body(stored, g.access)),
        "response": {
            "status": f"{status} {REASONS[status]}",
            "location": f"Patient/{stored.id}/_history/{stored.version_id}",
            "etag": f'W/"{stored.version_id}"',
        },
    }


def _patch_document(resource: Any) -> Any:
    """A JSON Patch travels in a Bundle as a Binary with base64 data (FHIR R4 §3.1.0.8)."""
    if isinstance(resource, dict) and resource.get("resourceType") == "Binary":
        try:
            return orjson.loads(base64.b64decode(resource.get("data", ""), validate=True))
        except (ValueError, TypeError, orjson.JSONDecodeError):
            raise InvalidRequest("The Binary does not hold a JSON Patch document") from None
    return resource


def _rewrite_references(resource: Any, assigned: dict[str | None, str]) -> Any:
    if not assigned or not isinstance(resource, dict):
        return resource
    text = orjson.dumps(resource).decode()
    for full_url, new_id in assigned.items():
        text = text.replace(f'"{full_url}"', f'"Patient/{new_id}"')
    return orjson.loads(text)

"""The Patient interactions, each described once.

One row per FHIR interaction on Patient: the HTTP method and the shape of the path it
answers, the SMART permission letter it needs, the AuditEvent subtype of what it discloses,
what kind of answer it gives, and the service call that does it. Both ways in are driven by
this table, so their rules cannot drift apart:

* the REST routes (:mod:`app.http.patient_routes`) declare their scope and subtype with
  :meth:`Interaction.declare` and call :meth:`Interaction.run`;
* a batch or transaction entry (:mod:`app.http.bundle_routes`) finds its row with
  :func:`find` from its method and URL, checks the same permission and runs the same call.

What stays with each way in is only HTTP: headers, ``Prefer``, the response or the Bundle
entry's ``response`` element.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from enum import Enum
from typing import Any, TypeVar

from app.domain.access import Access
from app.domain.errors import InvalidRequest
from app.domain.search import SearchQuery
from app.http.auth import check, requires
from app.services import audit_events, identity_feed, patients

F = TypeVar("F", bound=Callable[..., Any])
TYPE = "Patient"


class Shape(Enum):
    """The shape of the path (and query) an interaction answers."""

    TYPE = "Patient"
    CONDITIONAL = "Patient?criteria"
    INSTANCE = "Patient/id"
    VERSION = "Patient/id/_history/vid"
    INSTANCE_HISTORY = "Patient/id/_history"
    TYPE_HISTORY = "Patient/_history"


class Answer(Enum):
    """What :meth:`Interaction.run` returns, and so how each way in presents it."""

    WRITTEN = "a WriteResult"
    DELETED = "nothing"
    RESOURCE = "a StoredPatient"
    SEARCH = "a SearchPage"
    HISTORY = "versions and their total"


@dataclass(frozen=True)
class Call:
    """What an interaction takes from an HTTP request or a Bundle entry."""

    access: Access
    today: date
    patient_id: str = ""
    version_id: str = ""
    criteria: str = ""
    body: Any = None
    if_match: str | None = None
    if_none_exist: str | None = None
    new_id: str | None = None
    pending: frozenset[str] = frozenset()
    query: SearchQuery | None = None
    since: str | None = None
    #: Client address and server base for IHE AuditEvents.
    network: audit_events.Network | None = None


@dataclass(frozen=True)
class Interaction:
    """One interaction: ``code`` is the FHIR interaction code and AuditEvent subtype;
    ``feed``: it may be an IHE PIXm ITI-104 message (with ITI-104's criteria), audited
    when refused too (:func:`app.http.ihe_audit.audit_refused`)."""

    code: str
    method: str
    shape: Shape
    permission: str
    answer: Answer
    service: Callable[[Any, Call], Any] = field(repr=False)
    feed: bool = False

    def declare(self) -> Callable[[F], F]:
        """The REST route's declaration of its scope and subtype (:func:`requires`)."""
        return requires(TYPE, self.permission, interaction=self.code)

    def authorise(self) -> None:
        """403 unless the caller may do this (a Bundle entry's own check)."""
        check(TYPE, self.permission)

    def run(self, uow: Any, call: Call) -> Any:
        """Do it in ``uow``; the result is what :attr:`answer` says."""
        return self.service(uow, call)

    @property
    def writes(self) -> bool:
        """Whether the interaction changes data (needs a write transaction)."""
        return self.answer in (Answer.WRITTEN, Answer.DELETED)


def _create(uow: Any, c: Call) -> Any:
    return patients.create(uow, c.body, if_none_exist=c.if_none_exist, today=c.today,
                           access=c.access, new_id=c.new_id, pending=c.pending)


def _update(uow: Any, c: Call) -> Any:
    return patients.update(uow, c.patient_id, c.body, if_match=c.if_match, access=c.access,
                           today=c.today)


def _conditional_update(uow: Any, c: Call) -> Any:
    # Also IHE PIXm ITI-104: add, revise, resolve duplicate (app.services.identity_feed).
    return identity_feed.conditional_update(uow, c.criteria, c.body, if_match=c.if_match,
                                            access=c.access, today=c.today, network=c.network)


def _patch(uow: Any, c: Call) -> Any:
    return patients.patch(uow, c.patient_id, c.body, if_match=c.if_match, access=c.access,
                          today=c.today)


def _conditional_patch(uow: Any, c: Call) -> Any:
    return patients.conditional_patch(uow, c.criteria, c.body, if_match=c.if_match,
                                      access=c.access, today=c.today)


def _delete(uow: Any, c: Call) -> None:
    patients.delete(uow, c.patient_id, c.access)


def _conditional_delete(uow: Any, c: Call) -> None:
    # Also IHE PIXm ITI-104 Remove Patient.
    identity_feed.conditional_delete(uow, c.criteria, c.today, c.access, c.network)


def _read(uow: Any, c: Call) -> Any:
    return patients.read(uow, c.patient_id)


def _vread(uow: Any, c: Call) -> Any:
    return patients.vread(uow, c.patient_id, c.version_id)


def _search(uow: Any, c: Call) -> Any:
    assert c.query is not None, "a search call carries its parsed query"
    return patients.search(uow, c.query, c.access, c.today)


def _history(uow: Any, c: Call) -> Any:
    assert c.query is not None, "a history call carries its paging"
    return patients.history(uow, c.patient_id or None, since=c.since, count=c.query.count,
                            offset=c.query.offset)


CREATE = Interaction("create", "POST", Shape.TYPE, "c", Answer.WRITTEN, _create)
UPDATE = Interaction("update", "PUT", Shape.INSTANCE, "u", Answer.WRITTEN, _update)
CONDITIONAL_UPDATE = Interaction("update", "PUT", Shape.CONDITIONAL, "u", Answer.WRITTEN,
                                 _conditional_update, feed=True)
PATCH = Interaction("patch", "PATCH", Shape.INSTANCE, "u", Answer.WRITTEN, _patch)
CONDITIONAL_PATCH = Interaction("patch", "PATCH", Shape.CONDITIONAL, "u", Answer.WRITTEN,
                                _conditional_patch)
DELETE = Interaction("delete", "DELETE", Shape.INSTANCE, "d", Answer.DELETED, _delete)
CONDITIONAL_DELETE = Interaction("delete", "DELETE", Shape.CONDITIONAL, "d", Answer.DELETED,
                                 _conditional_delete, feed=True)
READ = Interaction("read", "GET", Shape.INSTANCE, "r", Answer.RESOURCE, _read)
VREAD = Interaction("vread", "GET", Shape.VERSION, "r", Answer.RESOURCE, _vread)
SEARCH = Interaction("search-type", "GET", Shape.TYPE, "s", Answer.SEARCH, _search)
INSTANCE_HISTORY = Interaction("history-instance", "GET", Shape.INSTANCE_HISTORY, "r",
                               Answer.HISTORY, _history)
TYPE_HISTORY = Interaction("history-type", "GET", Shape.TYPE_HISTORY, "r", Answer.HISTORY,
                           _history)

#: Every Patient interaction, by method and path shape.
TABLE: dict[tuple[str, Shape], Interaction] = {
    (i.method, i.shape): i
    for i in (CREATE, UPDATE, CONDITIONAL_UPDATE, PATCH, CONDITIONAL_PATCH, DELETE,
              CONDITIONAL_DELETE, READ, VREAD, SEARCH, INSTANCE_HISTORY, TYPE_HISTORY)
}


@dataclass(frozen=True)
class Target:
    """A request URL relative to the base, cut into what the table and the call need."""

    shape: Shape
    patient_id: str = ""
    version_id: str = ""


def shape_of(method: str, parts: list[str], query: str) -> Target:
    """The path shape of ``parts`` (the URL path split at ``/``, type first) for ``method``;
    400 for a resource type or a path this server does not serve that way."""
    if parts[0] != TYPE:
        raise InvalidRequest(f"Resource type {parts[0][:40]!r} is not supported")
    rest = parts[1:]
    if not rest:
        conditional = method in ("PUT", "PATCH", "DELETE") and query
        return Target(Shape.CONDITIONAL if conditional else Shape.TYPE)
    if rest == ["_history"]:
        return Target(Shape.TYPE_HISTORY)
    if rest[0][:1] in ("_", "$", ""):
        raise InvalidRequest(f"{method} {'/'.join(parts)[:60]} is not supported in a Bundle")
    if len(rest) == 1:
        return Target(Shape.INSTANCE, rest[0])
    if rest[1:] == ["_history"]:
        return Target(Shape.INSTANCE_HISTORY, rest[0])
    if len(rest) == 3 and rest[1] == "_history":
        return Target(Shape.VERSION, rest[0], rest[2])
    raise InvalidRequest(f"{method} {'/'.join(parts)[:60]} is not supported in a Bundle")


def find(method: str, target: Target) -> Interaction:
    """The interaction for ``method`` on a path of ``target``'s shape (HEAD as GET)."""
    found = TABLE.get(("GET" if method == "HEAD" else method, target.shape))
    if found is None:
        raise InvalidRequest(f"{method} {target.shape.value} is not supported in a Bundle")
    return found

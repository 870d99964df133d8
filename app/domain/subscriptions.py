"""Topic-based Subscriptions (HL7 Subscriptions R5 Backport IG for R4; api.md
"Subscriptions"): the topics, what a client may ask for, and which Patient changes are
events of which topic (pure: no Flask, no SQL).

Topics (served as R4 ``Basic`` resources, as the IG does for R4 servers):

* ``patient-merge`` — ``$merge`` and ``$unmerge``: one event per record, focus the source,
  then one with focus the target (each names the other as additional context);
* ``patient-identity`` — the identifiers of a Patient changed: one added, removed or
  replaced (a create with identifiers, an LRID → NRID transition, a reserve number replaced
  by a personnummer, the identifiers a merge copies or an unmerge removes, a delete);
* ``patient-change`` — any create, update, patch or delete of a Patient (REST, Bundles,
  operations, ``load``).

A subscription may narrow a topic with one filter, ``Patient?identifier=<system>|``: an
event matches when its Patient holds (before or after the change) an identifier of that
system — for ``patient-identity``, when an identifier of that system is among the changed
ones.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

from app.domain.errors import BusinessRuleViolation, InvalidRequest
from app.domain.extensions import CANONICAL
from app.domain.limits import (
    MAX_HEARTBEAT_SECONDS,
    MAX_SUBSCRIPTION_HEADER_LENGTH,
    MAX_SUBSCRIPTION_HEADERS,
)
from app.identity import canonical_system

BACKPORT = "http://hl7.org/fhir/uv/subscriptions-backport"
SUBSCRIPTION_PROFILE = f"{BACKPORT}/StructureDefinition/backport-subscription"
STATUS_PROFILE = f"{BACKPORT}/StructureDefinition/backport-subscription-status-r4"
NOTIFICATION_PROFILE = f"{BACKPORT}/StructureDefinition/backport-subscription-notification-r4"
CONTENT_EXTENSION = f"{BACKPORT}/StructureDefinition/backport-payload-content"
HEARTBEAT_EXTENSION = f"{BACKPORT}/StructureDefinition/backport-heartbeat-period"
FILTER_EXTENSION = f"{BACKPORT}/StructureDefinition/backport-filter-criteria"
TOPIC_CANONICAL_EXTENSION = (
    f"{BACKPORT}/StructureDefinition/capabilitystatement-subscriptiontopic-canonical")
STATUS_OPERATION = f"{BACKPORT}/OperationDefinition/backport-subscription-status"
EVENTS_OPERATION = f"{BACKPORT}/OperationDefinition/backport-subscription-events"

MERGE, IDENTITY, CHANGE = "patient-merge", "patient-identity", "patient-change"
CONTENTS = ("empty", "id-only", "full-resource")
DEFAULT_CONTENT = "id-only"
PAYLOAD_TYPE = "application/fhir+json"
#: Subscription.status values the server sets (a client's own value is ignored).
REQUESTED, ACTIVE, ERROR, OFF = "requested", "active", "error", "off"
#: Headers the server sets itself: a subscriber's line may not replace them.
RESERVED_HEADERS = frozenset({"host", "content-type", "content-length", "transfer-encoding",
                              "connection"})
#: One header line: a token, a colon and a value of visible ASCII, spaces and tabs.
_HEADER = re.compile(r"^(?P<name>[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,100}):[ \t]*"
                     r"(?P<value>[\x20-\x7e\t]*)$")
_FILTER = re.compile(r"^(?:Patient\?)?identifier=(?P<system>[^|&]+)\|$")


@dataclass(frozen=True)
class Topic:
    """One SubscriptionTopic: its code (the last segment of its canonical), title and what
    fires it."""

    code: str
    title: str
    description: str

    @property
    def url(self) -> str:
        """The topic's canonical URL."""
        return f"{CANONICAL}/SubscriptionTopic/{self.code}"


TOPICS: dict[str, Topic] = {topic.code: topic for topic in (
    Topic(MERGE, "Patient merge and unmerge",
          "$merge or $unmerge changed two Patient records: one event with focus the source "
          "(merged-away) record and one with focus the target (surviving) record."),
    Topic(IDENTITY, "Patient identity change",
          "An identifier of a Patient was added, removed or replaced: a create with "
          "identifiers, a reserve identity added by $generate-reserve-id (LRID to NRID), a "
          "reserve number replaced by a personnummer, identifiers copied by $merge or "
          "removed by $unmerge, a delete."),
    Topic(CHANGE, "Patient change",
          "Any create, update, patch or delete of a Patient, however it was made."),
)}
TOPIC_BY_URL = {topic.url: topic for topic in TOPICS.values()}


@dataclass(frozen=True)
class SubscriptionRequest:
    """What a client's Subscription asks for, checked."""

    topic: str
    endpoint: str
    content: str
    headers: tuple[str, ...]
    heartbeat_seconds: int | None
    filter_system: str | None
    #: The resource as it will be stored and returned: without ``channel.header``.
    resource: dict[str, Any]


@dataclass(frozen=True)
class PatientEvent:
    """One event of a topic about one Patient version."""

    topic: str
    focus: str
    version: int | None
    #: Identifier systems a subscription's filter is matched against.
    systems: frozenset[str]
    context: tuple[str, ...] = ()

    def matches(self, filter_system: str | None) -> bool:
        """Whether a subscription with this filter (None: none) gets the event."""
        return filter_system is None or filter_system in self.systems


def parse_subscription(body: Any, endpoint_prefixes: tuple[str, ...]) -> SubscriptionRequest:
    """Check a client's Subscription (400 when it is no Subscription, 422 when the server
    cannot honour it) and say what it asks for."""
    if not isinstance(body, dict) or body.get("resourceType") != "Subscription":
        raise InvalidRequest("The body must be a Subscription resource")
    topic = TOPIC_BY_URL.get(str(body.get("criteria") or ""))
    if topic is None:
        raise BusinessRuleViolation(
            "Subscription.criteria must be the canonical of a topic this server offers: "
            + ", ".join(t.url for t in TOPICS.values()), expression=["Subscription.criteria"])
    channel = body.get("channel")
    if not isinstance(channel, dict) or channel.get("type") != "rest-hook":
        raise BusinessRuleViolation("Subscription.channel.type must be rest-hook",
                                    expression=["Subscription.channel.type"])
    endpoint = _endpoint(channel.get("endpoint"), endpoint_prefixes)
    content = _content(channel)
    headers = _headers(channel.get("header"))
    heartbeat = _heartbeat(channel)
    filter_system = _filter(body.get("_criteria"))
    resource = {key: value for key, value in body.items() if key not in ("id", "meta")}
    resource["channel"] = {key: value for key, value in channel.items() if key != "header"}
    return SubscriptionRequest(topic.code, endpoint, content, headers, heartbeat,
                               filter_system, resource)


def _endpoint(endpoint: Any, prefixes: tuple[str, ...]) -> str:
    where = ["Subscription.channel.endpoint"]
    if not isinstance(endpoint, str) or not endpoint.startswith(("http://", "https://")):
        raise BusinessRuleViolation("Subscription.channel.endpoint must be an http(s) URL",
                                    expression=where)
    try:
        parts = urlsplit(endpoint)
        usable = bool(parts.hostname) and (parts.port is None or parts.port > 0)
    except ValueError:
        usable = False
    if not usable:
        raise BusinessRuleViolation("Subscription.channel.endpoint is not a usable URL (host "
                                    "and port)", expression=where)
    if len(endpoint) > 2048 or not any(endpoint.startswith(p) for p in prefixes if p):
        raise BusinessRuleViolation(
            "Subscription.channel.endpoint is not among the endpoints this server may call "
            "(SUBSCRIPTION_ENDPOINT_PREFIXES)", expression=where)
    return endpoint


def _content(channel: dict[str, Any]) -> str:
    payload = channel.get("payload")
    if payload not in (None, PAYLOAD_TYPE):
        raise BusinessRuleViolation(f"Subscription.channel.payload must be {PAYLOAD_TYPE}",
                                    expression=["Subscription.channel.payload"])
    values = [ext.get("valueCode") for ext in _extensions(channel.get("_payload"))
              if ext.get("url") == CONTENT_EXTENSION]
    if len(values) > 1 or (values and values[0] not in CONTENTS):
        raise BusinessRuleViolation(
            f"The payload content extension must be one of {', '.join(CONTENTS)}",
            expression=["Subscription.channel.payload"])
    return str(values[0]) if values else DEFAULT_CONTENT


def _headers(headers: Any) -> tuple[str, ...]:
    where = ["Subscription.channel.header"]
    if headers is None:
        return ()
    if not isinstance(headers, list) or len(headers) > MAX_SUBSCRIPTION_HEADERS:
        raise BusinessRuleViolation("Subscription.channel.header holds at most "
                                    f"{MAX_SUBSCRIPTION_HEADERS} strings", expression=where)
    for line in headers:
        match = _HEADER.match(line) if isinstance(line, str) else None
        too_long = len(line) > MAX_SUBSCRIPTION_HEADER_LENGTH if match else False
        if match is None or too_long or "\r" in line or "\n" in line:
            raise BusinessRuleViolation("Each Subscription.channel.header is one 'Name: value' "
                                        f"line of at most {MAX_SUBSCRIPTION_HEADER_LENGTH} "
                                        "characters", expression=where)
        if match.group("name").lower() in RESERVED_HEADERS:
            raise BusinessRuleViolation("Subscription.channel.header may not set "
                                        f"{match.group('name')}", expression=where)
    return tuple(headers)


def _heartbeat(channel: dict[str, Any]) -> int | None:
    values = [ext.get("valueUnsignedInt") for ext in _extensions(channel.get("extension"))
              if ext.get("url") == HEARTBEAT_EXTENSION]
    if not values:
        return None
    value = values[0]
    if len(values) > 1 or not isinstance(value, int) or isinstance(value, bool) \
            or not 1 <= value <= MAX_HEARTBEAT_SECONDS:
        raise BusinessRuleViolation(
            f"The heartbeat period is one whole number of seconds, 1–{MAX_HEARTBEAT_SECONDS}",
            expression=["Subscription.channel.extension"])
    return value


def _filter(criteria: Any) -> str | None:
    filters = [ext.get("valueString") for ext in _extensions((criteria or {}).get("extension")
                                                             if isinstance(criteria, dict)
                                                             else None)
               if ext.get("url") == FILTER_EXTENSION]
    if not filters:
        return None
    match = _FILTER.match(unquote(filters[0])) if isinstance(filters[0], str) else None
    if len(filters) > 1 or match is None:
        raise BusinessRuleViolation(
            "The one filter this server supports is Patient?identifier=<system>|",
            expression=["Subscription.criteria"])
    return canonical_system(match.group("system"))


def _extensions(value: Any) -> list[dict[str, Any]]:
    if isinstance(value, dict):
        value = value.get("extension")
    return [ext for ext in value if isinstance(ext, dict)] if isinstance(value, list) else []


def identifier_keys(resource: dict[str, Any] | None) -> set[tuple[str, str, str]]:
    """The (system, value, use) of each identifier of a Patient (none for None)."""
    return {(str(i.get("system") or ""), str(i.get("value") or ""), str(i.get("use") or ""))
            for i in (resource or {}).get("identifier") or [] if isinstance(i, dict)}


def patient_events(patient_id: str, version: int | None, before: dict[str, Any] | None,
                   after: dict[str, Any] | None) -> list[PatientEvent]:
    """The events of one Patient write: ``before`` None is a create, ``after`` None a
    delete."""
    keys_before, keys_after = identifier_keys(before), identifier_keys(after)
    focus = f"Patient/{patient_id}"
    every_system = frozenset(system for system, _v, _u in keys_before | keys_after)
    events = [PatientEvent(CHANGE, focus, version, every_system)]
    changed = keys_before ^ keys_after
    if changed:
        events.append(PatientEvent(IDENTITY, focus, version,
                                   frozenset(system for system, _v, _u in changed)))
    return events


def merge_events(source: tuple[str, int, dict[str, Any]],
                 target: tuple[str, int, dict[str, Any]]) -> list[PatientEvent]:
    """The two ``patient-merge`` events of a merge or unmerge: (id, version, resource) of
    the source and of the target as written."""
    systems = frozenset(system for _id, _v, resource in (source, target)
                        for system, _value, _use in identifier_keys(resource))
    source_ref, target_ref = f"Patient/{source[0]}", f"Patient/{target[0]}"
    return [PatientEvent(MERGE, source_ref, source[1], systems, (target_ref,)),
            PatientEvent(MERGE, target_ref, target[1], systems, (source_ref,))]


def retry_delay(failures: int, base: float, cap: float) -> float:
    """Seconds to wait after ``failures`` failed deliveries in a row: doubling from ``base``
    up to ``cap``.

    >>> [retry_delay(n, 1, 60) for n in (1, 2, 3, 10)]
    [1.0, 2.0, 4.0, 60.0]
    """
    return float(min(cap, base * 2 ** min(failures - 1, 30)))


def topic_resource(topic: Topic) -> dict[str, Any]:
    """The topic as an R4 ``Basic`` resource with the IG's cross-version extensions."""
    prefix = "http://hl7.org/fhir/5.0/StructureDefinition/extension-SubscriptionTopic"
    return {
        "resourceType": "Basic",
        "id": topic.code,
        "extension": [
            {"url": f"{prefix}.url", "valueUri": topic.url},
            {"url": f"{prefix}.title", "valueString": topic.title},
            {"url": f"{prefix}.status", "valueCode": "active"},
            {"url": f"{prefix}.description", "valueMarkdown": topic.description},
            {"url": f"{prefix}.resourceTrigger", "extension": [
                {"url": "resource", "valueUri": "http://hl7.org/fhir/StructureDefinition/Patient"},
                {"url": "description", "valueMarkdown": topic.description},
            ]},
            {"url": f"{prefix}.canFilterBy", "extension": [
                {"url": "resource", "valueUri": "Patient"},
                {"url": "filterParameter", "valueString": "identifier"},
                {"url": "description", "valueMarkdown":
                    "identifier=<system>| : only Patients holding an identifier of the system"},
            ]},
        ],
        "code": {"coding": [{"system": "http://hl7.org/fhir/fhir-types",
                             "code": "SubscriptionTopic"}]},
    }

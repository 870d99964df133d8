"""Helpers of the Subscription tests: the receiver process and reading what it got."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from tests.support import free_port

RECEIVER = Path(__file__).with_name("receiver.py")
BASE = "http://sweid.example/fhir/SubscriptionTopic/"
CONTENT = "http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/backport-payload-content"
FILTER = "http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/backport-filter-criteria"
HEARTBEAT = ("http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/"
             "backport-heartbeat-period")
#: Delivery settings that keep the tests fast.
FAST_DELIVERY = {
    "SUBSCRIPTION_ENDPOINT_PREFIXES": "http://127.0.0.1:",
    "SUBSCRIPTION_POLL_SECONDS": "0.05",
    "SUBSCRIPTION_RETRY_BASE_SECONDS": "0.1",
    "SUBSCRIPTION_RETRY_MAX_SECONDS": "0.4",
    "SUBSCRIPTION_MAX_FAILURES": "3",
    "SUBSCRIPTION_LEASE_SECONDS": "3",
    "SUBSCRIPTION_TIMEOUT_SECONDS": "2",
    "REQUEST_LOG": "off",
}


@dataclass
class Receiver:
    """A receiver process on a fixed port, writing what it gets to ``path``."""

    path: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[str] | None = None
    #: Seconds it takes to answer each notification.
    delay: float = 0.0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def start(self) -> Receiver:
        self.process = subprocess.Popen([sys.executable, str(RECEIVER), str(self.port),
                                         str(self.path), str(self.delay)],
                                        stdout=subprocess.PIPE, text=True)
        assert self.process.stdout is not None
        assert self.process.stdout.readline().strip() == "listening"
        return self

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)

    def received(self) -> list[dict[str, Any]]:
        """Every POST so far: {"authorization", "content_type", "body"}."""
        if not self.path.exists():
            return []
        return [json.loads(line) for line in self.path.read_text().splitlines() if line]

    def bundles(self, kind: str = "event-notification",
                subscription_id: str | None = None) -> list[dict[str, Any]]:
        """The notification Bundles of one type (of one subscription), in arrival order."""
        return [r["body"] for r in self.received() if notification_type(r["body"]) == kind
                and subscription_id in (None, subscription_of(r["body"]))]

    def events(self, subscription_id: str | None = None) -> list[tuple[int, str]]:
        """(event number, focus reference) of every event received (for one subscription),
        in arrival order."""
        return [event for bundle in self.bundles("event-notification", subscription_id)
                for event in bundle_events(bundle)]

    def wait(self, condition: Callable[[Receiver], bool], timeout: float = 30) -> None:
        """Until ``condition(self)`` holds; fails after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if condition(self):
                return
            time.sleep(0.05)
        raise AssertionError(f"receiver condition not met in {timeout} s; got "
                             f"{[notification_type(r['body']) for r in self.received()]}, "
                             f"events {self.events()}")


def status_parameters(bundle: dict[str, Any]) -> dict[str, Any]:
    """The subscription status Parameters: the first entry."""
    first = bundle["entry"][0]["resource"]
    assert first["resourceType"] == "Parameters"
    return first


def subscription_of(bundle: dict[str, Any]) -> str:
    """The id of the Subscription a notification is for."""
    reference = next(p["valueReference"]["reference"]
                     for p in status_parameters(bundle)["parameter"]
                     if p["name"] == "subscription")
    return str(reference).rsplit("/", 1)[1]


def event_count(session: requests.Session, base: str, subscription_id: str) -> int:
    """events-since-subscription-start as ``$status`` tells it (committed events)."""
    answer = session.get(f"{base}/Subscription/{subscription_id}/$status")
    assert answer.status_code == 200, answer.text
    return int(next(p["valueString"] for p in answer.json()["entry"][0]["resource"]["parameter"]
                    if p["name"] == "events-since-subscription-start"))


def notification_type(bundle: dict[str, Any]) -> str:
    return next(p["valueCode"] for p in status_parameters(bundle)["parameter"]
                if p["name"] == "type")


def bundle_events(bundle: dict[str, Any]) -> list[tuple[int, str]]:
    """(event number, focus reference, "" for content empty) of a notification."""
    found = []
    for parameter in status_parameters(bundle)["parameter"]:
        if parameter["name"] != "notification-event":
            continue
        parts = {p["name"]: p for p in parameter["part"]}
        focus = parts.get("focus", {}).get("valueReference", {}).get("reference", "")
        found.append((int(parts["event-number"]["valueString"]), focus))
    return found


def subscription(topic: str, endpoint: str, *, content: str = "id-only",
                 headers: list[str] | None = None, filter_system: str | None = None,
                 heartbeat: int | None = None) -> dict[str, Any]:
    """A backport Subscription on one of the server's topics."""
    channel: dict[str, Any] = {"type": "rest-hook", "endpoint": endpoint,
                               "payload": "application/fhir+json",
                               "_payload": {"extension": [{"url": CONTENT,
                                                           "valueCode": content}]}}
    if headers:
        channel["header"] = headers
    if heartbeat:
        channel["extension"] = [{"url": HEARTBEAT, "valueUnsignedInt": heartbeat}]
    body: dict[str, Any] = {"resourceType": "Subscription", "status": "requested",
                            "reason": "test", "criteria": BASE + topic, "channel": channel}
    if filter_system:
        body["_criteria"] = {"extension": [{"url": FILTER,
                                            "valueString": f"Patient?identifier={filter_system}|"}]}
    return body


def subscribe(session: requests.Session, base: str, body: dict[str, Any]) -> str:
    """Create the Subscription; its id."""
    answer = session.post(f"{base}/Subscription", json=body)
    assert answer.status_code == 201, answer.text
    return str(answer.json()["id"])


def wait_status(session: requests.Session, base: str, subscription_id: str, status: str,
                timeout: float = 30) -> dict[str, Any]:
    """Until the Subscription has ``status``; the resource."""
    deadline = time.monotonic() + timeout
    while True:
        current = session.get(f"{base}/Subscription/{subscription_id}").json()
        if current["status"] == status or time.monotonic() > deadline:
            assert current["status"] == status, current
            return dict(current)
        time.sleep(0.05)

"""Routine 3.5, notification (seed 001: "Notifiering"): a connected system subscribes to the
patient-merge topic, two records of one person are merged, and the system receives the
notification naming both records.

The script is its own receiver: a small HTTP server on RECEIVER_HOST (default the host of
FHIR_BASE: a server on this machine) and RECEIVER_PORT (default a free port). The FHIR server
must allow that endpoint: start it with SUBSCRIPTION_ENDPOINT_PREFIXES=http://<that host>:
(api.md "Subscriptions").
"""

import json
import os
import queue
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

from _fhir import BASE, call, expect, parameters, test_pnr, unique_family

TOPIC = "http://sweid.example/fhir/SubscriptionTopic/patient-merge"
CONTENT = ("http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/"
           "backport-payload-content")
received: "queue.Queue[dict]" = queue.Queue()


class Receiver(BaseHTTPRequestHandler):
    """Puts every notification Bundle on the queue; answers 200."""

    def do_POST(self) -> None:  # noqa: N802 — http.server's name
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        received.put(json.loads(body))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        """Quiet."""


def notification_type(bundle: dict) -> str:
    status = bundle["entry"][0]["resource"]
    return next(p["valueCode"] for p in status["parameter"] if p["name"] == "type")


def next_notification(kind: str) -> dict:
    """The next notification of ``kind`` (others — heartbeats — are skipped)."""
    while True:
        bundle = received.get(timeout=30)
        if notification_type(bundle) == kind:
            return bundle


host = os.environ.get("RECEIVER_HOST") or urlsplit(BASE).hostname or ""
server = ThreadingHTTPServer((host, int(os.environ.get("RECEIVER_PORT", "0"))), Receiver)
threading.Thread(target=server.serve_forever, daemon=True).start()
endpoint = f"http://{host}:{server.server_address[1]}/notifications"

print(f"1. Subscribe to patient-merge at {BASE}, notifications to {endpoint}")
status, subscription, _ = call("POST", "Subscription", {
    "resourceType": "Subscription", "status": "requested",
    "reason": "Keep the lab system's patient register in step with merges",
    "criteria": TOPIC,
    "channel": {"type": "rest-hook", "endpoint": endpoint, "payload": "application/fhir+json",
                "_payload": {"extension": [{"url": CONTENT, "valueCode": "id-only"}]},
                "header": ["Authorization: Bearer lab-system-receiver-key"]}})
if status == 422:
    print("   the server does not allow this endpoint: start it with "
          f"SUBSCRIPTION_ENDPOINT_PREFIXES=http://{host}:")
expect(status == 201, "Subscription created")
handshake = next_notification("handshake")
expect(handshake["type"] == "history", "handshake received: the subscription is active")

print("2. The same person has a personnummer record and an unidentified duplicate")
family = unique_family("Notis")
person = {"resourceType": "Patient", "name": [{"family": family, "given": ["Maja"]}],
          "gender": "female", "birthDate": "1987-05-14"}
status, target, _ = call("POST", "Patient", {
    **person, "identifier": [{"system": "urn:oid:1.2.752.129.2.1.3.1",
                              "value": test_pnr(female=True)}]})
expect(status == 201, "personnummer record created")
status, source, _ = call("POST", "Patient", person)
expect(status == 201, "duplicate created")

print("3. Merge the duplicate into the personnummer record")
status, _, _ = call("POST", "Patient/$merge", parameters(
    {"name": "source-patient", "valueReference": {"reference": f"Patient/{source['id']}"}},
    {"name": "target-patient", "valueReference": {"reference": f"Patient/{target['id']}"}}))
expect(status == 200, "merged")

print("4. The notification the subscriber receives")
foci = []
while len(foci) < 2:
    bundle = next_notification("event-notification")
    print(json.dumps(bundle, indent=2, ensure_ascii=False))
    for parameter in bundle["entry"][0]["resource"]["parameter"]:
        if parameter["name"] == "notification-event":
            parts = {p["name"]: p for p in parameter["part"]}
            foci.append(parts["focus"]["valueReference"]["reference"])
expect(foci == [f"Patient/{source['id']}", f"Patient/{target['id']}"],
       "events for the merged-away record, then the surviving one")

status, _, _ = call("DELETE", f"Subscription/{subscription['id']}")
expect(status == 204, "subscription removed")
server.shutdown()

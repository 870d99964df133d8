"""Subscriptions over HTTP: the topics, creating one (allow-list, checks, scopes), the
handshake, and what reads show (never the channel headers)."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.subscriptions.conftest import session_with
from tests.subscriptions.support import BASE, subscribe, subscription, wait_status
from tests.support import ROOT, make_pnr, patient

TOPIC_EXTENSION = ("http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/"
                   "capabilitystatement-subscriptiontopic-canonical")


def test_the_topics_are_listed_in_the_capability_statement_and_served(fbase, masked):
    statement = masked.get(f"{fbase}/metadata").json()
    entry = next(r for r in statement["rest"][0]["resource"] if r["type"] == "Subscription")
    canonicals = sorted(e["valueCanonical"] for e in entry["extension"]
                        if e["url"] == TOPIC_EXTENSION)
    assert [c.rsplit("/", 1)[1] for c in canonicals] == [
        "patient-change", "patient-identity", "patient-merge"]
    assert {op["name"] for op in entry["operation"]} == {"status", "events"}
    topics = masked.get(f"{fbase}/Basic", params={"code": "SubscriptionTopic"}).json()
    assert sorted(e["resource"]["id"] for e in topics["entry"]) == [
        "patient-change", "patient-identity", "patient-merge"]
    merge = masked.get(f"{fbase}/Basic/patient-merge").json()
    assert {"url": "http://hl7.org/fhir/5.0/StructureDefinition/extension-SubscriptionTopic.url",
            "valueUri": BASE + "patient-merge"} in merge["extension"]
    assert masked.get(f"{fbase}/Basic/nothing").status_code == 404


def test_an_endpoint_outside_the_allow_list_is_refused_with_422(fbase, full):
    for endpoint in ("http://169.254.169.254/latest/meta-data", "https://example.org/hook",
                     "http://127.0.0.2:8080/hook", "ftp://127.0.0.1:21/x"):
        answer = full.post(f"{fbase}/Subscription",
                           json=subscription("patient-merge", endpoint))
        assert answer.status_code == 422, answer.text
        assert answer.json()["resourceType"] == "OperationOutcome"


def test_what_the_server_cannot_honour_is_refused(fbase, full, receiver):
    cases = {
        "unknown topic": {**subscription("patient-merge", receiver.url),
                          "criteria": BASE + "observation-change"},
        "not rest-hook": {**subscription("patient-merge", receiver.url),
                          "channel": {"type": "websocket", "endpoint": receiver.url}},
        "bad content": subscription("patient-merge", receiver.url, content="everything"),
        "header line": subscription("patient-merge", receiver.url, headers=["no colon"]),
        "reserved header": subscription("patient-merge", receiver.url,
                                        headers=["Host: elsewhere"]),
        "header value": subscription("patient-merge", receiver.url,
                                     headers=["X-Key: nyckel-åäö"]),
        "bad port": subscription("patient-merge", "http://127.0.0.1:99999/hook"),
        "bad filter": {**subscription("patient-merge", receiver.url),
                       "_criteria": {"extension": [{
                           "url": "http://hl7.org/fhir/uv/subscriptions-backport/"
                                  "StructureDefinition/backport-filter-criteria",
                           "valueString": "Patient?name=x"}]}},
    }
    for name, body in cases.items():
        answer = full.post(f"{fbase}/Subscription", json=body)
        assert answer.status_code == 422, (name, answer.text)
    assert full.post(f"{fbase}/Subscription",
                     json={"resourceType": "Patient"}).status_code == 400
    malformed = {**subscription("patient-merge", receiver.url), "end": "not a date"}
    assert full.post(f"{fbase}/Subscription", json=malformed).status_code == 400


def test_creating_needs_the_subscription_create_scope(fbase, receiver):
    body = subscription("patient-merge", receiver.url)
    with session_with("system/Patient.cruds") as patients_only:
        assert patients_only.post(f"{fbase}/Subscription", json=body).status_code == 403
    with session_with("system/Subscription.c") as creator:
        assert creator.post(f"{fbase}/Subscription", json=body).status_code == 201
        assert creator.get(f"{fbase}/Subscription").status_code == 403


def test_the_handshake_activates_and_the_headers_go_only_to_the_endpoint(fbase, full,
                                                                        receiver):
    secret = "Bearer receiver-secret-4711"
    subscription_id = subscribe(full, fbase, subscription(
        "patient-change", receiver.url, headers=[f"Authorization: {secret}"]))
    receiver.wait(lambda r: bool(r.bundles("handshake")))
    handshake = next(r for r in receiver.received())
    assert handshake["authorization"] == secret
    assert handshake["content_type"] == "application/fhir+json"
    assert handshake["body"]["type"] == "history"
    shown = wait_status(full, fbase, subscription_id, "active")
    assert "header" not in shown["channel"] and secret not in str(shown)
    listed = full.get(f"{fbase}/Subscription", params={"status": "active"}).json()
    assert subscription_id in {e["resource"]["id"] for e in listed["entry"]}
    assert secret not in str(listed)
    status = full.get(f"{fbase}/Subscription/{subscription_id}/$status").json()
    parameters = {p["name"]: p for p in status["entry"][0]["resource"]["parameter"]}
    assert parameters["type"]["valueCode"] == "query-status"
    assert parameters["status"]["valueCode"] == "active"
    assert secret not in str(status)
    assert full.delete(f"{fbase}/Subscription/{subscription_id}").status_code == 204
    assert full.get(f"{fbase}/Subscription/{subscription_id}").status_code == 410


def test_the_command_line_lists_subscriptions_and_undelivered_events(sub_database, fbase,
                                                                     full, receiver):
    secret = "X-Receiver-Key: cli-secret-0815"
    subscription_id = subscribe(full, fbase, subscription("patient-change", receiver.url,
                                                          headers=[secret]))
    wait_status(full, fbase, subscription_id, "active")
    receiver.stop()  # the endpoint is down: the event stays undelivered
    created = full.post(f"{fbase}/Patient", json=patient(pnr=make_pnr())).json()
    env = {**os.environ, "DATABASE_URL": sub_database.url}
    try:
        listed = subprocess.run([sys.executable, "-m", "app", "subscriptions", "list"],
                                cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
        assert listed.returncode == 0, listed.stderr
        line = next(row for row in listed.stdout.splitlines() if row.startswith(subscription_id))
        assert "patient-change" in line and f"127.0.0.1:{receiver.port}" in line
        assert "cli-secret" not in listed.stdout
        pending = subprocess.run([sys.executable, "-m", "app", "subscriptions", "pending"],
                                 cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
        assert pending.returncode == 0, pending.stderr
        assert f"Patient/{created['id']}" in pending.stdout
    finally:
        assert full.delete(f"{fbase}/Subscription/{subscription_id}").status_code == 204

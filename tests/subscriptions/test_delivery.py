"""Delivery: in order with eventNumbers, nothing lost while the endpoint is down (status
error, then active again), heartbeats, protected persons id-only unless the subscriber may
see them, and $events."""

from __future__ import annotations

import time

from tests.security.conftest import SECURITY_LABEL_SYSTEM
from tests.subscriptions.support import (
    Receiver,
    bundle_events,
    event_count,
    subscribe,
    subscription,
    wait_status,
)
from tests.support import make_pnr, patient

LABEL = {"security": [{"system": SECURITY_LABEL_SYSTEM, "code": "sekretessmarkering"}]}
ADDRESS = [{"line": ["Hemliga vägen 1"], "city": "Göteborg", "district": "Västra Götaland"}]
OPEN_ADDRESS = [{"line": ["Öppna gatan 2"], "city": "Borås"}]


def _renamed(session, base, resource, given):
    resource["name"][0]["given"] = [given]
    answer = session.put(f"{base}/Patient/{resource['id']}", json=resource)
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_the_endpoint_down_then_back_gets_every_event_in_order(fbase, full, receiver):
    subscription_id = subscribe(full, fbase, subscription("patient-change", receiver.url))
    wait_status(full, fbase, subscription_id, "active")
    record = full.post(f"{fbase}/Patient", json=patient(pnr=make_pnr())).json()
    receiver.wait(lambda r: len(r.events(subscription_id)) == 1)
    receiver.stop()
    for number in range(8):
        record = _renamed(full, fbase, record, f"Given{number}")
    shown = wait_status(full, fbase, subscription_id, "error")
    assert "error" in shown  # the last failure, without the endpoint's headers
    back = Receiver(receiver.path, receiver.port).start()
    try:
        back.wait(lambda r: {n for n, _f in r.events(subscription_id)} == set(range(1, 10)))
        numbers = [n for n, _f in back.events(subscription_id)]
        assert numbers == sorted(numbers), numbers
        wait_status(full, fbase, subscription_id, "active")
    finally:
        back.stop()


def test_heartbeats_arrive_when_nothing_happens(fbase, full, receiver):
    subscription_id = subscribe(full, fbase, subscription("patient-merge", receiver.url,
                                                          heartbeat=1))
    receiver.wait(lambda r: len(r.bundles("heartbeat", subscription_id)) >= 2, timeout=10)


def test_protected_persons_go_full_only_to_a_subscriber_who_may_see_them(fbase, full,
                                                                         masked, receiver):
    as_masked = subscribe(masked, fbase, subscription("patient-change", receiver.url,
                                                      content="full-resource"))
    as_full = subscribe(full, fbase, subscription("patient-change", receiver.url,
                                                  content="full-resource"))
    wait_status(full, fbase, as_masked, "active")
    wait_status(full, fbase, as_full, "active")
    hidden = full.post(f"{fbase}/Patient", json=patient(pnr=make_pnr(), meta=LABEL,
                                                        address=ADDRESS)).json()
    plain = full.post(f"{fbase}/Patient", json=patient(pnr=make_pnr(),
                                                       address=OPEN_ADDRESS)).json()
    receiver.wait(lambda r: len(r.events(as_masked)) == 2 and len(r.events(as_full)) == 2)

    def entries(subscription_id):
        return {entry["fullUrl"].rsplit("/", 1)[1]: entry
                for bundle in receiver.bundles("event-notification", subscription_id)
                for entry in bundle["entry"][1:]}

    masked_entries, full_entries = entries(as_masked), entries(as_full)
    assert "resource" not in masked_entries[hidden["id"]]  # id-only, not even masked data
    assert "Hemliga" not in str(receiver.bundles("event-notification", as_masked))
    assert masked_entries[plain["id"]]["resource"]["address"] == OPEN_ADDRESS
    assert full_entries[hidden["id"]]["resource"]["address"] == ADDRESS
    # The unmasked delivery is recorded like any disclosure.
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        audit = full.get(f"{fbase}/AuditEvent",
                         params={"entity": f"Patient/{hidden['id']}"}).json()
        if any("subscription-notification" in str(e) for e in audit.get("entry", [])):
            break
        time.sleep(0.1)
    else:
        raise AssertionError("no AuditEvent for the unmasked notification")


def test_events_returns_the_stored_events_as_the_caller_may_see_them(fbase, full, masked,
                                                                     receiver):
    subscription_id = subscribe(full, fbase, subscription("patient-change", receiver.url,
                                                          content="full-resource"))
    hidden = full.post(f"{fbase}/Patient", json=patient(pnr=make_pnr(), meta=LABEL,
                                                        address=ADDRESS)).json()
    for given in ("Ada", "Bea"):
        hidden = _renamed(full, fbase, hidden, given)
    assert event_count(full, fbase, subscription_id) == 3
    answer = masked.get(f"{fbase}/Subscription/{subscription_id}/$events",
                        params={"eventsSinceNumber": "2", "eventsUntilNumber": "3"}).json()
    assert answer["type"] == "history"
    parameters = {p["name"]: p for p in answer["entry"][0]["resource"]["parameter"]}
    assert parameters["type"]["valueCode"] == "query-event"
    assert bundle_events(answer) == [(2, f"Patient/{hidden['id']}"),
                                     (3, f"Patient/{hidden['id']}")]
    assert "Hemliga" not in str(answer)
    seen = full.get(f"{fbase}/Subscription/{subscription_id}/$events").json()
    assert [n for n, _f in bundle_events(seen)] == [1, 2, 3]
    assert "Hemliga" in str(seen)
    empty = full.get(f"{fbase}/Subscription/{subscription_id}/$events",
                     params={"content": "empty"}).json()
    assert len(empty["entry"]) == 1 and "focus" not in str(empty)
    bad = full.get(f"{fbase}/Subscription/{subscription_id}/$events",
                   params={"eventsSinceNumber": "x"})
    assert bad.status_code == 400

"""Each topic fires for its changes and not for others, whichever way the change is made
(REST, PATCH, transaction Bundle, $merge/$unmerge, $generate-reserve-id, delete); the
counts are read from $status right after each change (committed with it), and the receiver
gets the same events in order."""

from __future__ import annotations

from typing import Any

import requests

from tests.subscriptions.support import (
    event_count,
    subscribe,
    subscription,
    wait_status,
)
from tests.support import NRID_SYSTEM, PNR_SYSTEM, make_pnr, patient

TOPICS = ("patient-merge", "patient-identity", "patient-change")


def _parameters(*params: dict[str, Any]) -> dict[str, Any]:
    return {"resourceType": "Parameters", "parameter": list(params)}


def _ok(answer: requests.Response) -> dict[str, Any]:
    assert answer.status_code in (200, 201), answer.text
    return dict(answer.json()) if answer.content else {}


def test_each_topic_fires_for_its_changes_and_not_for_others(fbase, full, receiver):
    ids = {topic: subscribe(full, fbase, subscription(topic, receiver.url))
           for topic in TOPICS}
    for subscription_id in ids.values():
        wait_status(full, fbase, subscription_id, "active")
    counts = dict.fromkeys(TOPICS, 0)

    def step(merge: int, identity: int, change: int) -> None:
        expected = {"patient-merge": merge, "patient-identity": identity,
                    "patient-change": change}
        for topic in TOPICS:
            counts[topic] += expected[topic]
            assert event_count(full, fbase, ids[topic]) == counts[topic], topic

    pnr_a = make_pnr()
    a = _ok(full.post(f"{fbase}/Patient", json=patient(pnr=pnr_a)))
    step(0, 1, 1)  # a create with an identifier
    a["name"][0]["given"] = ["Annika"]
    a = _ok(full.put(f"{fbase}/Patient/{a['id']}", json=a))
    step(0, 0, 1)  # a name changed: no identity event
    _ok(full.patch(f"{fbase}/Patient/{a['id']}",
                   data='[{"op": "add", "path": "/telecom", "value": [{"system": "phone", '
                        '"value": "0701234567"}]}]',
                   headers={"Content-Type": "application/json-patch+json"}))
    step(0, 0, 1)
    c = _ok(full.post(f"{fbase}/Patient", json=patient(birth="1998-04-04")))
    step(0, 0, 1)  # no identifiers
    generated = _ok(full.post(f"{fbase}/Patient/{c['id']}/$generate-reserve-id",
                              json=_parameters()))
    changed = event_count(full, fbase, ids["patient-change"]) - counts["patient-change"]
    assert changed >= 1 and any(p["name"] == "identifier" for p in generated["parameter"])
    step(0, event_count(full, fbase, ids["patient-identity"]) - counts["patient-identity"],
         changed)
    assert counts["patient-identity"] >= 2  # the NRID added: identity fired
    # A reserve number replaced by a personnummer, in a transaction Bundle.
    current = _ok(full.get(f"{fbase}/Patient/{c['id']}"))
    current["identifier"] = [{"system": PNR_SYSTEM, "value": make_pnr()}]
    bundle = {"resourceType": "Bundle", "type": "transaction", "entry": [
        {"resource": current, "request": {"method": "PUT", "url": f"Patient/{c['id']}"}}]}
    _ok(full.post(fbase, json=bundle))
    step(0, 1, 1)
    b = _ok(full.post(f"{fbase}/Patient", json=patient(birth="1998-01-01")))
    step(0, 0, 1)  # a duplicate without identifiers, merged below into the PNR record
    merge = _parameters({"name": "source-patient", "valueReference": {
        "reference": f"Patient/{b['id']}"}}, {"name": "target-patient", "valueReference": {
            "reference": f"Patient/{a['id']}"}})
    _ok(full.post(f"{fbase}/Patient/$merge", json=merge))
    step(2, 0, 2)  # the source held no identifier: none copied, no identity event
    _ok(full.post(f"{fbase}/Patient/$unmerge", json=merge))
    step(2, 0, 2)
    assert full.delete(f"{fbase}/Patient/{c['id']}").status_code == 204
    step(0, 1, 1)

    for topic in TOPICS:
        receiver.wait(lambda r, t=topic: len({n for n, _f in r.events(ids[t])}) == counts[t])
        numbers = [n for n, _f in receiver.events(ids[topic])]
        assert sorted(set(numbers)) == list(range(1, counts[topic] + 1)), topic
        assert numbers == sorted(numbers), f"{topic} out of order: {numbers}"
    merges = [focus for _n, focus in receiver.events(ids["patient-merge"])]
    assert merges == [f"Patient/{b['id']}", f"Patient/{a['id']}"] * 2  # source, then target


def test_a_filter_by_identifier_system_narrows_the_topic(fbase, full, receiver):
    only_nrid = subscribe(full, fbase, subscription("patient-change", receiver.url,
                                                    filter_system=NRID_SYSTEM))
    pnr_holder = _ok(full.post(f"{fbase}/Patient", json=patient(pnr=make_pnr())))
    assert event_count(full, fbase, only_nrid) == 0
    generated = _ok(full.post(f"{fbase}/Patient/$generate-reserve-id", json=_parameters(
        {"name": "birthDate", "valueDate": "1998-02-02"}, {"name": "gender",
                                                           "valueCode": "male"},
        {"name": "patient", "resource": patient(birth="1998-02-02", gender="male")})))
    created = next(p["valueReference"]["reference"] for p in generated["parameter"]
                   if p["name"] == "patient")
    assert event_count(full, fbase, only_nrid) == 1
    receiver.wait(lambda r: [f for _n, f in r.events(only_nrid)] == [created])
    assert f"Patient/{pnr_holder['id']}" not in str(receiver.events(only_nrid))

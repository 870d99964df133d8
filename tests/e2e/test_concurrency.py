"""Concurrent writers from parallel processes: no duplicates, no lost updates.

A dedicated server with 4 workers × 4 threads makes the requests really overlap.
"""

from __future__ import annotations

import multiprocessing
import threading
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.operations.merge_helpers import ident, make_nrid, params
from tests.operations.reserve_helpers import NRID_SYSTEM, fresh_date, parameters
from tests.support import PNR_SYSTEM, Database, Server, make_pnr, patient

RACERS = 12
#: Racers are spread over this many processes, each sending its share from threads.
PROCESSES = 4
JSON_PATCH = {"Content-Type": "application/json-patch+json"}


@pytest.fixture(scope="module")
def busy_base(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    database = Database.fresh(Path(tmp_path_factory.mktemp("race")))
    server = Server(database, env={"THREADS": "4"}, workers=4).start()
    yield server.base
    server.stop()
    database.dispose()


def _race(barrier, method: str, url: str, body: Any, headers: dict) -> tuple:
    barrier.wait()
    response = requests.request(method, url, json=body, timeout=60,
                                headers={"Content-Type": "application/fhir+json", **headers})
    doc = response.json() if response.content else {}
    return response.status_code, doc.get("id")


def _process(barrier, method: str, requests_: list, headers: dict, results) -> None:
    with ThreadPoolExecutor(len(requests_)) as pool:
        outcomes = pool.map(lambda sent: _race(barrier, method, *sent, headers), requests_)
        results.put(list(outcomes))


def run_racers(method: str, url: str | list[str], bodies: list,
               headers: dict | None = None) -> list[tuple]:
    """Send one request per body, all released at once from :data:`PROCESSES` processes;
    (status, id) of each. Several URLs (server instances): the bodies take turns."""
    urls = [url] if isinstance(url, str) else url
    sent = [(urls[n % len(urls)], body) for n, body in enumerate(bodies)]
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(len(bodies))
    results = context.Queue()
    shares = [sent[n::PROCESSES] for n in range(PROCESSES) if sent[n::PROCESSES]]
    processes = [context.Process(target=_process,
                                 args=(barrier, method, share, headers or {}, results))
                 for share in shares]
    for process in processes:
        process.start()
    outcomes = [outcome for _ in processes for outcome in results.get(timeout=120)]
    for process in processes:
        process.join(timeout=30)
    return outcomes


def test_racing_conditional_creates_make_exactly_one_record(busy_base):
    pnr = make_pnr()
    outcomes = run_racers("POST", f"{busy_base}/Patient", [patient(pnr=pnr)] * RACERS,
                          {"If-None-Exist": f"identifier={PNR_SYSTEM}|{pnr}"})
    statuses = Counter(status for status, _ in outcomes)
    assert statuses == {201: 1, 200: RACERS - 1}, statuses
    assert len({patient_id for _, patient_id in outcomes}) == 1
    found = requests.get(f"{busy_base}/Patient", params={"identifier": pnr}).json()
    assert found["total"] == 1


def test_racing_plain_creates_with_one_identifier_make_exactly_one_record(busy_base):
    pnr = make_pnr()
    outcomes = run_racers("POST", f"{busy_base}/Patient", [patient(pnr=pnr)] * RACERS)
    statuses = Counter(status for status, _ in outcomes)
    assert statuses == {201: 1, 409: RACERS - 1}, statuses


def test_racing_updates_with_the_same_if_match_let_exactly_one_win(busy_base):
    created = requests.post(f"{busy_base}/Patient", json=patient()).json()
    url = f"{busy_base}/Patient/{created['id']}"
    outcomes = run_racers("PUT", url, [created] * RACERS, {"If-Match": 'W/"1"'})
    statuses = Counter(status for status, _ in outcomes)
    assert statuses == {200: 1, 412: RACERS - 1}, statuses
    assert requests.get(url).json()["meta"]["versionId"] == "2"


def test_racing_updates_without_if_match_lose_no_version(busy_base):
    created = requests.post(f"{busy_base}/Patient", json=patient()).json()
    url = f"{busy_base}/Patient/{created['id']}"
    outcomes = run_racers("PUT", url, [created] * RACERS)
    assert Counter(status for status, _ in outcomes) == {200: RACERS}
    history = requests.get(f"{url}/_history", params={"_count": 100}).json()
    versions = sorted(int(e["resource"]["meta"]["versionId"]) for e in history["entry"])
    assert versions == list(range(1, RACERS + 2))


def test_racing_patches_without_if_match_all_apply_and_lose_nothing(busy_base):
    """PATCH reads the version it patches with the same lock as update (issue 14: 12 of 32
    racing patches answered 409 on PostgreSQL)."""
    created = requests.post(f"{busy_base}/Patient", json=patient(
        telecom=[{"system": "email", "value": "first@example.org"}])).json()
    url = f"{busy_base}/Patient/{created['id']}"
    racers = 32
    patches = [[{"op": "add", "path": "/telecom/-",
                 "value": {"system": "email", "value": f"racer{n}@example.org"}},
                {"op": "replace", "path": "/name/0/given", "value": [f"Racer{n}"]}]
               for n in range(racers)]
    outcomes = run_racers("PATCH", url, patches, JSON_PATCH)
    assert Counter(status for status, _ in outcomes) == {200: racers}
    final = requests.get(url).json()
    assert final["meta"]["versionId"] == str(1 + racers)
    assert sorted(t["value"] for t in final["telecom"]) == sorted(
        ["first@example.org", *(f"racer{n}@example.org" for n in range(racers))])


@pytest.fixture(scope="module")
def two_instances(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """Two servers on different ports sharing one database (issue 16: instances on
    several hosts behind a load balancer)."""
    database = Database.fresh(Path(tmp_path_factory.mktemp("instances")))
    first = Server(database, env={"THREADS": "4"}).start()
    second = Server(database, env={"THREADS": "4"}, upgrade=False).start()
    yield first.base, second.base
    second.stop()
    first.stop()
    database.dispose()


def test_two_instances_racing_conditional_creates_make_exactly_one_record(two_instances):
    pnr = make_pnr()
    urls = [f"{base}/Patient" for base in two_instances]
    outcomes = run_racers("POST", urls, [patient(pnr=pnr)] * RACERS,
                          {"If-None-Exist": f"identifier={PNR_SYSTEM}|{pnr}"})
    statuses = Counter(status for status, _ in outcomes)
    assert statuses == {201: 1, 200: RACERS - 1}, statuses
    assert len({patient_id for _, patient_id in outcomes}) == 1
    for base in two_instances:
        assert requests.get(f"{base}/Patient", params={"identifier": pnr}).json()["total"] == 1


def test_two_instances_hand_out_no_reserve_id_twice(two_instances):
    """Both instances generate NRIDs for one birth date and sex at once: one counter row."""
    urls = [f"{base}/Patient/$generate-reserve-id" for base in two_instances]
    body = parameters(system=NRID_SYSTEM, birth_date=fresh_date().isoformat(),
                      gender="female", count=5)
    barrier = threading.Barrier(RACERS)
    with ThreadPoolExecutor(RACERS) as pool:
        answers = list(pool.map(lambda n: _generated(barrier, urls[n % 2], body),
                                range(RACERS)))
    values = [value for answer in answers for value in answer]
    assert len(values) == RACERS * 5
    assert len(set(values)) == len(values)


def _generated(barrier, url: str, body: dict) -> list[str]:
    barrier.wait()
    answer = requests.post(url, json=body, timeout=60,
                           headers={"Content-Type": "application/fhir+json"})
    assert answer.status_code == 200, answer.text
    return [p["valueIdentifier"]["value"] for p in answer.json()["parameter"]
            if p["name"] == "identifier"]


def test_a_merge_on_one_instance_is_seen_by_the_other_at_once(two_instances):
    one, other = two_instances
    source = requests.post(f"{one}/Patient", json=patient(
        identifier=[ident(NRID_SYSTEM, make_nrid())])).json()
    target = requests.post(f"{one}/Patient", json=patient(pnr=make_pnr())).json()
    merged = requests.post(f"{one}/Patient/$merge", json=params(source, target), timeout=60)
    assert merged.status_code == 200, merged.text
    seen = requests.get(f"{other}/Patient/{source['id']}").json()
    assert {"other": {"reference": f"Patient/{target['id']}"}, "type": "replaced-by"} in seen[
        "link"]
    assert seen["active"] is False


def test_if_match_holds_across_instances(two_instances):
    """A version written on one instance is the one the other's If-Match is checked
    against; racing updates through both with the same If-Match: exactly one wins."""
    one, other = two_instances
    created = requests.post(f"{one}/Patient", json=patient()).json()
    stale = {**created, "gender": "male"}
    assert requests.put(f"{one}/Patient/{created['id']}", json=created,
                        headers={"If-Match": 'W/"1"'}).status_code == 200
    refused = requests.put(f"{other}/Patient/{created['id']}", json=stale,
                           headers={"If-Match": 'W/"1"'})
    assert refused.status_code == 412
    urls = [f"{base}/Patient/{created['id']}" for base in two_instances]
    outcomes = run_racers("PUT", urls, [created] * RACERS, {"If-Match": 'W/"2"'})
    assert Counter(status for status, _ in outcomes) == {200: 1, 412: RACERS - 1}
    assert requests.get(urls[1]).json()["meta"]["versionId"] == "3"

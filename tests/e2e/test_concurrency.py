"""Concurrent writers from parallel processes: no duplicates, no lost updates.

A dedicated server with 4 workers × 4 threads makes the requests really overlap.
"""

from __future__ import annotations

import multiprocessing
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import requests

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


def _process(barrier, method: str, url: str, bodies: list, headers: dict, results) -> None:
    with ThreadPoolExecutor(len(bodies)) as pool:
        outcomes = pool.map(lambda body: _race(barrier, method, url, body, headers), bodies)
        results.put(list(outcomes))


def run_racers(method: str, url: str, bodies: list, headers: dict | None = None) -> list[tuple]:
    """Send one request per body, all released at once from :data:`PROCESSES` processes;
    (status, id) of each."""
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(len(bodies))
    results = context.Queue()
    shares = [bodies[n::PROCESSES] for n in range(PROCESSES) if bodies[n::PROCESSES]]
    processes = [context.Process(target=_process,
                                 args=(barrier, method, url, share, headers or {}, results))
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

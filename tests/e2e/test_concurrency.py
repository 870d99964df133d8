"""Concurrent writers from parallel processes: no duplicates, no lost updates.

A dedicated server with 4 workers × 4 threads makes the requests really overlap.
"""

from __future__ import annotations

import multiprocessing
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.support import PNR_SYSTEM, Database, Server, make_pnr, patient

RACERS = 12


@pytest.fixture(scope="module")
def busy_base(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    database = Database.fresh(Path(tmp_path_factory.mktemp("race")))
    server = Server(database, env={"THREADS": "4"}, workers=4).start()
    yield server.base
    server.stop()
    database.dispose()


def _race(barrier, method: str, url: str, body: dict, headers: dict, results) -> None:
    barrier.wait()
    response = requests.request(method, url, json=body, timeout=60,
                                headers={"Content-Type": "application/fhir+json", **headers})
    doc = response.json() if response.content else {}
    results.put((response.status_code, doc.get("id")))


def run_racers(method: str, url: str, body: dict, headers: dict | None = None) -> list[tuple]:
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(RACERS)
    results = context.Queue()
    processes = [context.Process(target=_race,
                                 args=(barrier, method, url, body, headers or {}, results))
                 for _ in range(RACERS)]
    for process in processes:
        process.start()
    outcomes = [results.get(timeout=120) for _ in processes]
    for process in processes:
        process.join(timeout=30)
    return outcomes


def test_racing_conditional_creates_make_exactly_one_record(busy_base):
    pnr = make_pnr()
    outcomes = run_racers("POST", f"{busy_base}/Patient", patient(pnr=pnr),
                          {"If-None-Exist": f"identifier={PNR_SYSTEM}|{pnr}"})
    statuses = Counter(status for status, _ in outcomes)
    assert statuses == {201: 1, 200: RACERS - 1}, statuses
    assert len({patient_id for _, patient_id in outcomes}) == 1
    found = requests.get(f"{busy_base}/Patient", params={"identifier": pnr}).json()
    assert found["total"] == 1


def test_racing_plain_creates_with_one_identifier_make_exactly_one_record(busy_base):
    pnr = make_pnr()
    outcomes = run_racers("POST", f"{busy_base}/Patient", patient(pnr=pnr))
    statuses = Counter(status for status, _ in outcomes)
    assert statuses == {201: 1, 409: RACERS - 1}, statuses


def test_racing_updates_with_the_same_if_match_let_exactly_one_win(busy_base):
    created = requests.post(f"{busy_base}/Patient", json=patient()).json()
    url = f"{busy_base}/Patient/{created['id']}"
    outcomes = run_racers("PUT", url, created, {"If-Match": 'W/"1"'})
    statuses = Counter(status for status, _ in outcomes)
    assert statuses == {200: 1, 412: RACERS - 1}, statuses
    assert requests.get(url).json()["meta"]["versionId"] == "2"


def test_racing_updates_without_if_match_lose_no_version(busy_base):
    created = requests.post(f"{busy_base}/Patient", json=patient()).json()
    url = f"{busy_base}/Patient/{created['id']}"
    outcomes = run_racers("PUT", url, created)
    assert Counter(status for status, _ in outcomes) == {200: RACERS}
    history = requests.get(f"{url}/_history", params={"_count": 100}).json()
    versions = sorted(int(e["resource"]["meta"]["versionId"]) for e in history["entry"])
    assert versions == list(range(1, RACERS + 2))

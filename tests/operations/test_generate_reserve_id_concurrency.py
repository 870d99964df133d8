"""Many processes and threads hammering ``$generate-reserve-id``: never a duplicate
(domain.md §3.2 — "only the central service may create reserve numbers, to avoid
duplicates"). Runs on SQLite and, with DATABASE_URL set, on PostgreSQL."""

from __future__ import annotations

import multiprocessing
import random
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import date

import pytest
import requests

from app.identity import kind_for_system
from tests.operations.reserve_helpers import (
    LRID_SYSTEM,
    NRID_SYSTEM,
    fresh_date,
    generate,
    identifiers,
    patient_ids,
)
from tests.support import patient, unique_name

PROCESSES = 4
THREADS = 8
REQUESTS_PER_THREAD = 4


def _thread(base: str, birth: str, worker: int) -> list[tuple[str, str]]:
    rng = random.Random(worker)
    # Half the threads ask for women's LRIDs and half for men's: 16 threads × ≤ 2 stays
    # within the 37 numbers a date has per sex; the NRID requests share a few counters.
    lrid_gender = "female" if worker % 2 else "male"
    asks = [
        {"birth_date": birth, "gender": "female"},
        {"birth_date": birth, "gender": "unknown"},
        {"gender": rng.choice(["male", "female", "unknown"])},
        {"system": LRID_SYSTEM, "birth_date": birth, "gender": lrid_gender},
    ]
    found: list[tuple[str, str]] = []
    with requests.Session() as session:
        for ask in asks[:REQUESTS_PER_THREAD]:
            count = rng.randint(1, 2) if ask.get("system") == LRID_SYSTEM else rng.randint(1, 3)
            response = generate(base, session=session, count=count, **ask)
            assert response.status_code == 200, response.text
            values = [(p["valueIdentifier"]["system"], p["valueIdentifier"]["value"])
                      for p in response.json()["parameter"]]
            assert len(values) == count
            found += values
    return found


def _process(args: tuple[str, str, int]) -> list[tuple[str, str]]:
    base, birth, process = args
    with ThreadPoolExecutor(THREADS) as pool:
        results = pool.map(_thread, [base] * THREADS, [birth] * THREADS,
                           [process * THREADS + t for t in range(THREADS)])
        return [pair for found in results for pair in found]


@pytest.mark.slow
def test_four_processes_of_eight_threads_never_get_the_same_id(base):
    birth = fresh_date().isoformat()
    context = multiprocessing.get_context("spawn")
    with context.Pool(PROCESSES) as pool:
        per_process = pool.map(_process, [(base, birth, p) for p in range(PROCESSES)])
    generated = [pair for found in per_process for pair in found]
    assert len(generated) >= PROCESSES * THREADS * REQUESTS_PER_THREAD
    duplicates = len(generated) - len(set(generated))
    assert duplicates == 0
    for system, value in generated:
        kind = kind_for_system(system)
        assert kind is not None and system in (NRID_SYSTEM, LRID_SYSTEM)
        assert kind.is_valid(value, today=date.today())


def test_racing_retries_with_one_request_id_all_get_the_same_ids_and_patients(base):
    key = f"race-{uuid.uuid4()}"
    family = unique_name("Race")
    body = {"count": 2, "request_id": key, "patient": patient(family, birth=None)}
    with ThreadPoolExecutor(6) as pool:
        responses = list(pool.map(lambda _: generate(base, **body), range(6)))
    first = responses[0]
    for response in responses:
        assert identifiers(response) == identifiers(first)
        assert patient_ids(response) == patient_ids(first)
    found = requests.get(f"{base}/Patient", params={"family": family}, timeout=30).json()
    assert found["total"] == 2

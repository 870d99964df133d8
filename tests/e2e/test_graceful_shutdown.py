"""SIGTERM mid-load (README, "Shutdown"): gunicorn finishes the requests in flight
within GRACEFUL_TIMEOUT and exits; every create answered 201 is there after a restart on the
same database, nothing else was written, and no record is half-there (each write is one
transaction: a Patient row comes with its history, identifier and name index rows).
SIGKILL mid-load (a crash): every create answered 201 is there, nothing is half-there, and
no personnummer is held twice."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from sqlalchemy import create_engine, select

from app.adapters.tables import patient as patient_table
from app.adapters.tables import patient_history, patient_identifier, patient_string
from tests.support import PNR_SYSTEM, Database, Server, make_pnr, patient, unique_name

CREATES = 160
CLIENTS = 16
#: SIGTERM once this many creates have been answered.
ANSWERED_BEFORE_SIGTERM = 40


@dataclass
class Attempt:
    """One create: what was sent, when, and what came back."""

    pnr: str
    started: float = 0.0
    finished: float = 0.0
    status: int | None = None  # None: no answer (connection refused or reset)
    patient_id: str | None = None


@pytest.fixture()
def own_database(tmp_path: Path) -> Iterator[Database]:
    database = Database.fresh(tmp_path)
    yield database
    database.dispose()


def fire(base: str, family: str, attempts: list[Attempt], answered: threading.Semaphore
         ) -> None:
    """Create every attempt's Patient from CLIENTS threads, each on a new connection."""

    def create(attempt: Attempt) -> None:
        attempt.started = time.monotonic()
        try:
            response = requests.post(f"{base}/Patient", json=patient(family, pnr=attempt.pnr),
                                     headers={"Content-Type": "application/fhir+json"},
                                     timeout=30)
        except requests.ConnectionError:
            return
        finally:
            attempt.finished = time.monotonic()
            answered.release()
        attempt.status = response.status_code
        if response.status_code == 201:
            attempt.patient_id = response.json()["id"]

    with ThreadPoolExecutor(CLIENTS) as pool:
        list(pool.map(create, attempts))


def test_sigterm_finishes_the_requests_in_flight_and_writes_nothing_by_halves(own_database):
    server = Server(own_database).start()
    assert server.process is not None
    family = unique_name("Shutdown")
    attempts = [Attempt(make_pnr()) for _ in range(CREATES)]
    answered = threading.Semaphore(0)
    load = threading.Thread(target=fire, args=(server.base, family, attempts, answered))
    load.start()
    for _ in range(ANSWERED_BEFORE_SIGTERM):
        assert answered.acquire(timeout=30)
    signalled = time.monotonic()
    server.process.send_signal(signal.SIGTERM)
    assert server.process.wait(timeout=20) == 0
    load.join(timeout=20)  # what is left fails at once: nobody listens
    assert not load.is_alive()

    created = {a.pnr: a.patient_id for a in attempts if a.status == 201}
    assert {a.status for a in attempts} <= {201, None}
    assert len(created) >= ANSWERED_BEFORE_SIGTERM - CLIENTS
    in_flight = [a for a in attempts if a.started < signalled < a.finished]
    assert any(a.status == 201 for a in in_flight), "no request in flight was finished"

    assert stored(own_database) == created  # every 201 is stored, and nothing else

    again = Server(own_database).start()
    try:
        found = requests.get(f"{again.base}/Patient", timeout=30,
                             params={"family": family, "_count": CREATES}).json()
    finally:
        again.stop()
    assert {e["resource"]["id"] for e in found.get("entry", [])} == set(created.values())


def stored(database: Database) -> dict[str, str]:
    """personnummer → Patient id of what the database holds, after checking that every
    Patient is whole (its row, history, name and identifier rows all there) and that no
    personnummer is held twice."""
    engine = create_engine(database.url)
    with engine.connect() as conn:
        rows = set(conn.execute(select(patient_table.c.id)).scalars())
        histories = set(conn.execute(select(patient_history.c.id)).scalars())
        named = set(conn.execute(select(patient_string.c.patient_id)).scalars())
        pairs = conn.execute(select(patient_identifier.c.value, patient_identifier.c.patient_id)
                             .where(patient_identifier.c.system == PNR_SYSTEM)).all()
    engine.dispose()
    identifiers = dict(pairs)
    assert len(identifiers) == len(pairs), "a personnummer is held twice"
    assert rows == histories == named == set(identifiers.values())
    return identifiers


def kill_server(process: subprocess.Popen[bytes]) -> None:
    """SIGKILL gunicorn's workers and master at once: a crash, nothing finishes."""
    children = Path(f"/proc/{process.pid}/task/{process.pid}/children").read_text().split()
    for pid in (*map(int, children), process.pid):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    process.wait(timeout=10)


def test_sigkill_mid_load_loses_no_acknowledged_write_and_leaves_nothing_half_written(
        own_database):
    server = Server(own_database).start()
    assert server.process is not None
    attempts = [Attempt(make_pnr()) for _ in range(CREATES)]
    answered = threading.Semaphore(0)
    load = threading.Thread(target=fire, args=(server.base, unique_name("Crash"), attempts,
                                               answered))
    load.start()
    for _ in range(ANSWERED_BEFORE_SIGTERM):
        assert answered.acquire(timeout=30)
    kill_server(server.process)
    load.join(timeout=30)
    assert not load.is_alive()
    acknowledged = {a.pnr: a.patient_id for a in attempts if a.status == 201}
    assert len(acknowledged) >= ANSWERED_BEFORE_SIGTERM - CLIENTS
    held = stored(own_database)
    # A write may have committed with its answer lost in the crash; none answered is lost.
    assert acknowledged.items() <= held.items()
    assert set(held) <= {a.pnr for a in attempts}
    again = Server(own_database).start()  # the database opens and serves after the crash
    try:
        for pnr, patient_id in list(held.items())[:5]:
            found = requests.get(f"{again.base}/Patient", timeout=30,
                                 params={"identifier": f"{PNR_SYSTEM}|{pnr}"}).json()
            assert [e["resource"]["id"] for e in found["entry"]] == [patient_id]
    finally:
        again.stop()


def test_graceful_timeout_bounds_the_wait_for_a_request_still_running(own_database):
    """GRACEFUL_TIMEOUT=1: a request still running a second after SIGTERM is cut off (its
    connection closes; a write would be rolled back) and the server is gone."""
    server = Server(own_database, env={"GRACEFUL_TIMEOUT": "1"}, workers=1,
                    app="tests.http.slow_app:app").start()
    assert server.process is not None
    with ThreadPoolExecutor(1) as pool:
        spinning = pool.submit(requests.get, f"{server.base}/spin", params={"seconds": 20},
                               timeout=30)
        time.sleep(0.5)  # being served
        signalled = time.monotonic()
        server.process.send_signal(signal.SIGTERM)
        server.process.wait(timeout=15)
        assert time.monotonic() - signalled < 5
        with pytest.raises(requests.ConnectionError):
            spinning.result()

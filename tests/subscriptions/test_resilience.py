"""Nothing is lost: kill -9 of the whole server during a burst of merges (every committed
event arrives after the restart), and two server instances on one database deliver every
event once in order (each test on a database of its own, so that no other server's
deliverers help)."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

from tests.subscriptions.conftest import ENV, FULL, session_with
from tests.subscriptions.support import Receiver, event_count, subscribe, subscription
from tests.support import Database, Server, make_pnr, patient

MERGES = 16


def _merge(session: requests.Session, base: str, source: str, target: str) -> int:
    body = {"resourceType": "Parameters", "parameter": [
        {"name": "source-patient", "valueReference": {"reference": f"Patient/{source}"}},
        {"name": "target-patient", "valueReference": {"reference": f"Patient/{target}"}}]}
    try:
        return session.post(f"{base}/Patient/$merge", json=body, timeout=30).status_code
    except requests.RequestException:
        return 0  # the server died under it: committed or not, unknown


def test_kill_9_during_a_burst_of_merges_loses_no_event(tmp_path: Path):
    database = Database.fresh(tmp_path)
    receiver = Receiver(tmp_path / "received.jsonl", delay=0.05).start()
    server = Server(database, env=ENV).start()
    try:
        with session_with(FULL) as full:
            subscription_id = subscribe(full, server.base,
                                        subscription("patient-merge", receiver.url))
            pairs = []
            for _ in range(MERGES):
                target = full.post(f"{server.base}/Patient",
                                   json=patient(pnr=make_pnr(), birth="1998-03-03")).json()
                source = full.post(f"{server.base}/Patient",
                                   json=patient(birth="1998-03-03")).json()
                pairs.append((source["id"], target["id"]))
            done: dict[tuple[str, str], int] = {}
            killed = threading.Event()

            def merge(pair: tuple[str, str]) -> None:
                if not killed.is_set():
                    done[pair] = _merge(full, server.base, *pair)

            with ThreadPoolExecutor(4) as pool:
                futures = [pool.submit(merge, pair) for pair in pairs]
                while sum(1 for status in done.values() if status == 200) < MERGES // 3:
                    time.sleep(0.01)
                server.kill_9()
                killed.set()
                for future in futures:
                    future.result()
            merged = [pair for pair, status in done.items() if status == 200]
            assert merged and len(merged) < MERGES  # the kill came in the middle
            restarted = Server(database, env=ENV).start()
            try:
                total = event_count(full, restarted.base, subscription_id)
                assert total >= 2 * len(merged)
                receiver.wait(lambda r: {n for n, _f in r.events(subscription_id)}
                              == set(range(1, total + 1)), timeout=60)
                foci = {focus for _n, focus in receiver.events(subscription_id)}
                for source, target in merged:
                    assert {f"Patient/{source}", f"Patient/{target}"} <= foci
            finally:
                restarted.stop()
    finally:
        server.stop()
        receiver.stop()
        database.dispose()


def test_two_instances_on_one_database_deliver_every_event_in_order(tmp_path: Path):
    database = Database.fresh(tmp_path)
    receiver = Receiver(tmp_path / "received.jsonl").start()
    first = Server(database, env=ENV).start()
    second = Server(database, env=ENV, upgrade=False).start()
    try:
        with session_with(FULL) as full:
            subscription_id = subscribe(full, first.base,
                                        subscription("patient-change", receiver.url))

            def create(number: int) -> None:
                base = (first, second)[number % 2].base
                answer = full.post(f"{base}/Patient", json=patient(pnr=make_pnr()), timeout=30)
                assert answer.status_code == 201, answer.text

            with ThreadPoolExecutor(4) as pool:
                list(pool.map(create, range(40)))
            assert event_count(full, second.base, subscription_id) == 40
            receiver.wait(lambda r: {n for n, _f in r.events(subscription_id)}
                          == set(range(1, 41)), timeout=60)
            numbers = [n for n, _f in receiver.events(subscription_id)]
            firsts = list(dict.fromkeys(numbers))
            assert firsts == sorted(firsts), numbers
    finally:
        first.stop()
        second.stop()
        receiver.stop()
        database.dispose()

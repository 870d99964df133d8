"""Subscription notifications: latency from commit to receipt, and events/s delivered.

What it does, in one run:

1. starts the real server (as the tests do: ``python -m app db upgrade``, then gunicorn with
   the project's config) on a fresh database — an SQLite file, or a new PostgreSQL database
   when ``DATABASE_URL`` is a PostgreSQL URL — allowing endpoints on 127.0.0.1;
2. starts a receiver in this process (``http.server``) and subscribes it to
   ``patient-change`` (``id-only``);
3. latency: updates one Patient ``--events`` times, one at a time with a pause between,
   and takes for each event the time from its commit (the version's ``meta.lastUpdated``,
   written by the server just before the commit, on the same clock) to its receipt;
4. throughput: with the receiver refusing (503), creates ``--burst`` Patients, then lets the
   receiver accept and times how long the deliverers take to bring all of them over (from
   the first notification of the backlog to the last; up to SUBSCRIPTION_BATCH_SIZE events
   each):
   events/s and notifications/s delivered. The physical limit measured in the same run is
   how many POSTs/s the same receiver takes from a plain client in a loop; the ratio
   notifications/s ÷ that rate says what a notification costs the server beyond the POST
   (its lease, reads and bookkeeping in the database).

The latency is bounded below by the deliverers' poll interval (``--poll``, the server's
``SUBSCRIPTION_POLL_SECONDS``): an idle deliverer looks for work that often. Results go to
``bench/results/notification_latency-<time>.json``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import threading
import time
import urllib.request
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.support import Database, Server, make_pnr, patient  # noqa: E402 — the tests' servers

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
TOPIC = "http://sweid.example/fhir/SubscriptionTopic/patient-change"
JSON = {"Content-Type": "application/fhir+json", "Accept": "application/fhir+json"}


class Receipts:
    """What the receiver got: (event number, receipt time) and how many POSTs."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.events: dict[int, float] = {}
        self.posts = 0
        self.accepting = threading.Event()
        self.accepting.set()


def make_receiver(receipts: Receipts) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            now = time.time()
            if not receipts.accepting.is_set():
                self.send_response(503)
            else:
                bundle = json.loads(body)
                numbers = [int(part["valueString"])
                           for parameter in bundle["entry"][0]["resource"]["parameter"]
                           if parameter["name"] == "notification-event"
                           for part in parameter["part"] if part["name"] == "event-number"]
                with receipts.lock:
                    receipts.posts += 1
                    for number in numbers:
                        receipts.events.setdefault(number, now)
                self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            """Quiet."""

    return ThreadingHTTPServer(("127.0.0.1", 0), Handler)


def request(method: str, url: str, body: Any = None) -> dict[str, Any]:
    data = json.dumps(body).encode() if body is not None else None
    with urllib.request.urlopen(urllib.request.Request(url, data=data, method=method,
                                                       headers=JSON), timeout=30) as answer:
        raw = answer.read()
    return json.loads(raw) if raw else {}


def wait_for(condition: Any, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise RuntimeError("timed out waiting for deliveries")
        time.sleep(0.01)


def raw_post_rate(url: str, seconds: float) -> float:
    """POSTs/s the receiver takes from a plain client (the same size of body)."""
    body = json.dumps({"resourceType": "Bundle", "type": "history", "entry": [{"resource": {
        "resourceType": "Parameters", "parameter": []}}]}).encode()
    count, started = 0, time.monotonic()
    while time.monotonic() - started < seconds:
        with urllib.request.urlopen(urllib.request.Request(
                url, data=body, method="POST", headers=JSON), timeout=30) as answer:
            answer.read()
        count += 1
    return count / (time.monotonic() - started)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=100, help="events timed one by one")
    parser.add_argument("--pause", type=float, default=0.05, help="seconds between them")
    parser.add_argument("--burst", type=int, default=1000, help="events of the throughput run")
    parser.add_argument("--poll", type=float, default=0.5,
                        help="SUBSCRIPTION_POLL_SECONDS of the server")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)

    receipts = Receipts()
    receiver = make_receiver(receipts)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    endpoint = f"http://127.0.0.1:{receiver.server_address[1]}/hook"
    database = Database.fresh(Path(tempfile.mkdtemp(prefix="sweid-bench-")))
    server = Server(database, workers=args.workers, env={
        "SUBSCRIPTION_ENDPOINT_PREFIXES": "http://127.0.0.1:", "REQUEST_LOG": "off",
        "SUBSCRIPTION_POLL_SECONDS": str(args.poll), "SUBSCRIPTION_RETRY_BASE_SECONDS": "0.1",
        "SUBSCRIPTION_RETRY_MAX_SECONDS": "0.5", "SUBSCRIPTION_MAX_FAILURES": "1000000"})
    server.start()
    try:
        base = server.base
        subscription = request("POST", f"{base}/Subscription", {
            "resourceType": "Subscription", "status": "requested", "reason": "bench",
            "criteria": TOPIC, "channel": {"type": "rest-hook", "endpoint": endpoint,
                                           "payload": "application/fhir+json"}})
        wait_for(lambda: request("GET", f"{base}/Subscription/{subscription['id']}")
                 ["status"] == "active", 30)

        # 1. latency, one event at a time
        record = request("POST", f"{base}/Patient", patient(pnr=make_pnr()))
        committed = {1: record["meta"]["lastUpdated"]}
        for number in range(2, args.events + 1):
            record["name"][0]["given"] = [f"Given{number}"]
            record = request("PUT", f"{base}/Patient/{record['id']}", record)
            committed[number] = record["meta"]["lastUpdated"]
            time.sleep(args.pause)
        wait_for(lambda: len(receipts.events) >= args.events, 60)
        latencies = sorted(
            (receipts.events[n] - datetime.fromisoformat(at).timestamp()) * 1000
            for n, at in committed.items())

        # 2. throughput: a backlog, then the drain
        receipts.accepting.clear()
        first = args.events + 1
        for _ in range(args.burst):
            request("POST", f"{base}/Patient", patient(pnr=make_pnr()))
        posts_before = receipts.posts
        receipts.accepting.set()
        wait_for(lambda: len(receipts.events) >= args.events + args.burst, 600)
        # From the first notification the backlog produced (the deliverers may still have
        # been waiting out a retry when the receiver came back) to the last.
        burst = [receipts.events[n] for n in range(first, first + args.burst)]
        drained = max(burst) - min(burst)
        notifications = receipts.posts - posts_before
        raw = raw_post_rate(endpoint, 3.0)
    finally:
        server.stop()
        receiver.shutdown()
        database.dispose()

    result = {
        "database": "postgresql" if database.is_postgres else "sqlite",
        "workers": args.workers, "poll_seconds": args.poll,
        "latency_ms": {"p50": statistics.median(latencies),
                       "p95": latencies[int(0.95 * (len(latencies) - 1))],
                       "max": latencies[-1], "events": len(latencies)},
        "throughput": {"events": args.burst, "seconds": drained,
                       "events_per_s": args.burst / drained,
                       "notifications_per_s": notifications / drained,
                       "receiver_raw_posts_per_s": raw,
                       "ratio_notifications_to_raw_posts": notifications / drained / raw},
    }
    print(json.dumps(result, indent=2))
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"notification_latency-{int(time.time())}.json").write_text(
        json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

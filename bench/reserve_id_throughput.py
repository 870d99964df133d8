"""Reserve ids per second through ``$generate-reserve-id`` with concurrent clients.

Starts a real gunicorn server on a fresh PostgreSQL database (created on the server that
DATABASE_URL points at, dropped afterwards — as tests/support.Database does), runs N client
processes for a fixed time, then checks the ids: 0 duplicates among the responses and in the
``reserve_id`` log. Target (issue 5): ≥ 500 ids/s with 8 clients and 0 duplicates.

    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test \\
        .venv/bin/python bench/reserve_id_throughput.py [--clients 8] [--seconds 10] \\
        [--count 1 --count 10] [--workers N]

Figures are printed and written to ``bench/results/reserve_id_throughput-<time>.json``.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import random
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit

import orjson
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.identity import kind_for_system  # noqa: E402
from tests.support import Database, Server  # noqa: E402

HEADERS = {"Content-Type": "application/fhir+json", "Accept": "application/fhir+json"}
#: A handful of birth dates and all three sexes: clients contend on the same counter rows.
DATES = ["2019-01-01", "1985-06-15", "1950-12-24", None]
GENDERS = ["female", "male", "unknown"]


def client(args: tuple[str, float, float, int, int]) -> tuple[list[tuple[str, str]], int, int]:
    """One client: from ``start`` POST until the deadline; the ids it got, requests, errors.

    A plain ``http.client`` connection kept alive and orjson: on this 2-core machine the
    clients share the CPU with the server and PostgreSQL, and a ``requests`` session cost
    ~1.5 ms of client CPU a request — more than the server's own work."""
    base, start, deadline, count, seed = args
    time.sleep(max(0.0, start - time.time()))
    rng = random.Random(seed)
    url = urlsplit(base)
    path = f"{url.path}/Patient/$generate-reserve-id"
    got: list[tuple[str, str]] = []
    made = errors = 0
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
    try:
        while time.time() < deadline:
            params = [{"name": "count", "valueInteger": count},
                      {"name": "gender", "valueCode": rng.choice(GENDERS)}]
            birth = rng.choice(DATES)
            if birth:
                params.append({"name": "birthDate", "valueDate": birth})
            connection.request("POST", path, orjson.dumps(
                {"resourceType": "Parameters", "parameter": params}), HEADERS)
            response = connection.getresponse()
            body = response.read()
            made += 1
            if response.status != 200:
                errors += 1
                continue
            got += [(p["valueIdentifier"]["system"], p["valueIdentifier"]["value"])
                    for p in orjson.loads(body)["parameter"]]
    finally:
        connection.close()
    return got, made, errors


def run(base: str, clients: int, seconds: float, count: int) -> dict[str, float]:
    """One timed round; returns its figures."""
    context = multiprocessing.get_context("spawn")
    with context.Pool(clients) as pool:
        start_at = time.time() + 3  # every spawned client has imported by then
        deadline = start_at + seconds
        jobs = [(base, start_at, deadline, count, seed) for seed in range(clients)]
        results = pool.map(client, jobs)
        elapsed = time.time() - start_at
    ids = [pair for got, _, _ in results for pair in got]
    made = sum(m for _, m, _ in results)
    errors = sum(e for _, _, e in results)
    invalid = sum(1 for system, value in ids
                  if not kind_for_system(system).is_valid(value, today=date.today()))  # type: ignore[union-attr]
    return {"count": count, "requests": made, "errors": errors, "ids": len(ids),
            "duplicates": len(ids) - len(set(ids)), "invalid": invalid,
            "seconds": elapsed, "ids_per_s": len(ids) / elapsed,
            "requests_per_s": made / elapsed}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--count", type=int, action="append",
                        help="ids per request (repeat for several rounds; default 1 and 10)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2,
                        help="gunicorn workers (default: one per CPU)")
    options = parser.parse_args()
    counts = options.count or [1, 10]
    if not os.environ.get("DATABASE_URL", "").startswith("postgresql"):
        print("DATABASE_URL must point at a PostgreSQL server", file=sys.stderr)
        return 2
    database = Database.fresh(Path(tempfile.mkdtemp()))
    server = Server(database, workers=options.workers, env={"LOG_LEVEL": "warning"}).start()
    failed = False
    rounds: list[dict[str, float]] = []
    try:
        print(f"server: gunicorn, {options.workers} workers, PostgreSQL; "
              f"{options.clients} client processes, {options.seconds:.0f} s per round")
        for count in counts:
            figures = run(server.base, options.clients, options.seconds, count)
            rounds.append(figures)
            print(f"count={count:>2}: {figures['ids_per_s']:8.1f} ids/s "
                  f"({figures['requests_per_s']:.1f} requests/s), {figures['ids']} ids, "
                  f"{figures['duplicates']} duplicates, {figures['invalid']} invalid, "
                  f"{figures['errors']} errors")
            failed |= bool(figures["duplicates"] or figures["invalid"] or figures["errors"])
        engine = create_engine(database.url)
        with engine.connect() as conn:
            total, distinct = conn.execute(text(
                "SELECT count(*), count(DISTINCT (system, value)) FROM reserve_id")).one()
        engine.dispose()
        print(f"reserve_id log: {total} rows, {distinct} distinct")
        failed |= total != distinct
        results = ROOT / "bench" / "results"
        results.mkdir(exist_ok=True)
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
        (results / f"reserve_id_throughput-{stamp}.json").write_text(json.dumps({
            "clients": options.clients, "workers": options.workers, "cpus": os.cpu_count(),
            "seconds": options.seconds, "rounds": rounds,
            "log_rows": total, "log_distinct": distinct}, indent=2))
    finally:
        server.stop()
        database.dispose()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

"""``$match`` latency over HTTP on a synthetic Swedish population loaded through the real
load path, with the answers checked (issue 16).

For each size: a seeded population of ``bench/swedish_population.py`` (households, twins,
namesakes, test personnummer with birth numbers 980–999, reserve numbers) with labelled
queries of every kind is written as NDJSON, loaded into a fresh PostgreSQL database with
``python -m app load`` (the product's own validation, index rows and COPY; its ANALYZE at
the end), served by one real gunicorn server, and the queries are sent one after another
as ``POST /fhir/Patient/$match``. Every answer is read back into the evaluation of
``bench/match_evaluation.py``: a matcher that answers fast but wrongly fails the run
(:data:`FLOORS`), so a broken matcher cannot look fast.

    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test \\
        .venv/bin/python bench/match_latency.py [--sizes 10000,100000,1000000] [--queries 600]

The population's seed is not the one the model was fitted on (``fit_match_model.py``: 1).
Figures are printed and written to ``bench/results/match_latency-<time>.json``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson
import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.domain.matching import Assessment  # noqa: E402
from app.operations.match import MATCH_GRADE  # noqa: E402
from bench import match_evaluation  # noqa: E402
from bench.load_bench import load  # noqa: E402
from bench.results_file import write_results  # noqa: E402
from bench.swedish_population import generate  # noqa: E402
from tests.support import Database, Server  # noqa: E402

SEED = 3
#: Requests not timed at the start of each size (connections, caches).
WARM_UP = 20
#: The least the answers must reach for the timings to count (well below what
#: ``match_quality.py`` measures on the held-out population: 97 % found, 0.07 % other).
FLOORS = {"typical_found": ("≥", 0.90), "other_person_sure": ("≤", 0.02),
          "non_member_sure": ("≤", 0.02)}


def ask(session: requests.Session, base: str, patient: dict[str, Any]
        ) -> tuple[float, list[Assessment]]:
    """One ``$match``: milliseconds and the returned candidates in order."""
    payload = {"resourceType": "Parameters",
               "parameter": [{"name": "resource", "resource": patient}]}
    began = time.perf_counter()
    response = session.post(f"{base}/Patient/$match", data=orjson.dumps(payload))
    elapsed = (time.perf_counter() - began) * 1000
    if response.status_code != 200:
        raise SystemExit(f"$match answered {response.status_code}: {response.text[:500]}")
    return elapsed, [_assessment(entry) for entry in response.json().get("entry", [])]


def _assessment(entry: dict[str, Any]) -> Assessment:
    search = entry.get("search", {})
    grade = next((ext.get("valueCode") for ext in search.get("extension", [])
                  if ext.get("url") == MATCH_GRADE), None)
    return Assessment(entry["resource"]["id"], float(search.get("score", 0.0)), grade, 0.0, (),
                      None)


def measure(base: str, queries: list[Any]) -> dict[str, Any]:
    """Latency percentiles and the quality of the answers of ``queries``."""
    session = requests.Session()
    session.headers["Content-Type"] = "application/fhir+json"
    timings, scored = [], []
    for number, query in enumerate(queries):
        elapsed, returned = ask(session, base, query.patient)
        if number >= WARM_UP:
            timings.append(elapsed)
        scored.append(match_evaluation.Scored(query.kind, query.truth, returned))
    timings.sort()
    quality = match_evaluation.summary(scored)
    verdicts = {name: quality[name] <= bound if op == "≤" else quality[name] >= bound
                for name, (op, bound) in FLOORS.items()}
    return {"p50_ms": round(statistics.median(timings), 2),
            "p95_ms": round(timings[int(0.95 * len(timings)) - 1], 2),
            "timed_requests": len(timings), "quality": quality, "floors_met": verdicts}


def run(size: int, queries: int, *, keep: bool = False,
        existing: str | None = None) -> dict[str, Any]:
    """Load a population of ``size`` and time its queries; ``existing``: the URL of a database
    this script loaded before with the same size (``--keep-database``), queried again
    without loading (the population and its queries are the same for one seed and size)."""
    data = generate(size, SEED, queries=queries)
    if existing:
        return _query(Database(existing), data, load_seconds=None, summary="loaded before")
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "population.ndjson"
        source.write_bytes(b"\n".join(orjson.dumps(p) for p in data.patients) + b"\n")
        database = Database.fresh(Path(tmp))
        if not database.is_postgres:
            raise SystemExit("set DATABASE_URL to a PostgreSQL server")
        try:
            load_seconds, _cpu, summary = load(database.url, source, [])
            return _query(database, data, load_seconds=round(load_seconds, 1), summary=summary)
        finally:
            if keep:
                print(f"kept the database: {database.url}", flush=True)
            else:
                database.dispose()


def _query(database: Database, data: Any, *, load_seconds: float | None,
           summary: str) -> dict[str, Any]:
    """Serve ``database`` with one real server and time ``data``'s queries."""
    server = Server(database, workers=2, upgrade=False).start()
    try:
        return {"patients": len(data.patients), "seed": SEED, "load_seconds": load_seconds,
                "load": summary, "load_average_before": round(os.getloadavg()[0], 2),
                **measure(server.base, data.queries),
                "load_average_after": round(os.getloadavg()[0], 2)}
    finally:
        server.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--queries", type=int, default=600)
    parser.add_argument("--keep-database", action="store_true")
    parser.add_argument("--existing", metavar="DATABASE_URL",
                        help="query a database kept by an earlier run of one size again")
    args = parser.parse_args(argv)
    os.environ.setdefault("DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
    results = []
    for size in (int(s) for s in args.sizes.split(",")):
        result = run(size, args.queries, keep=args.keep_database, existing=args.existing)
        results.append(result)
        quality = result["quality"]
        print(f"{result['patients']:>9,} Patients: p50/p95 {result['p50_ms']}/{result['p95_ms']} "
              f"ms; typical found {quality['typical_found']:.1%}, another person sure "
              f"{quality['other_person_sure']:.2%}, stranger sure "
              f"{quality['non_member_sure']:.2%}; load average "
              f"{result['load_average_before']}→{result['load_average_after']}", flush=True)
    if len(results) > 1:
        ratio = results[-1]["p95_ms"] / results[0]["p95_ms"]
        print(f"p95 ratio largest/smallest: {ratio:.2f}")
    write_results("match_latency", results)
    failed = [f"{r['patients']}: {name}" for r in results
              for name, met in r["floors_met"].items() if not met]
    if failed:
        print("the answers fell below their floors (timings do not count):", ", ".join(failed))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

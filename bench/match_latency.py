"""``$match`` latency over HTTP with 10 k, 100 k (and optionally 1 M) synthetic Swedish-like
patients on PostgreSQL.

Creates a fresh database next to ``DATABASE_URL`` (default
``postgresql+psycopg://postgres@127.0.0.1:5432/test``), upgrades the schema, bulk-inserts
patients in batches (the repository's own index extraction, multi-row INSERTs per table),
starts the real server (gunicorn) and times sequential ``$match`` requests whose Patients
are stored records with typos, nickname, transposed dates or missing fields, plus some
with no match. Prints p50/p95 per size. ``--sizes 10000,100000,1000000 --queries 400``.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import requests
from sqlalchemy import create_engine, insert

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.adapters.tables import (  # noqa: E402
    patient,
    patient_history,
    patient_identifier,
    patient_string,
    patient_token,
)
from app.domain.patient_index import index_patient  # noqa: E402
from tests.support import Database, Server  # noqa: E402

FAMILIES = ["Andersson", "Johansson", "Karlsson", "Nilsson", "Eriksson", "Larsson", "Olsson",
            "Persson", "Svensson", "Gustafsson", "Pettersson", "Jonsson", "Jansson", "Hansson",
            "Bengtsson", "Jönsson", "Lindberg", "Jakobsson", "Magnusson", "Olofsson",
            "Lindström", "Lindqvist", "Lindgren", "Axelsson", "Berg", "Bergström", "Lundberg",
            "Lind", "Lundgren", "Lundqvist", "Mattsson", "Berglund", "Fredriksson", "Sandberg",
            "Henriksson", "Forsberg", "Sjöberg", "Wallin", "Engström", "Eklund", "Danielsson",
            "Lundin", "Håkansson", "Björk", "Bergman", "Gunnarsson", "Holm", "Wikström",
            "Samuelsson", "Isaksson", "Fransson", "Bergqvist", "Nyström", "Holmberg",
            "Arvidsson", "Löfgren", "Söderberg", "Nyberg", "Blomqvist", "Claesson", "Nordström",
            "Åberg", "Öberg", "Ström", "Hedlund", "Sundberg", "Ek", "Strand", "Dahl", "Falk"]
GIVEN_F = ["Anna", "Eva", "Maria", "Karin", "Sara", "Christina", "Lena", "Emma", "Kerstin",
           "Ingrid", "Marie", "Malin", "Jenny", "Linda", "Elisabeth", "Birgitta", "Sofia",
           "Hanna", "Ida", "Åsa", "Elin", "Johanna", "Annika", "Susanne", "Camilla", "Ebba",
           "Maja", "Alice", "Astrid", "Vera", "Ulla", "Margareta", "Monica", "Helena"]
GIVEN_M = ["Lars", "Mikael", "Anders", "Johan", "Erik", "Per", "Karl", "Peter", "Jan",
           "Thomas", "Daniel", "Fredrik", "Hans", "Bengt", "Stefan", "Nils", "Mats", "Bo",
           "Magnus", "Andreas", "Mattias", "Jonas", "Martin", "Sven", "Olof", "Leif", "Göran",
           "Oskar", "William", "Lucas", "Hugo", "Elias", "Alexander", "Gustaf", "Åke"]
CITIES = ["Stockholm", "Göteborg", "Malmö", "Uppsala", "Västerås", "Örebro", "Linköping",
          "Helsingborg", "Jönköping", "Norrköping", "Lund", "Umeå", "Gävle", "Borås", "Växjö"]
STREETS = ["Storgatan", "Kungsgatan", "Drottninggatan", "Skolgatan", "Järnvägsgatan",
           "Ringvägen", "Parkvägen", "Björkvägen", "Strandvägen", "Kyrkogatan", "Åvägen"]


def synthetic(rng: random.Random, n: int) -> dict[str, Any]:
    female = rng.random() < 0.5
    birth = date(1930, 1, 1) + timedelta(days=rng.randrange(0, 33000))
    resource: dict[str, Any] = {
        "resourceType": "Patient", "id": str(uuid.UUID(int=rng.getrandbits(128))),
        "meta": {"versionId": "1", "lastUpdated": "2026-01-01T00:00:00Z"},
        "name": [{"family": rng.choice(FAMILIES) + (f"-{rng.choice(FAMILIES)}"
                                                   if rng.random() < 0.05 else ""),
                  "given": [rng.choice(GIVEN_F if female else GIVEN_M)]}],
        "gender": "female" if female else "male",
        "birthDate": birth.isoformat(),
        "address": [{"line": [f"{rng.choice(STREETS)} {rng.randrange(1, 120)}"],
                     "postalCode": f"{rng.randrange(100, 990)}{rng.randrange(0, 99):02d}",
                     "city": rng.choice(CITIES)}],
    }
    if rng.random() < 0.5:
        resource["telecom"] = [{"system": "phone", "value": f"070-{rng.randrange(10**6, 10**7)}"}]
    if rng.random() < 0.3:
        # Synthetic identifiers in an opaque test domain (never real-looking numbers).
        resource["identifier"] = [{"system": "urn:oid:1.2.3.4.999", "value": f"bench-{n}"}]
    return resource


def load(url: str, start: int, stop: int, sample: list[dict[str, Any]],
         batch: int = 5000) -> float:
    engine = create_engine(url)
    rng = random.Random(start)
    began = time.perf_counter()
    now = datetime(2026, 1, 1)
    for first in range(start, stop, batch):
        rows: dict[Any, list[dict[str, Any]]] = {t: [] for t in (
            patient, patient_history, patient_identifier, patient_string, patient_token)}
        for n in range(first, min(first + batch, stop)):
            resource = synthetic(rng, n)
            if n % 97 == 0:
                sample.append(resource)
            pid, body, index = resource["id"], orjson.dumps(resource), index_patient(resource)
            rows[patient].append({
                "id": pid, "version_id": 1, "created_at": now, "last_updated": now,
                "deleted": False, "active": index.active, "protected": index.protected,
                "gender": index.gender, "birth_lo": index.birth_lo, "birth_hi": index.birth_hi,
                "sort_family": index.sort_family, "sort_given": index.sort_given,
                "resource": body, "match_record": index.match_record})
            rows[patient_history].append({"id": pid, "version_id": 1, "last_updated": now,
                                          "method": "POST", "deleted": False,
                                          "protected": False, "resource": body})
            rows[patient_identifier] += [{"patient_id": pid, "system": s, "value": v,
                                          "active": True} for s, v in index.identifiers]
            rows[patient_string] += [{"patient_id": pid, "param": p, "folded": f, "exact": e}
                                     for p, f, e in index.strings]
            rows[patient_token] += [{"patient_id": pid, "param": p, "system": s, "code": c}
                                    for p, s, c in index.tokens]
        with engine.begin() as conn:
            for table, values in rows.items():
                if values:
                    conn.execute(insert(table), values)
    engine.dispose()
    return time.perf_counter() - began


def queries(sample: list[dict[str, Any]], count: int) -> list[dict[str, Any]]:
    """Stored patients with typical faults (typo, transposed date, no address, lower case,
    or nobody: a person not in the database)."""
    rng = random.Random(99)
    found = []
    for _ in range(count):
        resource = orjson.loads(orjson.dumps(rng.choice(sample)))
        for key in ("id", "meta", "identifier"):
            resource.pop(key, None)
        fault = rng.randrange(6)
        name = resource["name"][0]
        if fault == 0:
            name["family"] = name["family"][:-2] + name["family"][-1]
        elif fault == 1:
            y, m, d = resource["birthDate"].split("-")
            if int(d) <= 12:
                resource["birthDate"] = f"{y}-{d}-{m}"
        elif fault == 2:
            resource.pop("address")
        elif fault == 3:
            name["given"] = [name["given"][0].lower()]
        elif fault == 4:
            name["family"] = "Okändsson"
            resource["birthDate"] = "1901-01-01"
        found.append(resource)
    return found


def measure(base: str, bodies: list[dict[str, Any]]) -> dict[str, float]:
    session = requests.Session()
    session.headers["Content-Type"] = "application/fhir+json"
    timings = []
    for i, resource in enumerate(bodies):
        payload = {"resourceType": "Parameters",
                   "parameter": [{"name": "resource", "resource": resource}]}
        began = time.perf_counter()
        response = session.post(f"{base}/Patient/$match", json=payload)
        elapsed = (time.perf_counter() - began) * 1000
        assert response.status_code == 200, response.text
        if i >= 20:  # warm-up
            timings.append(elapsed)
    timings.sort()
    return {"p50_ms": round(statistics.median(timings), 2),
            "p95_ms": round(timings[int(0.95 * len(timings)) - 1], 2),
            "requests": len(timings)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--queries", type=int, default=400)
    args = parser.parse_args()
    os.environ.setdefault("DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
    database = Database.fresh(Path(tempfile.mkdtemp()))
    server = Server(database, workers=2).start()
    results = {}
    try:
        loaded = 0
        sample: list[dict[str, Any]] = []
        for size in (int(s) for s in args.sizes.split(",")):
            seconds = load(database.url, loaded, size, sample)
            loaded = size
            with create_engine(database.url).begin() as conn:
                conn.exec_driver_sql("ANALYZE")
            bodies = queries(sample, args.queries)
            results[size] = {"load_s": round(seconds, 1), **measure(server.base, bodies)}
            print(size, results[size], flush=True)
        sizes = sorted(results)
        if len(sizes) > 1:
            print("p95 ratio largest/smallest:",
                  round(results[sizes[-1]]["p95_ms"] / results[sizes[0]]["p95_ms"], 2))
    finally:
        server.stop()
        database.dispose()


if __name__ == "__main__":
    main()

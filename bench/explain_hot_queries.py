"""``EXPLAIN (ANALYZE, BUFFERS)`` of the statements the hot requests run, as they run them.

Serves the hot requests in-process (Flask's test client, the real app) against a loaded
PostgreSQL database (``load_bench.py --keep-database`` leaves one) with PostgreSQL's
``auto_explain`` switched on for this process's connections only (``PGOPTIONS``: our
connections are superuser ones), and prints the plans PostgreSQL logged for them from its
log file. The requests: read by id, search by identifier, by family and given name, by
birth date and family, a conditional create that finds its record, ``$match`` of a stored
person, ``$generate-reserve-id``.

    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/<loaded> \\
        .venv/bin/python bench/explain_hot_queries.py [--log /var/log/postgresql/…]
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path

import orjson
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

MARK = "sweid-explain"
FHIR = {"Content-Type": "application/fhir+json"}


def requests_to_explain(client, person: dict) -> list[tuple[str, object]]:
    """(label, response) of each hot request, for the person's data."""
    pnr = person["identifier"][0]["value"]
    family, given = person["name"][0]["family"], person["name"][0]["given"][0]
    pid = person["id"]
    body = {key: value for key, value in person.items() if key not in ("id", "meta")}
    return [
        ("read by id", client.get(f"/fhir/Patient/{pid}")),
        ("search identifier", client.get(f"/fhir/Patient?identifier={pnr}")),
        ("search family+given", client.get(f"/fhir/Patient?family={family}&given={given}")),
        ("search birthdate+family",
         client.get(f"/fhir/Patient?birthdate={person['birthDate']}&family={family}")),
        ("conditional create (found)", client.post(
            "/fhir/Patient", json=body, headers={**FHIR, "If-None-Exist": f"identifier={pnr}"})),
        ("$match", client.post("/fhir/Patient/$match", headers=FHIR, json={
            "resourceType": "Parameters", "parameter": [{"name": "resource",
                                                         "resource": body}]})),
        ("$generate-reserve-id", client.post("/fhir/Patient/$generate-reserve-id", headers=FHIR,
                                             json={"resourceType": "Parameters", "parameter": [
                                                 {"name": "birthDate", "valueDate": "1990-05-05"},
                                                 {"name": "gender", "valueCode": "female"}]})),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--log", default="/var/log/postgresql/postgresql-15-main.log")
    args = parser.parse_args(argv)
    engine = create_engine(os.environ["DATABASE_URL"])
    with engine.connect() as conn:
        resource = conn.execute(text(
            "SELECT p.resource FROM patient p JOIN patient_identifier i ON i.patient_id = p.id "
            "WHERE NOT p.protected AND i.system = 'urn:oid:1.2.752.129.2.1.3.1' "
            "ORDER BY p.id LIMIT 1 OFFSET 321")).scalar_one()
    engine.dispose()
    person = orjson.loads(resource)
    os.environ["PGOPTIONS"] = (
        f"-c application_name={MARK} -c session_preload_libraries=auto_explain "
        "-c auto_explain.log_min_duration=0 -c auto_explain.log_analyze=on "
        "-c auto_explain.log_buffers=on -c auto_explain.log_timing=on")
    os.environ["REQUEST_LOG"] = "off"
    log = Path(args.log)
    start = log.stat().st_size

    from app.http import create_app  # after PGOPTIONS: its connections explain

    app = create_app()
    with app.test_client() as client:
        for label, response in requests_to_explain(client, person):
            print(f"{label}: {response.status_code}")  # type: ignore[attr-defined]
    with log.open("rb") as handle:
        handle.seek(start)
        logged = handle.read().decode("utf-8", "replace")
    for plan in plans(logged):
        print(plan)
    return 0


def plans(logged: str) -> list[str]:
    """The logged plans of statements on the project's tables (not the driver's own)."""
    entries = re.split(r"\n(?=\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)", logged)
    return [entry for entry in entries if "plan:" in entry
            and re.search(r"Query Text:.*\b(patient|reserve_\w+)\b", entry, re.S)]


if __name__ == "__main__":
    sys.exit(main())

"""The database drops every connection (a PostgreSQL restart, a failover, an idle timeout):
the server reconnects, and no request in between fails.

A dedicated server and database, so that no other test sees the outage. PostgreSQL only:
an SQLite file has no connections to drop.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from sqlalchemy import create_engine, text

from tests.support import PNR_SYSTEM, Database, Server, make_pnr, patient

FHIR_JSON = {"Content-Type": "application/fhir+json"}


@pytest.fixture(scope="module")
def outage(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, Database]]:
    database = Database.fresh(Path(tmp_path_factory.mktemp("outage")))
    if not database.is_postgres:
        database.dispose()
        pytest.skip("an SQLite file has no connections to drop")
    server = Server(database).start()
    yield server, database
    server.stop()
    database.dispose()


def _drop_every_connection(database: Database) -> int:
    name = database.url.rsplit("/", 1)[1]
    admin = create_engine(database.url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            return int(conn.execute(text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = :name AND pid <> pg_backend_pid()"), {"name": name}).scalar())
    finally:
        admin.dispose()


def test_every_request_after_the_connections_drop_succeeds(outage) -> None:
    server, database = outage
    pnr = make_pnr()
    created = requests.post(f"{server.base}/Patient", json=patient(pnr=pnr), headers=FHIR_JSON)
    assert created.status_code == 201
    pid = created.json()["id"]
    for _ in range(30):  # both workers hold pooled connections now
        assert requests.get(f"{server.base}/Patient/{pid}").status_code == 200
        assert requests.get(f"{server.base}/Patient",
                            params={"identifier": f"{PNR_SYSTEM}|{pnr}"}).status_code == 200

    assert _drop_every_connection(database) >= 2  # one per worker, at least

    for _ in range(10):  # each worker meets its dead connections on reads, searches, writes
        read = requests.get(f"{server.base}/Patient/{pid}")
        assert read.status_code == 200, read.text
        found = requests.get(f"{server.base}/Patient",
                             params={"identifier": f"{PNR_SYSTEM}|{pnr}", "_total": "accurate"})
        assert found.status_code == 200, found.text
        assert [e["resource"]["id"] for e in found.json()["entry"]] == [pid]
        assert requests.get(f"{server.base}/Patient", params={"_summary": "count"}).json()[
            "total"] >= 1
    again = _drop_every_connection(database)
    assert again >= 1
    for _ in range(6):
        write = requests.post(f"{server.base}/Patient", json=patient(pnr=make_pnr()),
                              headers=FHIR_JSON)
        assert write.status_code == 201, write.text

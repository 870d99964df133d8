"""``/healthz`` and ``/readyz`` through running servers with authentication on (README,
"Health probes"): no token needed; readiness is 503 with the reason while the database
cannot be reached or its schema is not the head revision of app/migrations, and on
PostgreSQL a 200 with a warning while the search indexes a first bulk load defers are
missing; nothing of it is logged as an error."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from app.adapters.migrate import head_revisions
from app.adapters.patient_copy import (
    DEFERRED_FOREIGN_KEYS,
    DEFERRED_INDEXES,
    defer_search_indexes,
)
from tests.support import ROOT, Database, Server, migrate

AUTH_ENV = {"JWT_HS256_SECRET": "health-secret-" + "x" * 40}
HEALTH_JSON = "application/health+json"


def root(server: Server) -> str:
    return server.base.removesuffix("/fhir")


@pytest.fixture(scope="module")
def probed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server with authentication on over a database of its own, whose alembic_version
    the tests change."""
    database = Database.fresh(Path(tmp_path_factory.mktemp("health")))
    server = Server(database, env=AUTH_ENV, workers=1).start()
    yield server
    server.stop()
    database.dispose()


def set_revisions(server: Server, *revisions: str) -> None:
    """Make the server's database claim to be at ``revisions`` (none: no schema)."""
    engine = create_engine(server.database.url)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM alembic_version"))
        for revision in revisions:
            conn.execute(text("INSERT INTO alembic_version (version_num) VALUES (:r)"),
                         {"r": revision})
    engine.dispose()


@pytest.fixture()
def schema(probed: Server) -> Iterator[Server]:
    """The probed server; its schema revision is put back to the head afterwards."""
    yield probed
    set_revisions(probed, *head_revisions())


def probe(server: Server, path: str) -> tuple[int, dict]:
    response = requests.get(root(server) + path, timeout=10)
    assert response.headers["Content-Type"] == HEALTH_JSON
    assert response.headers["Cache-Control"] == "no-store"
    return response.status_code, response.json()


def assert_nothing_logged_as_an_error(server: Server) -> None:
    log = server.log_path.read_text(errors="replace")
    assert "ERROR" not in log and "Traceback" not in log, log[-3000:]


def test_healthz_passes_without_a_token(probed):
    assert requests.get(f"{probed.base}/Patient", timeout=10).status_code == 401  # auth is on
    assert probe(probed, "/healthz") == (200, {"status": "pass"})
    assert requests.head(root(probed) + "/healthz", timeout=10).status_code == 200
    refused = requests.post(root(probed) + "/healthz", timeout=10)  # no route: token needed
    assert refused.status_code == 401
    assert refused.json()["resourceType"] == "OperationOutcome"


def test_readyz_passes_without_a_token_when_the_schema_is_current(probed):
    status, body = probe(probed, "/readyz")
    assert status == 200, body
    assert body == {"status": "pass", "checks": {
        "database:reachable": [{"status": "pass"}],
        "database:schema": [{"status": "pass", "observedValue": ", ".join(head_revisions())}],
        # SQLite defers no index: nothing to check there
        **({"database:searchIndexes": [{"status": "pass"}]} if probed.database.is_postgres
           else {})}}


@pytest.mark.parametrize(("revisions", "reason"), [
    (("0003",), f"at revision 0003; this server needs {', '.join(head_revisions())}: "
                "run `python -m app db upgrade`"),
    ((), "The database has no schema: run `python -m app db upgrade`"),
    (("9999",), "at revision 9999, which this server does not know"),
])
def test_readyz_is_503_until_the_schema_is_the_head_revision(schema, revisions, reason):
    set_revisions(schema, *revisions)
    status, body = probe(schema, "/readyz")
    assert status == 503
    assert body["status"] == "fail"
    assert reason in body["output"]
    assert body["checks"]["database:schema"] == [{"status": "fail",
                                                  "observedValue": ", ".join(revisions)}]
    assert probe(schema, "/healthz") == (200, {"status": "pass"})  # alive all the same
    set_revisions(schema, *head_revisions())
    assert probe(schema, "/readyz")[0] == 200
    assert_nothing_logged_as_an_error(schema)


def test_readyz_is_503_while_the_database_cannot_be_reached(database, tmp_path):
    """A PostgreSQL database that does not exist, or an SQLite 'file' that is a folder."""
    if database.is_postgres:
        url = make_url(database.url).set(database=f"sweid_missing_{uuid.uuid4().hex[:8]}")
        unreachable = Database(url.render_as_string(hide_password=False))
    else:
        unreachable = Database(f"sqlite:///{tmp_path}")
    server = Server(unreachable, env=AUTH_ENV, workers=1, upgrade=False).start()
    try:
        status, body = probe(server, "/readyz")
        assert status == 503
        assert body == {"status": "fail", "output": "The database cannot be reached "
                                                    "(OperationalError)",
                        "checks": {"database:reachable": [{"status": "fail"}]}}
        assert probe(server, "/healthz") == (200, {"status": "pass"})
    finally:
        server.stop()
    assert_nothing_logged_as_an_error(server)



@pytest.fixture()
def stopped_first_load(tmp_path: Path) -> Iterator[Database]:
    """A database of its own left as a first bulk load stopped before its end leaves it: no
    Patient, the deferred search indexes and foreign keys dropped."""
    database = Database.fresh(tmp_path)
    migrate(database, "head")
    engine = create_engine(database.url)
    try:
        with engine.begin() as conn:
            assert defer_search_indexes(conn)
    finally:
        engine.dispose()
    yield database
    database.dispose()


@pytest.mark.skipif(not os.environ.get("DATABASE_URL", "").startswith("postgresql"),
                    reason="only the COPY load on PostgreSQL defers the search indexes")
def test_readyz_stays_200_but_warns_while_a_stopped_first_load_left_the_search_indexes_out(
        stopped_first_load):
    server = Server(stopped_first_load, env=AUTH_ENV, workers=1, upgrade=False).start()
    try:
        status, body = probe(server, "/readyz")
        assert status == 200, body  # searches still answer, only slowly
        assert body["status"] == "warn"
        assert body["checks"]["database:schema"][0]["status"] == "pass"
        [check] = body["checks"]["database:searchIndexes"]
        assert check["status"] == "warn"
        missing = check["observedValue"].split(", ")
        assert set(missing) == ({str(index.name) for index in DEFERRED_INDEXES}
                                | {f"{table.name} → patient" for table in DEFERRED_FOREIGN_KEYS})
        for advice in ("`python -m app load FILE` again", "`python -m app db upgrade`"):
            assert advice in check["output"]
        assert body["output"] == check["output"]
        assert probe(server, "/readyz") == (200, body)  # polled again: the same answer
        upgraded = subprocess.run([sys.executable, "-m", "app", "db", "upgrade"], cwd=ROOT,
                                  env={**os.environ, "DATABASE_URL": stopped_first_load.url},
                                  capture_output=True, text=True, timeout=120)
        assert upgraded.returncode == 0, upgraded.stderr
        status, body = probe(server, "/readyz")
        assert status == 200, body
        assert body["status"] == "pass"
        assert body["checks"]["database:searchIndexes"] == [{"status": "pass"}]
        assert "output" not in body
    finally:
        server.stop()
    log = server.log_path.read_text(errors="replace")
    assert log.count("Search indexes are missing") == 1, log[-3000:]  # once, not per poll
    assert "the search indexes are all present again" in log
    assert_nothing_logged_as_an_error(server)

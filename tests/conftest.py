"""Fixtures: a database and a real gunicorn server of each test module's own."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.support import Database, Server, migrate

FHIR_JSON = {"Content-Type": "application/fhir+json", "Accept": "application/fhir+json"}


@pytest.fixture(scope="session")
def template_database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    """The schema at head, migrated once per session: each module's database is its copy."""
    db = Database.fresh(Path(tmp_path_factory.mktemp("template")))
    migrate(db, "head")
    yield db
    db.dispose()


@pytest.fixture(scope="module")
def database(template_database: Database,
             tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    """A database of this test module's own (issue 19: a module never sees another module's
    records, so no ranking, count or search depends on what ran before)."""
    db = template_database.clone(Path(tmp_path_factory.mktemp("db")))
    yield db
    db.dispose()


@pytest.fixture(scope="module")
def server(database: Database) -> Iterator[Server]:
    """A real gunicorn server on the module's database."""
    # The examples' own receivers (examples/subscribe_merge.py) listen on 127.0.0.1.
    srv = Server(database, env={"SUBSCRIPTION_ENDPOINT_PREFIXES": "http://127.0.0.1:"},
                 upgrade=False).start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def base(server: Server) -> str:
    """Base URL of the running FHIR server."""
    return server.base


@pytest.fixture()
def http() -> Iterator[requests.Session]:
    """A requests session speaking FHIR JSON."""
    with requests.Session() as session:
        session.headers.update(FHIR_JSON)
        yield session

"""Session fixtures: one fresh database and one real gunicorn server for the e2e tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.support import Database, Server

FHIR_JSON = {"Content-Type": "application/fhir+json", "Accept": "application/fhir+json"}


@pytest.fixture(scope="session")
def database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    db = Database.fresh(Path(tmp_path_factory.mktemp("db")))
    yield db
    db.dispose()


@pytest.fixture(scope="session")
def server(database: Database) -> Iterator[Server]:
    # The examples' own receivers (examples/subscribe_merge.py) listen on 127.0.0.1.
    srv = Server(database, env={"SUBSCRIPTION_ENDPOINT_PREFIXES": "http://127.0.0.1:"}).start()
    yield srv
    srv.stop()


@pytest.fixture(scope="session")
def base(server: Server) -> str:
    """Base URL of the running FHIR server."""
    return server.base


@pytest.fixture()
def http() -> Iterator[requests.Session]:
    """A requests session speaking FHIR JSON."""
    with requests.Session() as session:
        session.headers.update(FHIR_JSON)
        yield session

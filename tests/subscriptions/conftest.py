"""A fresh database and a server with authentication on and fast delivery settings for the
Subscription tests (a database of their own: the other servers of the test session run
deliverers too, with the default retry intervals)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.security.conftest import FHIR_JSON, SECURE_ENV, make_token
from tests.subscriptions.support import FAST_DELIVERY, Receiver
from tests.support import Database, Server

FULL = "system/*.cruds protected-identity"
MASKED = "system/*.cruds"
ENV = {**SECURE_ENV, **FAST_DELIVERY}


@pytest.fixture(scope="package")
def sub_database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    db = Database.fresh(Path(tmp_path_factory.mktemp("subs-db")))
    yield db
    db.dispose()


@pytest.fixture(scope="package")
def sub_server(sub_database: Database) -> Iterator[Server]:
    srv = Server(sub_database, env=ENV).start()
    yield srv
    srv.stop()


@pytest.fixture(scope="package")
def fbase(sub_server: Server) -> str:
    return sub_server.base


def session_with(scope: str) -> requests.Session:
    """A FHIR JSON session with a token of ``scope``."""
    session = requests.Session()
    session.headers.update({**FHIR_JSON, "Authorization": f"Bearer {make_token(scope)}"})
    return session


@pytest.fixture()
def full() -> Iterator[requests.Session]:
    with session_with(FULL) as session:
        yield session


@pytest.fixture()
def masked() -> Iterator[requests.Session]:
    with session_with(MASKED) as session:
        yield session


@pytest.fixture()
def receiver(tmp_path: Path) -> Iterator[Receiver]:
    started = Receiver(tmp_path / "received.jsonl").start()
    yield started
    started.stop()

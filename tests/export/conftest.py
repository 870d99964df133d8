"""A server with authentication on and quick exporter settings, writing its files to a
directory of the test module's own."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.export.support import ENV
from tests.support import Database, Server


@pytest.fixture(scope="module")
def export_directory(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return Path(tmp_path_factory.mktemp("export-files"))


@pytest.fixture(scope="module")
def export_server(database: Database, export_directory: Path) -> Iterator[Server]:
    srv = Server(database, env={**ENV, "EXPORT_DIRECTORY": str(export_directory)},
                 upgrade=False).start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def ebase(export_server: Server) -> str:
    return export_server.base

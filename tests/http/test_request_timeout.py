"""No request occupies a worker beyond ``TIMEOUT`` seconds (README, "Limits"): gunicorn's
own timeout leaves a gthread worker alone while one of its threads computes for minutes,
so a watchdog in each worker (app/gunicorn_conf.py) ends the worker and gunicorn starts
a fresh one."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.support import Database, Server

TIMEOUT = 2


@pytest.fixture(scope="module")
def slow_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    database = Database.fresh(Path(tmp_path_factory.mktemp("timeout")))
    server = Server(database, env={"TIMEOUT": str(TIMEOUT)}, workers=1,
                    app="tests.http.slow_app:app").start()
    yield server
    server.stop()
    database.dispose()


def test_a_request_within_the_timeout_is_answered(slow_server: Server) -> None:
    response = requests.get(f"{slow_server.base}/spin", params={"seconds": TIMEOUT / 4},
                            timeout=30)
    assert response.status_code == 200


def test_a_request_past_the_timeout_ends_its_worker_and_a_fresh_one_serves(
        slow_server: Server) -> None:
    started = time.monotonic()
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{slow_server.base}/spin", params={"seconds": 10 * TIMEOUT},
                     timeout=30)
    assert time.monotonic() - started < 5 * TIMEOUT
    assert requests.get(f"{slow_server.base}/metadata", timeout=30).status_code == 200
    log = slow_server.log_path.read_text(errors="replace")
    assert f"GET /fhir/spin ran longer than {TIMEOUT} s" in log
    assert "seconds=" not in log  # paths without query strings, as in the request log

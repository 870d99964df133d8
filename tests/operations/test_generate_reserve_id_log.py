"""Every generated reserve id is recorded — when, by whom, for which request and which
Patient — and ``python -m app reserve-ids list`` lists it (issue 5). Runs against a server
of its own with authentication on, so that the caller's ``sub`` is known."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import jwt
import pytest
import requests

from tests.operations.reserve_helpers import (
    LRID_SYSTEM,
    NRID_SYSTEM,
    fresh_date,
    generate,
    identifiers,
    patient_ids,
)
from tests.support import ROOT, Database, Server, patient, unique_name

SECRET = "reserve-log-secret-" + "y" * 40
SCOPE = "system/Patient.cruds"


@pytest.fixture(scope="module")
def secured(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    database = Database.fresh(Path(tmp_path_factory.mktemp("reserve-log")))
    server = Server(database, env={"JWT_HS256_SECRET": SECRET}, workers=1).start()
    yield server
    server.stop()
    database.dispose()


def caller(role: str) -> tuple[str, dict[str, str]]:
    """A new ``sub`` and the Authorization header of a token for it."""
    sub = f"{role}-{uuid.uuid4().hex[:8]}"
    now = int(time.time())
    token = jwt.encode({"sub": sub, "exp": now + 600, "iat": now, "scope": SCOPE}, SECRET,
                       algorithm="HS256")
    return sub, {"Authorization": f"Bearer {token}"}


def listed(server: Server) -> dict[str, dict[str, str]]:
    """``reserve-ids list`` against the server's database: CSV rows by value."""
    done = subprocess.run([sys.executable, "-m", "app", "reserve-ids", "list"],
                          env={**os.environ, "DATABASE_URL": server.database.url}, cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    rows = list(csv.DictReader(done.stdout.splitlines()))
    assert rows and list(rows[0]) == ["generated_at", "system", "value", "subject",
                                      "patient_id", "request_id"]
    by_value = {row["value"]: row for row in rows}
    assert len(by_value) == len(rows)  # no id is listed (or generated) twice
    return by_value


def test_the_list_names_the_caller_the_request_id_and_the_created_patients(secured):
    sub, auth = caller("desk")
    key = f"pack-{uuid.uuid4()}"
    body = {"count": 2, "request_id": key,
            "patient": patient(unique_name("DRIFTSTOPP"), birth=fresh_date().isoformat())}
    first = generate(secured.base, headers=auth, **body)
    ids, created = identifiers(first), patient_ids(first)
    # A retry returns the same ids and records nothing new.
    again = generate(secured.base, headers=auth, **body)
    assert (identifiers(again), patient_ids(again)) == (ids, created)
    rows = listed(secured)
    for ident, patient_id in zip(ids, created, strict=True):
        row = rows[ident["value"]]
        assert (row["system"], row["subject"], row["request_id"], row["patient_id"]) == (
            NRID_SYSTEM, sub, key, patient_id)
        assert row["generated_at"]
    assert sorted(v for v, row in rows.items() if row["request_id"] == key) == sorted(
        i["value"] for i in ids)


def test_the_list_names_the_x_request_id_and_the_patient_of_an_instance_request(secured):
    creator, creator_auth = caller("registrar")
    born = fresh_date()
    response = requests.post(f"{secured.base}/Patient", headers=creator_auth, timeout=30,
                             json=patient(birth=born.isoformat(), gender="male"))
    assert response.status_code == 201, response.text
    holder = response.json()["id"]
    sub, auth = caller("ehr")
    key = f"transition-{uuid.uuid4()}"
    [lrid] = identifiers(generate(secured.base, patient_id=holder, system=LRID_SYSTEM,
                                  headers={**auth, "X-Request-Id": key}))
    [national] = identifiers(generate(secured.base, patient_id=holder, headers=auth))
    rows = listed(secured)
    assert (rows[lrid["value"]]["subject"], rows[lrid["value"]]["request_id"],
            rows[lrid["value"]]["patient_id"], rows[lrid["value"]]["system"]) == (
        sub, key, holder, LRID_SYSTEM)
    assert (rows[national["value"]]["subject"], rows[national["value"]]["patient_id"]) == (
        sub, holder)
    assert creator not in {row["subject"] for row in rows.values()}


def test_an_id_generated_without_a_key_is_listed_under_the_responses_request_id(secured):
    sub, auth = caller("lab")
    response = generate(secured.base, headers=auth, gender="female")
    [ident] = identifiers(response)
    trace = response.headers["X-Request-Id"]
    assert trace
    row = listed(secured)[ident["value"]]
    assert (row["subject"], row["request_id"], row["patient_id"]) == (sub, trace, "")


def test_without_a_token_nothing_is_generated_or_listed(secured):
    before = listed(secured)
    response = generate(secured.base, gender="male", request_id=f"anon-{uuid.uuid4()}")
    assert response.status_code == 401, response.text
    assert listed(secured) == before

"""``python -m app load`` killed at any point resumes without duplicating or refusing
anything (issue 14): its progress is committed with each batch (table ``load_progress``).

Before, a checkpoint file was written after each batch's commit: a kill between the two made
the rerun load that batch again — records without an id created twice, records with a
personnummer refused as taken. The first run here ends exactly there: its ``--checkpoint``
is in a folder that does not exist, so a loader that still wrote the file failed right after
its first commit.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import time
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, func, select

from app.adapters.db import make_engine
from app.adapters.tables import patient as patient_table
from app.adapters.tables import patient_identifier
from app.domain.access import Access
from app.services.bulk_load import BulkLoad, ProgressMoved
from tests.conformance.test_cli import cli
from tests.support import PNR_SYSTEM, ROOT, Database, make_pnr, patient, unique_name

LINES = 2000
BATCH = 100
KILLS = 3


def lines(family: str) -> list[dict[str, Any]]:
    """Patients, each marked by its line number as given name: three in five with a new
    personnummer and no id, one in five with neither, one in five with an id."""
    made = []
    for number in range(LINES):
        resource = patient(family, given=f"Rad{number:05d}")
        if number % 5 < 3:
            resource["identifier"] = [{"system": PNR_SYSTEM, "value": make_pnr()}]
        elif number % 5 == 4:
            resource["id"] = f"{family.lower()}-{number}"
        made.append(resource)
    return made


def stored(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(patient_table)).scalar_one())


def kill_after_a_commit(database: Database, engine: Engine, source: Path,
                        *options: str) -> None:
    """Start a load and SIGKILL it once it has committed a batch (a moment later: somewhere
    in its next batch, or right after the commit), unless it ended by itself."""
    before = stored(engine)
    with open(source.with_suffix(".log"), "ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "app", "load", str(source), "--batch-size", str(BATCH),
             *options], cwd=ROOT, env={**os.environ, "DATABASE_URL": database.url},
            stdout=log, stderr=log)
    try:
        deadline = time.monotonic() + 60
        while stored(engine) == before and process.poll() is None:
            assert time.monotonic() < deadline, "no batch committed within 60 s"
            time.sleep(0.01)
        time.sleep(random.uniform(0, 0.05))
    finally:
        process.kill()
        process.wait()


def test_a_load_killed_again_and_again_loads_every_line_exactly_once(own_database, tmp_path):
    family = unique_name("Crash")
    resources = lines(family)
    source = tmp_path / "patients.ndjson"
    source.write_text("".join(json.dumps(resource) + "\n" for resource in resources))
    unwritable = tmp_path / "missing" / "checkpoint"
    engine = create_engine(own_database.url)
    try:
        kill_after_a_commit(own_database, engine, source, "--checkpoint", str(unwritable))
        for _ in range(KILLS - 1):
            kill_after_a_commit(own_database, engine, source)
        assert stored(engine) < LINES, "killed too late to prove anything"
        done = cli(own_database, "load", str(source), "--batch-size", str(BATCH))
        assert done.returncode == 0, done.stdout + done.stderr
        assert "refused 0" in done.stdout and f"{LINES} of {LINES}" in done.stdout
        with engine.connect() as conn:
            given = Counter(json.loads(resource)["name"][0]["given"][0] for resource in
                            conn.execute(select(patient_table.c.resource)).scalars())
            numbers = Counter(conn.execute(
                select(patient_identifier.c.value)
                .where(patient_identifier.c.system == PNR_SYSTEM,
                       patient_identifier.c.active)).scalars())
    finally:
        engine.dispose()
    assert given == Counter(r["name"][0]["given"][0] for r in resources)  # each line once
    assert numbers == Counter(r["identifier"][0]["value"] for r in resources
                              if "identifier" in r)
    again = cli(own_database, "load", str(source))
    assert again.returncode == 0 and "created 0, updated 0" in again.stdout, again.stdout


def test_a_second_load_of_the_same_job_cannot_write_what_the_first_did(own_database):
    """Two loads of one job at the same time: the one that finds the progress moved under
    it stops, its batch rolled back."""
    resources = lines(unique_name("Twice"))[:10]
    engine = make_engine(own_database.url)
    try:
        first, second = (BulkLoad(engine, "job:twice", "patients.ndjson", resources,
                                  access=Access(subject="test", see_protected=True),
                                  today=date.today()) for _ in range(2))
        assert first.open() == second.open() == 0
        assert list(second.batches(0, 5)) == [(5, []), (5, [])]
        with pytest.raises(ProgressMoved, match="another load of the same source or job"):
            list(first.batches(0, 5))
        assert stored(engine) == 10
    finally:
        engine.dispose()

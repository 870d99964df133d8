"""``python -m app downtime-pack`` and ``reserve-ids list`` against the session database;
the records are then found through the running server (domain.md §3.3)."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import requests

from app.identity import lrid_vgr, nrid
from tests.operations.reserve_helpers import LRID_SYSTEM, NRID_SYSTEM, generate, identifiers
from tests.support import ROOT, unique_name


def run_cli(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": database_url}
    return subprocess.run([sys.executable, "-m", "app", *args], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=120)


def test_downtime_pack_creates_searchable_records_and_writes_csv_and_text(base, database,
                                                                          tmp_path: Path):
    family = unique_name("DRIFTSTOPP")
    csv_file, text_file = tmp_path / "pack.csv", tmp_path / "pack.txt"
    done = run_cli(database.url, "downtime-pack", "--women", "3", "--men", "2",
                   "--birth-date", "2019-01-01", "--family", family, "--given", "AKUTEN SÄS",
                   "--csv", str(csv_file), "--text", str(text_file))
    assert done.returncode == 0, done.stderr
    rows = list(csv.DictReader(csv_file.open(encoding="utf-8")))
    assert [row["gender"] for row in rows] == ["female"] * 3 + ["male"] * 2
    text = text_file.read_text("utf-8")
    for row in rows:
        described = nrid.describe(row["identifier"], today=date.today())
        assert (described.birth_date, described.sex) == (date(2019, 1, 1), row["gender"])
        assert nrid.format(row["identifier"]) in text
        bundle = requests.get(f"{base}/Patient", timeout=30, params={
            "identifier": f"{NRID_SYSTEM}|{row['identifier']}"}).json()
        [entry] = bundle["entry"]
        assert entry["resource"]["id"] == row["patient_id"]
        assert entry["resource"]["name"] == [{"family": family, "given": ["AKUTEN", "SÄS"]}]
        assert entry["resource"]["birthDate"] == "2019-01-01"


def test_downtime_pack_of_lrids_prints_to_stdout_without_files(base, database):
    done = run_cli(database.url, "downtime-pack", "--women", "1", "--men", "1",
                   "--birth-date", "2018-12-31", "--family", unique_name("DRIFTSTOPP"),
                   "--system", "lrid")
    assert done.returncode == 0, done.stderr
    values = [line.split(",")[2] for line in done.stdout.splitlines()
              if line.startswith(("1,", "2,"))]
    assert [lrid_vgr.describe(v).sex for v in values] == ["female", "male"]
    for value in values:
        assert lrid_vgr.format(value) in done.stdout
        found = requests.get(f"{base}/Patient", timeout=30, params={
            "identifier": f"{LRID_SYSTEM}|{value}"}).json()
        assert found["total"] == 1


def test_downtime_pack_refuses_a_future_birth_date(database):
    done = run_cli(database.url, "downtime-pack", "--women", "1", "--men", "0",
                   "--birth-date", "2999-01-01")
    assert done.returncode != 0
    assert "future" in done.stderr


def test_reserve_ids_list_shows_every_generated_id_with_its_patient(base, database):
    response = generate(base, birth_date="2001-02-03", gender="male",
                        patient={"resourceType": "Patient", "name": [{"family": unique_name()}]})
    [ident] = identifiers(response)
    patient_ref = response.json()["parameter"][1]["valueReference"]["reference"]
    [loose] = identifiers(generate(base))
    done = run_cli(database.url, "reserve-ids", "list")
    assert done.returncode == 0, done.stderr
    rows = {row["value"]: row for row in csv.DictReader(done.stdout.splitlines())}
    assert rows[ident["value"]]["patient_id"] == patient_ref.removeprefix("Patient/")
    assert rows[ident["value"]]["system"] == NRID_SYSTEM
    assert rows[loose["value"]]["patient_id"] == ""
    assert rows[loose["value"]]["generated_at"]

"""``python -m app load`` / ``export`` / ``profiles`` against the session database, checked
through the running server."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.support import ROOT, make_pnr, patient, unique_name


def cli(database, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": database.url}
    return subprocess.run([sys.executable, "-m", "app", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


def test_help_documents_every_command(database):
    shown = cli(database, "--help").stdout
    for command in ("load", "export", "db", "downtime-pack", "profiles"):
        assert command in shown


def test_load_a_bundle_then_the_patients_are_searchable(database, server, base, fhir, tmp_path):
    family = unique_name("Laddad")
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": [
        {"resource": patient(family, pnr=make_pnr(), given=f"N{i}")} for i in range(5)]}
    source = tmp_path / "bundle.json"
    source.write_text(json.dumps(bundle))
    done = cli(database, "load", str(source), "--batch-size", "2")
    assert done.returncode == 0, done.stderr
    assert "created 5" in done.stdout
    found = fhir.get(f"{base}/Patient", params={"family": family, "_total": "accurate"}).json()
    assert found["total"] == 5


def test_load_resumes_from_its_checkpoint_and_reports_refused_lines(database, server, base,
                                                                     fhir, tmp_path):
    family = unique_name("Resume")
    lines = [patient(family, given=f"N{i}", id=f"resume-{family}-{i}") for i in range(6)]
    lines.append(patient(family, identifier=[{"system": "urn:oid:1.2.752.129.2.1.3.1",
                                              "value": "196512073246"}]))  # bad check digit
    source = tmp_path / "patients.ndjson"
    source.write_text("\n".join(json.dumps(line) for line in lines) + "\n")
    (tmp_path / "patients.ndjson.checkpoint").write_text("4")
    done = cli(database, "load", str(source))
    assert done.returncode == 2
    assert "created 2" in done.stdout and "refused 1" in done.stdout
    assert "resource 7" in done.stderr and "196512073246" not in done.stderr
    assert (tmp_path / "patients.ndjson.checkpoint").read_text() == "7"
    found = fhir.get(f"{base}/Patient", params={"family": family, "_total": "accurate"}).json()
    assert sorted(e["resource"]["id"][-1] for e in found["entry"]) == ["4", "5"]
    again = cli(database, "load", str(source), "--restart")
    assert "created 4, updated 2" in again.stdout


def test_export_writes_every_current_patient_as_ndjson(database, server, base, fhir, tmp_path):
    marker = fhir.post(f"{base}/Patient", json=patient(unique_name("Export"))).json()
    target = tmp_path / "out.ndjson"
    done = cli(database, "export", "-o", str(target))
    assert done.returncode == 0, done.stderr
    exported = [json.loads(line) for line in target.read_text().splitlines()]
    assert all(p["resourceType"] == "Patient" for p in exported)
    assert marker["id"] in {p["id"] for p in exported}
    assert len({p["id"] for p in exported}) == len(exported)


def test_profiles_check_reports_the_files_up_to_date(database):
    done = cli(database, "profiles", "--check")
    assert done.returncode == 0, done.stdout

"""The life of ``$export`` jobs, each test on a database and servers of its own: a job
waits queued (202 with X-Progress and Retry-After) while no exporter runs, the per-owner
limit answers 429, files expire, a job whose server is killed with SIGKILL mid-export is
finished by the next exporter once its lease has run out — keeping the files completed
before the kill and going on after them, with Patients written between the two attempts
left to the next export — a failed job answers 500 with an OperationOutcome, and two
server instances on one database run each job once."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import orjson
import requests
from sqlalchemy import create_engine, text

from app.domain.limits import MAX_EXPORT_JOBS_PER_OWNER
from tests.export.support import (
    ENV,
    KICKOFF,
    MASKED,
    download,
    export_all,
    kickoff,
    session_with,
    wait_manifest,
)
from tests.support import ROOT, Database, Server


def _server(database: Database, directory: Path, **settings: str) -> Server:
    return Server(database, env={**ENV, "EXPORT_DIRECTORY": str(directory), **settings})


def _exporting(database: Database, directory: Path, per_file: int,
               port: int | None = None) -> Server:
    """A started server on the (upgraded) database that exports in pages of 5 into files of
    ``per_file`` and holds a job's lease 3 s, so a killed one's job is taken over at once;
    ``port``: that of the server it replaces (a status URL names the port)."""
    server = _server(database, directory, EXPORT_PAGE_SIZE="5",
                     EXPORT_FILE_MAX_RESOURCES=str(per_file), EXPORT_LEASE_SECONDS="3",
                     EXPORT_POLL_SECONDS="0.1")
    server.upgrade = False
    if port is not None:
        server.port = port
    return server.start()


def test_a_queued_job_answers_202_the_owner_limit_429_and_cancel_404(tmp_path: Path):
    database = Database.fresh(tmp_path)
    server = _server(database, tmp_path / "files", EXPORT_WORKER="off").start()
    try:
        with session_with(MASKED, sub="queued-owner") as owner:
            urls = [kickoff(owner, server.base) for _ in range(MAX_EXPORT_JOBS_PER_OWNER)]
            waiting = owner.get(urls[0], timeout=30)
            assert waiting.status_code == 202
            assert waiting.headers["X-Progress"] == "queued"
            assert int(waiting.headers["Retry-After"]) >= 1
            refused = owner.get(f"{server.base}/Patient/$export", headers=KICKOFF, timeout=30)
            assert refused.status_code == 429
            assert refused.json()["issue"][0]["code"] == "throttled"
            with session_with(MASKED, sub="another-owner") as other:
                kickoff(other, server.base)  # the limit is per owner
            assert owner.delete(urls[0], timeout=30).status_code == 202
            assert owner.get(urls[0], timeout=30).status_code == 404
            kickoff(owner, server.base)  # a cancelled job no longer counts
    finally:
        server.stop()
        database.dispose()


def test_files_expire_after_the_retention(tmp_path: Path):
    database = Database.fresh(tmp_path)
    files = tmp_path / "files"
    server = _server(database, files, EXPORT_RETENTION_SECONDS="1").start()
    try:
        with session_with(MASKED, sub="expiring") as owner:
            owner.post(f"{server.base}/Patient", timeout=30, json={
                "resourceType": "Patient", "name": [{"family": "Utgångsson"}]},
                headers={"Content-Type": "application/fhir+json"})
            status_url = kickoff(owner, server.base)
            manifest = wait_manifest(owner, status_url)
            assert len(download(owner, manifest)) == 1
            job_dir = files / status_url.rsplit("/", 1)[1]
            deadline = time.monotonic() + 20
            while job_dir.exists() and time.monotonic() < deadline:
                time.sleep(0.2)
            assert not job_dir.exists()  # the exporter removed the files
            assert owner.get(status_url, timeout=30).status_code == 404
            assert owner.get(manifest["output"][0]["url"], timeout=30).status_code == 404
    finally:
        server.stop()
        database.dispose()


def _load(database: Database, tmp_path: Path, count: int) -> None:
    """``count`` Patients through the real load path (``python -m app load``)."""
    source = tmp_path / "patients.ndjson"
    source.write_bytes(b"".join(orjson.dumps({
        "resourceType": "Patient", "name": [{"family": f"Avbrottsson{n:05d}",
                                             "given": ["Testa"]}],
        "gender": "female", "birthDate": "1998-06-06"}) + b"\n" for n in range(count)))
    env = {**os.environ, "DATABASE_URL": database.url}
    subprocess.run([sys.executable, "-m", "app", "db", "upgrade"], env=env, cwd=ROOT,
                   check=True, capture_output=True)
    subprocess.run([sys.executable, "-m", "app", "load", str(source)], env=env, cwd=ROOT,
                   check=True, capture_output=True)


def test_a_job_whose_server_is_killed_is_finished_after_its_lease_runs_out(tmp_path: Path):
    count = 2000
    database = Database.fresh(tmp_path)
    _load(database, tmp_path, count)
    files = tmp_path / "files"
    first = _exporting(database, files, 700)
    with session_with(MASKED, sub="interrupted") as owner:
        try:
            status_url = kickoff(owner, first.base)
            progress = ""
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:  # until the exporter is part-way through
                answer = owner.get(status_url, timeout=30)
                assert answer.status_code == 202, "the export finished before the kill"
                progress = answer.headers["X-Progress"]
                if progress.startswith("running: ") and not progress.startswith("running: 0 "):
                    break
                time.sleep(0.02)
            first.kill_9()
        finally:
            first.stop()
        assert progress.startswith("running") and f"of {count}" in progress, progress
        second = _exporting(database, files, 700, port=first.port)
        try:
            manifest = wait_manifest(owner, status_url, timeout=120)
            resources = download(owner, manifest)
        finally:
            second.stop()
    assert [o["count"] for o in manifest["output"]] == [700, 700, 600]
    families = [r["name"][0]["family"] for r in resources]
    assert sorted(families) == [f"Avbrottsson{n:05d}" for n in range(count)]  # none twice
    database.dispose()


def test_a_job_that_fails_answers_500_with_an_operation_outcome(tmp_path: Path):
    database = Database.fresh(tmp_path)
    blocked = tmp_path / "not-a-directory"
    blocked.write_text("a file where the export directory should be")
    server = _server(database, blocked).start()
    try:
        with session_with(MASKED, sub="failing") as owner:
            status_url = kickoff(owner, server.base)
            deadline = time.monotonic() + 30
            answer = owner.get(status_url, timeout=30)
            while answer.status_code == 202 and time.monotonic() < deadline:
                time.sleep(0.2)
                answer = owner.get(status_url, timeout=30)
            assert answer.status_code == 500
            issue = answer.json()["issue"][0]
            assert issue["code"] == "exception"
            assert "see its log" in issue["diagnostics"]  # fixed text, no cause leaked
            assert owner.delete(status_url, timeout=30).status_code == 202
    finally:
        server.stop()
        database.dispose()


def test_two_instances_run_each_job_once(tmp_path: Path):
    database = Database.fresh(tmp_path)
    _load(database, tmp_path, 300)
    files = tmp_path / "files"
    settings = {"EXPORT_PAGE_SIZE": "10", "EXPORT_POLL_SECONDS": "0.1"}
    first = _server(database, files, **settings)
    first.upgrade = False
    second = _server(database, files, **settings)
    second.upgrade = False
    first.start()
    second.start()
    try:
        owners = [session_with(MASKED, sub=f"instance-owner-{n}") for n in range(4)]
        urls = [kickoff(owner, (first, second)[n % 2].base)
                for n, owner in enumerate(owners)]
        for owner, url in zip(owners, urls, strict=True):
            manifest = wait_manifest(owner, url, timeout=120)
            assert sorted(r["name"][0]["family"] for r in download(owner, manifest)) == \
                [f"Avbrottsson{n:05d}" for n in range(300)]
        engine = create_engine(database.url)
        with engine.connect() as conn:
            attempts = sorted(conn.execute(text("SELECT attempts FROM export_job")).scalars())
        engine.dispose()
        assert attempts == [1, 1, 1, 1]  # no job was claimed by two exporters
    finally:
        first.stop()
        second.stop()
        database.dispose()


def _running(answer: requests.Response) -> int:
    """The resources written so far by a running job, from its X-Progress."""
    match = re.match(r"running: (\d+)", answer.headers["X-Progress"])
    return int(match.group(1)) if match else 0


def _write_patient(session: requests.Session, base: str, patient_id: str | None,
                   family: str) -> tuple[str, str | None]:
    """Create a Patient named ``family`` (no id) or rename one; its id and the family name
    it had."""
    headers = {"Content-Type": "application/fhir+json"}
    if patient_id is None:
        answer = session.post(f"{base}/Patient", headers=headers, timeout=30, json={
            "resourceType": "Patient", "name": [{"family": family}]})
        assert answer.status_code == 201, answer.text
        return answer.json()["id"], None
    resource = session.get(f"{base}/Patient/{patient_id}", timeout=30).json()
    previous = resource["name"][0]["family"]
    resource["name"][0]["family"] = family
    answer = session.put(f"{base}/Patient/{patient_id}", headers=headers, json=resource,
                         timeout=30)
    assert answer.status_code == 200, answer.text
    return patient_id, previous


def test_a_taken_over_job_keeps_its_completed_files_and_goes_on_after_them(tmp_path: Path):
    count, per_file = 2000, 500
    database = Database.fresh(tmp_path)
    _load(database, tmp_path, count)
    files = tmp_path / "files"
    first = _exporting(database, files, per_file)
    with session_with(MASKED, sub="resumed") as owner:
        try:
            status_url = kickoff(owner, first.base)
            job_dir = files / status_url.rsplit("/", 1)[1]
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:  # until file 1 is complete and file 2 begun
                answer = owner.get(status_url, timeout=30)
                assert answer.status_code == 202, "the export finished before the kill"
                if _running(answer) > per_file:
                    break
                time.sleep(0.02)
            first.kill_9()
        finally:
            first.stop()
        completed = sorted(job_dir.glob("Patient-*.ndjson"))
        assert completed, "no file was complete at the kill"
        before = {path.name: (path.stat().st_ino, path.stat().st_mtime_ns, path.read_bytes())
                  for path in completed}
        first_file_ids = [orjson.loads(line)["id"]
                          for line in before["Patient-1.ndjson"][2].splitlines()]
        assert len(first_file_ids) == per_file

        # Between the attempts (no exporter runs): one Patient is created, one already in
        # a completed file changed, and the last one the export will reach changed. Each
        # is stored after the job's transaction time, so the job leaves the new versions
        # to the next export: nothing twice, nothing lost.
        engine = create_engine(database.url)
        with engine.connect() as conn:
            last_id = conn.execute(text("SELECT id FROM patient ORDER BY id DESC LIMIT 1")
                                   ).scalar_one()
        engine.dispose()
        writer = _server(database, files, EXPORT_WORKER="off")
        writer.upgrade = False
        writer.start()
        try:
            created, _ = _write_patient(owner, writer.base, None, "Mellantidsson")
            _, done_was = _write_patient(owner, writer.base, first_file_ids[0], "Ändradsson")
            _, ahead_was = _write_patient(owner, writer.base, last_id, "Sentändradsson")
        finally:
            writer.stop()

        second = _exporting(database, files, per_file, port=first.port)
        try:
            progress: list[int] = []
            deadline = time.monotonic() + 120
            answer = owner.get(status_url, timeout=30)
            while answer.status_code == 202 and time.monotonic() < deadline:
                progress.append(_running(answer))
                time.sleep(0.02)
                answer = owner.get(status_url, timeout=30)
            assert answer.status_code == 200, answer.text
            manifest = answer.json()
            resources = download(owner, manifest)
            _, later = export_all(owner, second.base,
                                  _since=manifest["transactionTime"])
        finally:
            second.stop()
    engine = create_engine(database.url)
    with engine.connect() as conn:
        attempts = sorted(conn.execute(text("SELECT attempts FROM export_job")).scalars())
    engine.dispose()
    database.dispose()

    assert attempts == [1, 2]  # the follow-up export, and this one taken over once
    assert min(progress, default=per_file) >= per_file  # never back to the first Patient
    for name, (inode, mtime, content) in before.items():  # the completed files were kept
        path = job_dir / name
        assert (path.stat().st_ino, path.stat().st_mtime_ns, path.read_bytes()) == \
            (inode, mtime, content), name
    assert [o["count"] for o in manifest["output"]] == [500, 500, 500, 499]
    assert not list(job_dir.glob("*.part"))
    ids = [r["id"] for r in resources]
    assert len(ids) == len(set(ids)) == count - 1  # each Patient once
    assert created not in ids and last_id not in ids
    assert sorted(r["name"][0]["family"] for r in resources) == \
        [f"Avbrottsson{n:05d}" for n in range(count) if f"Avbrottsson{n:05d}" != ahead_was]
    assert resources[0]["id"] == first_file_ids[0]  # as it was at the kick-off
    assert resources[0]["name"][0]["family"] == done_was
    assert sorted(r["name"][0]["family"] for r in later) == \
        ["Mellantidsson", "Sentändradsson", "Ändradsson"]

"""The life of ``$export`` jobs, each test on a database and servers of its own: a job
waits queued (202 with X-Progress and Retry-After) while no exporter runs, the per-owner
limit answers 429, files expire, a job whose server is killed with SIGKILL mid-export is
finished by the next exporter once its lease has run out, a failed job answers 500 with an
OperationOutcome, and two server instances on one database run each job once."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import orjson
from sqlalchemy import create_engine, text

from app.domain.limits import MAX_EXPORT_JOBS_PER_OWNER
from tests.export.support import (
    ENV,
    KICKOFF,
    MASKED,
    download,
    kickoff,
    session_with,
    wait_manifest,
)
from tests.support import ROOT, Database, Server


def _server(database: Database, directory: Path, **settings: str) -> Server:
    return Server(database, env={**ENV, "EXPORT_DIRECTORY": str(directory), **settings})


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
    settings = {"EXPORT_PAGE_SIZE": "5", "EXPORT_FILE_MAX_RESOURCES": "700",
                "EXPORT_LEASE_SECONDS": "3", "EXPORT_POLL_SECONDS": "0.1"}
    first = _server(database, files, **settings)
    first.upgrade = False
    first.start()
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
        second = _server(database, files, **settings)
        second.upgrade = False
        second.port = first.port  # the status URL names the port
        second.start()
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
            attempts = conn.execute(text("SELECT attempts FROM export_job")).scalars().all()
        engine.dispose()
        assert attempts == [1, 1, 1, 1]  # no job was claimed by two exporters
    finally:
        first.stop()
        second.stop()
        database.dispose()

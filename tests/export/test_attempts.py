"""The attempt limit of ``$export`` jobs, on the exporter itself (no HTTP): only starts
since a job's last completed file count (app.services.bulk_export), so repeated crashes
fail a job that is stuck and not one that advances."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import update

from app.adapters.db import make_engine
from app.adapters.tables import export_job
from app.config import Settings
from app.domain.access import Access
from app.domain.bulk_export import COMPLETED, FAILED, ExportRequest
from app.domain.fhirdate import utc_now
from app.domain.limits import MAX_EXPORT_ATTEMPTS
from app.services import bulk_export
from app.services.transactions import run_read, run_write
from tests.support import Database


def test_only_starts_since_the_last_completed_file_count_against_the_limit(
        database: Database, tmp_path: Path):
    engine = make_engine(database.url)
    settings = Settings.from_env({"DATABASE_URL": database.url,
                                  "EXPORT_DIRECTORY": str(tmp_path)})
    jobs = {}
    # (attempts so far, each exporter died; the attempt that completed the last file):
    # the next claim is one more start.
    started = {"stuck": (MAX_EXPORT_ATTEMPTS, None),
               "stuck-since-file": (MAX_EXPORT_ATTEMPTS + 1, 1),
               "advancing": (MAX_EXPORT_ATTEMPTS + 1, 2)}
    for name, (attempts, checkpoint_attempt) in started.items():
        access = Access(subject=f"attempts-{name}", see_protected=False)
        job = run_write(engine, lambda uow, access=access: bulk_export.kickoff(
            uow, access, ExportRequest(("Patient",), None), request_url="http://x/$export",
            base="http://x", now=utc_now()))
        with engine.begin() as conn:
            conn.execute(update(export_job).where(export_job.c.id == job.id).values(
                attempts=attempts, checkpoint_attempt=checkpoint_attempt))
        jobs[name] = job.id
    exporter = bulk_export.Exporter(engine, settings)
    while exporter.export_one():
        pass
    states = {name: run_read(engine, lambda uow, job_id=job_id: uow.exports.get(job_id))
              for name, job_id in jobs.items()}
    engine.dispose()
    assert {name: job.state for name, job in states.items() if job is not None} == {
        "stuck": FAILED, "stuck-since-file": FAILED, "advancing": COMPLETED}

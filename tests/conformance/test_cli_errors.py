"""The command line says what it did and, when the database cannot be used, one line
saying what to do instead of a traceback (issue 15)."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from app.adapters.migrate import head_revision
from tests.support import ROOT, Database, free_port, migrate


def cli(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "app", *args], cwd=ROOT,
                          env={**os.environ, "DATABASE_URL": database_url},
                          capture_output=True, text=True, timeout=120)


def one_line_error(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("Error: ")]
    assert len(errors) == 1, done.stderr
    return errors[0]


@pytest.fixture()
def fresh(tmp_path: Path):
    database = Database.fresh(tmp_path)
    yield database
    database.dispose()


def test_db_upgrade_says_whether_it_created_upgraded_or_found_the_schema_current(fresh):
    migrate(fresh, "0003")
    upgraded = cli(fresh.url, "db", "upgrade")
    assert upgraded.stdout.strip() == \
        f"upgraded the schema from revision 0003 to {head_revision()}", upgraded.stderr
    again = cli(fresh.url, "db", "upgrade")
    assert again.stdout.strip() == f"schema already current (revision {head_revision()})"


def test_db_upgrade_on_an_empty_database_says_it_created_the_schema(fresh):
    done = cli(fresh.url, "db", "upgrade")
    assert done.stdout.strip() == f"created the schema (revision {head_revision()})"


def test_load_before_db_upgrade_is_one_line_saying_to_upgrade(fresh, tmp_path):
    source = tmp_path / "one.ndjson"
    source.write_text('{"resourceType": "Patient", "gender": "female"}\n', "utf-8")
    error = one_line_error(cli(fresh.url, "load", str(source)))
    assert "has no schema yet; run python -m app db upgrade first" in error


def test_an_unreachable_database_server_is_one_line(tmp_path):
    url = f"postgresql+psycopg://postgres:secret@127.0.0.1:{free_port()}/nowhere"
    error = one_line_error(cli(url, "export", "-o", str(tmp_path / "out.ndjson")))
    assert error.startswith("Error: cannot connect to the database postgresql+psycopg://")
    assert "secret" not in error and "check DATABASE_URL" in error


@pytest.mark.skipif(not os.environ.get("DATABASE_URL", "").startswith("postgresql"),
                    reason="a PostgreSQL server creates missing databases")
def test_db_upgrade_creates_a_missing_postgresql_database():
    admin = os.environ["DATABASE_URL"]
    name = f"sweid_test_{uuid.uuid4().hex[:12]}"
    url = make_url(admin).set(database=name).render_as_string(hide_password=False)
    missing = Database(url, [name], admin)
    try:
        error = one_line_error(cli(url, "reserve-ids", "list"))
        assert f'database "{name}" does not exist' in error
        done = cli(url, "db", "upgrade")
        assert done.stdout.strip() == \
            f"created the database; created the schema (revision {head_revision()})"
    finally:
        missing.dispose()

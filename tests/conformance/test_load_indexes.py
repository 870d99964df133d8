"""A first bulk load on PostgreSQL builds the search indexes once at its end (issue 16,
``app/adapters/patient_copy.py``); an incremental load keeps them; a stopped first load's
missing indexes come back with the rerun or with ``db upgrade``. Each ends with the schema
exactly as the migrations made it."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text

from app.adapters.patient_copy import (
    DEFERRED_FOREIGN_KEYS,
    DEFERRED_INDEXES,
    RECORD_INDEXES,
    defer_search_indexes,
    missing_search_indexes,
    restore_record_indexes,
    restore_search_indexes,
)
from tests.conformance.test_cli import cli
from tests.conformance.test_load_resume import BATCH, LINES, kill_after_a_commit, lines
from tests.support import Database, make_pnr, patient, unique_name

pytestmark = pytest.mark.skipif(
    not os.environ.get("DATABASE_URL", "").startswith("postgresql"),
    reason="the COPY load and its index handling are PostgreSQL's")


def schema(database: Database) -> set[tuple[str, str]]:
    """Every index and constraint of the database with its definition."""
    engine = create_engine(database.url)
    try:
        with engine.connect() as conn:
            indexes = conn.execute(text(
                "SELECT indexname, indexdef FROM pg_indexes "
                "WHERE schemaname = current_schema()")).all()
            constraints = conn.execute(text(
                "SELECT conrelid::regclass::text || '.' || conname, pg_get_constraintdef(oid) "
                "FROM pg_constraint WHERE connamespace = current_schema()::regnamespace")).all()
    finally:
        engine.dispose()
    return {(str(name), str(definition)) for name, definition in [*indexes, *constraints]}


def deferred_names() -> set[str]:
    return {str(index.name) for index in DEFERRED_INDEXES}


def source_file(tmp_path: Path) -> Path:
    source = tmp_path / "patients.ndjson"
    source.write_text("".join(json.dumps(r) + "\n" for r in lines(unique_name("Index"))))
    return source


def test_a_first_load_stopped_midway_resumes_and_ends_with_the_migrated_schema(
        own_database, tmp_path):
    migrated = schema(own_database)
    assert deferred_names() <= {name for name, _definition in migrated}
    source = source_file(tmp_path)
    engine = create_engine(own_database.url)
    try:
        kill_after_a_commit(own_database, engine, source)
    finally:
        engine.dispose()
    stopped = {name for name, _definition in schema(own_database)}
    assert not deferred_names() & stopped, "a first load keeps the search indexes"
    assert not any(name.endswith("_patient_id_fkey") and name.split(".")[0] in
                   {table.name for table in DEFERRED_FOREIGN_KEYS} for name in stopped)
    assert "uq_patient_identifier_active" in stopped  # the uniqueness rule never goes
    done = cli(own_database, "load", str(source), "--batch-size", str(BATCH))
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"{LINES} of {LINES} done" in done.stdout
    assert "building the search indexes" in done.stderr
    assert schema(own_database) == migrated


def test_db_upgrade_builds_what_a_stopped_first_load_left_out(own_database, tmp_path):
    migrated = schema(own_database)
    engine = create_engine(own_database.url)
    try:
        kill_after_a_commit(own_database, engine, source_file(tmp_path))
    finally:
        engine.dispose()
    assert schema(own_database) != migrated
    upgraded = cli(own_database, "db", "upgrade")
    assert upgraded.returncode == 0, upgraded.stderr
    assert "built the search indexes a stopped first load left out" in upgraded.stdout
    assert "ix_patient_token_param_code" in upgraded.stdout
    assert schema(own_database) == migrated
    again = cli(own_database, "db", "upgrade")
    assert "search indexes" not in again.stdout


def test_an_incremental_load_keeps_every_index(own_database, tmp_path):
    migrated = schema(own_database)
    first = tmp_path / "one.ndjson"
    first.write_text(json.dumps(patient(unique_name("Before"))) + "\n")
    assert cli(own_database, "load", str(first)).returncode == 0
    engine = create_engine(own_database.url)
    try:
        kill_after_a_commit(own_database, engine, source_file(tmp_path))
    finally:
        engine.dispose()
    assert schema(own_database) == migrated


@pytest.fixture
def deferred(own_database) -> Iterator[Engine]:
    """An engine on a database whose search indexes a first load has just deferred; the
    test must leave the schema as the migrations made it."""
    migrated = schema(own_database)
    engine = create_engine(own_database.url)
    try:
        with engine.begin() as conn:
            assert defer_search_indexes(conn)
        yield engine
    finally:
        engine.dispose()
    assert schema(own_database) == migrated


def test_two_builds_at_once_build_once_and_neither_fails(deferred):
    """Two first loads finishing together (or a load's end and db upgrade) take turns."""
    with ThreadPoolExecutor(2) as pool:
        built = list(pool.map(lambda _: _restore(deferred), range(2)))
    assert sorted(map(bool, built)) == [False, True]


def _restore(engine) -> list[str]:
    with engine.begin() as conn:
        return restore_search_indexes(conn)


def test_the_indexes_an_update_needs_are_built_alone_and_the_rest_wait(deferred):
    with deferred.begin() as conn:
        every = set(missing_search_indexes(conn))
    assert {str(index.name) for index in RECORD_INDEXES} == {
        "ix_patient_identifier_patient", "ix_patient_string_patient",
        "ix_patient_token_patient"}
    with deferred.begin() as conn:
        built = restore_record_indexes(conn)
        assert set(built) == {str(index.name) for index in RECORD_INDEXES}
        assert set(missing_search_indexes(conn)) == every - set(built)
        assert restore_record_indexes(conn) == []
    with deferred.begin() as conn:
        assert set(restore_search_indexes(conn)) == every - set(built)


def test_a_first_load_that_updates_a_record_it_wrote_replaces_its_index_rows(
        own_database, tmp_path):
    """The update comes in a later batch than the create: the record's old name and
    identifier are no longer found, its new ones are, and the schema ends as migrated."""
    migrated = schema(own_database)
    before, after = unique_name("Innan"), unique_name("Efter")
    first, second = make_pnr(), make_pnr()
    record = patient(before, id="load-updated-1", pnr=first)
    others = [patient(unique_name("Annan"), given=f"Rad{number}") for number in range(4)]
    source = tmp_path / "patients.ndjson"
    source.write_text("".join(json.dumps(resource) + "\n" for resource in [
        record, *others, {**record, "name": [{"family": after, "given": ["Testa"]}],
                          "identifier": [{"system": record["identifier"][0]["system"],
                                          "value": second}]}]))
    done = cli(own_database, "load", str(source), "--batch-size", "2")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "created 5, updated 1, refused 0" in done.stdout
    engine = create_engine(own_database.url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(text(
                "SELECT param, exact FROM patient_string WHERE patient_id = 'load-updated-1' "
                "AND param = 'family' UNION ALL SELECT 'identifier', value "
                "FROM patient_identifier WHERE patient_id = 'load-updated-1'")).all()
    finally:
        engine.dispose()
    assert sorted(rows) == [("family", after), ("identifier", second)]
    assert schema(own_database) == migrated

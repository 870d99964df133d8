"""The Alembic migrations create exactly the schema the tables module describes, and the
data migrations do what they say."""

from __future__ import annotations

import uuid

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, delete, select

from app.adapters.migrate import alembic_config, upgrade_to_head
from app.adapters.patient_repository import PatientRepository
from app.adapters.tables import metadata, patient_history, patient_string
from app.adapters.tables import patient as patient_table
from tests.support import Database, migrate, patient, store_as_before_issue_14


def test_migrations_match_the_table_definitions(database, server):
    # The server fixture has run `python -m app db upgrade` on this database.
    upgrade_to_head(database.url)
    engine = create_engine(database.url)
    with engine.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), metadata)
    engine.dispose()
    assert differences == []


TYPE_URL = "http://sweid.example/fhir/StructureDefinition/patient-type"
TYPE_SYSTEM = "http://sweid.example/fhir/CodeSystem/patient-type"


def test_migration_0004_protects_what_was_stored_unprotected_before_issue_14(tmp_path):
    """Records, linked records, older versions and deleted records that the fail-closed rule
    protects get the flag; records it does not protect keep theirs."""
    database = Database.fresh(tmp_path)
    try:
        migrate(database, "0003")
        ids = {name: f"{name}-{uuid.uuid4().hex[:8]}" for name in
               ("string", "linked", "edited", "plain", "deleted", "labelled")}
        string = {"url": TYPE_URL, "valueString": "oklar"}
        concept = {"url": TYPE_URL, "valueCodeableConcept": {"coding": [
            {"system": TYPE_SYSTEM, "code": "oklar"}]}}
        shouting = {"url": TYPE_URL, "valueCoding": {"system": TYPE_SYSTEM, "code": "OKLAR"}}
        plain_type = {"url": TYPE_URL, "valueCoding": {"system": TYPE_SYSTEM,
                                                       "code": "folkbokford"}}
        store_as_before_issue_14(database, [
            patient(id=ids["string"], extension=[string]),
            patient(id=ids["linked"], link=[{"other": {"reference": f"Patient/{ids['string']}"},
                                             "type": "seealso"}]),
            patient(id=ids["edited"], extension=[concept]),
            patient(id=ids["edited"], extension=[plain_type]),
            patient(id=ids["plain"], extension=[plain_type]),
            patient(id=ids["deleted"], extension=[shouting]),
            patient(id=ids["labelled"], meta={"security": [{"code": "sekretessmarkering"}]}),
        ])
        engine = create_engine(database.url)
        with engine.begin() as conn:
            repository = PatientRepository(conn)
            stored = repository.get(ids["deleted"])
            assert stored is not None
            repository.mark_deleted(stored, stored.last_updated)
        migrate(database, "head")
        with engine.connect() as conn:
            current = {pid: flag for pid, flag in conn.execute(
                select(patient_table.c.id, patient_table.c.protected))}
            versions = {(pid, version): flag for pid, version, flag in conn.execute(select(
                patient_history.c.id, patient_history.c.version_id,
                patient_history.c.protected))}
        engine.dispose()
        assert {name: bool(current[pid]) for name, pid in ids.items()} == {
            "string": True, "linked": True, "edited": False, "plain": False, "deleted": True,
            "labelled": True}
        assert {(name, version): bool(flag) for (pid, version), flag in versions.items()
                for name in ids if ids[name] == pid} == {
            ("string", 1): True, ("linked", 1): True, ("edited", 1): True,
            ("edited", 2): False, ("plain", 1): False, ("deleted", 1): True,
            ("deleted", 2): True, ("labelled", 1): True}
    finally:
        database.dispose()


def test_migration_0008_indexes_the_pdqm_parameters_of_stored_records(tmp_path):
    """address-country, address-state and mothersMaidenName rows for the records stored
    before issue 20 indexed them; downgrade removes them again."""
    new = ("address-country", "address-state", "mothersMaidenName")
    database = Database.fresh(tmp_path)
    try:
        migrate(database, "0007")
        pid = f"pdqm-{uuid.uuid4().hex[:8]}"
        store_as_before_issue_14(database, [patient(id=pid, address=[
            {"city": "Göteborg", "state": "Västra Götaland", "country": "SE"}], extension=[
            {"url": "http://hl7.org/fhir/StructureDefinition/patient-mothersMaidenName",
             "valueString": "Lindqvist"}])])
        engine = create_engine(database.url)
        with engine.begin() as conn:  # as the index of a server before issue 20 had it
            conn.execute(delete(patient_string).where(patient_string.c.param.in_(new)))

        def rows() -> set[tuple[str, str]]:
            with engine.connect() as conn:
                return {(param, exact) for param, exact in conn.execute(
                    select(patient_string.c.param, patient_string.c.exact).where(
                        patient_string.c.patient_id == pid,
                        patient_string.c.param.in_(new)))}

        assert rows() == set()
        migrate(database, "head")
        assert rows() == {("address-country", "SE"), ("address-state", "Västra Götaland"),
                          ("mothersMaidenName", "Lindqvist")}
        command.downgrade(alembic_config(database.url), "0007")
        assert rows() == set()
        engine.dispose()
    finally:
        database.dispose()

"""The merge service on a real database without HTTP: one unit of work merges, refuses
without a trace, and unmerges exactly (issue 19). Own database per module, own records per
test."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine

from app.adapters.db import make_engine
from app.domain.access import Access
from app.domain.merge import ContradictionRefused
from app.services import merges, patients
from app.services.transactions import run_read, run_write
from tests.support import Database, make_pnr, migrate, patient

TODAY = date(2026, 12, 4)
FULL = Access(subject="service-test", see_protected=True)


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    database = Database.fresh(Path(tmp_path_factory.mktemp("merges")))
    migrate(database, "head")
    engine = make_engine(database.url)
    yield engine
    engine.dispose()
    database.dispose()


def create(engine: Engine, body: dict) -> str:
    return run_write(engine, lambda uow: patients.create(uow, body, today=TODAY,
                                                         access=FULL)).stored.id


def resource(engine: Engine, patient_id: str) -> dict:
    return run_read(engine, lambda uow: patients.read(uow, patient_id)).load()


def request(source: str, target: str, **options: object) -> merges.MergeRequest:
    return merges.MergeRequest(merges.PatientRef({"reference": f"Patient/{source}"}),
                               merges.PatientRef({"reference": f"Patient/{target}"}),
                               **options)  # type: ignore[arg-type]


def pair(engine: Engine) -> tuple[str, str, str]:
    """A record known by its personnummer and one of the same person without it (a clerk's
    unknown-patient registration): (source, target, personnummer)."""
    pnr, family = make_pnr(), "Sammanslagen"
    target = create(engine, patient(family, pnr=pnr))
    source = create(engine, patient(family, identifier=[
        {"system": "urn:oid:1.2.3.4.999", "value": f"local-{pnr}"}]))
    return source, target, pnr


def test_a_merge_deactivates_the_source_and_moves_its_identifiers_in_one_unit_of_work(
        engine: Engine) -> None:
    source, target, _pnr = pair(engine)
    outcome = run_write(engine, lambda uow: merges.merge(uow, request(source, target), FULL,
                                                         TODAY))
    assert outcome.provenance_id
    merged_away, survivor = resource(engine, source), resource(engine, target)
    assert merged_away["active"] is False
    assert merged_away["link"] == [{"other": {"reference": f"Patient/{target}"},
                                    "type": "replaced-by"}]
    assert {"system": "urn:oid:1.2.3.4.999", "value": merged_away["identifier"][0]["value"],
            "use": "old"} in survivor["identifier"]
    assert {"other": {"reference": f"Patient/{source}"}, "type": "replaces"} in survivor["link"]


def test_a_contradictory_merge_is_refused_and_changes_nothing(engine: Engine) -> None:
    family = "Motsagd"
    target = create(engine, patient(family, pnr=make_pnr()))
    source = create(engine, patient(family, pnr=make_pnr()))  # another personnummer
    before = (resource(engine, source), resource(engine, target))
    with pytest.raises(ContradictionRefused):
        run_write(engine, lambda uow: merges.merge(uow, request(source, target), FULL, TODAY))
    assert (resource(engine, source), resource(engine, target)) == before


def test_unmerge_restores_both_records_as_they_were(engine: Engine) -> None:
    source, target, _pnr = pair(engine)
    before = (resource(engine, source), resource(engine, target))
    run_write(engine, lambda uow: merges.merge(uow, request(source, target), FULL, TODAY))
    run_write(engine, lambda uow: merges.unmerge(uow, request(source, target), FULL, TODAY))
    after = (resource(engine, source), resource(engine, target))
    without_meta = [{k: v for k, v in r.items() if k != "meta"} for r in (*before, *after)]
    assert without_meta[:2] == without_meta[2:]


def test_a_preview_stores_nothing(engine: Engine) -> None:
    source, target, _pnr = pair(engine)
    outcome = run_write(engine, lambda uow: merges.merge(
        uow, request(source, target, preview=True), FULL, TODAY))
    assert outcome.provenance_id is None
    assert resource(engine, source).get("active", True) is True
    assert resource(engine, source)["meta"]["versionId"] == "1"

"""The Patient service on a real database (SQLite or the PostgreSQL of ``DATABASE_URL``),
without HTTP: what one unit of work stores, refuses and rolls back (issue 19).

The module has its own database; each test owns its records (fresh personnummer and
family names), so no test depends on another's data or order.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from app.adapters.db import make_engine
from app.adapters.unit_of_work import UnitOfWork
from app.domain.access import ANONYMOUS, Access
from app.domain.errors import Conflict, PreconditionFailed
from app.domain.search import parse_search
from app.services import patients
from app.services.transactions import run_read, run_write
from tests.support import PNR_SYSTEM, Database, make_pnr, migrate, patient

TODAY = date(2026, 12, 4)
FULL = Access(subject="service-test", see_protected=True)
LABEL = {"system": "http://hl7.se/fhir/ig/base/CodeSystem/SecurityLabel",
         "code": "sekretessmarkering"}


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    database = Database.fresh(Path(tmp_path_factory.mktemp("services")))
    migrate(database, "head")
    engine = make_engine(database.url)
    yield engine
    engine.dispose()
    database.dispose()


def create(engine: Engine, body: dict[str, Any]) -> str:
    result = run_write(engine, lambda uow: patients.create(uow, body, today=TODAY,
                                                           access=FULL))
    assert result.created
    return result.stored.id


def current(engine: Engine, patient_id: str) -> patients.StoredPatient:
    return run_read(engine, lambda uow: patients.read(uow, patient_id))


def by_identifier(engine: Engine, pnr: str) -> list[str]:
    query = parse_search([("identifier", f"{PNR_SYSTEM}|{pnr}")], default_count=10,
                         max_count=10)
    page = run_read(engine, lambda uow: patients.search(uow, query, FULL, TODAY))
    return [stored.id for stored in page.matches]


def test_a_created_patient_is_stored_as_version_one_and_found_by_its_identifier(
        engine: Engine) -> None:
    pnr = make_pnr()
    patient_id = create(engine, patient(pnr=pnr))
    stored = current(engine, patient_id)
    assert (stored.version_id, stored.deleted, stored.protected) == (1, False, False)
    assert stored.load()["identifier"] == [{"system": PNR_SYSTEM, "value": pnr}]
    assert by_identifier(engine, pnr) == [patient_id]


def test_a_second_active_holder_of_an_identifier_is_refused_and_nothing_is_stored(
        engine: Engine) -> None:
    pnr, family = make_pnr(), "Dubblettsson"
    first = create(engine, patient(pnr=pnr))
    with pytest.raises(Conflict, match=first):
        create(engine, patient(family, pnr=pnr))
    assert by_identifier(engine, pnr) == [first]


def test_a_failing_unit_of_work_leaves_nothing_behind(engine: Engine) -> None:
    pnr = make_pnr()

    def create_then_fail(uow: UnitOfWork) -> None:
        patients.create(uow, patient(pnr=pnr), today=TODAY, access=FULL)
        raise RuntimeError("the caller fails after the write")

    with pytest.raises(RuntimeError):
        run_write(engine, create_then_fail)
    assert by_identifier(engine, pnr) == []


def test_an_update_against_a_stale_version_is_refused(engine: Engine) -> None:
    patient_id = create(engine, patient(pnr=make_pnr()))
    body = {**current(engine, patient_id).load(), "gender": "male"}
    run_write(engine, lambda uow: patients.update(uow, patient_id, body, if_match='W/"1"',
                                                  access=FULL, today=TODAY))
    with pytest.raises(PreconditionFailed):
        run_write(engine, lambda uow: patients.update(uow, patient_id, body, if_match='W/"1"',
                                                      access=FULL, today=TODAY))
    assert current(engine, patient_id).version_id == 2


def test_seealso_is_mirrored_and_protection_spreads_to_the_linked_record_in_one_write(
        engine: Engine) -> None:
    pnr = make_pnr()
    protected_id = create(engine, patient("Skyddad", pnr=pnr, meta={"security": [LABEL]}))
    other_id = create(engine, patient("Skyddad", given="Testa"))
    assert current(engine, protected_id).protected
    assert not current(engine, other_id).protected

    linked = {**current(engine, other_id).load(),
              "link": [{"other": {"reference": f"Patient/{protected_id}"}, "type": "seealso"}]}
    run_write(engine, lambda uow: patients.update(uow, other_id, linked, if_match=None,
                                                  access=FULL, today=TODAY))

    mirrored = current(engine, protected_id)
    assert mirrored.version_id == 2  # the reverse link is a new version of the other record
    assert mirrored.load()["link"] == [{"other": {"reference": f"Patient/{other_id}"},
                                        "type": "seealso"}]
    assert current(engine, other_id).protected  # linked to a protected person

    unlabelled = {key: value for key, value in mirrored.load().items() if key != "meta"}
    run_write(engine, lambda uow: patients.update(uow, protected_id, unlabelled, if_match=None,
                                                  access=FULL, today=TODAY))
    assert not current(engine, protected_id).protected
    assert not current(engine, other_id).protected  # the group's last label went


def test_writing_back_a_masked_record_keeps_what_was_withheld(engine: Engine) -> None:
    address = [{"line": ["Hemliga vägen 1"], "postalCode": "11122", "city": "Stockholm"}]
    patient_id = create(engine, patient(pnr=make_pnr(), meta={"security": [LABEL]},
                                        address=address))
    masked = {key: value for key, value in current(engine, patient_id).load().items()
              if key != "address"}  # what a caller without the right saw and sends back
    masked["gender"] = "male"
    run_write(engine, lambda uow: patients.update(uow, patient_id, masked, if_match=None,
                                                  access=ANONYMOUS, today=TODAY))
    stored = current(engine, patient_id).load()
    assert stored["gender"] == "male"
    assert stored["address"] == address

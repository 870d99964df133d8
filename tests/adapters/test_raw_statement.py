"""RawStatement returns what SQLAlchemy itself returns for the same statement, on SQLite and
PostgreSQL: the same rows with the same Python types (datetimes, booleans, bytes), with bound
datetimes converted the same way, and statements it cannot run raw go through SQLAlchemy."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import bindparam, func, select

from app.adapters.db import make_engine
from app.adapters.raw_statement import RawStatement
from app.adapters.tables import patient
from app.adapters.unit_of_work import UnitOfWork
from app.services.transactions import run_write
from tests.support import make_pnr
from tests.support import patient as patient_body

COLUMNS = (patient.c.id, patient.c.version_id, patient.c.last_updated, patient.c.deleted,
           patient.c.protected, patient.c.resource, patient.c.birth_lo)


def test_rows_equal_sqlalchemy_rows_with_the_same_types(database, base, http):
    created = [http.post(f"{base}/Patient", json=patient_body(pnr=make_pnr())).json()
               for _ in range(3)]
    ids = sorted(p["id"] for p in created)
    since = datetime.now(UTC) - timedelta(hours=1)
    statements = [
        (select(*COLUMNS).where(patient.c.id == bindparam("pid")), {"pid": ids[0]}),
        (select(*COLUMNS).where(patient.c.last_updated >= bindparam("since"),
                                patient.c.id.in_([bindparam("a"), bindparam("b")]))
         .order_by(patient.c.id).limit(bindparam("n")), {"since": since, "a": ids[0],
                                                          "b": ids[1], "n": 5}),
        (select(func.count()).select_from(patient).where(patient.c.id >= bindparam("low")),
         {"low": ids[0]}),
        (select(*COLUMNS).where(patient.c.id.in_(bindparam("ids", expanding=True)))
         .order_by(patient.c.id), {"ids": ids}),  # expanding: run through SQLAlchemy
        (select(*COLUMNS).where(patient.c.id == bindparam("pid")).limit(1),  # a fixed LIMIT
         {"pid": ids[2]}),
    ]
    engine = make_engine(database.url)
    try:
        with engine.connect() as conn:
            for statement, params in statements:
                expected = [tuple(row) for row in conn.execute(statement, params).all()]
                got = list(RawStatement(statement).rows(conn, params))
                assert got == expected, statement
                assert [[type(v) for v in row] for row in got] == [
                    [type(v) for v in row] for row in expected]
                assert got, statement  # every statement here finds something
    finally:
        engine.dispose()
    assert isinstance(expected[0][2], datetime)


def test_writers_that_deadlock_on_raw_row_locks_are_retried(database, base, http):
    """Two write transactions lock the same two Patients (SELECT … FOR UPDATE on the raw
    cursor) in opposite orders: PostgreSQL kills one with a deadlock (40P01), which must reach
    run_write as SQLAlchemy's error with its SQLSTATE, so that the loser runs again and both
    succeed. (SQLite writers never hold locks at the same time: BEGIN IMMEDIATE.)"""
    if not database.is_postgres:
        pytest.skip("SQLite writers take the database lock one at a time")
    first, second = (http.post(f"{base}/Patient", json=patient_body(pnr=make_pnr())).json()["id"]
                     for _ in range(2))
    engine = make_engine(database.url)
    both_hold_one = threading.Barrier(2)
    attempts: list[str] = []

    def lock_in_order(order: tuple[str, str]) -> str:
        def use_case(uow: UnitOfWork) -> str:
            attempts.append(order[0])
            uow.patients.get(order[0], for_update=True)
            if attempts.count(order[0]) == 1:  # only the first attempt waits for the other
                both_hold_one.wait(timeout=30)
            uow.patients.get(order[1], for_update=True)
            return order[0]
        return run_write(engine, use_case)

    try:
        with ThreadPoolExecutor(2) as pool:
            done = list(pool.map(lock_in_order, [(first, second), (second, first)], timeout=60))
    finally:
        engine.dispose()
    assert done == [first, second]
    assert len(attempts) == 3  # the deadlock's loser ran twice

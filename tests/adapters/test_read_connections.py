"""Read connections kept per thread (app.adapters.read_connections), on SQLite and
PostgreSQL: reused between read units of work, never stale, never left in a transaction,
replaced after a failure, given back when the thread ends, and never making threads wait."""

from __future__ import annotations

import gc
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from app.adapters import read_connections
from app.adapters.db import make_engine
from app.adapters.unit_of_work import UnitOfWork
from tests.support import make_pnr
from tests.support import patient as patient_body


@pytest.fixture()
def engine(database, server):  # the server has migrated the database
    engine = make_engine(database.url)
    yield engine
    engine.dispose()


def _dbapi(uow: UnitOfWork) -> object:
    return uow.connection.connection.dbapi_connection


def test_a_thread_reuses_its_read_connection_and_writes_use_another(engine) -> None:
    assert read_connections.can_keep(engine)
    with UnitOfWork(engine) as first:
        kept, kept_dbapi = first.connection, _dbapi(first)
    with UnitOfWork(engine) as second:
        assert second.connection is kept
        kept = kept_dbapi
    with UnitOfWork(engine, write=True) as write:
        assert _dbapi(write) is not kept
    other: list[object] = []
    worker = threading.Thread(target=lambda: other.append(_read_connection_of_this_thread(engine)))
    worker.start()
    worker.join()
    assert other[0] is not kept


def _read_connection_of_this_thread(engine) -> object:
    with UnitOfWork(engine) as uow:
        return _dbapi(uow)


def test_reads_see_every_commit_and_hold_no_transaction(engine, base, http) -> None:
    created = http.post(f"{base}/Patient", json=patient_body(pnr=make_pnr())).json()
    pid = created["id"]
    with UnitOfWork(engine) as uow:
        assert uow.patients.get(pid).version_id == 1
        uow.connection.execute(text("SELECT count(*) FROM patient")).scalar()  # SQLAlchemy
    with UnitOfWork(engine) as uow:
        assert not uow.connection.in_transaction()
    updated = http.put(f"{base}/Patient/{pid}", json={**created, "gender": "unknown"})
    assert updated.status_code == 200
    with UnitOfWork(engine) as uow:  # the same kept connection sees the new version
        assert uow.patients.get(pid).version_id == 2
    if engine.dialect.name == "sqlite":  # no reader holds a snapshot: the WAL can be emptied
        with engine.connect() as conn:
            busy, _, _ = conn.execute(text("PRAGMA wal_checkpoint(TRUNCATE)")).one()
            assert busy == 0


def test_a_failed_statement_keeps_the_connection_and_leaks_nothing(engine) -> None:
    with UnitOfWork(engine) as uow:
        kept = uow.connection
    checked_out = engine.pool.checkedout()
    for _ in range(20):
        with pytest.raises(DBAPIError), UnitOfWork(engine) as uow:
            uow.connection.execute(text("SELECT * FROM no_such_table"))
    with UnitOfWork(engine) as uow:
        assert uow.connection is kept
        assert uow.connection.execute(text("SELECT 1")).scalar() == 1
    assert engine.pool.checkedout() == checked_out


def test_a_broken_or_old_connection_is_replaced(engine, monkeypatch) -> None:
    with UnitOfWork(engine) as uow:
        broken = uow.connection
        broken.invalidate()  # what SQLAlchemy does when the database dropped it
    with UnitOfWork(engine) as uow:
        old = uow.connection
        assert old is not broken
    monkeypatch.setattr(read_connections, "RECYCLE_SECONDS", 0.0)
    with UnitOfWork(engine) as uow:
        assert uow.connection is not old
        assert uow.connection.execute(text("SELECT 1")).scalar() == 1
    assert old.closed


def test_an_ended_thread_gives_its_connection_back(engine) -> None:
    before = engine.pool.checkedout()
    worker = threading.Thread(target=_read_connection_of_this_thread, args=(engine,))
    worker.start()
    worker.join()
    del worker
    gc.collect()
    assert engine.pool.checkedout() == before


def test_many_threads_reading_and_writing_never_wait_for_the_pool(engine, base, http) -> None:
    pid = http.post(f"{base}/Patient", json=patient_body(pnr=make_pnr())).json()["id"]
    threads = 24  # more than the pool's size and its old overflow limit together
    barrier = threading.Barrier(threads)

    def work(_: int) -> int:
        with UnitOfWork(engine) as uow:  # every thread keeps a read connection ...
            uow.patients.get(pid)
            barrier.wait(timeout=30)
        with UnitOfWork(engine, write=True) as uow:  # ... while writes check out more
            uow.connection.execute(text("SELECT 1"))
        with UnitOfWork(engine) as uow:
            return uow.patients.get(pid).version_id

    with ThreadPoolExecutor(threads) as pool:
        assert set(pool.map(work, range(threads), timeout=60)) == {1}

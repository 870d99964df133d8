"""Running a use case in one write transaction, retrying when a concurrent writer won.

A unique-index violation (an identifier or id taken by a transaction that committed in
between) or a PostgreSQL serialisation failure/deadlock means the world changed under the
transaction: it is rolled back and the whole use case runs again, so that the second run
sees the winner (conditional create then answers 200, plain create 409).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

from app.adapters.replica import ReadRouting
from app.adapters.unit_of_work import UnitOfWork
from app.domain.errors import Conflict

T = TypeVar("T")
ATTEMPTS = 5
RETRYABLE_SQLSTATES = {"40001", "40P01"}
log = logging.getLogger(__name__)


def run_write(engine: Engine, use_case: Callable[[UnitOfWork], T]) -> T:
    """Run ``use_case`` in a write unit of work and commit; retry on lost races."""
    for attempt in range(1, ATTEMPTS + 1):
        try:
            with UnitOfWork(engine, write=True) as uow:
                result = use_case(uow)
                uow.commit()
                return result
        except IntegrityError:
            log.info("write lost a race (integrity), attempt %d", attempt)
        except (OperationalError, DBAPIError) as err:
            if not (_retryable(err) or err.connection_invalidated):
                raise
            log.info("write lost a race (serialisation), attempt %d", attempt)
    raise Conflict("The write kept colliding with concurrent writes; retry the request")


def run_read(engine: Engine, use_case: Callable[[UnitOfWork], T]) -> T:
    """Run ``use_case`` in a read-only unit of work; once more on a dropped connection
    (pooled connections are not pinged before use)."""
    try:
        with UnitOfWork(engine) as uow:
            return use_case(uow)
    except DBAPIError as err:
        if not err.connection_invalidated:
            raise
        log.info("read found a dropped database connection; retrying once")
    with UnitOfWork(engine) as uow:
        return use_case(uow)


def run_routed_read(routing: ReadRouting, use_case: Callable[[UnitOfWork], T]) -> T:
    """:func:`run_read` on the read standby when it is current
    (:mod:`app.adapters.replica`), else on the primary; a standby that fails mid-read
    hands the read to the primary."""
    engine = routing.engine_for_read()
    if engine is routing.primary:
        return run_read(engine, use_case)
    try:
        return run_read(engine, use_case)
    except DBAPIError as err:
        if not (err.connection_invalidated or isinstance(err, OperationalError)):
            raise
        routing.standby_failed()
    return run_read(routing.primary, use_case)


def _retryable(err: DBAPIError) -> bool:
    sqlstate = getattr(getattr(err, "orig", None), "sqlstate", None)
    if sqlstate in RETRYABLE_SQLSTATES:
        return True
    return "database is locked" in str(getattr(err, "orig", ""))

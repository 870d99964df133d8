"""The unit of work: one database transaction, explicitly committed by the service.

Subscription events (the outbox, app.services.subscription_events) are collected while the
use case runs and written by :meth:`UnitOfWork.commit` just before the commit, in the same
transaction: all at the end, so that the subscription rows they lock are locked in one
order by every writer and held only for the commit.
"""

from __future__ import annotations

from types import TracebackType

from sqlalchemy import Connection, Engine

from app.adapters import read_connections
from app.adapters.audit_repository import AuditRepository
from app.adapters.export_repository import ExportRepository
from app.adapters.load_progress_repository import LoadProgressRepository
from app.adapters.patient_repository import PatientRepository
from app.adapters.reserve_id_repository import ReserveIdRepository
from app.adapters.subscription_repository import SubscriptionRepository
from app.domain.fhirdate import utc_now
from app.domain.subscriptions import PatientEvent


class UnitOfWork:
    """A transaction with the repositories bound to it. Rolls back unless committed."""

    def __init__(self, engine: Engine, *, write: bool = False) -> None:
        self.engine = engine
        self.write = write
        self._conn: Connection | None = None
        self._kept = False  # a read connection kept by this thread (app.adapters.read_connections)
        #: Subscription events of this transaction, written by :meth:`commit`.
        self.events: list[PatientEvent] = []

    @classmethod
    def joining(cls, conn: Connection) -> UnitOfWork:
        """A unit of work inside a transaction that the caller owns, commits and closes (a
        data migration on Alembic's connection): used without a with-block or commit."""
        uow = cls(conn.engine, write=True)
        uow._bind(conn)
        return uow

    def __enter__(self) -> UnitOfWork:
        self._kept = not self.write and read_connections.can_keep(self.engine)
        if self.write:
            conn = self.engine.connect()
            conn.begin()
            if conn.dialect.name == "sqlite":
                # Writers take the write lock up front: a deferred transaction that reads and
                # then writes can fail with SQLITE_BUSY instead of waiting when another
                # process writes. (pysqlite runs with isolation_level=None, so SQLAlchemy's
                # begin above issued nothing itself.)
                conn.exec_driver_sql("BEGIN IMMEDIATE")
        elif self._kept:
            conn = read_connections.acquire(self.engine)
        else:
            conn = read_connections.connect(self.engine)
        # A read begins nothing itself: statements run through SQLAlchemy begin on their
        # own (and are rolled back on exit); the raw reads (app.adapters.raw_statement)
        # need no transaction object at all.
        self._bind(conn)
        return self

    def _bind(self, conn: Connection) -> None:
        self._conn = conn
        self.patients = PatientRepository(conn)
        self.audit = AuditRepository(conn)
        self.reserve_ids = ReserveIdRepository(conn)
        self.load_progress = LoadProgressRepository(conn)
        self.subscriptions = SubscriptionRepository(conn)
        self.exports = ExportRepository(conn)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        conn = self._conn
        assert conn is not None
        self._conn = None
        if self._kept:
            read_connections.release(conn)
            return
        try:
            if conn.in_transaction():
                conn.rollback()
        finally:
            conn.close()

    @property
    def connection(self) -> Connection:
        """The connection of this transaction (for repositories of later features)."""
        assert self._conn is not None, "unit of work used outside its with-block"
        return self._conn

    def commit(self) -> None:
        """Commit everything done in this unit of work, with its subscription events."""
        if self.events:
            self.subscriptions.append_events(self.events, utc_now())
            self.events = []
        self.connection.commit()

    def lock(self, key: str) -> None:
        """Serialise writers on ``key`` until commit (PostgreSQL advisory lock).

        SQLite needs nothing: every write transaction already holds the database write lock.
        """
        if self.connection.dialect.name == "postgresql":
            self.connection.exec_driver_sql(
                "SELECT pg_advisory_xact_lock(hashtextextended(%(k)s, 0))", {"k": key}
            )

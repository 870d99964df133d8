"""Readiness: can this server serve requests? (``GET /readyz``, app.http.health_routes)

Ready means the database answers and its schema is at the head revision of
``app/migrations`` — a server started against a database that was never upgraded, or that
an older or newer release migrated, would fail on its first write instead.

On PostgreSQL readiness also reports the search indexes a first bulk load drops and builds
at its end (:data:`app.adapters.patient_copy.DEFERRED_INDEXES`) when they are missing — while
such a load runs, or after one was stopped before its end. The server is still ready then
(searches answer correctly, only slowly: they scan whole tables), so this is a warning, not
a reason to take the server out of a load balancer. README, "Health probes".
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from app.adapters import migrate
from app.adapters.patient_copy import missing_search_indexes
from app.services.transactions import run_read

log = logging.getLogger(__name__)
UPGRADE = "run `python -m app db upgrade`"
#: What a missing search index means and what builds it (app/cli.py: ``load`` resumes a
#: stopped job and builds whatever is missing at its end; ``db upgrade`` builds it too).
MISSING_INDEXES = (
    "Search indexes are missing ({count}): a first bulk load drops them and builds them at "
    "its end, so one is running or was stopped before its end. Searches, updates and deletes "
    "answer correctly but scan whole tables. A stopped load: run the same "
    "`python -m app load FILE` again (it resumes and builds them at its end), or run "
    "`python -m app db upgrade` (builds them; writes to the Patient tables wait meanwhile)")

#: The last search-index warning logged, per database (logged again only when it changes).
_logged: dict[str, str | None] = {}
_logged_lock = threading.Lock()


@dataclass(frozen=True)
class Readiness:
    """The answer: what was found, and why the server is not ready (None when it is)."""

    #: Whether the database answered.
    reachable: bool
    #: The schema revision(s) found in the database (empty: no schema).
    revisions: tuple[str, ...] = ()
    #: What is wrong, for operators; None when ready.
    problem: str | None = None
    #: The search indexes and foreign keys a first bulk load defers that the database lacks;
    #: None when not checked (SQLite defers nothing; a schema not at the head revision).
    missing_indexes: tuple[str, ...] | None = None

    @property
    def ready(self) -> bool:
        return self.problem is None

    @property
    def warning(self) -> str | None:
        """What operators should know although the server is ready; None when nothing."""
        if not self.missing_indexes:
            return None
        return MISSING_INDEXES.format(count=len(self.missing_indexes))


def readiness(engine: Engine) -> Readiness:
    """Whether the database answers and its schema is the one this code needs."""
    try:
        found = run_read(engine, lambda uow: migrate.schema_revisions(uow.connection))
    except SQLAlchemyError as error:
        # The driver's message (host, port, user) goes to the operators' log only; a
        # warning, not an error: the server itself is fine, and answers 503 until it is.
        log.warning("not ready: the database cannot be reached: %s", error)
        return Readiness(reachable=False, problem="The database cannot be reached "
                                                  f"({type(error).__name__})")
    problem = _schema_problem(found)
    if problem or engine.dialect.name != "postgresql":
        return Readiness(reachable=True, revisions=found, problem=problem)
    return Readiness(reachable=True, revisions=found, missing_indexes=_missing_indexes(engine))


def _missing_indexes(engine: Engine) -> tuple[str, ...] | None:
    """The deferred search indexes the database lacks (one catalog query), None when that
    could not be read: never an exception, the schema check has passed and decides."""
    try:
        missing = tuple(run_read(engine, lambda uow: missing_search_indexes(uow.connection)))
    except SQLAlchemyError as error:
        _log_once(engine, f"the search indexes could not be checked: {error}")
        return None
    _log_once(engine, f"{MISSING_INDEXES.format(count=len(missing))}: {', '.join(missing)}"
              if missing else None)
    return missing


def _log_once(engine: Engine, warning: str | None) -> None:
    """Log ``warning`` when it differs from the last one logged for this database (readiness
    is polled every few seconds: one line per change, not per probe)."""
    key = str(engine.url)  # the password masked
    with _logged_lock:
        before = _logged.get(key)
        if warning == before:
            return
        _logged[key] = warning
    if warning:
        log.warning("ready, but: %s", warning)
    elif before:
        log.info("ready: the search indexes are all present again")


def _schema_problem(found: tuple[str, ...]) -> str | None:
    needed = migrate.head_revisions()
    if found == needed:
        return None
    if not found:
        return f"The database has no schema: {UPGRADE}"
    unknown = [revision for revision in found if not migrate.known_revision(revision)]
    if unknown:
        return (f"The database schema is at revision {', '.join(unknown)}, which this server "
                "does not know (migrated by a newer release?)")
    return (f"The database schema is at revision {', '.join(found)}; this server needs "
            f"{', '.join(needed)}: {UPGRADE}")

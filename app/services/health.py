"""Readiness: can this server serve requests? (``GET /readyz``, app.http.health_routes)

Ready means the database answers and its schema is at the head revision of
``app/migrations`` — a server started against a database that was never upgraded, or that
an older or newer release migrated, would fail on its first write instead.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from app.adapters import migrate
from app.services.transactions import run_read

log = logging.getLogger(__name__)
UPGRADE = "run `python -m app db upgrade`"


@dataclass(frozen=True)
class Readiness:
    """The answer: what was found, and why the server is not ready (None when it is)."""

    #: Whether the database answered.
    reachable: bool
    #: The schema revision(s) found in the database (empty: no schema).
    revisions: tuple[str, ...] = ()
    #: What is wrong, for operators; None when ready.
    problem: str | None = None

    @property
    def ready(self) -> bool:
        return self.problem is None


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
    return Readiness(reachable=True, revisions=found, problem=_schema_problem(found))


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

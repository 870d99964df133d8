"""AuditEvents of IHE queries (ITI-78 PDQm query, ITI-83 PIXm query, ITI-119 PDQm match),
one per answered query in a write transaction of its own, when ``QUERY_AUDIT=on`` (README
"IHE PIXm and PDQm"); the shape is :func:`app.services.audit_events.record_transaction`'s.
ITI-104's audit is written inside the feed's own transaction (``app.services.identity_feed``);
a refused ITI-104 message's, a REST request or a Bundle entry, after its rollback
(:func:`audit_refused`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlencode

from flask import current_app, g, request

from app.adapters.unit_of_work import UnitOfWork
from app.domain.access import ANONYMOUS
from app.http.fhir_io import base_url
from app.http.interactions import Interaction
from app.services import audit_events, identity_feed
from app.services.transactions import run_write

log = logging.getLogger(__name__)


def network() -> audit_events.Network:
    """The client's address and this server's base URL."""
    return audit_events.Network(request.remote_addr, base_url())


def query_text() -> str:
    """The query as the client sent it: the URL (a form-encoded POST search's parameters
    after ``?``), or the body of another POST (a Parameters, a Patient)."""
    url = base_url().rsplit("/fhir", 1)[0] + request.full_path.rstrip("?")
    if request.method != "POST":
        return url
    if request.mimetype == "application/x-www-form-urlencoded":
        form = urlencode(list(request.form.items(multi=True)))
        return f"{url}{'&' if '?' in url else '?'}{form}"
    return request.get_data(cache=True).decode("utf-8", "replace")


def audit_query(transaction: str, interaction: str,
                patient_identifier: dict[str, Any] | None = None) -> None:
    """Record one answered IHE query (nothing when QUERY_AUDIT is off)."""
    if not current_app.config["SETTINGS"].query_audit:
        return
    tx = audit_events.IheTransaction(transaction, interaction, "E", network(),
                                     patient_identifier=patient_identifier, query=query_text())
    access = g.get("access", ANONYMOUS)
    run_write(current_app.extensions["sweid"].engine,
              lambda uow: audit_events.record_transaction(uow, access, tx))


def audit_refused(messages: Iterable[tuple[Interaction, str]]) -> None:
    """The AuditEvents of refused ITI-104 messages — of the ``(interaction, criteria)`` pairs
    those with a feed's interaction and ITI-104's criteria, the others get none — in one
    write of their own, after the refused write rolled back with its audits (a request's
    one message, every entry of a refused transaction Bundle: MAX_BUNDLE_ENTRIES at most);
    a failure to record them is logged and never replaces the answer the refusal gets."""
    try:
        feeds = [(interaction.code, criteria) for interaction, criteria in messages
                 if interaction.feed and identity_feed.feed_identifier(criteria) is not None]
        if not feeds:
            return
        access, net = g.get("access", ANONYMOUS), network()

        def record(uow: UnitOfWork) -> None:
            for code, criteria in feeds:
                identity_feed.audit_refused(uow, access, criteria, net, code)

        run_write(current_app.extensions["sweid"].engine, record)
    except Exception:
        log.exception("ITI-104: the AuditEvent of a refused message could not be recorded")

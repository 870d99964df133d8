"""The real application with the refusal audit broken: recording a refused ITI-104 message's
AuditEvent raises, as a database that refuses the write would. The refusals must keep
their own answers — never a 500 — and the failure must be logged
(``app.http.ihe_audit.audit_refused``)."""

from __future__ import annotations

from typing import Any

from app.http import create_app
from app.services import identity_feed


def _failing_audit(*_: Any, **__: Any) -> None:
    raise RuntimeError("the audit store refused the write")


identity_feed.audit_refused = _failing_audit
app = create_app()

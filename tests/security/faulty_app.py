"""The real application with one bug planted, for the log test: saving a Patient whose
family name starts with ``Fault`` runs a statement against a table that does not exist with
the resource as its parameter — the database error quotes it — and the error is re-raised
as one whose own message quotes the resource, as a careless repository would. The server
must answer 500 with fixed text and log neither message."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import text

from app.adapters.patient_repository import PatientRepository
from app.domain.patient_index import PatientIndex
from app.http import create_app

FAULT = "Fault"
_save = PatientRepository.save


def _faulty_save(self: PatientRepository, patient_id: str, version_id: int, resource: bytes,
                 index: PatientIndex, now: datetime, method: str) -> None:
    stored: dict[str, Any] = orjson.loads(resource)
    if any(str(name.get("family", "")).startswith(FAULT) for name in stored.get("name", [])):
        try:
            self.conn.execute(text("SELECT resource FROM no_such_table WHERE resource = :r"),
                              {"r": resource.decode()})
        except Exception as error:
            raise RuntimeError(f"could not save {stored}") from error
    _save(self, patient_id, version_id, resource, index, now, method)


PatientRepository.save = _faulty_save  # type: ignore[method-assign]
app = create_app()

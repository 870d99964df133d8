"""IHE PDQm search parameters on records stored before them (issue 20)

Revision ID: 0008
Revises: 0007

``address-country``, ``address-state`` and ``mothersMaidenName`` (the standard extension
patient-mothersMaidenName) are indexed from this release on, as rows of ``patient_string``
like every other string parameter (``app.domain.patient_index``). This revision adds those
rows for the current versions already stored, so the new searches find them too. No schema
change; downgrade removes the rows.
"""

from __future__ import annotations

import orjson
import sqlalchemy as sa
from alembic import op

from app.adapters.tables import patient, patient_string
from app.domain.patient_index import index_patient

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None
NEW_PARAMETERS = ("address-country", "address-state", "mothersMaidenName")
BATCH = 1000


def upgrade() -> None:
    bind = op.get_bind()
    rows = bind.execute(sa.select(patient.c.id, patient.c.resource).where(
        patient.c.deleted.is_(False))).yield_per(BATCH)
    pending: list[dict[str, str]] = []
    for patient_id, resource in rows:
        text = bytes(resource)
        if b"mothersMaidenName" not in text and b'"country"' not in text \
                and b'"state"' not in text:
            continue
        for param, folded, exact in index_patient(orjson.loads(text)).strings:
            if param in NEW_PARAMETERS:
                pending.append({"patient_id": patient_id, "param": param, "folded": folded,
                                "exact": exact})
    for start in range(0, len(pending), BATCH):
        bind.execute(patient_string.insert(), pending[start:start + BATCH])


def downgrade() -> None:
    op.get_bind().execute(patient_string.delete().where(
        patient_string.c.param.in_(NEW_PARAMETERS)))

"""Protection decided again for records stored before the rule failed closed (issue 14)

Revision ID: 0004
Revises: 0003

Until issue 14 a patient type "oklar" written as valueCodeableConcept or valueString, in
capitals or with another system was stored with the protected flag off — and so were the
records linked to it — so its withheld data was shown to every caller and matched by
searches on withheld fields. This revision runs today's rule
(``app.domain.protection.is_protected``, through
``app.services.patients.reassess_protection``) over every stored record and version flagged
unprotected, and names the records it protects: their patient-type extension should be
corrected (an update refuses the old shape with 422). No schema change; downgrade keeps the
flags (protection is never lifted by a migration).
"""

from __future__ import annotations

import logging

from alembic import op

from app.adapters.unit_of_work import UnitOfWork
from app.services.patients import reassess_protection

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None
SHOWN = 20


def upgrade() -> None:
    protected = reassess_protection(UnitOfWork.joining(op.get_bind()))
    if protected:
        logging.getLogger("alembic.runtime.migration").warning(
            "%d Patient(s) stored unprotected are protected now, with the records linked to "
            "them (a patient type or security label in a shape the protection rule cannot "
            "read as unprotected): %s%s",
            len(protected), ", ".join(f"Patient/{pid}" for pid in protected[:SHOWN]),
            " …" if len(protected) > SHOWN else "")


def downgrade() -> None:
    pass

"""FHIR operations: one module per operation, each exporting ``blp`` (a flask-smorest
Blueprint) and ``DEFINITION`` (its OperationDefinition name in ``fhir_profiles/``).

``create_app`` registers every module listed in :data:`MODULES` and the
CapabilityStatement lists their definitions; adding an operation is adding its module here.
"""

from __future__ import annotations

MODULES: tuple[str, ...] = ("generate_reserve_id", "match", "merge", "unmerge", "ihe_pix")

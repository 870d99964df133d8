"""Swedish patient identity kinds: one module per kind, and the registry over them.

Pure standard library (no Flask/SQL). Every kind module satisfies
:class:`app.identity.base.IdentityKind`; :mod:`app.identity.registry` maps FHIR
``identifier.system`` URIs to them. See docs/domain.md §2.
"""

from __future__ import annotations

from app.identity.base import Description, IdentityKind, Sex
from app.identity.errors import (
    InvalidChecksum,
    InvalidComponent,
    InvalidFormat,
    InvalidLength,
    ValidationError,
)
from app.identity.registry import (
    KINDS,
    NEVER_MAIN_PRIORITY,
    OPAQUE_PRIORITY,
    candidate_values,
    canonical_system,
    is_main_identity_candidate,
    kind_for_code,
    kind_for_system,
    normalise_identifier,
    priority,
)

__all__ = [
    "KINDS",
    "NEVER_MAIN_PRIORITY",
    "OPAQUE_PRIORITY",
    "Description",
    "IdentityKind",
    "InvalidChecksum",
    "InvalidComponent",
    "InvalidFormat",
    "InvalidLength",
    "Sex",
    "ValidationError",
    "candidate_values",
    "canonical_system",
    "is_main_identity_candidate",
    "kind_for_code",
    "kind_for_system",
    "normalise_identifier",
    "priority",
]

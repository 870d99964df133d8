"""Who is a protected person (domain.md §3.6): the one decision, failing closed.

:func:`is_protected` decides from a Patient's own content; everything else follows from it.
The write path stores its answer as the ``protected`` flag of each version, joined with the
flags of the records linked to it (``app.services.patients.propagate_protection``), and
masking (``app.masking``), searches on withheld fields and ``$match`` read that flag.

It fails closed: whatever it cannot read as "not protected" counts as protected, so a shape
nobody foresaw — a patient type written as valueString, a code in capitals, a label without
a system — can never leave a protected person's data readable (issue 14). Writes are held
to the extension definitions (``app.domain.extensions``), so such shapes come only from data
stored before that check existed; migration 0004 decided those records again.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from app.domain.extensions import PATIENT_TYPE, Placed, extension_problem, placed_extensions

#: HL7 Sweden's protection labels (``sekretessmarkering``, ``skyddadFolkbokforing``) come
#: from this CodeSystem; every label of it protects — the two known codes and, failing
#: closed, any other.
SECURITY_LABEL_SYSTEM = "http://hl7.se/fhir/ig/base/CodeSystem/SecurityLabel"
#: The patient types that do not protect. Every other value of the patient-type extension
#: protects: "oklar" by definition, and a code added to the CodeSystem later until it is
#: listed here.
UNPROTECTED_PATIENT_TYPES = frozenset({"folkbokford", "samordningsnummer", "reservnummer"})


def is_protected(resource: Any) -> bool:
    """Whether a Patient is protected by its own content: a security label of
    :data:`SECURITY_LABEL_SYSTEM` or one it cannot read (not a Coding with a string system
    and code), or a patient-type extension anywhere in it that is not exactly a well-formed
    Coding of a type in :data:`UNPROTECTED_PATIENT_TYPES` on the Patient itself. Anything
    that is not a JSON object is protected too. Protection through links is the write path's
    (``app.services.patients.propagate_protection``)."""
    if not isinstance(resource, dict):
        return True
    return _labels_protect(resource.get("meta")) or any(
        placed.url == PATIENT_TYPE.url and not _unprotected_type(placed)
        for placed in placed_extensions(resource))


def group_is_protected(resources: Iterable[Any], complete: bool) -> bool:
    """Whether a group of records connected by ``Patient.link`` (in either direction, at any
    depth, deleted records included) is protected: when any record of it is
    (:func:`is_protected`; ``None`` stands for a version without content). A group that was
    not walked to its end (``complete`` False: larger than the walk's limit) is protected,
    failing closed."""
    return not complete or any(resource is not None and is_protected(resource)
                               for resource in resources)


def _labels_protect(meta: Any) -> bool:
    if meta is None:
        return False
    labels = meta.get("security", []) if isinstance(meta, dict) else None
    if not isinstance(labels, list):
        return True
    return any(not _readable(label) or label["system"] == SECURITY_LABEL_SYSTEM
               for label in labels)


def _readable(label: Any) -> bool:
    return (isinstance(label, dict) and isinstance(label.get("system"), str)
            and isinstance(label.get("code"), str))


def _unprotected_type(placed: Placed) -> bool:
    if extension_problem(placed) is not None:
        return False
    assert PATIENT_TYPE.value is not None
    return placed.extension[PATIENT_TYPE.value.key]["code"] in UNPROTECTED_PATIENT_TYPES

"""Reading the Patient id out of a reference string — the one rule every path uses.

``Patient.link.other.reference``, ``$merge``'s ``source-patient`` and the ``link`` search
parameter all name a Patient the same ways: ``Patient/<id>``, an absolute URL ending in
it, either with ``/_history/<version>``. One pattern serves them all, so the links a merge
rule follows are exactly the links the search index and the protection graph record.
"""

from __future__ import annotations

import re
from typing import Any

#: A FHIR id (and a versionId, which is an id too): 1–64 of ``[A-Za-z0-9\-.]``.
_ID = r"[A-Za-z0-9\-.]{1,64}"
_PATIENT_REFERENCE = re.compile(rf"(?:^|/)Patient/({_ID})(?:/_history/{_ID})?$")


def patient_reference_id(reference: Any) -> str | None:
    """The Patient id a reference names (``Patient/1``, ``http://x/fhir/Patient/1``, either
    with ``/_history/<version>``); None for anything else, a non-string included."""
    if not isinstance(reference, str):
        return None
    match = _PATIENT_REFERENCE.search(reference.strip())
    return match.group(1) if match else None


def link_target_id(link: Any) -> str | None:
    """The Patient id one ``Patient.link`` entry points at (its ``other.reference``)."""
    other = link.get("other") if isinstance(link, dict) else None
    return patient_reference_id(other.get("reference")) if isinstance(other, dict) else None

"""Test resources modelled on IHE PIXm's example sequence (Alissa/Alice Mohr), written here
after the examples of the IHE ITI PIXm IG 3.1.0 (https://profiles.ihe.net/ITI/PIXm/,
repository IHE/ITI.PIXm, ``input/examples/Patient-MohrAlissa-Red.json``,
``Patient-MohrAlice-Red.json``, ``Patient-MaidenAlice-Red.json``,
``Patient-MohrMaidenResolvedByMohrMalice-Red.json``, ``Patient-MohrAlice-Blue.json`` and
``ITI-104.md``'s messages). Each function takes the value so that a test may use fresh ones.
"""

from __future__ import annotations

import copy
import uuid
from typing import Any

#: The IHE Connectathon test domains the IG's examples use.
RED = "urn:oid:1.3.6.1.4.1.21367.13.20.1000"
GREEN = "urn:oid:1.3.6.1.4.1.21367.13.20.2000"
BLUE = "urn:oid:1.3.6.1.4.1.21367.13.20.3000"
FHIR_JSON = {"Content-Type": "application/fhir+json", "Accept": "application/fhir+json"}


def fresh(prefix: str) -> str:
    """A value no other test uses (``IHERED-`` + 8 hex digits)."""
    return f"{prefix}-{uuid.uuid4().hex[:8].upper()}"


def patient(system: str, value: str, given: str, *, active: bool = True,
            address: bool = False) -> dict[str, Any]:
    """A PIXm Patient of the IG's examples: MOHR, female, born 1958-01-30."""
    resource: dict[str, Any] = {
        "resourceType": "Patient",
        "identifier": [{"system": system, "value": value}],
        "active": active,
        "name": [{"family": "MOHR", "given": [given]}],
        "gender": "female",
        "birthDate": "1958-01-30",
    }
    if address:
        resource["address"] = [{"use": "home", "line": ["820 JORIE BLVD."],
                                "city": "OAK BROOK", "state": "IL", "postalCode": "60523"}]
    return resource


def resolved(system: str, subsumed: str, survivor: dict[str, Any]) -> dict[str, Any]:
    """The Resolve Duplicate Patient message: the subsumed record (Maiden Alice), inactive,
    ``replaced-by`` the survivor named by ``survivor`` (``{"identifier": …}`` as in the IG,
    or ``{"reference": "Patient/<id>"}``)."""
    resource = patient(system, subsumed, "MAIDEN", active=False)
    resource["link"] = [{"other": copy.deepcopy(survivor), "type": "replaced-by"}]
    return resource


def criteria(system: str, value: str) -> str:
    """The ITI-104 conditional criteria: ``identifier=<system>|<value>``."""
    return f"identifier={system}|{value}"

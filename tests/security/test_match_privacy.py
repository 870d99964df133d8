"""``$match`` never uses a protected person's withheld fields for a caller without
``protected-identity``: not to score (masking), and not to find candidates either — a
guessed phone number must not decide whether the protected record comes back (review L1).

The protected person here shares no blocking key with the query but the phone (another
given name and first letter, a birth date one digit off), while name and date alone would
still grade it probable: so only the phone key can bring it in, whatever the order of rows
in the index."""

from __future__ import annotations

import requests

from tests.security.conftest import FULL, MASKED, SECURITY_LABEL_SYSTEM, headers
from tests.support import patient, unique_name

PHONE = "0703334455"


def _match(sbase: str, scope: str, family: str, phone: str) -> list[str]:
    query = patient(family, given="Vera", birth="1998-03-04",
                    telecom=[{"system": "phone", "value": phone}])
    response = requests.post(f"{sbase}/Patient/$match", headers=headers(scope), timeout=30,
                             json={"resourceType": "Parameters", "parameter": [
                                 {"name": "resource", "resource": query},
                                 {"name": "count", "valueInteger": 100}]})
    assert response.status_code == 200, response.text
    return sorted(e["resource"]["id"] for e in response.json().get("entry", []))


def test_a_guessed_phone_does_not_reveal_a_protected_person_through_match(sbase):
    family = unique_name("Blockning")
    secret = requests.post(f"{sbase}/Patient", headers=headers(FULL), timeout=10, json=patient(
        family, given="Verah", birth="1988-03-04",
        meta={"security": [{"system": SECURITY_LABEL_SYSTEM, "code": "skyddadFolkbokforing"}]},
        telecom=[{"system": "phone", "value": PHONE}])).json()
    # The set-up works as meant: only the phone key finds the protected record.
    assert secret["id"] in _match(sbase, FULL, family, PHONE)
    assert secret["id"] not in _match(sbase, FULL, family, "0709990000")
    right = _match(sbase, MASKED, family, PHONE)
    wrong = _match(sbase, MASKED, family, "0709990000")
    assert secret["id"] not in right
    assert right == wrong

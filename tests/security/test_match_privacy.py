"""``$match`` never uses a protected person's withheld fields for a caller without
``protected-identity``: not to score (masking), and not to find candidates either — a
guessed phone number must not decide whether the protected record comes back (review L1:
with the name keys' slots filled by look-alikes, the phone key alone brought it in)."""

from __future__ import annotations

import requests

from tests.security.conftest import FULL, MASKED, SECURITY_LABEL_SYSTEM, headers
from tests.support import patient, unique_name

LOOK_ALIKES = 45  # more than a blocking key's slots (PER_KEY_LIMIT = 40)


def _match(sbase: str, scope: str, family: str, phone: str) -> list[str]:
    query = patient(family, given="Hemlig", birth="1998-03-04",
                    telecom=[{"system": "phone", "value": phone}])
    response = requests.post(f"{sbase}/Patient/$match", headers=headers(scope), timeout=30,
                             json={"resourceType": "Parameters", "parameter": [
                                 {"name": "resource", "resource": query},
                                 {"name": "count", "valueInteger": 100}]})
    assert response.status_code == 200, response.text
    return sorted(e["resource"]["id"] for e in response.json().get("entry", []))


def test_a_guessed_phone_does_not_reveal_a_protected_person_through_match(sbase):
    family = unique_name("Blockning")
    look_alikes = {"resourceType": "Bundle", "type": "transaction", "entry": [
        {"request": {"method": "POST", "url": "Patient"},
         "resource": patient(family, given="Hemlig", birth="1998-03-04")}
        for _ in range(LOOK_ALIKES)]}
    assert requests.post(sbase, json=look_alikes, headers=headers(FULL),
                         timeout=60).status_code == 200
    secret = requests.post(f"{sbase}/Patient", headers=headers(FULL), timeout=10, json=patient(
        family, given="Hemlig", birth="1998-03-04",
        meta={"security": [{"system": SECURITY_LABEL_SYSTEM, "code": "skyddadFolkbokforing"}]},
        telecom=[{"system": "phone", "value": "0703334455"}])).json()
    # The set-up works as meant: only the phone key finds the protected record.
    assert secret["id"] in _match(sbase, FULL, family, "0703334455")
    assert secret["id"] not in _match(sbase, FULL, family, "0709990000")
    right = _match(sbase, MASKED, family, "0703334455")
    wrong = _match(sbase, MASKED, family, "0709990000")
    assert secret["id"] not in right
    assert right == wrong

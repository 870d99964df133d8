"""IHE PIXm Patient Identity Feed FHIR (ITI-104) through a running server: the IG's Mohr
sequence (add, revise, resolve duplicate by identifier and by reference, remove), each
answer checked, and the resolve-duplicate refusals (contradiction, priority rule)."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from tests.ihe.mohr import BLUE, FHIR_JSON, RED, criteria, fresh, patient, resolved
from tests.support import PNR_SYSTEM, make_pnr

PIX = "Patient/$ihe-pix"


@pytest.fixture()
def http() -> Any:
    with requests.Session() as session:
        session.headers.update(FHIR_JSON)
        yield session


def feed(http: requests.Session, base: str, system: str, value: str,
         body: dict[str, Any]) -> requests.Response:
    """One ITI-104 Add/Revise/Resolve message: ``PUT Patient?identifier=system|value``."""
    return http.put(f"{base}/Patient?{criteria(system, value)}", json=body, timeout=30)


def pix(http: requests.Session, base: str, system: str, value: str,
        target: str | None = None) -> requests.Response:
    params = {"sourceIdentifier": f"{system}|{value}"}
    if target:
        params["targetSystem"] = target
    return http.get(f"{base}/{PIX}", params=params, timeout=30)


def target_ids(response: requests.Response) -> list[str]:
    return [p["valueReference"]["reference"] for p in response.json().get("parameter", [])
            if p["name"] == "targetId"]


def target_identifiers(response: requests.Response) -> set[tuple[str, str]]:
    return {(p["valueIdentifier"]["system"], p["valueIdentifier"]["value"])
            for p in response.json().get("parameter", []) if p["name"] == "targetIdentifier"}


def test_add_then_revise_alissa_to_alice(http: requests.Session, base: str) -> None:
    value = fresh("IHERED")
    added = feed(http, base, RED, value, patient(RED, value, "ALISSA"))
    assert added.status_code == 201, added.text
    assert added.json()["name"][0]["given"] == ["ALISSA"]
    revised = feed(http, base, RED, value, patient(RED, value, "ALICE"))
    assert revised.status_code == 200, revised.text
    assert revised.json()["id"] == added.json()["id"]
    assert revised.json()["name"][0]["given"] == ["ALICE"]
    assert revised.json()["meta"]["versionId"] == "2"
    answer = pix(http, base, RED, value)
    assert answer.status_code == 200
    assert target_identifiers(answer) == {(RED, value)}
    assert target_ids(answer) == [f"Patient/{added.json()['id']}"]


def _alice_and_maiden(http: requests.Session, base: str) -> tuple[dict[str, Any],
                                                                   dict[str, Any], str, str]:
    alice_value, maiden_value = fresh("IHERED"), fresh("IHERED-m")
    alice = feed(http, base, RED, alice_value, patient(RED, alice_value, "ALICE"))
    maiden = feed(http, base, RED, maiden_value, patient(RED, maiden_value, "MAIDEN"))
    assert alice.status_code == 201 and maiden.status_code == 201
    return alice.json(), maiden.json(), alice_value, maiden_value


@pytest.mark.parametrize("form", ["identifier", "reference"])
def test_resolve_duplicate_merges(http: requests.Session, base: str, form: str) -> None:
    alice, maiden, alice_value, maiden_value = _alice_and_maiden(http, base)
    survivor = ({"identifier": {"system": RED, "value": alice_value}} if form == "identifier"
                else {"reference": f"Patient/{alice['id']}"})
    answer = feed(http, base, RED, maiden_value, resolved(RED, maiden_value, survivor))
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["id"] == maiden["id"]
    assert body["active"] is False
    assert body["link"] == [{"other": {"reference": f"Patient/{alice['id']}"},
                             "type": "replaced-by"}]
    # A real merge: the survivor replaces the subsumed record and holds its identifier (old).
    kept = http.get(f"{base}/Patient/{alice['id']}", timeout=30).json()
    assert {"other": {"reference": f"Patient/{maiden['id']}"}, "type": "replaces"} in kept["link"]
    assert {"system": RED, "value": maiden_value, "use": "old"} in kept["identifier"]
    provenance = http.get(f"{base}/Provenance", params={"target": f"Patient/{alice['id']}"},
                          timeout=30).json()
    assert provenance["total"] == 1
    assert {t["reference"].split("/_history")[0] for t in
            provenance["entry"][0]["resource"]["target"]} == {f"Patient/{alice['id']}",
                                                               f"Patient/{maiden['id']}"}
    # ITI-83: the subsumed identifier resolves to the survivor (the main record first).
    cross = pix(http, base, RED, maiden_value)
    assert cross.status_code == 200
    assert target_ids(cross)[0] == f"Patient/{alice['id']}"
    assert (RED, alice_value) in target_identifiers(cross)
    # Never returned as a live record: not by an active search, and $match gives the survivor.
    live = http.get(f"{base}/Patient", params={"identifier": f"{RED}|{maiden_value}",
                                               "active": "true"}, timeout=30).json()
    assert [e["resource"]["id"] for e in live.get("entry", [])] == [alice["id"]]
    match = http.post(f"{base}/Patient/$match", json={
        "resourceType": "Parameters",
        "parameter": [{"name": "resource", "resource": patient(RED, maiden_value, "MAIDEN")}]},
        timeout=30).json()
    found = [e["resource"]["id"] for e in match.get("entry", [])]
    assert maiden["id"] not in found and alice["id"] in found
    # Sent again, the same message changes nothing more and is answered 200.
    again = feed(http, base, RED, maiden_value, resolved(RED, maiden_value, survivor))
    assert again.status_code == 200, again.text
    assert again.json()["link"] == body["link"]
    # The Source revises the survivor knowing nothing of the merge: the Manager's
    # cross-reference (the replaces link, the identifier taken over) stays.
    revised = feed(http, base, RED, alice_value, patient(RED, alice_value, "ALICE", address=True))
    assert revised.status_code == 200, revised.text
    assert {"other": {"reference": f"Patient/{maiden['id']}"},
            "type": "replaces"} in revised.json()["link"]
    assert target_ids(pix(http, base, RED, maiden_value))[0] == f"Patient/{alice['id']}"


def test_resolve_duplicate_of_a_record_never_fed(http: requests.Session, base: str) -> None:
    alice_value, maiden_value = fresh("IHERED"), fresh("IHERED-m")
    alice = feed(http, base, RED, alice_value, patient(RED, alice_value, "ALICE")).json()
    answer = feed(http, base, RED, maiden_value, resolved(
        RED, maiden_value, {"identifier": {"system": RED, "value": alice_value}}))
    assert answer.status_code == 201, answer.text
    assert answer.json()["link"][0]["other"] == {"reference": f"Patient/{alice['id']}"}
    assert target_ids(pix(http, base, RED, maiden_value))[0] == f"Patient/{alice['id']}"


def _unchanged(http: requests.Session, base: str, record: dict[str, Any]) -> None:
    now = http.get(f"{base}/Patient/{record['id']}", timeout=30).json()
    assert now["meta"]["versionId"] == record["meta"]["versionId"]
    assert now.get("active") is True and "link" not in now


def test_resolve_duplicate_refused_on_contradiction(http: requests.Session, base: str) -> None:
    """Two different personnummer: two people; 422 and nothing stored."""
    alice_value, maiden_value = fresh("IHERED"), fresh("IHERED-m")
    alice_body = patient(RED, alice_value, "ALICE")
    alice_body["identifier"].append({"system": PNR_SYSTEM, "value": make_pnr(female=True)})
    maiden_body = patient(RED, maiden_value, "MAIDEN")
    maiden_body["identifier"].append({"system": PNR_SYSTEM, "value": make_pnr(female=True)})
    alice = feed(http, base, RED, alice_value, alice_body).json()
    maiden = feed(http, base, RED, maiden_value, maiden_body).json()
    message = resolved(RED, maiden_value, {"identifier": {"system": RED, "value": alice_value}})
    message["identifier"] = maiden_body["identifier"]
    answer = feed(http, base, RED, maiden_value, message)
    assert answer.status_code == 422, answer.text
    outcome = answer.json()
    assert outcome["resourceType"] == "OperationOutcome"
    assert "different Personnummer" in outcome["issue"][0]["diagnostics"]
    _unchanged(http, base, maiden)
    _unchanged(http, base, alice)
    assert http.get(f"{base}/Provenance", params={"target": f"Patient/{alice['id']}"},
                    timeout=30).json()["total"] == 0


def test_resolve_duplicate_refused_when_survivor_ranks_below(http: requests.Session,
                                                             base: str) -> None:
    """The subsumed record holds a personnummer, the survivor only a local id: the main-record
    priority rule names the allowed direction."""
    alice_value, maiden_value = fresh("IHERED"), fresh("IHERED-m")
    alice = feed(http, base, RED, alice_value, patient(RED, alice_value, "ALICE")).json()
    maiden_body = patient(RED, maiden_value, "MAIDEN")
    maiden_body["identifier"].append({"system": PNR_SYSTEM, "value": make_pnr(female=True)})
    maiden = feed(http, base, RED, maiden_value, maiden_body).json()
    message = resolved(RED, maiden_value, {"reference": f"Patient/{alice['id']}"})
    message["identifier"] = maiden_body["identifier"]
    answer = feed(http, base, RED, maiden_value, message)
    assert answer.status_code == 422, answer.text
    assert "ranks below" in answer.json()["issue"][0]["diagnostics"]
    _unchanged(http, base, maiden)


@pytest.mark.parametrize("problem", ["active", "unknown-survivor", "two-links"])
def test_invalid_resolve_duplicate_is_422(http: requests.Session, base: str,
                                          problem: str) -> None:
    alice, maiden, alice_value, maiden_value = _alice_and_maiden(http, base)
    message = resolved(RED, maiden_value, {"identifier": {"system": RED, "value": alice_value}})
    if problem == "active":
        message["active"] = True
    elif problem == "unknown-survivor":
        message["link"][0]["other"]["identifier"]["value"] = fresh("IHERED-none")
    else:
        message["link"].append({"other": {"reference": f"Patient/{alice['id']}"},
                                "type": "replaced-by"})
        message["link"][0]["other"]["identifier"]["value"] = fresh("IHERED-x")
    answer = feed(http, base, RED, maiden_value, message)
    assert answer.status_code == 422, answer.text
    assert answer.json()["resourceType"] == "OperationOutcome"
    _unchanged(http, base, maiden)


def test_identifier_form_link_no_longer_bypasses_merge(http: requests.Session,
                                                       base: str) -> None:
    """A plain update (or create) cannot write a replaced-by link by identifier: only a
    merge writes merge links."""
    alice, maiden, alice_value, maiden_value = _alice_and_maiden(http, base)
    body = resolved(RED, maiden_value, {"identifier": {"system": RED, "value": alice_value}})
    body["id"] = maiden["id"]
    answer = http.put(f"{base}/Patient/{maiden['id']}", json=body, timeout=30)
    assert answer.status_code == 422, answer.text
    created = http.post(f"{base}/Patient", json=resolved(
        RED, fresh("IHERED-n"), {"identifier": {"system": RED, "value": alice_value}}),
        timeout=30)
    assert created.status_code == 422, created.text
    _unchanged(http, base, maiden)


def test_remove_patient(http: requests.Session, base: str) -> None:
    value = fresh("IHERED")
    added = feed(http, base, RED, value, patient(RED, value, "ALICE"))
    assert added.status_code == 201
    assert pix(http, base, RED, value).status_code == 200
    removed = http.delete(f"{base}/Patient?{criteria(RED, value)}", timeout=30)
    assert removed.status_code == 204, removed.text
    gone = pix(http, base, RED, value)
    assert gone.status_code == 404
    assert gone.json()["resourceType"] == "OperationOutcome"
    # The domain stays known: another identifier of it answers as before.
    other = fresh("IHERED")
    feed(http, base, RED, other, patient(RED, other, "ALICE"))
    assert pix(http, base, RED, other).status_code == 200


def test_cross_reference_between_domains(http: requests.Session, base: str) -> None:
    """The IG's ITI-83 example: red → blue once the Manager holds both for one person (the
    blue Source's record carries the red identifier too, as the IG's cross-referenced
    Patient-MohrAlice does)."""
    red, blue = fresh("IHERED"), fresh("IHEBLUE")
    body = patient(BLUE, blue, "ALICE", address=True)
    body["identifier"].append({"system": RED, "value": red})
    assert feed(http, base, BLUE, blue, body).status_code == 201
    answer = pix(http, base, RED, red, BLUE)
    assert answer.status_code == 200
    assert target_identifiers(answer) == {(BLUE, blue)}

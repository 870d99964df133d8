"""A Patient Identity Source changes only its own identity domain(s) (IHE PIXm ITI-104 §5):
scopes ``source-domain:<system>`` on a server with authentication on; every ITI-104 message
outside the caller's domains is a 403 that stores nothing."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from tests.ihe.mohr import BLUE, FHIR_JSON, GREEN, RED, criteria, fresh, patient, resolved
from tests.security.conftest import SECURE_ENV, make_token
from tests.support import Database, Server

WRITE = "system/Patient.cruds"


@pytest.fixture(scope="module")
def sbase(database: Database) -> Iterator[str]:
    srv = Server(database, env=SECURE_ENV, upgrade=False).start()
    yield srv.base
    srv.stop()


def session(scope: str) -> requests.Session:
    http = requests.Session()
    http.headers.update({**FHIR_JSON, "Authorization": f"Bearer {make_token(scope)}"})
    return http


@pytest.fixture()
def red() -> Iterator[requests.Session]:
    with session(f"{WRITE} source-domain:{RED}") as http:
        yield http


@pytest.fixture()
def blue() -> Iterator[requests.Session]:
    # A bare OID names the same domain as its urn:oid: form.
    with session(f"{WRITE} source-domain:{BLUE.removeprefix('urn:oid:')}") as http:
        yield http


@pytest.fixture()
def admin() -> Iterator[requests.Session]:
    with session(WRITE) as http:
        yield http


def put(http: requests.Session, base: str, system: str, value: str,
        body: dict[str, Any]) -> requests.Response:
    return http.put(f"{base}/Patient?{criteria(system, value)}", json=body, timeout=30)


def holders(admin: requests.Session, base: str, system: str, value: str) -> list[str]:
    bundle = admin.get(f"{base}/Patient", params={"identifier": f"{system}|{value}"},
                       timeout=30).json()
    return [e["resource"]["id"] for e in bundle.get("entry", [])]


def assert_forbidden(answer: requests.Response) -> None:
    assert answer.status_code == 403, answer.text
    outcome = answer.json()
    assert outcome["resourceType"] == "OperationOutcome"
    assert "identity domain" in outcome["issue"][0]["diagnostics"]


def test_source_adds_and_revises_its_own_domain(red: requests.Session, sbase: str) -> None:
    value = fresh("IHERED")
    assert put(red, sbase, RED, value, patient(RED, value, "ALISSA")).status_code == 201
    assert put(red, sbase, RED, value, patient(RED, value, "ALICE")).status_code == 200


def test_add_in_another_domain_is_403(red: requests.Session, admin: requests.Session,
                                      sbase: str) -> None:
    value = fresh("IHEBLUE")
    assert_forbidden(put(red, sbase, BLUE, value, patient(BLUE, value, "ALICE")))
    assert holders(admin, sbase, BLUE, value) == []
    # A plain create is held to the same rule.
    assert_forbidden(red.post(f"{sbase}/Patient", json=patient(GREEN, fresh("IHEGREEN"),
                                                                "ALICE"), timeout=30))


def test_revise_adding_another_domains_identifier_is_403(red: requests.Session,
                                                         admin: requests.Session,
                                                         sbase: str) -> None:
    value, other = fresh("IHERED"), fresh("IHEBLUE")
    stored = put(red, sbase, RED, value, patient(RED, value, "ALICE")).json()
    body = patient(RED, value, "ALICE")
    body["identifier"].append({"system": BLUE, "value": other})
    assert_forbidden(put(red, sbase, RED, value, body))
    now = admin.get(f"{sbase}/Patient/{stored['id']}", timeout=30).json()
    assert now["meta"]["versionId"] == "1"


def test_other_source_may_not_revise_or_remove(red: requests.Session, blue: requests.Session,
                                               admin: requests.Session, sbase: str) -> None:
    value = fresh("IHERED")
    stored = put(red, sbase, RED, value, patient(RED, value, "ALICE")).json()
    assert_forbidden(put(blue, sbase, RED, value, patient(RED, value, "MALLORY")))
    assert_forbidden(blue.delete(f"{sbase}/Patient?{criteria(RED, value)}", timeout=30))
    assert holders(admin, sbase, RED, value) == [stored["id"]]
    # Remove Patient by its own Source: the identifier leaves ITI-83.
    assert red.delete(f"{sbase}/Patient?{criteria(RED, value)}", timeout=30).status_code == 204
    assert admin.get(f"{sbase}/Patient/$ihe-pix", params={"sourceIdentifier": f"{RED}|{value}"},
                     timeout=30).status_code == 404


def test_resolve_duplicate_only_within_the_domain(red: requests.Session,
                                                  blue: requests.Session,
                                                  admin: requests.Session, sbase: str) -> None:
    alice, maiden, blue_value = fresh("IHERED"), fresh("IHERED-m"), fresh("IHEBLUE")
    put(red, sbase, RED, alice, patient(RED, alice, "ALICE"))
    put(red, sbase, RED, maiden, patient(RED, maiden, "MAIDEN"))
    blue_record = put(blue, sbase, BLUE, blue_value, patient(BLUE, blue_value, "ALICE")).json()
    # Another Source may not resolve red's duplicates...
    message = resolved(RED, maiden, {"identifier": {"system": RED, "value": alice}})
    assert_forbidden(put(blue, sbase, RED, maiden, message))
    # ...nor red merge its record into a record of blue's domain alone.
    assert_forbidden(put(red, sbase, RED, maiden, resolved(
        RED, maiden, {"reference": f"Patient/{blue_record['id']}"})))
    # Within its domain it may.
    answer = put(red, sbase, RED, maiden, message)
    assert answer.status_code == 200, answer.text
    assert answer.json()["active"] is False


def test_caller_without_source_domain_is_not_restricted(admin: requests.Session,
                                                        sbase: str) -> None:
    value = fresh("IHEGREEN")
    assert put(admin, sbase, GREEN, value, patient(GREEN, value, "ALICE")).status_code == 201


def feed_entry(system: str, value: str) -> dict[str, Any]:
    return {"resource": patient(system, value, "ALICE"),
            "request": {"method": "PUT", "url": f"Patient?{criteria(system, value)}"}}


def test_bundle_entries_refused_for_their_caller_are_audited_with_outcome_4(
        red: requests.Session, sbase: str) -> None:
    """A Bundle entry outside the Source's domains, and one from a caller without the write
    scope: each entry is authorised on its own, so each refusal is audited (a REST request
    without the scope is refused before it is read, and is not)."""
    own, other, unscoped = fresh("IHERED"), fresh("IHEBLUE"), fresh("IHERED")
    batch = {"resourceType": "Bundle", "type": "batch",
             "entry": [feed_entry(RED, own), feed_entry(BLUE, other)]}
    answer = red.post(sbase, json=batch, timeout=30)
    assert [e["response"]["status"][:3] for e in answer.json()["entry"]] == ["201", "403"]
    with session("system/Patient.rs") as reader:
        transaction = {"resourceType": "Bundle", "type": "transaction",
                       "entry": [feed_entry(RED, unscoped)]}
        refused = reader.post(sbase, json=transaction, timeout=30)
        assert refused.status_code == 403, refused.text
    with session("system/AuditEvent.rs") as auditor:
        bundle = auditor.get(f"{sbase}/AuditEvent", params={"subtype": "ITI-104",
                                                             "_count": "100"}, timeout=30).json()
    outcomes = {(e["entity"][0]["what"]["identifier"]["value"], e["outcome"])
                for e in (entry["resource"] for entry in bundle.get("entry", []))}
    assert {(own, "0"), (other, "4"), (unscoped, "4")} <= outcomes
    assert (other, "0") not in outcomes and (unscoped, "0") not in outcomes

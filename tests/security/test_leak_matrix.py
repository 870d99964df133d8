"""The leak matrix: every read path, with and without ``protected-identity``, for a protected
person, a person linked to one, a person of type "Oklar" and a person whose linked record
becomes protected later — the withheld values (unique phone, street, e-mail, postal code)
never appear anywhere in a response body for a caller without the scope, and do for a
caller with it.

The legacy cases (issue 14) are records stored before the patient type was checked: "oklar"
as valueCodeableConcept, as valueString, in capitals and with another system, and a record
linked to one of them, all stored with the protected flag off as the server then did, on a
database at revision 0003 that a second server then upgrades (migration 0004)."""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.operations.merge_helpers import make_lrid, make_nrid
from tests.security.conftest import FULL, MASKED, SECURE_ENV, SECURITY_LABEL_SYSTEM, headers
from tests.support import (
    LRID_SYSTEM,
    NRID_SYSTEM,
    Database,
    Server,
    make_pnr,
    migrate,
    patient,
    store_as_before_issue_14,
    unique_name,
)

PATIENT_TYPE_URL = "http://sweid.example/fhir/StructureDefinition/patient-type"
PATIENT_TYPE_SYSTEM = "http://sweid.example/fhir/CodeSystem/patient-type"
PATIENT_GROUP_URL = "http://sweid.example/fhir/StructureDefinition/patient-group"
PATIENT_GROUP_SYSTEM = "http://sweid.example/fhir/CodeSystem/patient-group"


@dataclass
class Person:
    id: str
    family: str
    pnr: str  # the value of its identifier (a personnummer, or an NRID for reserve=True)
    secrets: list[str]
    system: str = ""


def _secret_patient(*, reserve: bool = False, **extra: Any) -> tuple[dict[str, Any], list[str]]:
    """A Patient with unique withheld values, also inside the kept elements (an identifier's
    assigner and extension, a name's extensions, a link's extension, the address's country);
    ``reserve``: identified by an NRID instead of a personnummer (a seealso link joins one
    person's identities, never two personnummer)."""
    tag = uuid.uuid4().hex[:10]
    phone = f"070-{random.randrange(100, 999)} {random.randrange(10, 99)} {tag[:2]}"
    street, email, postal = f"Hemliggatan {tag}", f"hidden.{tag}@example.se", f"Z{tag[:4]}"
    city, country = f"Orten{tag}", f"Landet{tag}"
    if reserve:
        extra["identifier"] = [{"system": NRID_SYSTEM, "value": make_nrid(date(1998, 1, 1))}]
    resource = patient(unique_name("Leak"), pnr=None if reserve else make_pnr(),
                       telecom=[{"system": "phone", "value": phone},
                                {"system": "email", "value": email}],
                       address=[{"line": [street], "city": city, "postalCode": postal,
                                 "district": "Gävleborgs län", "state": "X",
                                 "country": country}],
                       **extra)
    inside = [f"utfardare-{tag}", f"idnote-{tag}", f"namenote-{tag}", f"familynote-{tag}",
              f"linknote-{tag}"]
    identifier = resource["identifier"][0]
    identifier["assigner"] = {"display": inside[0]}
    identifier["extension"] = [_note(inside[1])]
    resource["name"][0]["extension"] = [_note(inside[2])]
    resource["name"][0]["_family"] = {"extension": [_note(inside[3])]}
    for link in resource.get("link", []):
        link["extension"] = [_note(inside[4])]
    secrets = [phone, street, email, postal, city, country, *inside[:4]]
    return resource, secrets + ([inside[4]] if resource.get("link") else [])


def _note(text: str) -> dict[str, str]:
    return {"url": "http://sweid.example/test/note", "valueString": text}


def _create(resource: dict[str, Any], secrets: list[str]) -> Person:
    created = requests.post(resource_url(), json=resource, headers=headers(FULL), timeout=10)
    assert created.status_code == 201, created.text
    return _person(created.json(), secrets)


def _person(resource: dict[str, Any], secrets: list[str]) -> Person:
    identifier = resource["identifier"][0]
    return Person(resource["id"], resource["name"][0]["family"], identifier["value"], secrets,
                  identifier["system"])


def _since() -> str:
    """A ``_since`` for the type history that takes in everything written from now on."""
    return (datetime.now(UTC) - timedelta(seconds=2)).strftime("%Y-%m-%dT%H:%M:%SZ")


_BASE: dict[str, str] = {}


def resource_url() -> str:
    return _BASE["url"] + "/Patient"


LABEL = {"security": [{"system": SECURITY_LABEL_SYSTEM, "code": "sekretessmarkering"}]}


World = tuple[str, dict[str, Person]]
"""A server's base URL and the people stored on it (``start``: the type history's _since)."""


@pytest.fixture(scope="module")
def current(sbase: str) -> World:
    """The people written through today's server."""
    _BASE["url"] = sbase
    start = _since()
    protected = _create(*_secret_patient(meta=LABEL))
    linked_resource, linked_secrets = _secret_patient(
        reserve=True, link=[{"other": {"reference": f"Patient/{protected.id}"}, "type": "seealso"}])
    linked = _create(linked_resource, linked_secrets)
    oklar = _create(*_secret_patient(extension=[
        {"url": PATIENT_TYPE_URL,
         "valueCoding": {"system": PATIENT_TYPE_SYSTEM, "code": "oklar"}},
        {"url": PATIENT_GROUP_URL,
         "valueCoding": {"system": PATIENT_GROUP_SYSTEM, "code": "07/99"}}]))
    # Protected later: the record linking to it (and both histories) become protected too.
    later_resource, later_secrets = _secret_patient()
    later = _create(later_resource, later_secrets)
    follower_resource, follower_secrets = _secret_patient(
        reserve=True, link=[{"other": {"reference": f"Patient/{later.id}"}, "type": "seealso"}])
    follower = _create(follower_resource, follower_secrets)
    unlabelled = requests.get(f"{sbase}/Patient/{later.id}", headers=headers(FULL), timeout=10)
    labelled = {**unlabelled.json(), "meta": LABEL}
    assert requests.put(f"{sbase}/Patient/{later.id}", json=labelled, headers=headers(FULL),
                        timeout=10).status_code == 200
    return sbase, {"protected": protected, "linked": linked, "oklar": oklar, "later": later,
                   "follower": follower, "start": Person(start, "", "", [])}


#: Patient types a write refuses now (issue 14), as stored before: each "oklar".
LEGACY_SHAPES = {
    "legacy valueCodeableConcept": {"url": PATIENT_TYPE_URL, "valueCodeableConcept": {
        "coding": [{"system": PATIENT_TYPE_SYSTEM, "code": "oklar"}]}},
    "legacy valueString": {"url": PATIENT_TYPE_URL, "valueString": "oklar"},
    "legacy OKLAR": {"url": PATIENT_TYPE_URL,
                     "valueCoding": {"system": PATIENT_TYPE_SYSTEM, "code": "OKLAR"}},
    "legacy wrong system": {"url": PATIENT_TYPE_URL, "valueCoding": {
        "system": "http://example.org/patient-type", "code": "oklar"}},
}


@pytest.fixture(scope="module")
def legacy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """People stored unprotected before issue 14 on a database at revision 0003 — each
    legacy shape, and a record linked to one — served by a server that upgraded it."""
    database = Database.fresh(Path(tmp_path_factory.mktemp("legacy")))
    server: Server | None = None
    try:
        migrate(database, "0003")
        start = _since()
        resources = {case: _secret_patient(extension=[extension], id=str(uuid.uuid4()))
                     for case, extension in LEGACY_SHAPES.items()}
        target = resources["legacy valueString"][0]["id"]
        resources["legacy linked"] = _secret_patient(
            reserve=True, id=str(uuid.uuid4()),
            link=[{"other": {"reference": f"Patient/{target}"}, "type": "seealso"}])
        store_as_before_issue_14(database, [resource for resource, _ in resources.values()])
        server = Server(database, env=SECURE_ENV).start()
        yield server.base, {**{case: _person(*stored) for case, stored in resources.items()},
                            "start": Person(start, "", "", [])}
    finally:
        if server is not None:
            server.stop()
        database.dispose()


@pytest.fixture()
def world(request: pytest.FixtureRequest, case: str) -> World:
    """The world ``case`` lives in."""
    world: World = request.getfixturevalue("legacy" if case in LEGACY_CASES else "current")
    return world


def _bodies(sbase: str, person: Person, scope: str, people: dict[str, Person]) -> dict[str, str]:
    """Every read path's response body for this caller, keyed by path name."""
    hdrs = headers(scope)
    get = lambda url, **kw: requests.get(url, headers=hdrs, timeout=10, **kw)  # noqa: E731
    post = lambda url, **kw: requests.post(url, headers=hdrs, timeout=10, **kw)  # noqa: E731
    pid = person.id
    bodies: dict[str, requests.Response] = {
        "read": get(f"{sbase}/Patient/{pid}"),
        "read _elements": get(f"{sbase}/Patient/{pid}?_elements=telecom,address,name"),
        "read _summary": get(f"{sbase}/Patient/{pid}?_summary=true"),
        "vread": get(f"{sbase}/Patient/{pid}/_history/1"),
        "instance history": get(f"{sbase}/Patient/{pid}/_history"),
        "type history": get(f"{sbase}/Patient/_history",
                            params={"_since": people["start"].id, "_count": 1000}),
        "search": get(f"{sbase}/Patient", params={"family": person.family}),
        "search identifier": get(f"{sbase}/Patient", params={"identifier": person.pnr}),
        "search _elements": get(f"{sbase}/Patient", params={
            "_id": pid, "_elements": "telecom,address"}),
        "search _include": get(f"{sbase}/Patient", params={
            "link": f"Patient/{pid}", "_include": "Patient:link"}),
        "search _include of it": get(f"{sbase}/Patient", params={
            "_id": pid, "_include": "Patient:link"}),
        "search POST": post(f"{sbase}/Patient/_search", data={"_id": pid}),
        "batch": post(sbase, json={"resourceType": "Bundle", "type": "batch", "entry": [
            {"request": {"method": "GET", "url": f"Patient/{pid}"}},
            {"request": {"method": "GET", "url": f"Patient/{pid}/_history/1"}},
            {"request": {"method": "GET", "url": f"Patient?_id={pid}&_include=Patient:link"}},
        ]}),
        "match": post(f"{sbase}/Patient/$match", json={
            "resourceType": "Parameters", "parameter": [{"name": "resource", "resource": {
                "resourceType": "Patient", "name": [{"family": person.family,
                                                     "given": ["Testa"]}],
                "birthDate": "1998-01-01", "gender": "female",
                "identifier": [{"system": person.system,
                                "value": person.pnr}]}}]}),
        # Only identifiers come back: the identifier's assigner and extension secrets are
        # what this row catches if $ihe-pix ever skips the masking.
        "ihe-pix": get(f"{sbase}/Patient/$ihe-pix", params={
            "sourceIdentifier": f"{person.system}|{person.pnr}"}),
        "read xml": get(f"{sbase}/Patient/{pid}", params={"_format": "xml"}),
        "search xml": get(f"{sbase}/Patient", params={"_id": pid, "_format": "xml"}),
        # A $merge preview into the person: changes nothing, shows the would-be target.
        "merge preview": post(f"{sbase}/Patient/$merge", json={
            "resourceType": "Parameters", "parameter": [
                {"name": "source-patient", "valueReference": {
                    "reference": f"Patient/{_merge_source(sbase)}"}},
                {"name": "target-patient", "valueReference": {"reference": f"Patient/{pid}"}},
                {"name": "preview", "valueBoolean": True}]}),
    }
    # A transaction that round-trips the record as this caller sees it: the response
    # shows the written record through the same masking.
    seen = bodies["read"].json()
    bodies["transaction"] = post(sbase, json={
        "resourceType": "Bundle", "type": "transaction", "entry": [
            {"request": {"method": "PUT", "url": f"Patient/{pid}"}, "resource": seen},
            {"request": {"method": "GET", "url": f"Patient/{pid}"}}]})
    for name, response in bodies.items():
        assert response.status_code == 200, (name, response.status_code, response.text[:300])
    # An error that names the person's record: a second holder of its identifier (409).
    conflict = post(f"{sbase}/Patient", json=patient(identifier=[
        {"system": person.system, "value": person.pnr}]))
    assert conflict.status_code == 409, conflict.text[:300]
    return {**{name: response.text for name, response in bodies.items()},
            "conflict": conflict.text}


def _merge_source(sbase: str) -> str:
    """A fresh LRID record (same birth date and sex as every person here) that may be
    merged into any of them (an LRID ranks below PNR and NRID)."""
    created = requests.post(f"{sbase}/Patient", headers=headers(FULL), timeout=10,
                            json=patient(identifier=[{"system": LRID_SYSTEM,
                                                      "value": make_lrid(date(1998, 1, 1))}]))
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


CASES = ["protected", "linked", "oklar", "later", "follower"]
LEGACY_CASES = [*LEGACY_SHAPES, "legacy linked"]


@pytest.mark.parametrize("case", CASES + LEGACY_CASES)
def test_masked_caller_never_sees_withheld_values(world: World, case: str) -> None:
    sbase, people = world
    person = people[case]
    bodies = _bodies(sbase, person, MASKED, people)
    everyone = [s for p in people.values() for s in p.secrets]
    for name, text in bodies.items():
        for secret in everyone:
            assert secret not in text, f"{case}: {secret!r} leaked on {name}"
    read = requests.get(f"{sbase}/Patient/{person.id}", headers=headers(MASKED), timeout=10)
    masked = read.json()
    assert masked["meta"]["tag"][0]["code"] == "SUBSETTED"
    assert set(masked) <= {"resourceType", "id", "meta", "identifier", "name", "gender",
                           "birthDate", "active", "link", "address"}
    assert masked["address"] == [{"district": "Gävleborgs län", "state": "X"}]  # county kept
    assert masked["identifier"][0]["value"] == person.pnr


@pytest.mark.parametrize("case", CASES)
def test_caller_with_protected_identity_sees_everything(world: World, case: str) -> None:
    sbase, people = world
    person = people[case]
    bodies = _bodies(sbase, person, FULL, people)
    for name in ("read", "vread", "instance history", "search", "batch", "transaction"):
        for secret in person.secrets:
            assert secret in bodies[name], f"{case}: {secret!r} missing on {name}"
    assert "SUBSETTED" not in bodies["read"]


@pytest.mark.parametrize("case", LEGACY_CASES)
def test_a_legacy_record_is_whole_for_protected_identity_and_refused_back_until_corrected(
        world: World, case: str) -> None:
    """A caller who may see it reads it unmasked, but writing it back unchanged is a 422
    naming the broken rule: the patient type must be corrected first."""
    sbase, people = world
    person = people[case]
    read = requests.get(f"{sbase}/Patient/{person.id}", headers=headers(FULL), timeout=10)
    assert all(secret in read.text for secret in person.secrets)
    assert "SUBSETTED" not in read.text
    written = requests.put(f"{sbase}/Patient/{person.id}", json=read.json(),
                           headers=headers(FULL), timeout=10)
    if case == "legacy linked":
        assert written.status_code == 200, written.text  # its own content is well-formed
        return
    assert written.status_code == 422, written.text
    assert written.json()["issue"][0]["expression"] == ["Patient.extension[0]"]


@pytest.mark.parametrize("case", CASES + LEGACY_CASES)
def test_searches_on_withheld_fields_never_match_for_masked_callers(world: World,
                                                                    case: str) -> None:
    sbase, people = world
    person = people[case]
    phone, street, email, postal, city = person.secrets[:5]
    searches = [{"phone": phone}, {"email": email}, {"telecom": f"phone|{phone}"},
                {"address": street}, {"address-postalcode": postal},
                {"address-city": city, "family": person.family}]
    if case == "oklar":
        searches += [{"patient-type": "oklar", "_id": person.id},
                     {"patient-group": "07/99", "_id": person.id}]
    for params in searches:
        masked = requests.get(f"{sbase}/Patient", params={**params, "_total": "accurate"},
                              headers=headers(MASKED), timeout=10).json()
        assert masked["total"] == 0, (case, params)
        full = requests.get(f"{sbase}/Patient", params={**params, "_total": "accurate"},
                            headers=headers(FULL), timeout=10).json()
        assert person.id in [e["resource"]["id"] for e in full.get("entry", [])], (case, params)


def test_unprotected_person_is_not_masked(sbase: str) -> None:
    resource, secrets = _secret_patient()
    created = requests.post(f"{sbase}/Patient", json=resource, headers=headers(MASKED),
                            timeout=10)
    read = requests.get(f"{sbase}/Patient/{created.json()['id']}", headers=headers(MASKED),
                        timeout=10)
    assert all(secret in read.text for secret in secrets)
    assert "SUBSETTED" not in read.text

"""No personal data in any log line or error text (style.md "Masking and logs"): a server
at LOG_LEVEL=debug is sent one person's identifiers of every kind, names, phone, e-mail and
address — through creates, searches (query strings and forms), conditional requests,
batches, $match, $ihe-pix, requests refused with 400/409/422, a request too malformed for
gunicorn to parse and a server-side exception — then its whole stderr (request log, app and
gunicorn lines) and every error body are searched for them; so is the output of
``python -m app load`` refusing records and failing on a database without its schema."""

from __future__ import annotations

import json
import os
import random
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import requests

from app.identity import lrid_vgr, nrid
from tests.security.conftest import FULL, MASKED, SECURE_ENV, headers
from tests.security.faulty_app import FAULT
from tests.support import (
    LRID_SYSTEM,
    NRID_SYSTEM,
    PNR_SYSTEM,
    ROOT,
    SNR_SYSTEM,
    Database,
    Server,
    make_pnr,
    patient,
    unique_name,
)

#: Opaque ids a text may carry: UUIDs, and a load job's SHA-256 (64 hex digits, in which ten
#: decimal digits in a row are common enough to look like a personnummer by chance).
UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
                  r"|sha256:[0-9a-f]{64}")
NUMBER = re.compile(r"(?<![0-9])(?:[0-9]{10}|[0-9]{12}|[0-9]{6}[-+][0-9]{4}|[0-9]{8}-[0-9]{4})"
                    r"(?![0-9])")
#: A valid value of every regional reserve kind, GRID and LMA (domain.md §2.5; the
#: identity modules' own examples). The test's database is its own, so they are free.
REGIONAL = {
    "urn:oid:1.2.752.97.3.1.3": "991981000010",  # Region Stockholm
    "urn:oid:1.2.752.129.2.1.3.2": "198108320014",  # Inera CareLink
    "urn:oid:1.2.752.74.9.6": "201905355622",  # Region Halland
    "urn:oid:1.2.752.74.9.2": "19450829SF2B",  # Region Värmland
    "urn:oid:1.2.752.74.9.3": "19810829TB1F",  # Region Örebro
    "urn:oid:1.2.752.219.1.10.10.1": "19810829DA1B",  # Region Skåne
    "urn:oid:1.2.752.74.9.5": "20200501AA8A",  # Region Blekinge
    "urn:oid:1.2.752.269.1.1": "20100101014R",  # Region Västernorrland
    "urn:oid:1.2.752.74.9.7": "19890715R910",  # Region Västerbotten
    "urn:oid:1.2.752.74.9.8": "19010105Y202",  # Region Dalarna
    "urn:oid:1.2.752.74.9.9": "1965120701M1",  # Region Gävleborg
    "urn:oid:1.2.752.113.11.0.2.1.1.4": "19651207C123",  # GRID VGR
}
LMA_SYSTEM = "http://electronichealth.se/identifier/LMA-nummer"


def _numbers(text: str) -> list[str]:
    return NUMBER.findall(UUID.sub("<uuid>", text))


def _digits(count: int) -> str:
    return "".join(random.choice("0123456789") for _ in range(count))


def _display(value: str) -> str:
    """The hyphenated display form of a 12-character identity value."""
    return f"{value[:8]}-{value[8:]}"


def _broken(value: str) -> str:
    """The value with its check digit (its last character) changed."""
    last = value[-1]
    return value[:-1] + (str((int(last) + 1) % 10) if last.isdigit() else "0")


@dataclass
class Person:
    """One made-up person: an identifier of every kind and contact data, each unique to
    this run so that finding it anywhere in a log means it leaked."""

    birth: date = field(default_factory=lambda: date(1981, 8, 29))
    family: str = field(default_factory=lambda: unique_name("Loggsson"))
    given: str = field(default_factory=lambda: unique_name("Logga"))
    phone: str = field(default_factory=lambda: f"070-{_digits(3)} {_digits(2)} {_digits(2)}")
    street: str = field(default_factory=lambda: f"{unique_name('Gata')}vägen {_digits(2)}")
    city: str = field(default_factory=lambda: unique_name("Stad"))
    lma: str = field(default_factory=lambda: f"LMA {_digits(3)}-{_digits(4)}")

    def __post_init__(self) -> None:
        self.pnr = make_pnr(self.birth, female=True)
        self.snr = make_pnr(self.birth, female=True, snr=True)
        self.nrid = nrid.generate(self.birth, "female", random.randrange(2000))
        self.lrid = lrid_vgr.generate(self.birth, "female", random.randrange(37))
        self.email = f"{self.given}.{self.family}@example.se".lower()
        #: Personnummer of records that meet the planted bug (never stored).
        self.spares = [make_pnr(self.birth, female=True) for _ in range(2)]

    @property
    def identifiers(self) -> list[tuple[str, str]]:
        """(system, value) of every kind."""
        return [(PNR_SYSTEM, self.pnr), (SNR_SYSTEM, self.snr), (NRID_SYSTEM, self.nrid),
                (LRID_SYSTEM, self.lrid), *REGIONAL.items(), (LMA_SYSTEM, self.lma)]

    def resource(self, system: str, value: str, family: str | None = None) -> dict[str, Any]:
        """A Patient of this person holding one identifier."""
        return patient(family or self.family, given=self.given, birth=self.birth.isoformat(),
                       identifier=[{"system": system, "value": value}],
                       telecom=[{"system": "phone", "value": self.phone},
                                {"system": "email", "value": self.email}],
                       address=[{"line": [self.street], "city": self.city,
                                 "postalCode": "41255"}])

    @property
    def secrets(self) -> list[str]:
        """Every form of the person's data that must never be logged."""
        values = [value for _, value in self.identifiers]
        values += self.spares
        return [*values, *(_display(v) for v in values if len(v) == 12),
                *(_broken(v) for v in values), self.family, self.given, self.phone,
                re.sub(r"\D", "", self.phone), self.email, self.street, self.city]


def leaks(text: str, person: Person) -> list[str]:
    """The person's data found in ``text`` (case-insensitive), and personnummer shapes."""
    folded = text.casefold()
    found = [secret for secret in person.secrets if secret.casefold() in folded]
    return found + _numbers(text)


@pytest.fixture(scope="module")
def own_database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    db = Database.fresh(tmp_path_factory.mktemp("logs"))
    yield db
    db.dispose()


@pytest.fixture(scope="module")
def logged_server(own_database: Database) -> Iterator[Server]:
    """A server at LOG_LEVEL=debug with authentication on, serving the real app with one
    planted bug (tests/security/faulty_app.py)."""
    srv = Server(own_database, env={**SECURE_ENV, "LOG_LEVEL": "debug"},
                 app="tests.security.faulty_app:app").start()
    yield srv
    srv.stop()


def _log_text(server: Server) -> str:
    time.sleep(1.5)  # the workers write their request lines at least once a second
    return server.log_path.read_text("utf-8", errors="replace")


def _raw_request(server: Server, request: bytes) -> bytes:
    """Send bytes no HTTP client would send; gunicorn's answer."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(request)
        return sock.recv(4096)


def _error_texts(responses: list[requests.Response]) -> list[str]:
    """The bodies of the error answers and the outcomes of failed batch entries."""
    texts = [r.text for r in responses if r.status_code >= 400]
    for response in responses:
        if response.status_code == 200 and response.json().get("type") == "batch-response":
            texts += [json.dumps(e["response"]["outcome"]) for e in response.json()["entry"]
                      if "outcome" in e.get("response", {})]
    return texts


def test_no_personal_data_in_the_server_log_or_error_texts(logged_server: Server) -> None:
    person, base, hdrs = Person(), logged_server.base, headers(FULL)
    form = {**hdrs, "Content-Type": "application/x-www-form-urlencoded"}
    calls: list[requests.Response] = []

    def call(method: str, path: str, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("headers", hdrs)
        calls.append(requests.request(method, f"{base}{path}", timeout=30, **kwargs))
        return calls[-1]

    for system, value in person.identifiers:
        assert call("POST", "/Patient", json=person.resource(system, value)).status_code == 201
        call("POST", "/Patient", json=person.resource(system, value))  # 409
        call("POST", "/Patient", json=person.resource(system, _broken(value)))  # 422
        call("GET", "/Patient", params={"identifier": f"{system}|{value}"})
        call("GET", "/Patient", params={"identifier": _broken(value)})
        call("POST", "/Patient/_search", data={"identifier": value}, headers=form)
        call("GET", "/Patient/$ihe-pix", params={"sourceIdentifier": f"{system}|{value}"})
        call("POST", "/Patient", json=person.resource(system, value),
             headers={**hdrs, "If-None-Exist": f"identifier={system}|{value}"})
        call("PUT", "/Patient", params={"identifier": f"{system}|{_broken(value)}"},
             json=person.resource(system, value))
        call("DELETE", "/Patient", params={"identifier": f"{system}|{_broken(value)}"})
    contact = {"family": person.family, "given": person.given, "phone": person.phone,
               "email": person.email, "address": person.street, "address-city": person.city}
    call("GET", "/Patient", params=contact)
    call("POST", "/Patient/_search", data=contact, headers=form)
    for name in ("birthdate", "gender", "_sort", "_include", "_count", "_total", "active",
                 "_lastUpdated", "identifier:bad", "_format"):
        call("GET", "/Patient", params={name: person.family})
    call("GET", "/Patient", params={"name:exact": person.given})
    call("POST", "/Patient", json=patient(birthDate=person.family))  # 400
    call("POST", "/Patient", json={"resourceType": person.family})  # 400
    call("POST", "/Patient", json=person.resource(PNR_SYSTEM, person.spares[0], family=FAULT))
    resource = person.resource(PNR_SYSTEM, person.pnr)
    call("POST", "/Patient/$match", json={"resourceType": "Parameters", "parameter": [
        {"name": "resource", "resource": resource}]})
    call("POST", "/Patient/$match", json={"resourceType": "Parameters", "parameter": [
        {"name": "resource", "resource": {**resource, "gender": person.given}}]})  # 400
    call("POST", "", json={"resourceType": "Bundle", "type": "batch", "entry": [
        {"request": {"method": "GET", "url": f"Patient?family={person.family}"}},
        {"request": {"method": "POST", "url": "Patient"},
         "resource": person.resource(PNR_SYSTEM, _broken(person.pnr))},
        {"request": {"method": "POST", "url": "Patient"},
         "resource": person.resource(PNR_SYSTEM, person.spares[1], family=FAULT)}]})
    call("GET", f"/Patient/{person.pnr}", headers=headers(MASKED, sub=person.email))
    assert {200, 201, 400, 406, 409, 422, 500} <= {r.status_code for r in calls}
    gunicorn_answer = _raw_request(logged_server, (
        f"GET /fhir/Patient?family={person.family} {person.given}&phone={person.phone} "
        "HTTP/1.1\r\nHost: x\r\n\r\n").encode())
    assert gunicorn_answer.startswith(b"HTTP/1.1 400")

    errors = _error_texts(calls)
    for text in errors:
        assert not leaks(text, person), text[:400]
    log = _log_text(logged_server)
    assert "GET /fhir/Patient " in log and "DEBUG" in log  # the request log, at debug
    # The planted bug, met by a create and a batch entry, logged by type.
    assert log.count("builtins.RuntimeError (message withheld") == 2
    assert "Refused a request with 400" in log  # the worker's line about the malformed request
    assert not leaks(log, person), leaks(log, person)


def test_no_personnummer_in_error_bodies_or_logs(logged_server: Server) -> None:
    sbase = logged_server.base
    pnr = make_pnr()
    short = pnr[2:8] + "-" + pnr[8:]
    bad = pnr[:-1] + str((int(pnr[-1]) + 1) % 10)  # wrong check digit
    holder = requests.post(f"{sbase}/Patient", json=patient(pnr=pnr), headers=headers(FULL),
                           timeout=10)
    assert holder.status_code == 201
    hdrs = headers(FULL)
    calls = [
        requests.get(f"{sbase}/Patient/{pnr}", headers=hdrs),
        requests.get(f"{sbase}/Patient/{pnr}/_history/{pnr}", headers=hdrs),
        requests.get(f"{sbase}/Patient", params={"identifier": bad}, headers=hdrs),
        requests.get(f"{sbase}/Patient", params={f"x{pnr}": pnr}, headers=hdrs),
        requests.get(f"{sbase}/Patient", params={"birthdate": pnr}, headers=hdrs),
        requests.get(f"{sbase}/Patient", params={"_sort": pnr}, headers=hdrs),
        requests.get(f"{sbase}/Patient", params={"gender": short}, headers=hdrs),
        requests.get(f"{sbase}/Patient", params={"_include": pnr}, headers=hdrs),
        requests.post(f"{sbase}/Patient", json=patient(pnr=bad), headers=hdrs),
        requests.post(f"{sbase}/Patient", headers=hdrs, json=patient(identifier=[
            {"system": PNR_SYSTEM, "value": short[:-1] + "x"}])),
        requests.post(f"{sbase}/Patient", json=patient(pnr=pnr), headers=hdrs),  # 409
        requests.post(f"{sbase}/Patient", json=patient(pnr=pnr), headers={
            **hdrs, "If-None-Exist": f"identifier={bad}"}),
        requests.post(f"{sbase}/Patient", data=f'{{"resourceType": "Patient", {pnr}',
                      headers=hdrs),
        requests.post(f"{sbase}/Patient", json={"resourceType": pnr}, headers=hdrs),
        requests.post(f"{sbase}/Patient", json=patient(birthDate=pnr), headers=hdrs),
        requests.put(f"{sbase}/Patient/{pnr}", json=patient(id="other"), headers=hdrs),
        requests.put(f"{sbase}/Patient", params={"identifier": pnr}, json=patient(),
                     headers={**hdrs, "If-Match": pnr}),
        requests.delete(f"{sbase}/Patient", params={"identifier": f"{PNR_SYSTEM}|{bad}"},
                        headers=hdrs),
        requests.post(sbase, headers=hdrs, json={"resourceType": "Bundle", "type": "batch",
                                                 "entry": [
            {"request": {"method": "GET", "url": f"Patient/{pnr}"}},
            {"request": {"method": "POST", "url": "Patient"}, "resource": patient(pnr=bad)},
            {"request": {"method": "GET", "url": f"Patient?identifier={bad}"}},
            {"request": {"method": "GET", "url": f"Foo/{pnr}"}}]}),
        requests.post(sbase, headers=hdrs, json={"resourceType": "Bundle",
                                                 "type": "transaction", "entry": [
            {"request": {"method": "POST", "url": "Patient"}, "resource": patient(pnr=bad)}]}),
        requests.post(f"{sbase}/Patient/$match", headers=hdrs, json={
            "resourceType": "Parameters", "parameter": [{"name": pnr, "valueString": pnr}]}),
        requests.get(f"{sbase}/Patient/$ihe-pix", headers=hdrs,
                     params={"sourceIdentifier": f"{PNR_SYSTEM}|{bad}"}),
        requests.get(f"{sbase}/Patient/{pnr}", headers=headers(MASKED, sub=pnr)),
        requests.get(f"{sbase}/Patient/{pnr}", headers={"Authorization": f"Bearer {pnr}"}),
        requests.get(f"{sbase}/AuditEvent", params={"date": pnr}, headers=headers("system/*.rs")),
        requests.get(f"{sbase}/{pnr}", headers=hdrs),
    ]
    errors = _error_texts(calls)
    assert len(errors) >= 25
    for text in errors:
        assert not _numbers(text), text[:400]
    text = _log_text(logged_server)
    assert "/fhir/Patient" in text  # the request log is there
    assert pnr not in text and bad not in text and short not in text
    assert not _numbers(text), _numbers(text)[:5]


def _cli(database: Database, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "app", *args], cwd=ROOT,
                          env={**os.environ, "DATABASE_URL": database.url}, text=True,
                          capture_output=True, timeout=120)


def _load(database: Database, source: Path) -> subprocess.CompletedProcess[str]:
    return _cli(database, "load", str(source))


def test_no_personal_data_in_the_output_of_a_load(own_database: Database,
                                                  tmp_path: Path) -> None:
    person = Person()
    resources = []
    for system, value in person.identifiers:
        resources += [person.resource(system, value), person.resource(system, value),
                      person.resource(system, _broken(value))]
    resources.append(patient(birthDate=person.family))
    source = tmp_path / "people.ndjson"
    source.write_text("".join(json.dumps(r) + "\n" for r in resources))
    assert _cli(own_database, "db", "upgrade").returncode == 0
    refused = _load(own_database, source)
    assert refused.returncode == 2 and refused.stderr.count("resource ") >= 20
    assert not leaks(refused.stdout + refused.stderr, person), refused.stderr[-3000:]

    one = tmp_path / "one.ndjson"
    one.write_text(json.dumps(person.resource(PNR_SYSTEM, person.pnr)) + "\n")
    unmigrated = Database.fresh(tmp_path)  # a new database, never given its schema
    try:
        failed = _load(unmigrated, one)
    finally:
        unmigrated.dispose()
    # One line saying what to do (issue 15), and nothing of the person in it.
    assert failed.returncode == 1 and "db upgrade" in failed.stderr
    assert "Traceback" not in failed.stderr
    assert not leaks(failed.stdout + failed.stderr, person), failed.stderr[-3000:]

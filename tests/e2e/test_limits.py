"""The limits of app/domain/limits.py through the running server (issue 14): a request over
one is refused at once with an OperationOutcome naming the element and the limit, on every
way in, and nothing is written; a request at the limits works."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import requests

from app.domain.limits import (
    MAX_BUNDLE_ENTRIES,
    MAX_PARAMETER_VALUES,
    MAX_REPEATS,
    MAX_SEARCH_PARAMETERS,
    MAX_SEARCH_VALUES,
)
from tests.e2e.test_errors import assert_outcome
from tests.operations.merge_helpers import create, ident, make_lrid, params
from tests.support import LRID_SYSTEM, PNR_SYSTEM, make_pnr, patient, unique_name

FHIR_JSON = {"Content-Type": "application/fhir+json"}
TOO_MANY_TELECOM = "Patient.telecom has 101 items; this server accepts at most 100"


def phones(count: int) -> list[dict[str, str]]:
    """``count`` distinct phone numbers."""
    return [{"system": "phone", "value": f"070{n:07d}"} for n in range(count)]


def assert_refused(response: requests.Response, text: str, status: int = 422) -> None:
    """An OperationOutcome with ``status`` whose diagnostics hold ``text``."""
    issue = assert_outcome(response, status)["issue"][0]
    assert text in issue["diagnostics"], issue
    if status == 422:
        assert issue["code"] == "too-costly"


def test_a_patient_with_40000_telecom_entries_is_refused_at_once(base, http):
    """It took ~129 s to create before the limits (and to index, quadratically)."""
    body = patient(unique_name("Telecom"), telecom=phones(40_000))
    started = time.monotonic()
    response = http.post(f"{base}/Patient", json=body, timeout=60)
    elapsed = time.monotonic() - started
    assert_refused(response, "Patient.telecom has 40000 items; this server accepts at most 100")
    assert response.json()["issue"][0]["expression"] == ["Patient.telecom"]
    assert elapsed < 5, elapsed  # a guard only: the status and text are the check


def _over_limit_requests(base: str, existing: dict[str, Any], over: dict[str, Any],
                         merge_pair: tuple[dict[str, Any], dict[str, Any]],
                         ) -> list[tuple[str, str, dict[str, Any]]]:
    """(method, url, requests keyword arguments) that each bring a Patient with one telecom
    entry too many, one per way a Patient comes in over HTTP."""
    family = over["name"][0]["family"]
    entry = {"resource": over, "request": {"method": "POST", "url": "Patient"}}
    patch_type = {"Content-Type": "application/json-patch+json"}
    return [
        ("POST", f"{base}/Patient", {"json": over}),
        ("POST", f"{base}/Patient", {"json": over,
                                     "headers": {"If-None-Exist": f"family={family}"}}),
        ("PUT", f"{base}/Patient/{existing['id']}",
         {"json": {**over, "id": existing["id"]}}),
        ("PUT", f"{base}/Patient?family={family}", {"json": over}),
        ("PATCH", f"{base}/Patient/{existing['id']}",
         {"json": [{"op": "add", "path": "/telecom", "value": over["telecom"]}],
          "headers": patch_type}),
        ("POST", base, {"json": {"resourceType": "Bundle", "type": "transaction",
                                 "entry": [entry]}}),
        ("POST", f"{base}/Patient/$match", {"json": {"resourceType": "Parameters", "parameter": [
            {"name": "resource", "resource": over}]}}),
        ("POST", f"{base}/Patient/$generate-reserve-id", {"json": {
            "resourceType": "Parameters", "parameter": [{"name": "patient", "resource": over}]}}),
        ("POST", f"{base}/Patient/$merge", {"json": params(*merge_pair, result_patient={
            **over, "id": merge_pair[1]["id"], "identifier": merge_pair[1]["identifier"]})}),
    ]


def test_every_way_in_refuses_a_repeating_element_over_its_limit(base, http):
    existing = http.post(f"{base}/Patient", json=patient(unique_name("Limit"))).json()
    merge_pair = (create(http, base, ident(LRID_SYSTEM, make_lrid())),
                  create(http, base, ident(PNR_SYSTEM, make_pnr())))
    over = patient(unique_name("Over"), telecom=phones(101))
    for method, url, kwargs in _over_limit_requests(base, existing, over, merge_pair):
        kwargs["headers"] = {**FHIR_JSON, **kwargs.get("headers", {})}
        response = requests.request(method, url, timeout=30, **kwargs)
        assert_refused(response, TOO_MANY_TELECOM)
    assert http.get(f"{base}/Patient", params={"family": over["name"][0]["family"]}).json()[
        "total"] == 0
    for unchanged in (existing, *merge_pair):
        assert http.get(f"{base}/Patient/{unchanged['id']}").json()["meta"]["versionId"] == "1"


def test_a_batch_refuses_the_entry_over_the_limit_and_runs_the_others(base, http):
    family = unique_name("Batch")
    patch = [{"op": "add", "path": "/telecom", "value": phones(101)}]
    existing = http.post(f"{base}/Patient", json=patient(family)).json()
    binary = {"resourceType": "Binary", "contentType": "application/json-patch+json",
              "data": base64.b64encode(json.dumps(patch).encode()).decode()}
    bundle = {"resourceType": "Bundle", "type": "batch", "entry": [
        {"resource": patient(family, telecom=phones(101)),
         "request": {"method": "POST", "url": "Patient"}},
        {"resource": binary, "request": {"method": "PATCH", "url": f"Patient/{existing['id']}"}},
        {"resource": patient(family, telecom=phones(100)),
         "request": {"method": "POST", "url": "Patient"}},
    ]}
    response = http.post(base, json=bundle)
    assert response.status_code == 200, response.text
    statuses = [e["response"]["status"] for e in response.json()["entry"]]
    assert [s.split()[0] for s in statuses] == ["422", "422", "201"]
    for refused in response.json()["entry"][:2]:
        assert TOO_MANY_TELECOM in refused["response"]["outcome"]["issue"][0]["diagnostics"]


def test_an_xml_patient_over_the_limit_is_refused_too(base):
    telecom = "".join(f'<telecom><system value="phone"/><value value="070{n:07d}"/></telecom>'
                      for n in range(101))
    body = f'<Patient xmlns="http://hl7.org/fhir">{telecom}</Patient>'
    response = requests.post(f"{base}/Patient", data=body.encode(), timeout=30, headers={
        "Content-Type": "application/fhir+xml", "Accept": "application/fhir+json"})
    assert_refused(response, TOO_MANY_TELECOM)


def test_nested_elements_are_counted_per_parent(base, http):
    body = patient(unique_name("Given"))
    body["name"].append({"family": "Andra", "given": ["Anna"] * 21})
    assert_refused(http.post(f"{base}/Patient", json=body),
                   "Patient.name[1].given has 21 items; this server accepts at most 20")


def test_a_patient_at_every_limit_is_stored_whole(base, http):
    family = unique_name("Full")
    body = patient(
        family,
        telecom=phones(MAX_REPEATS["telecom"]),
        address=[{"line": [f"Gata {n}" for n in range(MAX_REPEATS["address.line"])],
                  "city": "Göteborg"}] * MAX_REPEATS["address"],
        extension=[{"url": f"http://example.org/x{n}", "valueString": "x"}
                   for n in range(MAX_REPEATS["extension"])],
        communication=[{"language": {"text": f"språk {n}"}}
                       for n in range(MAX_REPEATS["communication"])],
        contact=[{"name": {"family": f"Kontakt{n}"}} for n in range(MAX_REPEATS["contact"])],
    )
    body["name"] = [{"family": family, "given": [f"G{n}" for n in range(MAX_REPEATS[
        "name.given"])]}] * MAX_REPEATS["name"]
    created = http.post(f"{base}/Patient", json=body)
    assert created.status_code == 201, created.text
    stored = created.json()
    for element in ("telecom", "address", "extension", "communication", "contact", "name"):
        assert len(stored[element]) == MAX_REPEATS[element], element
    found = http.get(f"{base}/Patient", params={"phone": "0700000099", "family": family})
    assert [e["resource"]["id"] for e in found.json()["entry"]] == [stored["id"]]


def test_a_bundle_over_the_entry_limit_is_refused(base, http):
    entries = [{"request": {"method": "GET", "url": "Patient?_count=1"}}] * (
        MAX_BUNDLE_ENTRIES + 1)
    for kind in ("batch", "transaction"):
        response = http.post(base, json={"resourceType": "Bundle", "type": kind,
                                         "entry": entries})
        assert_refused(response, f"Bundle.entry has {MAX_BUNDLE_ENTRIES + 1} items; this "
                                 f"server accepts at most {MAX_BUNDLE_ENTRIES}")


def test_a_search_over_the_parameter_or_value_limits_is_a_400(base, http):
    many = [("family", f"a{n}") for n in range(MAX_SEARCH_PARAMETERS + 1)]
    text = f"at most {MAX_SEARCH_PARAMETERS} parameters"
    assert_refused(http.get(f"{base}/Patient", params=many), text, 400)
    assert_refused(requests.post(f"{base}/Patient/_search", data=many, timeout=30), text, 400)
    values = ",".join(f"a{n}" for n in range(MAX_PARAMETER_VALUES + 1))
    for name in ("family", "_sort", "_elements"):
        assert_refused(http.get(f"{base}/Patient", params={name: values}),
                       f"'{name}' takes at most {MAX_PARAMETER_VALUES} values", 400)
    full = ",".join(f"a{n}" for n in range(MAX_PARAMETER_VALUES))
    in_all = [("name:contains", full)] * (MAX_SEARCH_VALUES // MAX_PARAMETER_VALUES)
    assert http.get(f"{base}/Patient", params=in_all).status_code == 200
    assert_refused(http.get(f"{base}/Patient", params=[*in_all, ("family", "a")]),
                   f"at most {MAX_SEARCH_VALUES} values in all ({MAX_SEARCH_VALUES + 1} given)",
                   400)
    at_limit = many[:MAX_SEARCH_PARAMETERS]
    assert http.get(f"{base}/Patient", params=at_limit).status_code == 200

"""Bad input gets an OperationOutcome with the right status — never a 500 or HTML."""

from __future__ import annotations

import pytest
import requests

from tests.support import PNR_SYSTEM, patient, unique_name


def assert_outcome(response: requests.Response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"].startswith("application/fhir+json")
    body = response.json()
    assert body["resourceType"] == "OperationOutcome"
    return body


def test_invalid_personnummer_is_a_422_naming_the_identifier_and_the_rule(base, http):
    body = patient(identifier=[{"system": PNR_SYSTEM, "value": "19980101-9815"}])
    outcome = assert_outcome(http.post(f"{base}/Patient", json=body), 422)
    issue = outcome["issue"][0]
    assert issue["expression"] == ["Patient.identifier[0].value"]
    assert "check digit" in issue["diagnostics"]
    assert "9815" not in issue["diagnostics"]


def test_seed_trap_samordningsnummer_is_refused(base, http):
    body = patient(identifier=[{"system": "urn:oid:1.2.752.129.2.1.3.3",
                                "value": "19651267-3245"}])
    assert_outcome(http.post(f"{base}/Patient", json=body), 422)


SEED_TRAPS = [  # domain.md §2.1 and §2.3: valid-looking values from seed 001 that fail
    ("urn:oid:1.2.752.129.2.1.3.3", "19651267-3245", "check digit"),  # SNR, Luhn
    ("urn:oid:1.2.752.113.11.0.2.1.1.1", "19651207-K245", "check digit"),  # LRID VGR
]


@pytest.mark.parametrize("system, value, rule", SEED_TRAPS)
def test_seed_traps_are_refused_on_update_patch_and_search(base, http, system, value, rule):
    stored = http.post(f"{base}/Patient", json=patient()).json()
    bad = [{"system": system, "value": value}]
    update = assert_outcome(http.put(f"{base}/Patient/{stored['id']}",
                                     json={**stored, "identifier": bad}), 422)
    assert update["issue"][0]["expression"] == ["Patient.identifier[0].value"]
    assert rule in update["issue"][0]["diagnostics"]
    patch = assert_outcome(http.patch(
        f"{base}/Patient/{stored['id']}", json=[{"op": "add", "path": "/identifier",
                                                "value": bad}],
        headers={"Content-Type": "application/json-patch+json"}), 422)
    assert patch["issue"][0]["expression"] == ["Patient.identifier[0].value"]
    found = assert_outcome(http.get(f"{base}/Patient",
                                    params={"identifier": f"{system}|{value}"}), 422)
    assert found["issue"][0]["expression"] == ["identifier"]
    assert rule in found["issue"][0]["diagnostics"]
    assert http.get(f"{base}/Patient/{stored['id']}").json() == stored


def test_the_gavleborg_seed_value_is_stored_as_given_and_found(base, http):
    # Seed 002's number has another shape than the researched pattern: kept opaque.
    system = "urn:oid:1.2.752.74.9.9"
    body = patient(identifier=[{"system": system, "value": " 19612121201M7 "}])
    response = http.post(f"{base}/Patient", json=body)
    assert response.status_code == 201, response.text
    assert response.json()["identifier"] == [{"system": system, "value": "19612121201M7"}]
    found = http.get(f"{base}/Patient", params={"identifier": f"{system}|19612121201M7"})
    assert [e["resource"]["id"] for e in found.json()["entry"]] == [response.json()["id"]]
    bad_date = patient(identifier=[{"system": system, "value": "19651232-01M1"}])
    assert_outcome(http.post(f"{base}/Patient", json=bad_date), 422)


def test_unknown_oid_systems_are_stored_verbatim(base, http):
    body = patient(identifier=[{"system": "urn:oid:1.2.3.4.5", "value": " Abc-123 "}])
    created = http.post(f"{base}/Patient", json=body).json()
    assert created["identifier"][0] == {"system": "urn:oid:1.2.3.4.5", "value": "Abc-123"}


@pytest.mark.parametrize("body, status", [
    (b"{not json", 400),
    (b"[]", 400),
    (b'{"resourceType": "Observation"}', 400),
    (b'{"resourceType": "Patient", "birthDate": "1998-13-01"}', 400),
    (b'{"resourceType": "Patient", "shoeSize": 42}', 400),
    (b'{"resourceType": "Patient", "gender": "robot"}', 400),
    (b"", 400),
])
def test_unparseable_or_invalid_bodies_are_400(base, http, body, status):
    response = http.post(f"{base}/Patient", data=body)
    assert_outcome(response, status)


def test_wrong_content_type_is_415(base):
    response = requests.post(f"{base}/Patient", data="<Patient/>",
                             headers={"Content-Type": "text/plain"})
    assert_outcome(response, 415)


def test_unsupported_accept_is_406(base):
    response = requests.get(f"{base}/Patient", headers={"Accept": "text/html"})
    assert_outcome(response, 406)
    assert_outcome(requests.get(f"{base}/Patient", params={"_format": "turtle"}), 406)


def test_body_larger_than_the_limit_is_413(base, http):
    huge = patient(text={"status": "generated",
                         "div": '<div xmlns="http://www.w3.org/1999/xhtml">'
                                + "x" * (6 * 1024 * 1024) + "</div>"})
    assert_outcome(http.post(f"{base}/Patient", json=huge), 413)


def test_unknown_resource_types_and_routes_are_404(base, http):
    assert_outcome(http.get(f"{base}/Observation"), 404)
    assert_outcome(http.get(f"{base}/Observation/1/2/3"), 404)
    assert_outcome(http.get(f"{base}/Patient/unknown-id"), 404)


def test_bad_ids_and_versions(base, http):
    assert_outcome(http.get(f"{base}/Patient/{'x' * 65}"), 400)
    created = http.post(f"{base}/Patient", json=patient()).json()
    assert_outcome(http.get(f"{base}/Patient/{created['id']}/_history/abc"), 404)
    assert_outcome(http.put(f"{base}/Patient/{created['id']}", json=created,
                            headers={"If-Match": "garbage"}), 400)


def test_wrong_method_is_405(base, http):
    assert_outcome(http.delete(f"{base}/metadata"), 405)
    assert_outcome(http.post(f"{base}/Patient/_history", json={}), 405)


def test_metadata_is_a_capability_statement_for_fhir_4_0_1(base, http):
    statement = http.get(f"{base}/metadata").json()
    assert statement["resourceType"] == "CapabilityStatement"
    assert statement["fhirVersion"] == "4.0.1"
    patient_entry = statement["rest"][0]["resource"][0]
    params = {p["name"] for p in patient_entry["searchParam"]}
    assert {"identifier", "birthdate", "name", "family", "given", "_security"} <= params
    interactions = {i["code"] for i in patient_entry["interaction"]}
    assert {"read", "vread", "update", "patch", "delete", "create", "search-type"} <= interactions


@pytest.mark.parametrize("params", [
    {"_offset": "99999999999999999999"},
    {"birthdate": "eq9999-12-31"},
    {"name": ",".join(["a"] * 150)},
])
def test_extreme_search_values_are_a_400_not_a_500(base, http, params):
    assert_outcome(http.get(f"{base}/Patient", params=params), 400)


def test_extreme_history_offset_is_a_400(base, http):
    assert_outcome(http.get(f"{base}/Patient/_history",
                            params={"_offset": "99999999999999999999"}), 400)


def test_null_items_in_primitive_arrays_are_refused_unless_aligned_with_extensions(base, http):
    bare = patient()
    bare["name"][0]["given"] = [None]
    assert_outcome(http.post(f"{base}/Patient", json=bare), 400)
    aligned = patient()
    aligned["name"][0]["given"] = ["Anna", None]
    aligned["name"][0]["_given"] = [None, {"extension": [
        {"url": "http://example.org/initial", "valueString": "B"}]}]
    aligned["address"] = [{"line": [None], "_line": [{"extension": [
        {"url": "http://example.org/hidden", "valueString": "x"}]}]}]
    response = http.post(f"{base}/Patient", json=aligned)
    assert response.status_code == 201, response.text
    assert response.json()["name"][0]["given"] == ["Anna", None]


def test_deeply_nested_resources_are_a_400(base, http):
    nested: dict = {"url": "http://example.org/x", "valueString": "leaf"}
    for _ in range(400):
        nested = {"url": "http://example.org/x", "extension": [nested]}
    assert_outcome(http.post(f"{base}/Patient", json=patient(extension=[nested])), 400)


def test_operation_parameters_that_are_not_an_array_are_a_400(base, http):
    response = http.post(f"{base}/Patient/$generate-reserve-id",
                         json={"resourceType": "Parameters", "parameter": 5})
    assert_outcome(response, 400)


def test_error_expressions_never_echo_a_personnummer(base, http):
    response = http.post(f"{base}/Patient",
                         json={"resourceType": "Patient", "x196208159860": 1})
    outcome = assert_outcome(response, 400)
    assert "196208159860" not in response.text
    assert outcome["issue"][0]["expression"]


def _nul_requests(base: str, existing: dict, family: str) -> list[tuple[str, str, dict]]:
    """(method, url, requests keyword arguments) that each carry a control character."""
    bad = patient(family=f"{family}\u0000son")
    json_type = {"Content-Type": "application/fhir+json"}
    return [
        ("POST", f"{base}/Patient", {"json": bad, "headers": json_type}),
        ("PUT", f"{base}/Patient/{existing['id']}",
         {"json": {**existing, "name": [{"family": "Q\u0001"}]}, "headers": json_type}),
        ("PATCH", f"{base}/Patient/{existing['id']}",
         {"json": [{"op": "replace", "path": "/gender", "value": "fe\u001fmale"}],
          "headers": {"Content-Type": "application/json-patch+json"}}),
        ("POST", base, {"json": {"resourceType": "Bundle", "type": "transaction", "entry": [
            {"resource": bad, "request": {"method": "POST", "url": "Patient"}}]},
            "headers": json_type}),
        ("POST", f"{base}/Patient/$match", {"json": {"resourceType": "Parameters", "parameter": [
            {"name": "resource", "resource": bad}]}, "headers": json_type}),
        ("GET", f"{base}/Patient?family=a%00b", {}),
        ("GET", f"{base}/Patient?identifier={PNR_SYSTEM}|1998%0B", {}),
        ("GET", f"{base}/Patient/$ihe-pix?sourceIdentifier=urn:oid:1.2.3|a%00", {}),
        ("POST", f"{base}/Patient/_search", {"data": {"family": "a\u0000"}}),
        # JSON's short escapes of U+0008 and U+000C, on a resource that is not a Patient
        ("POST", f"{base}/Subscription", {"data": b'{"resourceType": "Subscription", '
                                          b'"reason": "a\\bb\\fc"}', "headers": json_type}),
    ]


def test_control_characters_are_a_400_and_nothing_is_written(base, http):
    """FHIR strings hold no control characters but tab, CR and LF (and PostgreSQL's text no
    U+0000): every way in answers 400 naming the rule, on both databases alike."""
    existing = http.post(f"{base}/Patient", json=patient(family="Kontrollsson")).json()
    family = unique_name("Nul")
    for method, url, kwargs in _nul_requests(base, existing, family):
        outcome = assert_outcome(requests.request(method, url, timeout=30, **kwargs), 400)
        assert "control characters" in outcome["issue"][0]["diagnostics"], (method, url)
    assert http.get(f"{base}/Patient", params={"family": family}).json().get("total") == 0
    assert http.get(f"{base}/Patient/{existing['id']}").json()["meta"]["versionId"] == "1"


def test_tab_line_feed_and_carriage_return_are_allowed(base, http):
    body = patient(family="Radbrytning")
    body["address"] = [{"line": ["Storgatan 1\nLgh 1001", "c/o\tTestsson\r"]}]
    created = http.post(f"{base}/Patient", json=body)
    assert created.status_code == 201, created.text
    assert created.json()["address"][0]["line"][0] == "Storgatan 1\nLgh 1001"


@pytest.mark.parametrize("number", [1e38, -1e30, 18446744073709551616.0])
def test_a_whole_decimal_beyond_64_bits_is_a_400_not_a_500(base, http, number):
    body = patient(extension=[{"url": "http://example.org/weight", "valueDecimal": number}])
    outcome = assert_outcome(http.post(f"{base}/Patient", json=body), 400)
    assert "out of range" in outcome["issue"][0]["diagnostics"]

"""/openapi.json documents every route with its request body and its responses (success and
error statuses, each with a schema); the document is valid OpenAPI and the server's real
answers have the status and the shape it documents — checked by tools nobody here wrote
(@apidevtools/swagger-parser, ajv). /docs serves Swagger UI without any CDN."""

from __future__ import annotations

import copy
import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import requests

from app.http import create_app
from tests.operations.merge_helpers import make_nrid, params
from tests.support import NRID_SYSTEM, PNR_SYSTEM, make_pnr, patient, unique_name

FHIR_MEDIA = {"application/fhir+json", "application/fhir+xml"}
#: Component schemas that are FHIR resources: bodies of these travel as JSON or XML.
RESOURCE_SCHEMAS = {"Resource", "Patient", "Bundle", "Parameters", "OperationOutcome",
                    "CapabilityStatement"}
BODY_METHODS = {"post", "put", "patch"}
#: The health probes (app.http.health_routes) answer in application/health+json, a 503 too,
#: and negotiate nothing: they are not FHIR routes.
PROBES = {"/healthz", "/readyz"}


@pytest.fixture(scope="module")
def document(base: str) -> dict[str, Any]:
    answer = requests.get(f"{base.removesuffix('/fhir')}/openapi.json", timeout=10)
    assert answer.status_code == 200
    body: dict[str, Any] = answer.json()
    return body


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(path, method, op) for path, ops in document["paths"].items()
            for method, op in ops.items() if method != "parameters"]


def schema_names(schema: dict[str, Any]) -> list[str]:
    """The component names a schema refers to ({"$ref"} or {"oneOf": [{"$ref"}…]})."""
    refs = [schema] if "$ref" in schema else schema.get("oneOf", [])
    names = [r["$ref"].removeprefix("#/components/schemas/") for r in refs if "$ref" in r]
    assert names, f"not a reference to a component schema: {schema}"
    return names


def check_content(document: dict[str, Any], content: dict[str, Any], where: str) -> list[str]:
    """Every media type has a schema naming existing components; FHIR resources are
    offered as JSON and XML. The schema names."""
    assert content, f"{where}: no content"
    names: list[str] = []
    for entry in content.values():
        found = schema_names(entry.get("schema", {}))
        for name in found:
            assert name in document["components"]["schemas"], f"{where}: {name} is missing"
        names += found
    if set(names) & RESOURCE_SCHEMAS:
        assert set(content) >= FHIR_MEDIA, f"{where}: {sorted(content)}"
    return names


def test_openapi_lists_every_fhir_route(document, database, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", database.url)
    documented = {(path, method.upper()) for path, method, _ in operations(document)}
    app = create_app()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/fhir"):
            continue
        path = re.sub(r"<(?:[^>]*:)?(\w+)>", r"{\1}", rule.rule)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert (path, method) in documented, f"{method} {path} is not in openapi.json"


def test_every_route_documents_its_responses_with_schemas(document):
    # Every status is listed: no catch-all default response (which would document any).
    assert "responses" not in document["components"]
    for path, method, op in operations(document):
        where = f"{method.upper()} {path}"
        assert "default" not in op["responses"], where
        statuses = op["responses"]
        successes = [code for code in statuses if code.startswith("2")]
        errors = [code for code in statuses if code[0] in "45"]
        # Only the catch-all for other resource types never succeeds (404).
        assert successes or path == "/fhir/{resource_type}", f"{where} documents no success"
        for code, response in statuses.items():
            if code in ("204", "304"):
                assert "content" not in response, f"{where} {code}"
                continue
            names = check_content(document, response.get("content", {}), f"{where} {code}")
            if code[0] in "45":
                error = "Health" if path in PROBES else "OperationOutcome"
                assert names == [error] * len(names), f"{where} {code}"
        if path in PROBES:
            continue
        assert errors
        # Content negotiation and the query-string check run before every /fhir route
        # (api.md "REST": 406; control characters are a 400).
        assert {"400", "406"} <= set(statuses), where
        if method in BODY_METHODS and successes and path != "/fhir/Patient/_search":
            assert {"400", "413", "415"} <= set(statuses), where


def test_every_route_that_takes_a_body_documents_it(document):
    for path, method, op in operations(document):
        statuses = op["responses"]
        if method not in BODY_METHODS or not any(code.startswith("2") for code in statuses):
            continue
        where = f"{method.upper()} {path}"
        assert "requestBody" in op, f"{where} takes a body but documents none"
        if path != "/fhir/Patient/_search":  # the parameters, form-encoded
            check_content(document, op["requestBody"]["content"], where)
    expected = {("/fhir", "post"): "Bundle", ("/fhir/Patient", "post"): "Patient",
                ("/fhir/Patient/{patient_id}", "put"): "Patient",
                ("/fhir/Patient/{patient_id}", "patch"): "JsonPatch",
                ("/fhir/Patient/$match", "post"): "Parameters",
                ("/fhir/Patient/$merge", "post"): "Parameters",
                ("/fhir/Patient/$unmerge", "post"): "Parameters",
                ("/fhir/Patient/$generate-reserve-id", "post"): "Parameters",
                ("/fhir/Patient/{patient_id}/$generate-reserve-id", "post"): "Parameters"}
    for (path, method), name in expected.items():
        content = document["paths"][path][method]["requestBody"]["content"]
        assert {schema_names(c["schema"])[0] for c in content.values()} == {name}, path
    patch = document["paths"]["/fhir/Patient/{patient_id}"]["patch"]["requestBody"]
    assert "application/json-patch+json" in patch["content"]
    form = document["paths"]["/fhir/Patient/_search"]["post"]["requestBody"]["content"]
    assert "identifier" in form["application/x-www-form-urlencoded"]["schema"]["properties"]


def exchanges(base: str) -> list[tuple[str, str, requests.Response]]:
    """Real requests and their OpenAPI operation: (path template, method, response)."""
    done: list[tuple[str, str, requests.Response]] = []
    json_headers = {"Content-Type": "application/fhir+json", "Accept": "application/fhir+json"}
    with requests.Session() as http:
        http.headers.update(json_headers)

        def call(template: str, method: str, url: str, **kwargs: Any) -> requests.Response:
            response = http.request(method, f"{base}{url}", timeout=30, **kwargs)
            done.append((f"/fhir{template}", method, response))
            return response

        pnr = make_pnr()
        body = patient(unique_name("Openapi"), pnr=pnr)
        created = call("/Patient", "post", "/Patient", json=body).json()
        pid = created["id"]
        call("/Patient", "post", "/Patient", json=body)  # 409
        call("/Patient", "post", "/Patient", json=patient(identifier=[
            {"system": PNR_SYSTEM, "value": "196512073246"}]))  # 422
        call("/Patient", "post", "/Patient", data=b"{not json")  # 400
        call("/Patient", "post", "/Patient", data=b"x", headers={"Content-Type": "text/plain"})
        call("/Patient", "post", "/Patient", json=body,
             headers={"Prefer": "return=OperationOutcome",
                      "If-None-Exist": f"identifier={PNR_SYSTEM}|{pnr}"})  # 200 outcome
        call("/Patient/{patient_id}", "get", f"/Patient/{pid}")
        call("/Patient/{patient_id}", "get", "/Patient/no-such-patient")
        call("/Patient/{patient_id}", "put", f"/Patient/{pid}", json=created,
             headers={"If-Match": 'W/"99"'})  # 412
        call("/Patient/{patient_id}", "patch", f"/Patient/{pid}",
             data=json.dumps([{"op": "add", "path": "/active", "value": True}]),
             headers={"Content-Type": "application/json-patch+json"})
        other = http.post(f"{base}/Patient", json=patient()).json()["id"]
        call("/Patient/{patient_id}", "patch", f"/Patient/{other}",  # 409: pnr is held
             data=json.dumps([{"op": "add", "path": "/identifier", "value": body["identifier"]}]),
             headers={"Content-Type": "application/json-patch+json"})
        call("/Patient/{patient_id}/_history/{version_id}", "get", f"/Patient/{pid}/_history/1")
        call("/Patient/{patient_id}/_history", "get", f"/Patient/{pid}/_history")
        call("/Patient/_history", "get", "/Patient/_history?_count=2")
        call("/Patient", "get", f"/Patient?identifier={PNR_SYSTEM}|{pnr}")
        call("/Patient", "get", "/Patient?birthdate=xx")  # 400
        call("/Patient", "delete", f"/Patient?identifier={PNR_SYSTEM}|196512073246")  # 422
        call("/Patient/_search", "post", "/Patient/_search", data={"_id": pid},
             headers={"Content-Type": "application/x-www-form-urlencoded"})
        gone = http.post(f"{base}/Patient", json=patient()).json()["id"]
        call("/Patient/{patient_id}", "delete", f"/Patient/{gone}")  # 204
        call("/Patient/{patient_id}", "get", f"/Patient/{gone}")  # 410
        call("/Patient/$match", "post", "/Patient/$match", json={
            "resourceType": "Parameters", "parameter": [{"name": "resource", "resource": body}]})
        call("/Patient/$generate-reserve-id", "post", "/Patient/$generate-reserve-id",
             json={"resourceType": "Parameters", "parameter": [
                 {"name": "birthDate", "valueDate": "1977-07-07"}]})
        call("/Patient/$generate-reserve-id", "post", "/Patient/$generate-reserve-id",
             json={"resourceType": "Parameters", "parameter": [
                 {"name": "system", "valueUri": PNR_SYSTEM}]})  # 422
        reserve = http.post(f"{base}/Patient", json=patient(identifier=[
            {"system": NRID_SYSTEM, "value": make_nrid()}])).json()
        call("/Patient/$merge", "post", "/Patient/$merge", json=params(pid, reserve))  # 422
        call("/Patient/$merge", "post", "/Patient/$merge", json=params(reserve, pid))
        call("/Patient/$merge", "post", "/Patient/$merge", json=params("no-such", pid))  # 404
        call("/Patient/$unmerge", "post", "/Patient/$unmerge", json=params(reserve, pid))
        call("/Patient/$ihe-pix", "get", f"/Patient/$ihe-pix?sourceIdentifier={PNR_SYSTEM}|{pnr}")
        call("/Patient/$ihe-pix", "get", "/Patient/$ihe-pix?sourceIdentifier=urn:oid:1.2.3|1")
        call("/Provenance", "get", f"/Provenance?target=Patient/{pid}")
        call("/{resource_type}", "get", "/Observation")  # 404
        call("", "post", "", json={"resourceType": "Bundle", "type": "transaction", "entry": [
            {"request": {"method": "POST", "url": "Patient"}, "resource": patient()}]})
        call("/metadata", "get", "/metadata")
        call("/metadata", "get", "/metadata", headers={"Accept": "text/html"})  # 406
        call("/NamingSystem", "get", "/NamingSystem?value=1.2.752.74.9.1")
        call("/SearchParameter/{resource_id}", "get", "/SearchParameter/Patient-patient-group")
        call("/SearchParameter/{resource_id}", "get", "/SearchParameter/no-such")  # 404
        for probe in sorted(PROBES):
            done.append((probe, "get", http.get(base.removesuffix("/fhir") + probe)))
    return done


def openapi_check(node: Path, document: dict[str, Any],
                  samples: list[dict[str, Any]]) -> dict[str, Any]:
    done = subprocess.run(["node", "openapi.mjs"], cwd=node, capture_output=True, text=True,
                          input=json.dumps({"document": document, "samples": samples}),
                          timeout=120, check=True)
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def test_the_checkers_catch_a_broken_document_and_a_body_off_its_schema(node, document):
    broken = copy.deepcopy(document)
    del broken["components"]["schemas"]["Identifier"]
    wrong = {"resourceType": "Patient", "gender": "woman", "identifier": [{"value": 1}]}
    result = openapi_check(node, broken, [{"schema": {"$ref": "#/components/schemas/Patient"},
                                           "body": wrong}])
    assert result["document"] and result["samples"][0]


def test_the_document_is_valid_and_real_answers_have_documented_statuses_and_shapes(
        base, node, document):
    samples, seen = [], set()
    for template, method, response in exchanges(base):
        where = f"{method.upper()} {template} → {response.status_code}"
        documented = document["paths"][template][method]["responses"]
        assert str(response.status_code) in documented, f"{where}: status not documented"
        seen.add(response.status_code)
        content = documented[str(response.status_code)].get("content")
        if content is None:
            assert not response.content, where
            continue
        media_type = response.headers["Content-Type"].split(";")[0]
        assert media_type in content, where
        samples.append({"where": where, "schema": content[media_type]["schema"],
                        "body": response.json()})
    assert {200, 201, 204, 400, 404, 406, 409, 410, 412, 415, 422} <= seen
    result = openapi_check(node, document, [{"schema": s["schema"], "body": s["body"]}
                                            for s in samples])
    assert result["document"] == []
    problems = {s["where"]: errors for s, errors in zip(samples, result["samples"],
                                                        strict=True) if errors}
    assert not problems, json.dumps(problems, indent=1)[:3000]


#: A value of each path parameter that its schema allows (routing alone answers OPTIONS and
#: 405, so nothing needs to exist).
PATH_VALUES = {"patient_id": "x", "resource_id": "x", "version_id": "1",
               "resource_type": "Observation", "file_name": "Patient-1.ndjson"}
METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE"}


def allowed(response: requests.Response) -> set[str]:
    """The methods an Allow header names, besides the implicit HEAD and OPTIONS."""
    return {m.strip() for m in response.headers["Allow"].split(",")} - {"HEAD", "OPTIONS"}


def test_options_and_405_name_exactly_the_methods_the_document_lists(base, document):
    root = base.removesuffix("/fhir")
    for path, ops in document["paths"].items():
        documented = {method.upper() for method in ops} & METHODS
        url = root + path.format(**PATH_VALUES)
        assert allowed(requests.options(url, timeout=10)) == documented, f"OPTIONS {path}"
        for method in sorted(METHODS - documented):
            refused = requests.request(method, url, timeout=10)
            where = f"{method} {path}"
            assert refused.status_code == 405, where
            assert refused.headers["Content-Type"].startswith("application/fhir+json"), where
            assert refused.json()["resourceType"] == "OperationOutcome", where
            assert allowed(refused) == documented, where


def allows_empty(schema: dict[str, Any]) -> bool:
    """Whether a query parameter's schema allows the empty value."""
    return (schema.get("type") == "string" and "enum" not in schema
            and not schema.get("minLength") and re.search(schema.get("pattern", ""), "")
            is not None)


def test_a_search_value_the_document_allows_empty_is_accepted_empty(base, document):
    parameters = document["paths"]["/fhir/Patient"]["get"]["parameters"]
    empty = {p["name"] for p in parameters if allows_empty(p["schema"])}
    assert not empty & {"_id", "identifier", "family", "birthdate", "gender", "_count"}
    for name in sorted(empty):
        assert requests.get(f"{base}/Patient", params={name: ""}, timeout=10).ok, name
    for name, value in (("_id", ""), ("identifier", ""), ("family", ""), ("_id", ",")):
        answer = requests.get(f"{base}/Patient", params={name: value}, timeout=10)
        assert answer.status_code == 400, (name, value)


def test_swagger_ui_is_html_and_loads_its_assets_from_this_server(base):
    root = base.removesuffix("/fhir")
    page = requests.get(f"{root}/docs", timeout=10)
    assert page.status_code == 200
    assert page.headers["Content-Type"].startswith("text/html")
    assert "<html" in page.text.lower() and "swagger-ui" in page.text
    assets = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert assets and all(a.startswith("/") for a in assets), assets
    for asset in assets:
        assert requests.get(f"{root}{asset}", timeout=10).status_code == 200, asset
    assert "openapi.json" in page.text

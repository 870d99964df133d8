"""``GET /`` is a landing page and ``GET /fhir`` the CapabilityStatement (issue 15), both
open without a token like /metadata and /docs."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import requests
from flask.testing import FlaskClient

from app.config import Settings
from app.http import create_app


@pytest.fixture()
def client_with_auth(tmp_path: Path) -> FlaskClient:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'fhir.db'}",
                        jwt_hs256_secret="landing-test-secret", request_log=False)
    return create_app(settings).test_client()


def test_the_landing_page_is_html_linking_the_docs_metadata_and_health(base: str) -> None:
    root = base.removesuffix("/fhir")
    response = requests.get(root + "/", timeout=30)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/html")
    links = set(re.findall(r'href="([^"]+)"', response.text))
    assert {"/docs", "/fhir/metadata", "/healthz", "/readyz", "/openapi.json"} <= links
    assert base in response.text
    for link in ("/docs", "/fhir/metadata", "/openapi.json"):
        assert requests.get(root + link, timeout=30).status_code == 200, link


def test_get_on_the_base_url_is_the_capability_statement(base: str) -> None:
    response = requests.get(base, timeout=30)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/fhir+json")
    assert response.json() == requests.get(base + "/metadata", timeout=30).json()


def test_both_are_open_when_tokens_are_required(client_with_auth: FlaskClient) -> None:
    assert client_with_auth.get("/").status_code == 200
    assert client_with_auth.get("/fhir").status_code == 200
    assert client_with_auth.get("/fhir/Patient").status_code == 401

"""/openapi.json lists every route, and /docs serves Swagger UI without any CDN."""

from __future__ import annotations

import re

import requests

from app.http import create_app


def test_openapi_lists_every_fhir_route(base, database, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", database.url)
    root = base.removesuffix("/fhir")
    document = requests.get(f"{root}/openapi.json", timeout=10).json()
    documented = {(path, method.upper()) for path, ops in document["paths"].items()
                  for method in ops if method != "parameters"}
    app = create_app()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/fhir"):
            continue
        path = re.sub(r"<(?:[^>]*:)?(\w+)>", r"{\1}", rule.rule)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert (path, method) in documented, f"{method} {path} is not in openapi.json"


def test_swagger_ui_loads_its_assets_from_this_server(base):
    root = base.removesuffix("/fhir")
    page = requests.get(f"{root}/docs", timeout=10)
    assert page.status_code == 200
    assets = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert assets and all(a.startswith("/") for a in assets), assets
    for asset in assets:
        assert requests.get(f"{root}{asset}", timeout=10).status_code == 200, asset
    assert "openapi.json" in page.text
